using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MemoryOps;
using MemoryOps.Engine.Baselines;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public sealed class BaselineStoreTests : IDisposable
    {
        private readonly string folder = Path.Combine(Path.GetTempPath(), "memoryops-store-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }

        private static HeapSnapshot Snap(DateTime when, long orderBytes)
        {
            var s = new HeapSnapshot { Source = SnapshotSource.Process, Timestamp = when, ProcessId = 5, ProcessName = "svc", RuntimeVersion = "10.0.0", LiveOnly = true };
            s.Types.Add(new HeapTypeStat { TypeName = "OrderStat", Count = orderBytes / 80, TotalBytes = orderBytes });
            s.Types.Add(new HeapTypeStat { TypeName = "Free", Count = 3, TotalBytes = 999, IsFree = true });
            s.TotalBytes = orderBytes;
            s.ObjectCount = orderBytes / 80;
            return s;
        }

        [Fact]
        public void Appends_and_reads_back_history_with_snapshots_and_keeps_only_the_newest_MaxHistory()
        {
            var store = new BaselineStore(folder);
            var t = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
            for (int day = 0; day < 5; day++)
                store.Append("orders", new[] { BaselineStore.FromSnapshot(Snap(t.AddDays(day), 8000 * (day + 1))) }, maxHistory: 3);
            var history = store.Read("orders");
            Assert.Equal(3, history.Count);
            Assert.Equal(new[] { t.AddDays(2), t.AddDays(3), t.AddDays(4) }, history.Select(h => h.Timestamp));
            Assert.Equal(40000.0, history[2].Metrics["TotalBytes"]);
            Assert.Equal("bytes", history[2].Units["TotalBytes"]);
            Assert.Equal(40000, history[2].Snapshot!.Types.Single(x => x.TypeName == "OrderStat").TotalBytes);
            Assert.Equal(new[] { "orders" }, store.List());
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FileOf("orders")));
        }

        [Fact]
        public void Statistics_cover_metrics_and_types_and_count_a_missing_type_as_zero()
        {
            var t = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
            var entries = new List<MemoryBaselineEntry>
            {
                BaselineStore.FromSnapshot(Snap(t, 800)),
                BaselineStore.FromSnapshot(Snap(t.AddDays(1), 1600)),
                BaselineStore.FromCounterSamples(new[]
                {
                    new CounterSample { Name = "gc-heap-size", Value = 100, Unit = "bytes", Timestamp = t.AddDays(2) },
                    new CounterSample { Name = "gc-heap-size", Value = 300, Unit = "bytes", Timestamp = t.AddDays(2).AddSeconds(1) },
                }),
            };
            entries[1].Snapshot!.Types.Add(new HeapTypeStat { TypeName = "New", Count = 2, TotalBytes = 48 });
            var stats = BaselineStatistics.Compute("b", entries);
            var heap = stats.Single(s => s.Name == "gc-heap-size");
            Assert.Equal((1, 200.0, 0.0), (heap.Count, heap.Mean, heap.StandardDeviation)); // the mean of the samples is the entry's value
            var total = stats.Single(s => s.Name == "TotalBytes");
            Assert.Equal((2, 1200.0, 800.0, 1600.0), (total.Count, total.Mean, total.Minimum, total.Maximum));
            Assert.Equal(Math.Sqrt(2 * 400.0 * 400.0), total.StandardDeviation, 6);
            var added = stats.Single(s => s.Name == "New" && s.Kind == BaselineStatisticKind.TypeBytes);
            Assert.Equal((2, 24.0, 0.0, 48.0), (added.Count, added.Mean, added.Minimum, added.Maximum));
            Assert.DoesNotContain(stats, s => s.Name == "Free");
            Assert.Equal("OrderStat", stats.First(s => s.Kind != BaselineStatisticKind.Metric).Name); // largest type first
        }

        [Fact]
        public void Parallel_writers_lose_no_entry()
        {
            // Two "scheduled jobs" with their own store objects (as two processes would have), 40 saves each, all at once.
            var t = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, writer =>
            {
                var store = new BaselineStore(folder);
                for (int i = 0; i < 40; i++)
                    store.Append("shared", new[] { BaselineStore.FromSnapshot(Snap(t.AddMinutes(writer * 1000 + i), 80)) }, maxHistory: 1000);
            });
            var history = new BaselineStore(folder).Read("shared");
            Assert.Equal(80, history.Count);
            Assert.Equal(80, history.Select(h => h.Timestamp).Distinct().Count());
            Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
        }

        [Fact]
        public void A_corrupt_or_future_baseline_file_is_reported_by_name_and_left_untouched()
        {
            var store = new BaselineStore(folder);
            store.Append("b", new[] { BaselineStore.FromSnapshot(Snap(DateTime.UtcNow, 80)) }, 10);
            string file = store.FileOf("b");
            File.WriteAllText(file, "{ \"format\": \"MemoryOps.Baseline\", \"version\": 1, \"entries\": [ {");
            byte[] before = File.ReadAllBytes(file);
            var e = Assert.Throws<MemoryOpsException>(() => store.Append("b", new[] { BaselineStore.FromSnapshot(Snap(DateTime.UtcNow, 80)) }, 10));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(file, e.Message);
            Assert.Equal(before, File.ReadAllBytes(file));

            File.WriteAllText(file, "{ \"format\": \"MemoryOps.Baseline\", \"version\": 99, \"entries\": [] }");
            Assert.Equal(FailureKind.UnsupportedVersion, Assert.Throws<MemoryOpsException>(() => store.Read("b")).Kind);
            File.WriteAllText(file, "");
            Assert.Contains("empty", Assert.Throws<MemoryOpsException>(() => store.Read("b")).Message);
        }

        [Theory]
        [InlineData("../escape")]
        [InlineData("a/b")]
        [InlineData("")]
        [InlineData(".hidden")]
        public void Names_that_could_leave_the_store_are_refused(string name)
        {
            Assert.Equal(FailureKind.InvalidInput, Assert.Throws<MemoryOpsException>(() => BaselineStore.ValidateName(name)).Kind);
        }

        [Fact]
        public void A_missing_baseline_is_not_found()
        {
            Assert.Equal(FailureKind.BaselineNotFound, Assert.Throws<MemoryOpsException>(() => new BaselineStore(folder).Read("nothing")).Kind);
        }
    }
}
