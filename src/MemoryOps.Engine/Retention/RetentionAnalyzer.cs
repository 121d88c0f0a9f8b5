using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// Why objects are alive, over a <see cref="HeapGraph"/>: shortest retention paths grouped by shape, and
    /// dominator-tree retained sizes per type.
    /// <para>
    /// Written here rather than taken from a library: the graph libraries on NuGet (QuikGraph and kin) hold an
    /// object per vertex and edge — several times the 40 bytes per heap object this must stay under — and have no
    /// dominator tree; PerfView's MemoryGraph/dominator code and dotnet-gcdump's graph are not shipped as libraries
    /// (TraceEvent 4.0 has no MemoryGraph). Both algorithms below are textbook and work on the flat arrays directly.
    /// </para>
    /// </summary>
    public sealed class RetentionAnalyzer
    {
        private const int MaxShapeDepth = 32;
        private readonly HeapGraph g;
        private int[]? parent; // BFS tree: node index, -2 - root index for a root's object, -1 unreachable

        public RetentionAnalyzer(HeapGraph graph) { g = graph; }

        /// <summary>
        /// True when every object in the graph is known to be alive (a live heap walk streams only what its GC
        /// marked): an instance no reported root reaches is then held by a root the source does not report
        /// (dependent handles, COM wrappers), not garbage.
        /// </summary>
        public bool AllObjectsLive { get; set; }

        /// <summary>Objects reachable from the roots (after <see cref="Paths"/> or <see cref="RetainedSizes"/>).</summary>
        public int ReachableCount { get; private set; }

        // ---------------------------------------------------------------- shortest paths

        /// <summary>Breadth-first from all roots at once (named statics first), so each object's parent lies on a shortest path.</summary>
        private int[] Bfs(CancellationToken cancel)
        {
            if (parent != null) return parent;
            int n = g.NodeCount;
            var par = new int[n];
            Array.Fill(par, -1);
            var queue = new int[n];
            int head = 0, tail = 0;
            var roots = g.Roots;
            for (int r = 0; r < roots.Count; r++)
            {
                int v = roots[r].Node;
                if (par[v] != -1) continue;
                par[v] = -2 - r;
                queue[tail++] = v;
            }
            while (head < tail)
            {
                int v = queue[head++];
                if ((head & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                for (int e = g.EdgeStart(v), end = g.EdgeEnd(v); e < end; e++)
                {
                    int w = g.Target(e);
                    if (par[w] != -1) continue;
                    par[w] = v;
                    queue[tail++] = w;
                }
            }
            ReachableCount = tail;
            return parent = par;
        }

        /// <summary>Path shapes as a trie: (parent shape, type), consecutive repeats of one type folded into one step.</summary>
        private sealed class Shapes
        {
            public readonly List<int> Parent = new List<int>();
            public readonly List<int> Type = new List<int>();   // type index, or -1 - root descriptor for a root shape
            public readonly List<int> Depth = new List<int>();
            public readonly List<bool> Repeated = new List<bool>();
            public readonly List<bool> Elided = new List<bool>();
            private readonly Dictionary<long, int> index = new Dictionary<long, int>();
            public readonly List<(HeapRootKind Kind, string? Name)> RootDescs = new List<(HeapRootKind, string?)>();
            private readonly Dictionary<(HeapRootKind, string?), int> rootIndex = new Dictionary<(HeapRootKind, string?), int>();

            public int Root(HeapRootKind kind, string? name)
            {
                if (!rootIndex.TryGetValue((kind, name), out int d))
                {
                    d = RootDescs.Count;
                    RootDescs.Add((kind, name));
                    rootIndex[(kind, name)] = d;
                }
                return Add(-1, -1 - d, 0);
            }

            public int Child(int parentShape, int type)
            {
                if (Type[parentShape] == type) { Repeated[parentShape] = true; return parentShape; }
                if (Depth[parentShape] >= MaxShapeDepth) { Elided[parentShape] = true; return parentShape; }
                return Add(parentShape, type, Depth[parentShape] + 1);
            }

            private int Add(int parentShape, int type, int depth)
            {
                long key = ((long)parentShape << 32) | (uint)type;
                if (index.TryGetValue(key, out int s)) return s;
                s = Parent.Count;
                Parent.Add(parentShape); Type.Add(type); Depth.Add(depth); Repeated.Add(false); Elided.Add(false);
                index[key] = s;
                return s;
            }
        }

        /// <summary>
        /// The shortest retention paths of the instances of the types <paramref name="typeFilter"/> accepts (the
        /// <paramref name="top"/> largest of them by bytes), grouped by shape: for each type the
        /// <paramref name="maxPaths"/> groups that hold the most bytes, shortest first (then most bytes). Instances no root reaches
        /// (garbage still in a dump) come as one "Unreachable" group after them.
        /// </summary>
        public List<HeapRetentionPath> Paths(Func<string, bool> typeFilter, int top, int maxPaths, CancellationToken cancel)
        {
            var par = Bfs(cancel);
            int n = g.NodeCount, types = g.TypeNames.Count;
            var count = new long[types];
            var bytes = new long[types];
            for (int v = 0; v < n; v++) { int tv = g.TypeOf(v); count[tv]++; bytes[tv] += g.SizeOf(v); }
            var chosen = Enumerable.Range(0, types).Where(t => count[t] > 0 && typeFilter(g.TypeNames[t]))
                .OrderByDescending(t => bytes[t]).ThenBy(t => g.TypeNames[t], StringComparer.Ordinal).Take(top).ToList();
            var isChosen = new bool[types];
            foreach (var t in chosen) isChosen[t] = true;

            var shapes = new Shapes();
            var shapeOf = new Dictionary<int, int>();
            var groups = new Dictionary<int, (long Count, long Bytes, int Sample)>[types];
            var unreachable = new (long Count, long Bytes, int Sample)[types];
            var chain = new List<int>();
            for (int v = 0; v < n; v++)
            {
                int t = g.TypeOf(v);
                if (!isChosen[t]) continue;
                if ((v & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                long size = g.SizeOf(v);
                if (par[v] == -1)
                {
                    var u = unreachable[t];
                    unreachable[t] = (u.Count + 1, u.Bytes + size, u.Count == 0 ? v : u.Sample);
                    continue;
                }
                int s = ShapeOf(v, par, shapes, shapeOf, chain);
                var dict = groups[t] ??= new Dictionary<int, (long, long, int)>();
                dict[s] = dict.TryGetValue(s, out var x) ? (x.Count + 1, x.Bytes + size, x.Sample) : (1, size, v);
            }

            var result = new List<HeapRetentionPath>();
            foreach (int t in chosen)
            {
                long total = count[t];
                if (groups[t] != null)
                {
                    // The groups that hold the most bytes, so a small -MaxPaths keeps what matters; then shortest first.
                    var kept = groups[t].OrderByDescending(kv => kv.Value.Bytes).ThenByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key).Take(maxPaths);
                    foreach (var kv in kept.OrderBy(kv => shapes.Depth[kv.Key]).ThenByDescending(kv => kv.Value.Bytes).ThenBy(kv => kv.Key))
                        result.Add(Describe(t, kv.Key, kv.Value.Count, kv.Value.Bytes, kv.Value.Sample, total, shapes, par));
                }
                var un = unreachable[t];
                if (un.Count > 0)
                    result.Add(new HeapRetentionPath
                    {
                        TypeName = g.TypeNames[t], Path = (AllObjectsLive ? "[root not reported] " : "[unreachable] ") + ShortTypeName(g.TypeNames[t]),
                        RootKind = AllObjectsLive ? "Unreported" : "Unreachable",
                        Types = new[] { g.TypeNames[t] }, Count = un.Count, TotalBytes = un.Bytes, Fraction = (double)un.Count / total,
                        SampleAddress = g.AddressOf(un.Sample), SamplePath = new[] { Hex(g.AddressOf(un.Sample)) },
                    });
            }
            return result;
        }

        /// <summary>The shape of v's BFS path, memoised for the nodes on the way (parents first).</summary>
        private int ShapeOf(int v, int[] par, Shapes shapes, Dictionary<int, int> memo, List<int> chain)
        {
            chain.Clear();
            int s = -1;
            int x = v;
            while (true)
            {
                if (memo.TryGetValue(x, out s)) break;
                chain.Add(x);
                int p = par[x];
                if (p < -1)
                {
                    var root = g.Roots[-2 - p];
                    s = shapes.Root(root.Kind, root.Name);
                    break;
                }
                x = p;
            }
            for (int i = chain.Count - 1; i >= 0; i--)
            {
                s = shapes.Child(s, g.TypeOf(chain[i]));
                if (i > 0) memo[chain[i]] = s; // the instance itself is asked for once: only its holders are remembered
            }
            return s;
        }

        private HeapRetentionPath Describe(int type, int shape, long count, long bytes, int sample, long total, Shapes shapes, int[] par)
        {
            var steps = new List<int>();
            for (int s = shape; s >= 0; s = shapes.Parent[s]) steps.Add(s);
            steps.Reverse();
            var (kind, name) = shapes.RootDescs[-1 - shapes.Type[steps[0]]];
            var sb = new StringBuilder(RootLabel(kind, name));
            var typeNames = new List<string>();
            for (int i = 1; i < steps.Count; i++)
            {
                int s = steps[i];
                string full = g.TypeNames[shapes.Type[s]];
                typeNames.Add(full);
                sb.Append(" → ").Append(ShortTypeName(full));
                if (shapes.Repeated[s]) sb.Append(" (repeated)");
                if (shapes.Elided[s]) sb.Append(" → …");
            }
            var samplePath = new List<string>();
            for (int x = sample; x >= 0; x = par[x]) samplePath.Add(Hex(g.AddressOf(x)));
            samplePath.Reverse();
            return new HeapRetentionPath
            {
                TypeName = g.TypeNames[type],
                Path = sb.ToString(),
                RootKind = kind.ToString(),
                RootName = name ?? "",
                Depth = shapes.Depth[shape],
                Types = typeNames.ToArray(),
                Count = count,
                TotalBytes = bytes,
                Fraction = total == 0 ? 0 : (double)count / total,
                SampleAddress = g.AddressOf(sample),
                SamplePath = samplePath.ToArray(),
            };
        }

        private static string Hex(ulong a) => "0x" + a.ToString("x");

        internal static string RootLabel(HeapRootKind kind, string? name) => kind switch
        {
            HeapRootKind.StaticField => name != null ? "[static] " + name : "[static]",
            HeapRootKind.StrongHandle => "[strong handle]",
            HeapRootKind.PinnedHandle => "[pinned handle]",
            HeapRootKind.Stack => "[stack]",
            HeapRootKind.FinalizerQueue => "[finalizer queue]",
            HeapRootKind.WeakHandle => "[weak handle]",
            _ => "[root]",
        };

        /// <summary>
        /// A canonical name without namespaces, and a nested type by its own name:
        /// "System.Collections.Generic.Dictionary&lt;System.String, OrderService.OrderStat&gt;+Entry[]" → "Entry[]",
        /// "System.Collections.Generic.Dictionary&lt;System.String, OrderService.OrderStat&gt;" → "Dictionary&lt;String, OrderStat&gt;".
        /// </summary>
        public static string ShortTypeName(string canonical)
        {
            string name = canonical;
            int depth = 0, lastPlus = -1;
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                if (c == '<' && i + 1 < name.Length && name[i + 1] != '>') depth++;
                else if (c == '>' && depth > 0 && (i == 0 || name[i - 1] != '<')) depth--;
                else if (c == '+' && depth == 0) lastPlus = i;
            }
            if (lastPlus > 0 && lastPlus + 1 < name.Length && name[lastPlus + 1] != '<') name = name.Substring(lastPlus + 1);
            var sb = new StringBuilder(name.Length);
            int segStart = 0;
            foreach (char c in name)
            {
                if (c == '.') { sb.Length = segStart; continue; }
                sb.Append(c);
                if (c == '<' || c == '>' || c == ',' || c == ' ' || c == '[' || c == ']' || c == '+') segStart = sb.Length;
            }
            return sb.ToString();
        }

        // ---------------------------------------------------------------- dominators and retained size

        /// <summary>
        /// Retained size per type: the dominator tree of the graph under a virtual root that holds every GC root,
        /// by Cooper, Harvey and Kennedy's iterative algorithm ("A Simple, Fast Dominance Algorithm", 2001) in its
        /// push form — each node, in reverse postorder, intersects itself into its successors' dominators — so only
        /// forward edges are needed (no predecessor lists: 4 bytes per edge saved). Converges in two or three passes
        /// on heap graphs. A node's retained size is its own plus its dominator-tree children's; a type's is the sum
        /// over its instances that no other instance of the type dominates (so nothing is counted twice).
        /// </summary>
        public List<HeapRetainedSize> RetainedSizes(Func<string, bool>? typeFilter, int top, CancellationToken cancel, Action<string>? verbose = null)
        {
            int n = g.NodeCount;
            var roots = g.Roots;
            parent = null; // the paths' BFS tree (4 bytes per object) is not needed here; Paths rebuilds it if asked again

            // 1. Depth-first postorder from the virtual root (numbered last, R).
            var post = new int[n];
            Array.Fill(post, -1);
            var order = new int[n];
            int counter = 0;
            var stackNode = new int[1024];
            var stackPos = new int[1024];
            for (int r = 0; r < roots.Count; r++)
            {
                int rv = roots[r].Node;
                if (post[rv] != -1) continue;
                int sp = 0;
                post[rv] = -2; stackNode[0] = rv; stackPos[0] = g.EdgeStart(rv);
                while (sp >= 0)
                {
                    int v = stackNode[sp];
                    int p = stackPos[sp];
                    if (p < g.EdgeEnd(v))
                    {
                        stackPos[sp] = p + 1;
                        int w = g.Target(p);
                        if (post[w] != -1) continue;
                        post[w] = -2;
                        if (++sp == stackNode.Length)
                        {
                            Array.Resize(ref stackNode, sp * 2);
                            Array.Resize(ref stackPos, sp * 2);
                        }
                        stackNode[sp] = w; stackPos[sp] = g.EdgeStart(w);
                    }
                    else
                    {
                        post[v] = counter;
                        order[counter++] = v;
                        sp--;
                        if ((counter & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                    }
                }
            }
            stackNode = stackPos = Array.Empty<int>();
            int R = counter;
            ReachableCount = R;

            // 2. Immediate dominators, by postorder number (the virtual root is R).
            var idom = new int[R + 1];
            Array.Fill(idom, -1);
            idom[R] = R;
            bool changed = true;
            int passes = 0;
            while (changed)
            {
                changed = false;
                passes++;
                for (int r = 0; r < roots.Count; r++)
                    changed |= Update(idom, post[roots[r].Node], R);
                for (int b = R - 1; b >= 0; b--)
                {
                    if ((b & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                    if (idom[b] == -1) continue;
                    int v = order[b];
                    for (int e = g.EdgeStart(v), end = g.EdgeEnd(v); e < end; e++)
                    {
                        int s = post[g.Target(e)];
                        if (s >= 0) changed |= Update(idom, s, b);
                    }
                }
            }
            verbose?.Invoke($"Dominator tree of {R:N0} reachable objects in {passes} passes.");

            // 3. The dominator tree's child lists (counting sort by dominator); the postorder numbers are no longer
            //    needed, so their array holds the children. Then idom goes too.
            var c = new int[R + 4];
            for (int k = 0; k < R; k++) c[idom[k] + 2]++;
            for (int k = 2; k < c.Length; k++) c[k] += c[k - 1];
            var children = post; // n >= R
            for (int k = 0; k < R; k++) children[--c[idom[k] + 2]] = k;
            // now p's children are children[c[p + 2] .. c[p + 3])
            idom = null!;
            return RetainedPerType(R, order, c, children, typeFilter, top, cancel);
        }

        private static bool Update(int[] idom, int s, int b)
        {
            int cur = idom[s];
            int nw = cur == -1 ? b : Intersect(idom, b, cur);
            if (nw == cur) return false;
            idom[s] = nw;
            return true;
        }

        private static int Intersect(int[] idom, int a, int b)
        {
            while (a != b)
            {
                while (a < b) a = idom[a];
                while (b < a) b = idom[b];
            }
            return a;
        }

        /// <summary>
        /// One depth-first walk of the dominator tree: a node's retained size is summed on the walk's stack (its own
        /// size plus its children's, known when it is left), so no per-node array is needed; an instance counts for its
        /// type when no instance of the same type is open above it.
        /// </summary>
        private List<HeapRetainedSize> RetainedPerType(int R, int[] order, int[] c, int[] children,
            Func<string, bool>? typeFilter, int top, CancellationToken cancel)
        {
            int types = g.TypeNames.Count;
            var open = new int[types];
            var count = new long[types];
            var shallow = new long[types];
            var kept = new long[types];
            var largest = new long[types];
            var largestNode = new int[types];
            var stackNode = new int[1024];
            var stackPos = new int[1024];
            var stackSum = new long[1024];
            var stackTop = new bool[1024];
            int sp = 0;
            stackNode[0] = R; stackPos[0] = c[R + 2]; stackSum[0] = 0;
            long steps = 0;
            while (sp >= 0)
            {
                int k = stackNode[sp];
                int p = stackPos[sp];
                if (p < c[k + 3])
                {
                    stackPos[sp] = p + 1;
                    int child = children[p];
                    int v = order[child];
                    int t = g.TypeOf(v);
                    long own = g.SizeOf(v);
                    count[t]++;
                    shallow[t] += own;
                    if (++sp == stackNode.Length)
                    {
                        Array.Resize(ref stackNode, sp * 2);
                        Array.Resize(ref stackPos, sp * 2);
                        Array.Resize(ref stackSum, sp * 2);
                        Array.Resize(ref stackTop, sp * 2);
                    }
                    stackNode[sp] = child; stackPos[sp] = c[child + 2]; stackSum[sp] = own;
                    stackTop[sp] = open[t]++ == 0;
                    if ((++steps & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                }
                else
                {
                    long sum = stackSum[sp];
                    if (k != R)
                    {
                        int v = order[k];
                        int t = g.TypeOf(v);
                        open[t]--;
                        if (stackTop[sp]) kept[t] += sum;
                        if (sum > largest[t]) { largest[t] = sum; largestNode[t] = v; }
                        stackSum[sp - 1] += sum;
                    }
                    sp--;
                }
            }
            long all = stackSum[0];
            return Enumerable.Range(0, types)
                .Where(t => count[t] > 0 && (typeFilter == null || typeFilter(g.TypeNames[t])))
                .OrderByDescending(t => kept[t]).ThenBy(t => g.TypeNames[t], StringComparer.Ordinal)
                .Take(top)
                .Select(t => new HeapRetainedSize
                {
                    TypeName = g.TypeNames[t],
                    Count = count[t],
                    ShallowBytes = shallow[t],
                    RetainedBytes = kept[t],
                    HeapFraction = all == 0 ? 0 : (double)kept[t] / all,
                    LargestAddress = g.AddressOf(largestNode[t]),
                    LargestRetainedBytes = largest[t],
                }).ToList();
        }
    }
}
