using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.Retention;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>
    /// The graph as the dump reader process sends it to the module: written and read back whole, and refused when
    /// it is cut short or damaged, never read into a graph whose indices leave its arrays.
    /// </summary>
    public sealed class HeapGraphSerializerTests
    {
        private const long Plenty = 1L << 40;

        /// <summary>Every feature of the format: several types (one non-ASCII), a size past 4 GB, edges, named and unnamed roots.</summary>
        internal static HeapGraph SmallGraph()
        {
            var b = new HeapGraphBuilder();
            b.OnNode(0x1000, 7, 24); b.OnEdge(0x1000, 0x1040); b.OnEdge(0x1000, 0x1080);
            b.OnNode(0x1040, 9, 5L << 30); b.OnEdge(0x1040, 0x10c0);
            b.OnNode(0x1080, 7, 32); b.OnEdge(0x1080, 0x1000);
            b.OnNode(0x10c0, 11, 48);
            b.OnRoot(0x1000, HeapRootKind.StaticField, "Cache.entries");
            b.OnRoot(0x1080, HeapRootKind.Stack, null);
            b.OnRoot(0x10c0, HeapRootKind.StrongHandle, null);
            b.OnTypeName(7, "Holder");
            b.OnTypeName(9, "System.Byte[]");
            b.OnTypeName(11, "Ünïcode<Ключ, 値>");
            return b.Build();
        }

        private static byte[] Bytes(HeapGraph graph)
        {
            var stream = new MemoryStream();
            HeapGraphSerializer.Write(graph, stream);
            return stream.ToArray();
        }

        private static HeapGraph ReadBack(byte[] bytes, long maxBytes = Plenty) => HeapGraphSerializer.Read(new MemoryStream(bytes), maxBytes);

        internal static void AssertSame(HeapGraph expected, HeapGraph actual)
        {
            Assert.Equal(expected.NodeCount, actual.NodeCount);
            Assert.Equal(expected.EdgeCount, actual.EdgeCount);
            Assert.Equal(expected.TypeNames, actual.TypeNames);
            Assert.Equal(expected.Roots.Select(r => (r.Node, r.Kind, r.Name)), actual.Roots.Select(r => (r.Node, r.Kind, r.Name)));
            for (int i = 0; i < expected.NodeCount; i++)
            {
                if (expected.AddressOf(i) != actual.AddressOf(i) || expected.TypeOf(i) != actual.TypeOf(i) || expected.SizeOf(i) != actual.SizeOf(i)
                    || expected.EdgeStart(i) != actual.EdgeStart(i) || expected.EdgeEnd(i) != actual.EdgeEnd(i))
                    Assert.Fail($"node {i} differs");
            }
            for (int e = 0; e < expected.EdgeCount; e++)
                if (expected.Target(e) != actual.Target(e)) Assert.Fail($"edge {e} differs");
        }

        [Fact]
        public void Round_trip_keeps_every_node_edge_type_size_and_root()
        {
            var graph = SmallGraph();
            var back = ReadBack(Bytes(graph));
            AssertSame(graph, back);
            Assert.Equal(5L << 30, back.SizeOf(1));
            Assert.Equal("Ünïcode<Ключ, 値>", back.TypeNames[2]);
            Assert.Contains(back.Roots, r => r.Name == "Cache.entries" && r.Kind == HeapRootKind.StaticField);
            // The analysis gives the same answer on the copy.
            var expected = new RetentionAnalyzer(graph).RetainedSizes(null, 10, CancellationToken.None);
            var actual = new RetentionAnalyzer(back).RetainedSizes(null, 10, CancellationToken.None);
            Assert.Equal(expected.Select(s => (s.TypeName, s.Count, s.RetainedBytes)), actual.Select(s => (s.TypeName, s.Count, s.RetainedBytes)));
        }

        [Fact]
        public void Round_trip_of_an_empty_graph()
        {
            var graph = new HeapGraphBuilder().Build();
            var back = ReadBack(Bytes(graph));
            Assert.Equal(0, back.NodeCount);
            Assert.Equal(0, back.EdgeCount);
            Assert.Empty(back.Roots);
        }

        [Fact]
        public void Round_trip_across_chunk_boundaries()
        {
            // 2.5 Mi nodes (three node chunks) and an odd number of edges past one target chunk (2 Mi targets).
            const int n = 2_500_000;
            var b = new HeapGraphBuilder();
            for (int i = 0; i < n; i++)
            {
                ulong a = 0x10000 + (ulong)i * 32;
                b.OnNode(a, (ulong)(i % 5), 24 + i % 3 * 8);
                if (i + 1 < n) b.OnEdge(a, a + 32);
                if (i % 7 == 0 && i + 2 < n) b.OnEdge(a, a + 64);
                if (i == 1) b.OnEdge(a, a + 96); // makes the count odd: the last target chunk ends mid-word
            }
            for (ulong t = 0; t < 5; t++) b.OnTypeName(t, $"T{t}");
            b.OnRoot(0x10000, HeapRootKind.Stack, null);
            var graph = b.Build();
            Assert.True(graph.EdgeCount > HeapGraph.TargetMask + 1 && graph.EdgeCount % 2 == 1, $"{graph.EdgeCount} edges");
            var back = ReadBack(Bytes(graph));
            AssertSame(graph, back);
        }

        [Fact]
        public void Every_truncation_is_refused_as_invalid_data()
        {
            var bytes = Bytes(SmallGraph());
            for (int length = 0; length < bytes.Length; length++)
            {
                var e = Assert.Throws<InvalidDataException>(() => ReadBack(bytes.AsSpan(0, length).ToArray()));
                Assert.False(string.IsNullOrEmpty(e.Message));
            }
        }

        [Fact]
        public void A_damaged_byte_anywhere_is_refused_or_yields_a_graph_whose_indices_stay_inside_it()
        {
            var bytes = Bytes(SmallGraph());
            int refused = 0;
            foreach (byte value in new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF })
            {
                for (int at = 0; at < bytes.Length; at++)
                {
                    if (bytes[at] == value) continue;
                    var damaged = (byte[])bytes.Clone();
                    damaged[at] = value;
                    HeapGraph graph;
                    try { graph = ReadBack(damaged); }
                    catch (InvalidDataException) { refused++; continue; }
                    for (int i = 0; i < graph.NodeCount; i++)
                    {
                        Assert.InRange(graph.TypeOf(i), 0, graph.TypeNames.Count - 1);
                        for (int e = graph.EdgeStart(i); e < graph.EdgeEnd(i); e++) Assert.InRange(graph.Target(e), 0, graph.NodeCount - 1);
                    }
                    Assert.All(graph.Roots, r => Assert.InRange(r.Node, 0, graph.NodeCount - 1));
                    new RetentionAnalyzer(graph).RetainedSizes(null, 10, CancellationToken.None); // and the analysis runs on it
                }
            }
            Assert.True(refused > bytes.Length, $"only {refused} damaged copies refused");
        }

        [Theory]
        [InlineData("node count", 8, -5, "node count")]
        [InlineData("edge count", 12, -1, "edge count")]
        [InlineData("type count", 20, 1000, "type count")]
        [InlineData("version", 4, 2, "version 2")]
        [InlineData("magic", 0, 0x12345678, "marker")]
        public void Nonsense_in_the_header_is_refused_saying_what(string what, int offset, int value, string expected)
        {
            var bytes = Bytes(SmallGraph());
            BitConverter.GetBytes(value).CopyTo(bytes, offset);
            var e = Assert.Throws<InvalidDataException>(() => ReadBack(bytes));
            Assert.Contains(expected, e.Message);
            Assert.False(string.IsNullOrEmpty(what));
        }

        [Fact]
        public void A_graph_larger_than_the_memory_allowed_is_refused_before_anything_is_read()
        {
            var graph = SmallGraph();
            var bytes = Bytes(graph);
            var e = Assert.Throws<InvalidDataException>(() => ReadBack(bytes, maxBytes: 64));
            Assert.Contains("more than the", e.Message);
            // A header that announces 2 G objects over a stream of a few bytes is refused by its size alone.
            var lie = (byte[])bytes.Clone();
            BitConverter.GetBytes(int.MaxValue - 2).CopyTo(lie, 8);
            Assert.Contains("allowed", Assert.Throws<InvalidDataException>(() => ReadBack(lie, maxBytes: 1L << 30)).Message);
        }

        [Fact]
        public void Indices_out_of_range_are_refused()
        {
            var graph = SmallGraph();
            var bytes = Bytes(graph);
            // Layout: 32-byte header, the type names, then per-node arrays (addresses, types, sizes, edge ends).
            int namesEnd = 32 + graph.TypeNames.Sum(t => 4 + System.Text.Encoding.UTF8.GetByteCount(t));
            int typesAt = namesEnd + graph.NodeCount * 8;
            var badType = (byte[])bytes.Clone();
            BitConverter.GetBytes(3).CopyTo(badType, typesAt); // only types 0..2 exist
            Assert.Contains("type index 3", Assert.Throws<InvalidDataException>(() => ReadBack(badType)).Message);

            int edgeEndsAt = typesAt + graph.NodeCount * 8;
            var badEnds = (byte[])bytes.Clone();
            BitConverter.GetBytes(5).CopyTo(badEnds, edgeEndsAt + 4); // node 1's edges would end past the 4 edges there are
            Assert.Contains("out of order", Assert.Throws<InvalidDataException>(() => ReadBack(badEnds)).Message);

            int targetsAt = edgeEndsAt + graph.NodeCount * 4 + 12; // one big size (node, size)
            var badTarget = (byte[])bytes.Clone();
            BitConverter.GetBytes(4).CopyTo(badTarget, targetsAt); // there are 4 nodes: 0..3
            Assert.Contains("points at node 4", Assert.Throws<InvalidDataException>(() => ReadBack(badTarget)).Message);
        }
    }
}
