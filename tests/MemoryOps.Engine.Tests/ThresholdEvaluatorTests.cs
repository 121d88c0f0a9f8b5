using System;
using System.Collections.Generic;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.Rules;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class ThresholdEvaluatorTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);

        private static CounterSample Sample(double value, double atSeconds, string name = "gc-heap-size", int pid = 42) =>
            new CounterSample { Name = name, Value = value, Unit = "bytes", ProcessId = pid, ProcessName = "svc", Timestamp = T0.AddSeconds(atSeconds) };

        private static ThresholdEvaluator Evaluator(params MemoryRule[] rules) => new ThresholdEvaluator(rules, (r, h) => throw new InvalidOperationException("no baseline"));

        private static List<ThresholdResult> Feed(ThresholdEvaluator e, IEnumerable<object> inputs, out List<ThresholdResult> streamed)
        {
            streamed = new List<ThresholdResult>();
            foreach (var i in inputs)
            {
                Assert.True(e.TryObserve(i, out var now));
                streamed.AddRange(now);
            }
            return streamed.Concat(e.Complete()).ToList();
        }

        [Fact]
        public void A_counter_rule_fails_at_once_on_the_sample_that_breaches_and_reports_each_subject_once()
        {
            var rule = new MemoryRule { Name = "heap", Kind = MemoryRuleKind.Counter, Counter = new[] { "gc-heap*" }, Maximum = 100 };
            var all = Feed(Evaluator(rule), new[] { Sample(50, 0), Sample(150, 1), Sample(200, 2), Sample(10, 0, pid: 7) }, out var streamed);
            var fail = Assert.Single(streamed);
            Assert.False(fail.Passed);
            Assert.Equal((150.0, 100.0, 42), (fail.Observed, fail.Limit, fail.ProcessId));
            Assert.Equal(2, all.Count); // pid 42 failed once, pid 7 passed at the end
            var pass = all.Single(r => r.ProcessId == 7);
            Assert.True(pass.Passed);
            Assert.Equal(10.0, pass.Observed);
        }

        [Theory]
        [InlineData(RuleStatistic.Last, 30.0)]
        [InlineData(RuleStatistic.Mean, 25.0)]
        [InlineData(RuleStatistic.Max, 40.0)]
        [InlineData(RuleStatistic.Min, 10.0)]
        [InlineData(RuleStatistic.P95, 40.0)]
        public void Statistics_are_taken_over_the_samples(RuleStatistic statistic, double expected)
        {
            var rule = new MemoryRule { Kind = MemoryRuleKind.Counter, Counter = new[] { "gc-heap-size" }, Statistic = statistic, Maximum = 1000, Name = "r" };
            var all = Feed(Evaluator(rule), new[] { Sample(10, 0), Sample(40, 1), Sample(20, 2), Sample(30, 3) }, out _);
            Assert.Equal(expected, Assert.Single(all).Observed);
        }

        [Fact]
        public void Percentile_is_nearest_rank()
        {
            var values = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
            Assert.Equal(95.0, ThresholdEvaluator.Percentile(values, 0.95));
            Assert.Equal(7.0, ThresholdEvaluator.Percentile(new[] { 7.0 }, 0.95));
        }

        [Fact]
        public void A_sustained_rule_ignores_a_spike_and_fires_only_after_the_breach_lasted_For()
        {
            var rule = new MemoryRule { Name = "sustained", Kind = MemoryRuleKind.Counter, Counter = new[] { "gc-heap-size" }, Maximum = 100, For = TimeSpan.FromSeconds(3) };
            var e = Evaluator(rule);
            // A 2-second spike (t=1..2), back to normal, then a breach from t=5 on.
            double[] values = { 50, 150, 150, 50, 50, 150, 150, 150, 150, 150 };
            int firedAt = -1;
            for (int t = 0; t < values.Length; t++)
            {
                Assert.True(e.TryObserve(Sample(values[t], t), out var now));
                if (now.Count > 0) { Assert.Equal(-1, firedAt); firedAt = t; Assert.Contains("sustained for 3 s", now[0].Message); }
            }
            Assert.Equal(8, firedAt); // breach began at t=5, 3 s later is t=8
            Assert.Empty(e.Complete());
        }

        [Fact]
        public void A_breach_shorter_than_For_passes_and_says_so()
        {
            var rule = new MemoryRule { Name = "s", Kind = MemoryRuleKind.Counter, Counter = new[] { "gc-heap-size" }, Maximum = 100, For = TimeSpan.FromSeconds(10) };
            var all = Feed(Evaluator(rule), new[] { Sample(150, 0), Sample(150, 5) }, out var streamed);
            Assert.Empty(streamed);
            var r = Assert.Single(all);
            Assert.True(r.Passed);
            Assert.Contains("only for 5 s of the 10 s", r.Message);
        }

        [Fact]
        public void A_type_rule_judges_deltas_growth_first_and_snapshots_by_size()
        {
            var rule = new MemoryRule { Name = "orders", Kind = MemoryRuleKind.Type, TypeName = new[] { "*.OrderStat" }, MaxBytesGrowth = 1000, MaxCount = 1_000_000 };
            var e = Evaluator(rule);
            var grown = new HeapTypeDelta { TypeName = "OrderService.OrderStat", ReferenceCount = 10, DifferenceCount = 110, CountDelta = 100, ReferenceBytes = 800, DifferenceBytes = 8800, BytesDelta = 8000, GrowthPercent = 1000 };
            var other = new HeapTypeDelta { TypeName = "System.String", BytesDelta = 1_000_000 };
            Assert.True(e.TryObserve(grown, out var r1));
            Assert.True(e.TryObserve(other, out var r2));
            var fail = Assert.Single(r1);
            Assert.False(fail.Passed);
            Assert.Equal((8000.0, 1000.0, "bytes"), (fail.Observed, fail.Limit, fail.Unit));
            Assert.Contains("BytesDelta +7.8 KB > 1000 B", fail.Message);
            Assert.Empty(r2);

            var snapshot = new HeapSnapshot { ProcessId = 9, ProcessName = "svc" };
            snapshot.Types.Add(new HeapTypeStat { TypeName = "OrderService.OrderStat", Count = 500, TotalBytes = 40000 });
            Assert.True(e.TryObserve(snapshot, out var r3));
            var pass = Assert.Single(r3);
            Assert.True(pass.Passed);
            Assert.Equal((500.0, 1_000_000.0, "count"), (pass.Observed, pass.Limit, pass.Unit));
        }

        [Fact]
        public void A_growth_only_rule_given_a_snapshot_warns_and_counts_as_unmatched()
        {
            var rule = new MemoryRule { Name = "g", Kind = MemoryRuleKind.Type, TypeName = new[] { "*" }, MaxBytesGrowth = 1 };
            var e = Evaluator(rule);
            var snapshot = new HeapSnapshot();
            snapshot.Types.Add(new HeapTypeStat { TypeName = "A", Count = 1, TotalBytes = 24 });
            Assert.True(e.TryObserve(snapshot, out var results));
            Assert.Empty(results);
            Assert.Contains("only a comparison has", e.ExplainUnmatched(Assert.Single(e.UnmatchedRules)));
        }

        [Fact]
        public void Unsupported_input_is_refused()
        {
            Assert.False(Evaluator(new MemoryRule { Name = "x", Kind = MemoryRuleKind.Counter, Counter = new[] { "*" }, Maximum = 1 }).TryObserve("text", out _));
        }

        [Fact]
        public void A_baseline_rule_fails_beyond_the_percent_or_the_standard_deviations_whichever_is_tighter()
        {
            var history = BaselineStatistics.Describe("b", BaselineStatisticKind.Metric, "TotalBytes", "bytes",
                new[] { (T0, 1000.0), (T0.AddDays(1), 1100.0), (T0.AddDays(2), 900.0) });
            Assert.Equal(1000.0, history.Mean);
            Assert.Equal(100.0, history.StandardDeviation, 6);

            var percent = new MemoryRule { Kind = MemoryRuleKind.Baseline, Baseline = "b", Counter = new[] { "TotalBytes" }, MaxDeviationPercent = 15 };
            Assert.False(ThresholdEvaluator.CheckBaseline(percent, history, 1140, "bytes").Breached);
            var (breached, limit, why) = ThresholdEvaluator.CheckBaseline(percent, history, 1160, "bytes");
            Assert.True(breached);
            Assert.Equal(1150.0, limit);
            Assert.Contains("+16 %", why);
            Assert.True(ThresholdEvaluator.CheckBaseline(percent, history, 840, "bytes").Breached); // both directions by default

            var sigma = new MemoryRule { Kind = MemoryRuleKind.Baseline, Baseline = "b", Counter = new[] { "TotalBytes" }, MaxStandardDeviations = 1, MaxDeviationPercent = 50 };
            var s = ThresholdEvaluator.CheckBaseline(sigma, history, 1120, "bytes");
            Assert.True(s.Breached); // 1.2 sd > 1 sd, though only +12 %
            Assert.Equal(1100.0, s.Limit);

            var above = new MemoryRule { Kind = MemoryRuleKind.Baseline, Baseline = "b", Counter = new[] { "TotalBytes" }, MaxDeviationPercent = 15, Direction = BaselineDirection.Above };
            Assert.False(ThresholdEvaluator.CheckBaseline(above, history, 500, "bytes").Breached);
        }

        [Fact]
        public void A_baseline_rule_reads_the_baselines_statistics_for_each_metric()
        {
            var stats = new List<MemoryBaselineStatistic>
            {
                BaselineStatistics.Describe("b", BaselineStatisticKind.Metric, "gc-heap-size", "bytes", new[] { (T0, 100.0), (T0.AddDays(1), 100.0) }),
            };
            var rule = new MemoryRule { Name = "drift", Kind = MemoryRuleKind.Baseline, Baseline = "b", Counter = new[] { "gc-heap-size", "alloc-rate" }, MaxDeviationPercent = 10 };
            var e = new ThresholdEvaluator(new[] { rule }, (r, h) => stats);
            Assert.True(e.TryObserve(Sample(105, 0), out var r1));
            Assert.Empty(r1);
            Assert.True(e.TryObserve(Sample(5, 0, name: "alloc-rate"), out _));
            Assert.Contains(e.Warnings, w => w.Contains("no history for alloc-rate"));
            Assert.True(e.TryObserve(Sample(120, 1), out var r2));
            Assert.False(Assert.Single(r2).Passed);
        }

        [Theory]
        [InlineData(MemoryRuleKind.Counter, "Counter")]
        [InlineData(MemoryRuleKind.Type, "TypeName")]
        [InlineData(MemoryRuleKind.Baseline, "Baseline")]
        public void A_rule_without_its_subject_is_refused_naming_the_field(MemoryRuleKind kind, string field)
        {
            var e = Assert.Throws<MemoryOpsException>(() => new MemoryRule { Name = "r", Kind = kind }.Validate());
            Assert.Contains(field, e.Message);
            Assert.Equal(FailureKind.InvalidInput, e.Kind);
        }

        [Fact]
        public void A_rule_without_a_limit_or_with_crossed_limits_is_refused()
        {
            Assert.Contains("limit", Assert.Throws<MemoryOpsException>(() => new MemoryRule { Name = "r", Kind = MemoryRuleKind.Counter, Counter = new[] { "x" } }.Validate()).Message);
            Assert.Contains("no value could pass", Assert.Throws<MemoryOpsException>(() => new MemoryRule { Name = "r", Kind = MemoryRuleKind.Counter, Counter = new[] { "x" }, Maximum = 1, Minimum = 2 }.Validate()).Message);
            Assert.Contains("limit", Assert.Throws<MemoryOpsException>(() => new MemoryRule { Name = "r", Kind = MemoryRuleKind.Type, TypeName = new[] { "x" } }.Validate()).Message);
        }

        [Fact]
        public void GC_summaries_and_records_are_metrics_by_property_name()
        {
            var rule = new MemoryRule { Name = "pause", Kind = MemoryRuleKind.Counter, Counter = new[] { "PauseFraction" }, Maximum = 0.05 };
            var all = Feed(Evaluator(rule), new object[] { new GcSummary { ProcessId = 1, PauseFraction = 0.2, WindowStart = T0, WindowDuration = 5 } }, out var streamed);
            var r = Assert.Single(streamed);
            Assert.Equal("fraction", r.Unit);
            Assert.Contains("20 %", r.Message);
        }
    }
}
