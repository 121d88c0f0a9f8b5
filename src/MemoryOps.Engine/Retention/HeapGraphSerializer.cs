using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// A <see cref="HeapGraph"/> as bytes: how the dump reader process (MemoryOps.DumpWorker) hands the graph it
    /// read to the module, which analyses it. The arrays are written as they are in memory (native byte order:
    /// both ends run on the same machine, and the version says which layout), so writing and reading cost little
    /// more than the copy through the pipe.
    /// <para>
    /// Layout, version 1: magic "MOHG", version; node count, edge count, type count, root count, big-size count;
    /// type names (length + UTF-8 each); per node the address (8 bytes), type index (4), size (4, uint.MaxValue when
    /// the size is in the big-size list) and edge end (4); the big sizes (node, size); the edge targets (4 bytes
    /// each); the roots (node, kind, name length or -1, UTF-8); magic "GHOM".
    /// </para>
    /// <para>
    /// The reader trusts nothing it reads: the bytes come from a process that has just read a hostile dump, and a
    /// crash of it cuts them short anywhere. Every count is checked against the memory it would take before
    /// anything is allocated, arrays are allocated chunk by chunk only as their bytes arrive (a count that lies
    /// costs at most one chunk), and every index is checked, so a graph that is read back cannot make the analysis
    /// index out of its arrays. What is wrong is an <see cref="InvalidDataException"/> saying what.
    /// </para>
    /// </summary>
    internal static class HeapGraphSerializer
    {
        public const int FormatVersion = 1;
        /// <summary>Longest type or static-field name accepted, in UTF-8 bytes (real ones are far below; a hostile dump's could be anything).</summary>
        public const int MaxNameBytes = 1 << 20;
        private const uint Magic = 0x47484F4D;    // "MOHG"
        private const uint EndMagic = 0x4D4F4847; // "GHOM"
        private const int S = ChunkedList<int>.Shift, M = ChunkedList<int>.Mask, ChunkSize = ChunkedList<int>.ChunkSize;
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public static void Write(HeapGraph graph, Stream output)
        {
            var (address, type, size, bigSizes, edgeEnd, targets) = graph.Arrays;
            int n = graph.NodeCount;
            long edges = graph.EdgeCount;
            var head = new BinaryWriter(output, StrictUtf8, leaveOpen: true);
            head.Write(Magic);
            head.Write(FormatVersion);
            head.Write(n);
            head.Write(edges);
            head.Write(graph.TypeNames.Count);
            head.Write(graph.Roots.Count);
            head.Write(bigSizes.Count);
            foreach (var name in graph.TypeNames) WriteString(head, name);
            head.Flush();
            WriteChunks(output, address, n);
            WriteChunks(output, type, n);
            WriteChunks(output, size, n);
            WriteChunks(output, edgeEnd, n);
            foreach (var kv in bigSizes) { head.Write(kv.Key); head.Write(kv.Value); }
            head.Flush();
            // The targets are 4-byte node indices packed into 8-byte chunks (see HeapGraph.TargetAt).
            for (int c = 0; (long)c << HeapGraph.TargetShift < edges; c++)
            {
                long count = Math.Min(HeapGraph.TargetMask + 1L, edges - ((long)c << HeapGraph.TargetShift));
                output.Write(MemoryMarshal.AsBytes(targets[c].AsSpan()).Slice(0, (int)count * 4));
            }
            foreach (var root in graph.Roots)
            {
                head.Write(root.Node);
                head.Write((byte)root.Kind);
                if (root.Name == null) head.Write(-1); else WriteString(head, root.Name);
            }
            head.Write(EndMagic);
            head.Flush();
        }

        private static void WriteString(BinaryWriter w, string s)
        {
            var bytes = StrictUtf8.GetBytes(s);
            w.Write(bytes.Length);
            w.Write(bytes);
        }

        private static void WriteChunks<T>(Stream output, T[][] chunks, int n) where T : struct
        {
            for (int c = 0; (long)c << S < n; c++)
                output.Write(MemoryMarshal.AsBytes(chunks[c].AsSpan(0, Math.Min(ChunkSize, n - (c << S)))));
        }

        /// <summary>
        /// Reads a graph written by <see cref="Write"/>. <paramref name="maxBytes"/> bounds the memory the announced
        /// graph may take (the caller passes what this machine can give); a graph that would take more is refused
        /// before anything is allocated.
        /// </summary>
        public static HeapGraph Read(Stream input, long maxBytes)
        {
            var r = new Reader(input);
            if (r.UInt32() != Magic) throw new InvalidDataException("it does not start with a heap graph's marker");
            int version = r.Int32();
            if (version != FormatVersion) throw new InvalidDataException($"it is a version {version} heap graph; this MemoryOps reads version {FormatVersion}");
            int n = r.Int32();
            long edges = r.Int64();
            int typeCount = r.Int32(), rootCount = r.Int32(), bigCount = r.Int32();
            if (n < 0 || n >= int.MaxValue - 1) throw new InvalidDataException($"its node count {n} is out of range");
            if (edges < 0 || edges >= int.MaxValue - 1 || (n == 0 && edges != 0)) throw new InvalidDataException($"its edge count {edges} is out of range");
            // Every type index comes from a node, and every big size belongs to one.
            if (typeCount < 0 || typeCount > n) throw new InvalidDataException($"its type count {typeCount} is out of range for {n} nodes");
            if (bigCount < 0 || bigCount > n) throw new InvalidDataException($"its big-size count {bigCount} is out of range for {n} nodes");
            if (rootCount < 0) throw new InvalidDataException($"its root count {rootCount} is out of range");
            // What the arrays will take (nodes 20 bytes, edges 4, a dictionary entry ~24, a root 16): refused before allocating.
            long needed = n * 20L + edges * 4 + bigCount * 24L + rootCount * 16L + typeCount * 32L;
            if (needed > maxBytes)
                throw new InvalidDataException($"it announces a graph of {n:N0} objects and {edges:N0} references ({needed / 1048576.0:N0} MB), more than the {maxBytes / 1048576.0:N0} MB allowed");
            long stringBudget = Math.Max(0, maxBytes - needed);

            // Lists that grow as items arrive, not arrays of the announced size: a count that lies costs nothing.
            var names = new List<string>(Math.Min(typeCount, 4096));
            for (int t = 0; t < typeCount; t++) names.Add(r.String(ref stringBudget, $"type name {t}") ?? throw new InvalidDataException($"type name {t} is missing"));

            var address = r.Chunks<ulong>(n);
            var type = r.Chunks<int>(n);
            foreach (var chunk in type)
                foreach (int t in chunk)
                    if ((uint)t >= (uint)typeCount) throw new InvalidDataException($"a node has type index {t}, but there are {typeCount} types");
            var size = r.Chunks<uint>(n);
            var edgeEnd = r.Chunks<int>(n);
            int previous = 0;
            foreach (var chunk in edgeEnd)
                foreach (int end in chunk)
                {
                    if (end < previous || end > edges) throw new InvalidDataException($"its edge list is out of order ({end} after {previous}, {edges} edges)");
                    previous = end;
                }
            if (n > 0 && previous != edges) throw new InvalidDataException($"its nodes' edges end at {previous}, but it announces {edges} edges");

            var bigSizes = new Dictionary<int, long>(Math.Min(bigCount, 4096));
            for (int i = 0; i < bigCount; i++)
            {
                int node = r.Int32();
                long big = r.Int64();
                if ((uint)node >= (uint)n || size[node >> S][node & M] != uint.MaxValue || big < uint.MaxValue || !bigSizes.TryAdd(node, big))
                    throw new InvalidDataException($"big size {i} (node {node}, {big} bytes) does not belong to a node of that size");
            }

            var targets = r.Targets(edges);
            for (long e = 0; e < edges; e++)
            {
                int to = HeapGraph.TargetAt(targets, e);
                if ((uint)to >= (uint)n) throw new InvalidDataException($"reference {e} points at node {to}, but there are {n} nodes");
            }

            var roots = new List<HeapGraphRoot>(Math.Min(rootCount, 4096));
            for (int i = 0; i < rootCount; i++)
            {
                int node = r.Int32();
                byte kind = r.Byte();
                if ((uint)node >= (uint)n) throw new InvalidDataException($"root {i} holds node {node}, but there are {n} nodes");
                if (!Enum.IsDefined(typeof(HeapRootKind), (int)kind)) throw new InvalidDataException($"root {i} has the unknown kind {kind}");
                roots.Add(new HeapGraphRoot(node, (HeapRootKind)kind, r.String(ref stringBudget, $"the name of root {i}")));
            }
            if (r.UInt32() != EndMagic) throw new InvalidDataException("it does not end with a heap graph's end marker");
            return new HeapGraph(n, address, type, size, bigSizes, edgeEnd, targets, names.ToArray(), roots.ToArray());
        }

        /// <summary>Exact reads: a stream that ends early is InvalidDataException saying where.</summary>
        private sealed class Reader
        {
            private readonly Stream input;
            private readonly byte[] small = new byte[8];
            private long position;

            public Reader(Stream input) => this.input = input;

            private void Fill(Span<byte> into, string what)
            {
                int done = 0;
                while (done < into.Length)
                {
                    int k = input.Read(into.Slice(done));
                    if (k <= 0) throw new InvalidDataException($"it ends after {position + done:N0} bytes, in the middle of {what}");
                    done += k;
                }
                position += done;
            }

            public byte Byte() { Fill(small.AsSpan(0, 1), "a root"); return small[0]; }
            public int Int32() { Fill(small.AsSpan(0, 4), "a count"); return BitConverter.ToInt32(small, 0); }
            public uint UInt32() { Fill(small.AsSpan(0, 4), "a marker"); return BitConverter.ToUInt32(small, 0); }
            public long Int64() { Fill(small.AsSpan(0, 8), "a count"); return BitConverter.ToInt64(small, 0); }

            /// <summary>Null for length -1; the bytes must be UTF-8 and within both limits.</summary>
            public string? String(ref long budget, string what)
            {
                int length = Int32();
                if (length == -1) return null;
                if (length < 0 || length > MaxNameBytes || length * 2L > budget)
                    throw new InvalidDataException($"{what} has the length {length} (at most {MaxNameBytes:N0} bytes, and what is left of the allowed memory)");
                budget -= length * 2L;
                var bytes = new byte[length];
                Fill(bytes, what);
                try { return StrictUtf8.GetString(bytes); }
                catch (DecoderFallbackException) { throw new InvalidDataException($"{what} is not UTF-8"); }
            }

            /// <summary><paramref name="count"/> items in chunks as <see cref="ChunkedList{T}"/> makes them, each allocated only when its bytes come.</summary>
            public T[][] Chunks<T>(int count) where T : struct
            {
                var chunks = new T[(int)(((long)count + M) >> S)][];
                for (int c = 0; c < chunks.Length; c++)
                {
                    var chunk = new T[Math.Min(ChunkSize, count - (c << S))];
                    Fill(MemoryMarshal.AsBytes(chunk.AsSpan()), $"the node arrays");
                    chunks[c] = chunk;
                }
                return chunks;
            }

            /// <summary><paramref name="edges"/> 4-byte targets packed into 8-byte chunks of 2^TargetShift targets (see <see cref="HeapGraph.TargetAt"/>).</summary>
            public ulong[][] Targets(long edges)
            {
                const long PerChunk = HeapGraph.TargetMask + 1L;
                var chunks = new ulong[(int)((edges + PerChunk - 1) / PerChunk)][];
                for (int c = 0; c < chunks.Length; c++)
                {
                    int count = (int)Math.Min(PerChunk, edges - c * PerChunk);
                    var chunk = new ulong[(count + 1) / 2];
                    Fill(MemoryMarshal.AsBytes(chunk.AsSpan()).Slice(0, count * 4), "the references");
                    chunks[c] = chunk;
                }
                return chunks;
            }
        }
    }
}
