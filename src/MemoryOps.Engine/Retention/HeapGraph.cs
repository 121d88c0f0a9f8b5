using System;
using System.Collections.Generic;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// A heap's object graph as flat arrays (compressed sparse rows), not an object per node: node i has
    /// an address, a type index, a size, and the outgoing edges Targets[EdgeEnd[i-1] .. EdgeEnd[i]).
    /// About 16 bytes per node plus 4 per edge, so a 2 M-object heap with 1.5 edges per object takes ~44 MB.
    /// </summary>
    public sealed class HeapGraph
    {
        internal HeapGraph(ulong[] address, int[] type, uint[] size, Dictionary<int, long> bigSizes, int[] edgeEnd, int[] targets,
            string[] typeNames, HeapGraphRoot[] roots)
        {
            Address = address; Type = type; Size = size; this.bigSizes = bigSizes; EdgeEnd = edgeEnd; Targets = targets;
            TypeNames = typeNames; Roots = roots;
        }

        private readonly Dictionary<int, long> bigSizes;
        internal ulong[] Address { get; }
        internal int[] Type { get; }
        internal uint[] Size { get; }
        internal int[] EdgeEnd { get; }
        internal int[] Targets { get; }

        public int NodeCount => Address.Length;
        public long EdgeCount => EdgeEnd.Length == 0 ? 0 : EdgeEnd[EdgeEnd.Length - 1];
        /// <summary>Canonical type names by type index.</summary>
        public IReadOnlyList<string> TypeNames { get; }
        /// <summary>Roots in the order paths prefer them: named statics, handles, stack, finalizer queue, other. Weak handles are not roots.</summary>
        public IReadOnlyList<HeapGraphRoot> Roots { get; }

        public ulong AddressOf(int node) => Address[node];
        public int TypeOf(int node) => Type[node];
        public long SizeOf(int node) => Size[node] == uint.MaxValue && bigSizes.TryGetValue(node, out var big) ? big : Size[node];
        internal int EdgeStart(int node) => node == 0 ? 0 : EdgeEnd[node - 1];

        /// <summary>The graph's own arrays, in bytes (what the graph keeps in memory).</summary>
        public long MemoryBytes => Address.LongLength * 8 + Type.LongLength * 4 + Size.LongLength * 4 + EdgeEnd.LongLength * 4 + Targets.LongLength * 4;
    }

    /// <summary>A GC root: the object it holds (a node index), its kind and, for a static field, "Type.field".</summary>
    public readonly struct HeapGraphRoot
    {
        public HeapGraphRoot(int node, HeapRootKind kind, string? name) { Node = node; Kind = kind; Name = name; }
        public int Node { get; }
        public HeapRootKind Kind { get; }
        public string? Name { get; }
    }

    /// <summary>
    /// Collects a graph from either snapshot route through <see cref="IHeapGraphSink"/>. While the walk runs it
    /// keeps 8 (address) + 4 (type) + 4 (size) + 4 (edge end) bytes per node and 8 per edge (the target's address),
    /// in chunks that never copy; <see cref="Build"/> then maps target addresses to node indices through an
    /// open-addressing table of node indices (6 bytes per node, keys read from the address array) instead of a
    /// Dictionary (~24 bytes per entry).
    /// <para>
    /// Edges must come grouped by their source, in the order the sources came (both routes do that: the dump walk
    /// emits a node's references right after it, EventPipe pairs GCBulkEdge with GCBulkNode in node order); an
    /// edge whose source is not ahead of the cursor is kept aside and merged in at the end.
    /// </para>
    /// </summary>
    public sealed class HeapGraphBuilder : IHeapGraphSink
    {
        private readonly ChunkedList<ulong> address = new ChunkedList<ulong>();
        private readonly ChunkedList<int> type = new ChunkedList<int>();
        private readonly ChunkedList<uint> size = new ChunkedList<uint>();
        private readonly ChunkedList<int> edgeEnd = new ChunkedList<int>();
        private readonly ChunkedList<ulong> targets = new ChunkedList<ulong>();
        private readonly Dictionary<int, long> bigSizes = new Dictionary<int, long>();
        private readonly Dictionary<ulong, int> typeIndex = new Dictionary<ulong, int>();
        private readonly List<ulong> typeIds = new List<ulong>();
        private readonly Dictionary<ulong, string> typeNames = new Dictionary<ulong, string>();
        private readonly List<(ulong Address, HeapRootKind Kind, string? Name)> roots = new List<(ulong, HeapRootKind, string?)>();
        private List<(ulong From, ulong To)>? strayEdges;
        private long cursor; // the node whose edges are being read
        private bool built;

        public long NodeCount => address.Count;
        public long EdgeCount => targets.Count + (strayEdges?.Count ?? 0);

        public void OnNode(ulong addr, ulong typeId, long bytes)
        {
            if (address.Count >= int.MaxValue - 1) throw new MemoryOpsException(FailureKind.InvalidData, "The heap has more objects than a retention graph can hold (2^31).");
            if (!typeIndex.TryGetValue(typeId, out int t))
            {
                t = typeIds.Count;
                typeIndex[typeId] = t;
                typeIds.Add(typeId);
            }
            if (bytes >= uint.MaxValue) bigSizes[(int)address.Count] = bytes;
            address.Add(addr);
            type.Add(t);
            size.Add(bytes >= uint.MaxValue ? uint.MaxValue : (uint)bytes);
            edgeEnd.Add(-1); // set when the cursor moves past this node
        }

        public void OnEdge(ulong from, ulong to)
        {
            long n = address.Count;
            long c = cursor;
            if (c < n && address[c] != from)
            {
                // Move forward to the source; the nodes passed have all their edges.
                long next = c + 1;
                while (next < n && address[next] != from) next++;
                if (next == n) { (strayEdges ??= new List<(ulong, ulong)>()).Add((from, to)); return; }
                int end = (int)Math.Min(int.MaxValue, targets.Count);
                for (long i = c; i < next; i++) edgeEnd[i] = end;
                cursor = c = next;
            }
            if (c >= n) { (strayEdges ??= new List<(ulong, ulong)>()).Add((from, to)); return; }
            if (targets.Count >= int.MaxValue - 1) throw new MemoryOpsException(FailureKind.InvalidData, "The heap has more references than a retention graph can hold (2^31).");
            targets.Add(to);
        }

        public void OnRoot(ulong addr, HeapRootKind kind, string? name) => roots.Add((addr, kind, name));

        public void OnTypeName(ulong typeId, string name) => typeNames[typeId] = name;

        private static int RootRank(HeapRootKind kind, string? name) => kind switch
        {
            HeapRootKind.StaticField => name != null ? 0 : 1,
            HeapRootKind.StrongHandle => 2,
            HeapRootKind.PinnedHandle => 3,
            HeapRootKind.Stack => 4,
            HeapRootKind.FinalizerQueue => 5,
            _ => 6,
        };

        /// <summary>Turns what was collected into a <see cref="HeapGraph"/>; the builder is spent afterwards.</summary>
        public HeapGraph Build()
        {
            if (built) throw new InvalidOperationException("The graph was already built.");
            built = true;
            int n = (int)address.Count;
            int end0 = (int)targets.Count;
            for (long i = cursor; i < n; i++) edgeEnd[i] = end0;

            var addr = address.MoveToArray();
            var index = new AddressIndex(addr);

            // Targets: addresses → node indices, node by node, dropping references to objects that were not
            // walked (null-ish, or outside the heap); read chunk by chunk so the address chunks can go.
            var ends = edgeEnd.MoveToArray();
            var mapped = new int[end0];
            int written = 0, read = 0;
            for (int i = 0; i < n; i++)
            {
                int end = ends[i];
                for (; read < end; read++)
                {
                    int to = index.Find(targets[read]);
                    if (to >= 0) mapped[written++] = to;
                    if ((read & ChunkedList<ulong>.Mask) == ChunkedList<ulong>.Mask) targets.Release(read >> ChunkedList<ulong>.Shift);
                }
                ends[i] = written;
            }
            if (strayEdges != null) (ends, mapped, written) = MergeStrays(index, ends, mapped, written, strayEdges);
            if (written < mapped.Length) Array.Resize(ref mapped, written);

            var typeArray = type.MoveToArray();
            var names = new string[typeIds.Count];
            for (int t = 0; t < names.Length; t++)
                names[t] = typeNames.TryGetValue(typeIds[t], out var name) ? name : $"<unknown type 0x{typeIds[t]:x}>";

            var rootList = new List<(HeapGraphRoot Root, int Rank, int Order)>(roots.Count);
            var seen = new HashSet<(int, HeapRootKind, string?)>();
            foreach (var (a, kind, name) in roots)
            {
                if (kind == HeapRootKind.WeakHandle) continue; // does not keep anything alive
                int node = index.Find(a);
                if (node < 0 || !seen.Add((node, kind, name))) continue;
                rootList.Add((new HeapGraphRoot(node, kind, name), RootRank(kind, name), rootList.Count));
            }
            rootList.Sort((x, y) => x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.Order.CompareTo(y.Order));
            var rootArray = new HeapGraphRoot[rootList.Count];
            for (int i = 0; i < rootArray.Length; i++) rootArray[i] = rootList[i].Root;

            return new HeapGraph(addr, typeArray, size.MoveToArray(), bigSizes, ends, mapped, names, rootArray);
        }

        private static (int[] Ends, int[] Targets, int Count) MergeStrays(AddressIndex index, int[] ends, int[] mapped, int written, List<(ulong From, ulong To)> strays)
        {
            int n = ends.Length;
            var extra = new int[n];
            var resolved = new List<(int From, int To)>(strays.Count);
            foreach (var (f, t) in strays)
            {
                int from = index.Find(f), to = index.Find(t);
                if (from < 0 || to < 0) continue;
                resolved.Add((from, to));
                extra[from]++;
            }
            var newEnds = new int[n];
            var newTargets = new int[written + resolved.Count];
            int pos = 0;
            var fill = new int[n];
            for (int i = 0; i < n; i++)
            {
                int start = i == 0 ? 0 : ends[i - 1];
                int count = ends[i] - start;
                Array.Copy(mapped, start, newTargets, pos, count);
                pos += count;
                fill[i] = pos;
                pos += extra[i];
                newEnds[i] = pos;
            }
            foreach (var (from, to) in resolved) newTargets[fill[from]++] = to;
            return (newEnds, newTargets, newTargets.Length);
        }

        /// <summary>Address → node index: open addressing over an int[] of node indices + 1, keys read from the address array.</summary>
        private sealed class AddressIndex
        {
            private readonly ulong[] addr;
            private readonly int[] slots;

            public AddressIndex(ulong[] addr)
            {
                this.addr = addr;
                slots = new int[Math.Max(16, addr.Length + addr.Length / 2)];
                for (int i = 0; i < addr.Length; i++)
                {
                    long s = Slot(addr[i]);
                    while (slots[s] != 0)
                    {
                        if (addr[slots[s] - 1] == addr[i]) break; // the same address twice: keep the first
                        if (++s == slots.Length) s = 0;
                    }
                    if (slots[s] == 0) slots[s] = i + 1;
                }
            }

            private long Slot(ulong a)
            {
                ulong h = (a >> 3) * 0x9E3779B97F4A7C15UL;
                return (long)(((h >> 32) * (ulong)slots.Length) >> 32);
            }

            public int Find(ulong a)
            {
                if (a == 0) return -1;
                long s = Slot(a);
                while (true)
                {
                    int v = slots[s];
                    if (v == 0) return -1;
                    if (addr[v - 1] == a) return v - 1;
                    if (++s == slots.Length) s = 0;
                }
            }
        }
    }
}
