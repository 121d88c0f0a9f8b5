using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.Retention;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>The retention engine on small hand-built graphs whose answers are known.</summary>
    public sealed class RetentionAnalyzerTests
    {
        /// <summary>Builds a graph through the sink, as the snapshot routes do: nodes by letter, type = the letter's type map.</summary>
        private sealed class G
        {
            public readonly HeapGraphBuilder B = new HeapGraphBuilder();
            private readonly Dictionary<string, ulong> addr = new Dictionary<string, ulong>();
            private readonly Dictionary<string, ulong> typeIds = new Dictionary<string, ulong>();

            public ulong A(string node) => addr[node];

            /// <summary>Node name, type name, size, then the names of the nodes it references (added before or after).</summary>
            public G Node(string name, string type, long size, params string[] refs)
            {
                ulong a = Addr(name);
                if (!typeIds.TryGetValue(type, out var t)) { t = 0x1000 + (ulong)typeIds.Count * 8; typeIds[type] = t; }
                B.OnNode(a, t, size);
                foreach (var r in refs) B.OnEdge(a, Addr(r));
                return this;
            }

            private ulong Addr(string name)
            {
                if (!addr.TryGetValue(name, out var a)) { a = 0x10000 + (ulong)addr.Count * 0x40; addr[name] = a; }
                return a;
            }

            public G Root(string name, HeapRootKind kind, string? field = null) { B.OnRoot(Addr(name), kind, field); return this; }

            private HeapGraph? built;

            public HeapGraph Build()
            {
                if (built != null) return built;
                foreach (var kv in typeIds) B.OnTypeName(kv.Value, kv.Key);
                return built = B.Build();
            }
        }

        private static RetentionAnalyzer Analyze(G g) => new RetentionAnalyzer(g.Build());

        [Fact]
        public void Builder_maps_edges_to_nodes_in_compact_arrays()
        {
            var g = new G()
                .Node("a", "A", 24, "b", "c", "zz") // zz is never walked: the edge is dropped
                .Node("b", "B", 32)
                .Node("c", "C", 40, "a")
                .Root("a", HeapRootKind.Stack);
            var graph = g.Build();
            Assert.Equal(3, graph.NodeCount);
            Assert.Equal(3, graph.EdgeCount);
            Assert.Equal(new[] { "A", "B", "C" }, graph.TypeNames);
            Assert.Equal(32, graph.SizeOf(1));
            Assert.Single(graph.Roots);
        }

        [Fact]
        public void A_large_graph_costs_under_30_bytes_per_object()
        {
            // 3 M objects with 1.5 references each, the shape of the leak: holders with two references, leaves with one.
            const int n = 3_000_000;
            var b = new HeapGraphBuilder();
            for (int i = 0; i < n; i++)
            {
                ulong a = 0x10000 + (ulong)i * 32;
                b.OnNode(a, (ulong)(i % 3), 32);
                if (i % 2 == 0) { b.OnEdge(a, a + 32); b.OnEdge(a, a + 64); } else b.OnEdge(a, a - 32);
            }
            b.OnRoot(0x10000, HeapRootKind.Stack, null);
            var graph = b.Build();
            Assert.Equal(n, graph.NodeCount);
            Assert.Equal(n / 2 * 3 - 1, graph.EdgeCount); // the last node's forward reference leads nowhere
            Assert.True(graph.MemoryBytes / (double)n < 30, $"{graph.MemoryBytes / (double)n:0.0} bytes per object");
            Assert.Equal(0x10000UL + 32 * 12345, graph.AddressOf(12345));
        }

        [Fact]
        public void Edges_that_come_after_later_nodes_are_paired_in_node_order_like_EventPipe()
        {
            // EventPipe: nodes a, b, c arrive first, then the edges of a, then of c (b has none).
            var b = new HeapGraphBuilder();
            b.OnNode(0x100, 1, 10); b.OnNode(0x200, 1, 10); b.OnNode(0x300, 1, 10);
            b.OnEdge(0x100, 0x200); b.OnEdge(0x100, 0x300); b.OnEdge(0x300, 0x100);
            b.OnEdge(0x200, 0x300); // out of order: kept aside and merged in
            b.OnTypeName(1, "T");
            b.OnRoot(0x100, HeapRootKind.StrongHandle, null);
            var graph = b.Build();
            Assert.Equal(4, graph.EdgeCount);
            var a = new RetentionAnalyzer(graph);
            var sizes = a.RetainedSizes(null, 10, CancellationToken.None);
            Assert.Equal(30, sizes.Single().RetainedBytes); // one open instance of T at a time: a dominates all
        }

        private static G Leak(int orders)
        {
            // [static] Orders.byId → Dictionary → Entry[] → OrderStat → String (the key string is shared with the entry)
            var g = new G();
            g.Node("dict", "Dictionary<String, OrderStat>", 80, "entries");
            g.Node("entries", "Dictionary<String, OrderStat>+Entry[]", 24 + orders * 24, Enumerable.Range(0, orders).SelectMany(i => new[] { "k" + i, "o" + i }).ToArray());
            for (int i = 0; i < orders; i++)
            {
                g.Node("o" + i, "OrderStat", 48, "k" + i);
                g.Node("k" + i, "System.String", 56);
            }
            g.Node("statics", "System.Object[]", 100, "dict", "other");
            g.Node("other", "Other", 24, "o0"); // a second, longer path to one order
            g.Root("statics", HeapRootKind.StrongHandle);
            g.Root("dict", HeapRootKind.StaticField, "Orders.byId");
            return g;
        }

        [Fact]
        public void Paths_start_at_the_named_static_and_count_every_instance()
        {
            var paths = Analyze(Leak(5)).Paths(t => t == "OrderStat", 10, 10, CancellationToken.None);
            var p = Assert.Single(paths);
            Assert.Equal("[static] Orders.byId → Dictionary<String, OrderStat> → Entry[] → OrderStat", p.Path);
            Assert.Equal("StaticField", p.RootKind);
            Assert.Equal("Orders.byId", p.RootName);
            Assert.Equal(5, p.Count);
            Assert.Equal(5 * 48, p.TotalBytes);
            Assert.Equal(1.0, p.Fraction);
            Assert.Equal(3, p.Depth);
            Assert.Equal(new[] { "Dictionary<String, OrderStat>", "Dictionary<String, OrderStat>+Entry[]", "OrderStat" }, p.Types);
            Assert.Equal(3, p.SamplePath.Length); // dict, entries, the order
            Assert.Equal("0x" + p.SampleAddress.ToString("x"), p.SamplePath[^1]);
        }

        [Fact]
        public void Paths_group_by_shape_shortest_first_and_report_the_unreachable()
        {
            var g = new G()
                .Node("s1", "Holder", 24, "x1")
                .Node("x1", "X", 10)
                .Node("s2", "Holder", 24, "m")
                .Node("m", "Middle", 24, "x2", "x3")
                .Node("x2", "X", 10)
                .Node("x3", "X", 10)
                .Node("x4", "X", 10) // garbage
                .Root("s1", HeapRootKind.Stack)
                .Root("s2", HeapRootKind.PinnedHandle);
            var paths = Analyze(g).Paths(t => t == "X", 10, 10, CancellationToken.None);
            Assert.Equal(new[] { "[stack] → Holder → X", "[pinned handle] → Holder → Middle → X", "[unreachable] X" }, paths.Select(p => p.Path));
            Assert.Equal(new long[] { 1, 2, 1 }, paths.Select(p => p.Count));
            Assert.Equal(4, paths.Sum(p => p.Count));
            var limited = Analyze(g).Paths(t => t == "X", 10, 1, CancellationToken.None);
            // -MaxPaths keeps the groups that hold the most, still shortest first.
            Assert.Equal(new[] { "[pinned handle] → Holder → Middle → X", "[unreachable] X" }, limited.Select(p => p.Path));
        }

        [Fact]
        public void A_linked_list_folds_into_one_repeated_step()
        {
            var g = new G();
            for (int i = 0; i < 1000; i++) g.Node("n" + i, "Node", 32, i < 999 ? new[] { "n" + (i + 1) } : Array.Empty<string>());
            g.Root("n0", HeapRootKind.StaticField, "List.head");
            var paths = Analyze(g).Paths(t => t == "Node", 10, 10, CancellationToken.None);
            var p = Assert.Single(paths);
            Assert.Equal("[static] List.head → Node (repeated)", p.Path);
            Assert.Equal(1000, p.Count);
            var sizes = Analyze(g).RetainedSizes(null, 10, CancellationToken.None);
            Assert.Equal(32000, Assert.Single(sizes).RetainedBytes); // not 1000 nested instances counted again and again
        }

        [Fact]
        public void Retained_size_of_the_dictionary_covers_entries_keys_and_values()
        {
            const int orders = 5;
            var sizes = Analyze(Leak(orders)).RetainedSizes(null, 10, CancellationToken.None);
            var dict = sizes.Single(s => s.TypeName == "Dictionary<String, OrderStat>");
            // o0 is also reachable through "other", so the dictionary does not dominate it (nor its key string).
            long entries = 24 + orders * 24;
            Assert.Equal(80 + entries + (orders - 1) * (48 + 56), dict.RetainedBytes);
            Assert.Equal(80, dict.ShallowBytes);
            // The dictionary is a root of its own (the static), so the statics array keeps only itself and "other".
            Assert.Equal("Dictionary<String, OrderStat>", sizes[0].TypeName);
            Assert.Equal(100 + 24, sizes.Single(s => s.TypeName == "System.Object[]").RetainedBytes);
            long all = 100 + 24 + 80 + entries + orders * (48 + 56);
            Assert.Equal((double)dict.RetainedBytes / all, dict.HeapFraction, 6);
            // An order does not keep its key alive: the entry array references the key too.
            var order = sizes.Single(s => s.TypeName == "OrderStat");
            Assert.Equal(5, order.Count);
            Assert.Equal(orders * 48, order.RetainedBytes);
        }

        [Fact]
        public void Dominators_on_the_classic_irreducible_example()
        {
            // Cooper–Harvey–Kennedy figure 4: r → a, b; a → c; b → d; c → d? (d ↔ c cycle entered from both sides)
            var g = new G()
                .Node("r", "R", 1, "a", "b")
                .Node("a", "A", 2, "c")
                .Node("b", "B", 4, "d")
                .Node("c", "C", 8, "d")
                .Node("d", "D", 16, "c")
                .Root("r", HeapRootKind.Stack);
            var sizes = Analyze(g).RetainedSizes(null, 10, CancellationToken.None).ToDictionary(s => s.TypeName, s => s.RetainedBytes);
            Assert.Equal(31, sizes["R"]);
            Assert.Equal(2, sizes["A"]);  // c is also reached via b → d → c
            Assert.Equal(4, sizes["B"]);
            Assert.Equal(8, sizes["C"]);
            Assert.Equal(16, sizes["D"]);
        }

        [Fact]
        public void Short_names_drop_namespaces_and_name_nested_types_by_themselves()
        {
            Assert.Equal("Dictionary<String, OrderStat>", RetentionAnalyzer.ShortTypeName("System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>"));
            Assert.Equal("Entry[]", RetentionAnalyzer.ShortTypeName("System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]"));
            Assert.Equal("Int64[]", RetentionAnalyzer.ShortTypeName("System.Int64[]"));
            Assert.Equal("List<CachedReport>", RetentionAnalyzer.ShortTypeName("System.Collections.Generic.List<OrderService.CachedReport>"));
        }

        [Fact]
        public void Live_static_roots_are_named_by_their_declaring_type_from_metadata()
        {
            // GCBulkRootStaticVar gives the field name and the held object's type; the declaring type comes from metadata.
            string config = new System.IO.DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            string dll = System.IO.Path.GetFullPath(System.IO.Path.Combine(AppContext.BaseDirectory, "../../../../TestTarget/bin", config, "net10.0/TestTarget.dll"));
            string coreLib = typeof(object).Assembly.Location;
            var names = new StaticFieldNames(new[] { dll, coreLib }, new[] { "byId", "cache", "Empty", "nothing" });
            Assert.Equal("OrderService.Orders.byId", names.Name("byId", "System.Collections.Generic.Dictionary`2[System.String,OrderService.OrderStat]"));
            Assert.Equal("OrderService.ReportCache.cache", names.Name("cache", "System.Collections.Generic.List`1[OrderService.CachedReport]"));
            Assert.Equal("System.String.Empty", names.Name("Empty", "System.String"));
            Assert.Equal("?.nothing", names.Name("nothing", "System.Object"));
        }

        [Fact]
        public void Cancellation_is_honoured()
        {
            var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            var g = new G();
            for (int i = 0; i < 70000; i++) g.Node("n" + i, "Node", 32);
            for (int i = 0; i < 70000; i++) g.Root("n" + i, HeapRootKind.Stack);
            var a = Analyze(g);
            Assert.Throws<OperationCanceledException>(() => a.RetainedSizes(null, 10, cancelled.Token));
        }
    }
}
