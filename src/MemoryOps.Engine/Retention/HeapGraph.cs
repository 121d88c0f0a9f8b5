using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// A heap's object graph as flat arrays (compressed sparse rows), not an object per node: node i has an
    /// address, a type index, a size, and the outgoing edges Target(EdgeStart(i)) .. Target(EdgeEnd(i) - 1).
    /// The arrays are the 1 Mi-element chunks the builder filled, kept as they are (no copy): 8 + 4 + 4 + 4 bytes
    /// per node and 4 per edge, so the 2 M-order TestTarget heap (4.1 M objects, 1.5–2 references each) takes
    /// 26–28 bytes per object.
    /// </summary>
    public sealed class HeapGraph
    {
        private const int Shift = ChunkedList<int>.Shift;
        private const int Mask = ChunkedList<int>.Mask;
        private readonly ulong[][] address;
        private readonly int[][] type;
        private readonly uint[][] size;
        private readonly int[][] edgeEnd;
        private readonly ulong[][] targets; // read as int[]: edge e is int (e & TargetMask) of chunk e >> TargetShift
        private readonly Dictionary<int, long> bigSizes;
        internal const int TargetShift = Shift + 1;
        internal const int TargetMask = (1 << TargetShift) - 1;

        internal HeapGraph(int nodeCount, ulong[][] address, int[][] type, uint[][] size, Dictionary<int, long> bigSizes, int[][] edgeEnd,
            ulong[][] targets, string[] typeNames, HeapGraphRoot[] roots)
        {
            NodeCount = nodeCount;
            this.address = address; this.type = type; this.size = size; this.bigSizes = bigSizes; this.edgeEnd = edgeEnd; this.targets = targets;
            TypeNames = typeNames; Roots = roots;
        }

        public int NodeCount { get; }
        public long EdgeCount => NodeCount == 0 ? 0 : EdgeEnd(NodeCount - 1);
        /// <summary>Canonical type names by type index.</summary>
        public IReadOnlyList<string> TypeNames { get; }
        /// <summary>Roots in the order paths prefer them: named statics, handles, stack, finalizer queue, other. Weak handles are not roots.</summary>
        public IReadOnlyList<HeapGraphRoot> Roots { get; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong AddressOf(int node) => address[node >> Shift][node & Mask];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int TypeOf(int node) => type[node >> Shift][node & Mask];
        public long SizeOf(int node)
        {
            uint s = size[node >> Shift][node & Mask];
            return s == uint.MaxValue && bigSizes.TryGetValue(node, out var big) ? big : s;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal int EdgeStart(int node) => node == 0 ? 0 : edgeEnd[(node - 1) >> Shift][(node - 1) & Mask];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal int EdgeEnd(int node) => edgeEnd[node >> Shift][node & Mask];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal int Target(int edge) => TargetAt(targets, edge);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static int TargetAt(ulong[][] chunks, long edge) =>
            Unsafe.Add(ref Unsafe.As<ulong, int>(ref MemoryMarshal.GetArrayDataReference(chunks[edge >> TargetShift])), (int)(edge & TargetMask));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void SetTargetAt(ulong[][] chunks, long edge, int value) =>
            Unsafe.Add(ref Unsafe.As<ulong, int>(ref MemoryMarshal.GetArrayDataReference(chunks[edge >> TargetShift])), (int)(edge & TargetMask)) = value;

        /// <summary>The same graph with more roots (sharing the arrays), in the roots' preferred order.</summary>
        internal HeapGraph WithRoots(IEnumerable<HeapGraphRoot> extra)
        {
            var all = Roots.Concat(extra).Select((r, i) => (Root: r, Order: i))
                .OrderBy(x => HeapGraphBuilder.RootRank(x.Root.Kind, x.Root.Name)).ThenBy(x => x.Order).Select(x => x.Root).ToArray();
            return new HeapGraph(NodeCount, address, type, size, bigSizes, edgeEnd, targets, (string[])TypeNames, all);
        }

        /// <summary>The arrays themselves, for <see cref="HeapGraphSerializer"/> (which writes them as they are).</summary>
        internal (ulong[][] Address, int[][] Type, uint[][] Size, Dictionary<int, long> BigSizes, int[][] EdgeEnd, ulong[][] Targets) Arrays =>
            (address, type, size, bigSizes, edgeEnd, targets);

        /// <summary>The graph's own arrays, in bytes (what the graph keeps in memory).</summary>
        public long MemoryBytes
        {
            get
            {
                long bytes = 0;
                foreach (var c in address) bytes += c.LongLength * 8;
                foreach (var c in type) bytes += c.LongLength * 4;
                foreach (var c in size) bytes += c.LongLength * 4;
                foreach (var c in edgeEnd) bytes += c.LongLength * 4;
                foreach (var c in targets) bytes += c.LongLength * 8;
                return bytes;
            }
        }
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

        internal static int RootRank(HeapRootKind kind, string? name) => kind switch
        {
            HeapRootKind.StaticField => name != null ? 0 : 1,
            HeapRootKind.StrongHandle => 2,
            HeapRootKind.PinnedHandle => 3,
            HeapRootKind.Stack => 4,
            HeapRootKind.FinalizerQueue => 5,
            _ => 6,
        };

        /// <summary>
        /// Turns what was collected into a <see cref="HeapGraph"/>; the builder is spent afterwards. Nothing is
        /// copied: node chunks are handed over, and the target addresses (8 bytes each) are replaced in place by node
        /// indices (4 bytes each) packed from the start of the same chunks, whose second half is then let go.
        /// </summary>
        public HeapGraph Build()
        {
            if (built) throw new InvalidOperationException("The graph was already built.");
            built = true;
            int n = (int)address.Count;
            long edges = targets.Count;
            for (long i = cursor; i < n; i++) edgeEnd[i] = (int)edges;

            var addr = address.TakeChunks();
            var index = new AddressIndex(addr, n);
            var ends = edgeEnd.TakeChunks();
            var tchunks = targets.TakeChunks();
            const int S = ChunkedList<int>.Shift, M = ChunkedList<int>.Mask;

            // Read target address j (byte 8j of the chunk sequence), write node index i <= j (byte 4i): a write never
            // lands on an address not yet read. The indices fit in the first half of the chunks; a chunk of the
            // second half is released as soon as it has been read.
            long read = 0, written = 0;
            long lastIntChunk = edges == 0 ? -1 : (edges - 1) >> HeapGraph.TargetShift;
            for (int v = 0; v < n; v++)
            {
                int end = ends[v >> S][v & M];
                for (; read < end; read++)
                {
                    int to = index.Find(tchunks[read >> S][read & M]);
                    if (to >= 0) HeapGraph.SetTargetAt(tchunks, written++, to);
                    if ((read & M) == M)
                    {
                        int done = (int)(read >> S);
                        if (done > lastIntChunk) tchunks[done] = Array.Empty<ulong>();
                    }
                }
                ends[v >> S][v & M] = (int)written;
            }
            int keep = edges == 0 ? 0 : (int)((Math.Max(written, 1) - 1) >> HeapGraph.TargetShift) + 1;
            if (keep < tchunks.Length) Array.Resize(ref tchunks, keep);
            if (strayEdges != null) (ends, tchunks) = MergeStrays(index, n, ends, tchunks, strayEdges);

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

            return new HeapGraph(n, addr, type.TakeChunks(), size.TakeChunks(), bigSizes, ends, tchunks, names, rootArray);
        }

        /// <summary>Edges whose source came out of order (neither route does that today): rebuilt into new rows.</summary>
        private static (int[][] Ends, ulong[][] Targets) MergeStrays(AddressIndex index, int n, int[][] ends, ulong[][] targets, List<(ulong From, ulong To)> strays)
        {
            const int S = ChunkedList<int>.Shift, M = ChunkedList<int>.Mask;
            var extra = new Dictionary<int, List<int>>();
            long added = 0;
            foreach (var (f, t) in strays)
            {
                int from = index.Find(f), to = index.Find(t);
                if (from < 0 || to < 0) continue;
                if (!extra.TryGetValue(from, out var list)) extra[from] = list = new List<int>();
                list.Add(to);
                added++;
            }
            long total = (n == 0 ? 0 : ends[(n - 1) >> S][(n - 1) & M]) + added;
            var newTargets = new ulong[(int)((total + HeapGraph.TargetMask) >> HeapGraph.TargetShift)][];
            for (int c = 0; c < newTargets.Length; c++) newTargets[c] = new ulong[ChunkedList<ulong>.ChunkSize];
            var newEnds = new int[ends.Length][];
            for (int c = 0; c < ends.Length; c++) newEnds[c] = new int[ends[c].Length];
            long pos = 0;
            for (int v = 0; v < n; v++)
            {
                int start = v == 0 ? 0 : ends[(v - 1) >> S][(v - 1) & M];
                int end = ends[v >> S][v & M];
                for (int e = start; e < end; e++) HeapGraph.SetTargetAt(newTargets, pos++, HeapGraph.TargetAt(targets, e));
                if (extra.TryGetValue(v, out var list))
                    foreach (var to in list) HeapGraph.SetTargetAt(newTargets, pos++, to);
                newEnds[v >> S][v & M] = (int)pos;
            }
            return (newEnds, newTargets);
        }

        /// <summary>Address → node index: open addressing over an int[] of node indices + 1, keys read from the address chunks.</summary>
        private sealed class AddressIndex
        {
            private const int S = ChunkedList<ulong>.Shift, M = ChunkedList<ulong>.Mask;
            private readonly ulong[][] addr;
            private readonly int[] slots;

            public AddressIndex(ulong[][] addr, int n)
            {
                this.addr = addr;
                slots = new int[Math.Max(16, n + n / 2)];
                for (int i = 0; i < n; i++)
                {
                    ulong a = addr[i >> S][i & M];
                    long s = Slot(a);
                    while (slots[s] != 0)
                    {
                        int other = slots[s] - 1;
                        if (addr[other >> S][other & M] == a) break; // the same address twice: keep the first
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
                    int v = slots[s] - 1;
                    if (v < 0) return -1;
                    if (addr[v >> S][v & M] == a) return v;
                    if (++s == slots.Length) s = 0;
                }
            }
        }
    }
}
