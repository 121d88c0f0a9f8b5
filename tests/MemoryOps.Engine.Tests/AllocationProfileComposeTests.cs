using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using MemoryOps;
using MemoryOps.Engine.Allocations;
using MemoryOps.Engine.Rules;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>Allocation profiles composed with the rest: comparison, rules, and the speedscope file's shape.</summary>
    public class AllocationProfileComposeTests
    {
        private static AllocationProfile Profile(double seconds, params (string Type, double Bytes, double RelativeError)[] rows)
        {
            var p = new AllocationProfile { Method = AllocationSamplingMethod.Randomized, Duration = seconds, ProcessId = 7, ProcessName = "svc", Host = "h", End = DateTime.UnixEpoch.AddSeconds(seconds) };
            foreach (var r in rows)
                p.Types.Add(new AllocationTypeStat { TypeName = r.Type, EstimatedBytes = r.Bytes, BytesPerSecond = r.Bytes / seconds, RelativeError = r.RelativeError, EstimatedCount = r.Bytes / 100 });
            p.BytesPerSecond = p.Types.Sum(t => t.BytesPerSecond);
            return p;
        }

        [Fact]
        public void Compare_uses_rates_and_says_what_exceeds_the_sampling_error()
        {
            // Same rate over windows of different lengths: unchanged. A 50 % rise on a ±2 % estimate: significant.
            // A 3 % rise on two ±5 % estimates: within the noise.
            var before = Profile(10, ("Same", 100e6, 0.02), ("Up", 100e6, 0.02), ("Noise", 100e6, 0.05), ("Gone", 1e6, 0.3));
            var after = Profile(20, ("Same", 200e6, 0.02), ("Up", 300e6, 0.02), ("Noise", 206e6, 0.05), ("New", 50e6, 0.03));
            var deltas = AllocationComparer.Compare(before, after).ToDictionary(d => d.TypeName);
            Assert.Equal(DeltaStatus.Unchanged, deltas["Same"].Status);
            Assert.Equal(false, deltas["Same"].Significant);
            Assert.Equal(DeltaStatus.Grown, deltas["Up"].Status);
            Assert.Equal(5e6, deltas["Up"].BytesPerSecondDelta, 3);
            Assert.Equal(50, deltas["Up"].GrowthPercent!.Value, 6);
            Assert.Equal(true, deltas["Up"].Significant);
            Assert.Equal(false, deltas["Noise"].Significant);
            Assert.Equal(DeltaStatus.Added, deltas["New"].Status);
            Assert.Null(deltas["New"].GrowthPercent);
            Assert.Equal(DeltaStatus.Removed, deltas["Gone"].Status);
            Assert.Equal("Up", AllocationComparer.Compare(before, after)[0].TypeName); // largest change first
            before.Method = AllocationSamplingMethod.AllocationTick;
            Assert.All(AllocationComparer.Compare(before, after), d => Assert.Null(d.Significant));
        }

        [Fact]
        public void Compare_does_not_call_a_type_added_or_removed_when_it_may_only_have_fallen_out_of_a_top_N()
        {
            // The reference kept its top 2 of 5 types (-Top 2); the difference is complete.
            var before = Profile(10, ("A", 100e6, 0.02), ("B", 90e6, 0.02));
            before.TypeCount = 5;
            var after = Profile(10, ("A", 100e6, 0.02), ("B", 90e6, 0.02), ("C", 80e6, 0.02));
            after.TypeCount = 3;
            var deltas = AllocationComparer.Compare(before, after, out var unknown);
            Assert.Equal(new[] { "C" }, unknown);
            Assert.DoesNotContain(deltas, d => d.TypeName == "C");
            Assert.All(deltas, d => Assert.Equal(DeltaStatus.Unchanged, d.Status));
            // The other way round: the truncated difference lacks C, which may only be below its top: unknown too.
            deltas = AllocationComparer.Compare(after, before, out unknown);
            Assert.Equal(new[] { "C" }, unknown);
            Assert.Equal(2, deltas.Count);
            // A type missing from a complete profile was not allocated there: Removed, as before.
            var complete = Profile(10, ("A", 100e6, 0.02));
            complete.TypeCount = 1;
            deltas = AllocationComparer.Compare(after, complete, out unknown);
            Assert.Empty(unknown);
            Assert.Equal(DeltaStatus.Removed, deltas.Single(d => d.TypeName == "C").Status);
            Assert.Equal(DeltaStatus.Removed, deltas.Single(d => d.TypeName == "B").Status);
        }

        [Fact]
        public void A_rate_rule_judges_profiles_and_leaves_snapshots_alone()
        {
            var rule = new MemoryRule { Name = "rate", Kind = MemoryRuleKind.Type, TypeName = new[] { "OrderService.*" }, MaxAllocationRate = 50e6 };
            rule.Validate();
            var evaluator = new ThresholdEvaluator(new[] { rule }, (r, h) => throw new InvalidOperationException());
            var profile = Profile(10, ("OrderService.Invoice", 600e6, 0.02), ("OrderService.Line", 100e6, 0.02), ("System.String", 900e6, 0.02));
            Assert.True(evaluator.TryObserve(profile, out var results));
            Assert.Equal(2, results.Count);
            var invoice = results.Single(r => r.Subject == "OrderService.Invoice");
            Assert.False(invoice.Passed);
            Assert.Equal(60e6, invoice.Observed, 3);
            Assert.Equal("bytes/s", invoice.Unit);
            Assert.True(results.Single(r => r.Subject == "OrderService.Line").Passed);
            var snapshot = new HeapSnapshot { Types = { new HeapTypeStat { TypeName = "OrderService.Invoice", Count = 1, TotalBytes = 1_000_000_000 } } };
            Assert.True(evaluator.TryObserve(snapshot, out var none));
            Assert.Empty(none);
            var heapRule = new MemoryRule { Name = "heap", Kind = MemoryRuleKind.Type, TypeName = new[] { "*" }, MaxBytes = 1 };
            Assert.True(new ThresholdEvaluator(new[] { heapRule }, (r, h) => throw new InvalidOperationException()).TryObserve(profile, out var heapOnProfile));
            Assert.Empty(heapOnProfile);
            Assert.Throws<MemoryOpsException>(() => new MemoryRule { Kind = MemoryRuleKind.Type, TypeName = new[] { "*" }, MaxAllocationRate = -1 }.Validate());
        }

        [Fact]
        public void Speedscope_lists_each_stack_root_first_with_its_weight()
        {
            var acc = new AllocationAccumulator(AllocationSamplingMethod.Randomized);
            acc.AddSampled("A", 100, new[] { "Leaf()", "Main()" });
            var p = acc.Build(1, "p", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1));
            using var ms = new MemoryStream();
            AllocationProfileExport.WriteSpeedscope(p, ms);
            using var doc = JsonDocument.Parse(ms.ToArray());
            var frames = doc.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToArray();
            var space = doc.RootElement.GetProperty("profiles")[0];
            var stack = space.GetProperty("samples")[0].EnumerateArray().Select(i => frames[i.GetInt32()]).ToArray();
            Assert.Equal(new[] { "Main()", "Leaf()", "A" }, stack);
            Assert.Equal(Math.Round(p.Stacks[0].EstimatedBytes), space.GetProperty("weights")[0].GetDouble());
        }

        [Fact]
        public void Pprof_starts_with_the_sample_types_and_holds_every_name_in_its_string_table()
        {
            var acc = new AllocationAccumulator(AllocationSamplingMethod.Randomized);
            acc.AddSampled("Ünïcode<T>", 100, new[] { "M()" });
            var p = acc.Build(1, "p\nq", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1));
            using var ms = new MemoryStream();
            AllocationProfileExport.WritePprof(p, ms);
            byte[] bytes = ms.ToArray();
            Assert.Equal(0x0a, bytes[0]); // field 1 (sample_type), length-delimited
            string all = System.Text.Encoding.UTF8.GetString(bytes);
            foreach (var s in new[] { "alloc_objects", "alloc_space", "count", "bytes", "Ünïcode<T>", "M()", "type", "space" }) Assert.Contains(s, all);
            // The process name's line break is written escaped: pprof prints the comment to a terminal.
            Assert.DoesNotContain("p\nq", all);
            Assert.Contains(MemoryOps.Display.Escape("p\nq"), all);
        }
    }
}
