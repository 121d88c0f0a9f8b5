using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace MemoryOps.Engine.Rules
{
    /// <summary>The statistics of a baseline rule's baseline for one host: that host's own, else those of all hosts (Host "").</summary>
    public delegate IReadOnlyList<MemoryBaselineStatistic> BaselineLookup(MemoryRule rule, string host);

    /// <summary>
    /// Evaluates rules against a stream of observations, the way Test-MemoryThreshold meets them.
    /// Every (rule, subject) pair gets exactly one result: a failure is returned the moment it happens (so a
    /// pipeline can act on it while the stream goes on), a pass when the input ends (<see cref="Complete"/>).
    /// Counter and baseline rules on metrics see a series of samples per process and metric; type rules judge
    /// each snapshot or delta as it arrives.
    /// </summary>
    internal sealed class ThresholdEvaluator
    {
        /// <summary>P95 is computed over at most this many recent samples of a series, so a stream that never ends stays bounded.</summary>
        public const int MaxSamplesKept = 10_000;

        private readonly IReadOnlyList<MemoryRule> rules;
        private readonly BaselineLookup baselineOf;
        // Two hosts of a fleet can run the same PID: a series is one metric of one process on one host.
        private readonly Dictionary<(int Rule, string Host, int Pid, string Metric), Series> series = new Dictionary<(int, string, int, string), Series>();
        private readonly HashSet<int> matchedRules = new HashSet<int>();
        private readonly HashSet<string> warned = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Said once each: a metric a baseline has no history for, a rule that can only judge deltas given a snapshot.</summary>
        public List<string> Warnings { get; } = new List<string>();

        /// <param name="baselineOf">The statistics of a baseline rule's baseline for one host (read once by the caller and cached).</param>
        public ThresholdEvaluator(IReadOnlyList<MemoryRule> rules, BaselineLookup baselineOf)
        {
            foreach (var r in rules) r.Validate();
            this.rules = rules;
            this.baselineOf = baselineOf;
        }

        /// <summary>Rules that matched nothing in the whole input: a check that silently checks nothing is a bug in the policy.</summary>
        public IEnumerable<MemoryRule> UnmatchedRules => rules.Where((r, i) => !matchedRules.Contains(i));

        /// <summary>What to tell the user about a rule that matched nothing, with the likely reason.</summary>
        public string ExplainUnmatched(MemoryRule rule) => Display.Escape(growthOnlyGivenSnapshot.Contains(rule)
            ? $"Rule '{rule.Name}' ({rule}) limits growth, which only a comparison has: pipe Compare-HeapSnapshot output to it, not only snapshots. It checked nothing."
            : $"Rule '{rule.Name}' ({rule}) matched nothing in the input: it checked nothing.");

        private readonly HashSet<MemoryRule> growthOnlyGivenSnapshot = new HashSet<MemoryRule>();

        /// <summary>The results to emit now for one input object; false when the input is of a kind rules cannot read.</summary>
        public bool TryObserve(object input, out List<ThresholdResult> results)
        {
            results = new List<ThresholdResult>();
            if (!ObservationReader.TryRead(input, out var metrics, out var types)) return false;
            foreach (var m in metrics) ObserveMetric(m, results);
            foreach (var t in types) ObserveType(t, results);
            return true;
        }

        /// <summary>The passes of every series that did not fail, when the input has ended.</summary>
        public List<ThresholdResult> Complete()
        {
            var results = new List<ThresholdResult>();
            foreach (var s in series.Values.Where(s => !s.Reported && s.LastResult != null))
            {
                s.Reported = true;
                results.Add(s.LastResult!);
            }
            return results;
        }

        private void ObserveMetric(MetricObservation m, List<ThresholdResult> results)
        {
            for (int i = 0; i < rules.Count; i++)
            {
                var rule = rules[i];
                if (rule.Kind == MemoryRuleKind.Type || rule.Counter.Length == 0 || !Wildcard.AnyMatch(rule.Counter, m.Metric)) continue;

                MemoryBaselineStatistic? history = null;
                if (rule.Kind == MemoryRuleKind.Baseline)
                {
                    history = BaselineFor(rule, m.Host).FirstOrDefault(s => s.Kind == BaselineStatisticKind.Metric && string.Equals(s.Name, m.Metric, StringComparison.OrdinalIgnoreCase));
                    if (history == null)
                    {
                        WarnOnce($"Rule '{rule.Name}': baseline '{rule.Baseline}' has no history for {m.Metric}; it is not checked.");
                        continue;
                    }
                }
                matchedRules.Add(i);

                var key = (i, m.Host.ToUpperInvariant(), m.ProcessId, m.Metric);
                if (!series.TryGetValue(key, out var s)) series[key] = s = new Series();
                if (s.Reported) continue; // already failed: one result per rule and subject
                s.Add(m.Timestamp, m.Value, rule.For, rule.Statistic == RuleStatistic.P95);
                double observed = s.Statistic(rule.Statistic, rule.For);

                var (breached, limit, why) = rule.Kind == MemoryRuleKind.Counter ? CheckLimits(rule, observed, m.Unit) : CheckBaseline(rule, history!, observed, m.Unit);
                if (breached) s.BreachStart ??= m.Timestamp; else s.BreachStart = null;
                bool sustained = breached && (rule.For == null || m.Timestamp - s.BreachStart!.Value >= rule.For.Value);

                string what = rule.Statistic == RuleStatistic.Last ? m.Metric : $"{rule.Statistic} of {m.Metric}" + (rule.For.HasValue ? $" over {Seconds(rule.For.Value)}" : "");
                string message;
                if (sustained)
                    message = $"{what} = {Display.Value(observed, m.Unit)}: {why}" + (rule.For.HasValue ? $", sustained for {Seconds(m.Timestamp - s.BreachStart!.Value)} (since {s.BreachStart:HH:mm:ss})" : "") + ".";
                else if (breached)
                    message = $"{what} = {Display.Value(observed, m.Unit)}: {why}, but only for {Seconds(m.Timestamp - s.BreachStart!.Value)} of the {Seconds(rule.For!.Value)} that count.";
                else
                    message = $"{what} = {Display.Value(observed, m.Unit)}: {why}.";

                var result = new ThresholdResult
                {
                    Rule = rule.Name, RuleKind = rule.Kind, Subject = m.Metric, ProcessId = m.ProcessId, ProcessName = m.ProcessName, Host = m.Host,
                    Observed = observed, Limit = limit, Unit = m.Unit, Passed = !sustained, Severity = rule.Severity, Message = Display.Escape(message), Timestamp = m.Timestamp,
                };
                s.LastResult = result;
                if (sustained)
                {
                    s.Reported = true;
                    results.Add(result);
                }
            }
        }

        private void ObserveType(TypeObservation t, List<ThresholdResult> results)
        {
            for (int i = 0; i < rules.Count; i++)
            {
                var rule = rules[i];
                if (rule.TypeName.Length == 0 || !Wildcard.AnyMatch(rule.TypeName, t.TypeName)) continue;
                ThresholdResult? result = rule.Kind == MemoryRuleKind.Baseline ? JudgeTypeAgainstBaseline(rule, t) : JudgeType(rule, t);
                if (result == null) continue;
                matchedRules.Add(i);
                results.Add(result);
            }
        }

        private ThresholdResult? JudgeType(MemoryRule rule, TypeObservation t)
        {
            // Growth limits first: they are what a leak check is about, and the first broken one is the headline.
            var checks = new List<(string What, double Observed, double Limit, string Unit)>();
            bool isDelta = t.BytesDelta.HasValue;
            if (t.AllocationRate.HasValue)
            {
                // A type of an allocation profile: only its rate is known; a rule without a rate limit says nothing of it.
                if (!rule.MaxAllocationRate.HasValue) return null;
                checks.Add(("AllocationRate", t.AllocationRate.Value, rule.MaxAllocationRate.Value, "bytes/s"));
            }
            else if (rule.MaxAllocationRate.HasValue && rule.MaxCount == null && rule.MaxBytes == null && rule.MaxCountGrowth == null &&
                     rule.MaxBytesGrowth == null && rule.MaxGrowthPercent == null)
                return null; // a rate-only rule and a heap type: nothing to judge here
            if (rule.MaxBytesGrowth.HasValue && isDelta) checks.Add(("BytesDelta", t.BytesDelta!.Value, rule.MaxBytesGrowth.Value, "bytes"));
            if (rule.MaxCountGrowth.HasValue && isDelta) checks.Add(("CountDelta", t.CountDelta!.Value, rule.MaxCountGrowth.Value, "count"));
            if (rule.MaxGrowthPercent.HasValue && t.GrowthPercent.HasValue) checks.Add(("GrowthPercent", t.GrowthPercent.Value, rule.MaxGrowthPercent.Value, "percent"));
            if (rule.MaxBytes.HasValue) checks.Add(("Bytes", t.Bytes, rule.MaxBytes.Value, "bytes"));
            if (rule.MaxCount.HasValue) checks.Add(("Count", t.Count, rule.MaxCount.Value, "count"));
            if (checks.Count == 0)
            {
                if (!isDelta) growthOnlyGivenSnapshot.Add(rule);
                return null;
            }
            var broken = checks.Where(c => c.Observed > c.Limit).ToList();
            var head = broken.Count > 0 ? broken[0] : checks[0];
            string Say((string What, double Observed, double Limit, string Unit) c) =>
                $"{c.What} {Signed(c.What, c.Observed, c.Unit)} {(c.Observed > c.Limit ? ">" : "<=")} {Display.Value(c.Limit, c.Unit)}";
            return new ThresholdResult
            {
                Rule = rule.Name, RuleKind = rule.Kind, Subject = t.TypeName, ProcessId = t.ProcessId, ProcessName = t.ProcessName, Host = t.Host,
                Observed = head.Observed, Limit = head.Limit, Unit = head.Unit, Passed = broken.Count == 0, Severity = rule.Severity,
                Message = Display.Escape($"{t.TypeName}: " + string.Join("; ", (broken.Count > 0 ? broken : checks).Select(Say)) + "."), Timestamp = t.Timestamp,
            };
        }

        private ThresholdResult? JudgeTypeAgainstBaseline(MemoryRule rule, TypeObservation t)
        {
            var history = BaselineFor(rule, t.Host).FirstOrDefault(s => s.Kind == BaselineStatisticKind.TypeBytes && s.Name == t.TypeName);
            if (history == null)
            {
                // A type the baseline never saw: judged against 0 only when the rule names it exactly.
                if (rule.TypeName.Any(p => !Wildcard.HasWildcards(p) && string.Equals(p, t.TypeName, StringComparison.OrdinalIgnoreCase)))
                    history = new MemoryBaselineStatistic { Baseline = rule.Baseline!, Kind = BaselineStatisticKind.TypeBytes, Name = t.TypeName, Unit = "bytes" };
                else return null;
            }
            var (breached, limit, why) = CheckBaseline(rule, history, t.Bytes, "bytes");
            return new ThresholdResult
            {
                Rule = rule.Name, RuleKind = rule.Kind, Subject = t.TypeName, ProcessId = t.ProcessId, ProcessName = t.ProcessName, Host = t.Host,
                Observed = t.Bytes, Limit = limit, Unit = "bytes", Passed = !breached, Severity = rule.Severity,
                Message = Display.Escape($"{t.TypeName} = {Display.Bytes(t.Bytes)}: {why}."), Timestamp = t.Timestamp,
            };
        }

        private static (bool Breached, double Limit, string Why) CheckLimits(MemoryRule rule, double observed, string unit)
        {
            if (rule.Maximum.HasValue && observed > rule.Maximum.Value) return (true, rule.Maximum.Value, $"above the maximum {Display.Value(rule.Maximum.Value, unit)}");
            if (rule.Minimum.HasValue && observed < rule.Minimum.Value) return (true, rule.Minimum.Value, $"below the minimum {Display.Value(rule.Minimum.Value, unit)}");
            if (rule.Maximum.HasValue) return (false, rule.Maximum.Value, $"within the maximum {Display.Value(rule.Maximum.Value, unit)}");
            return (false, rule.Minimum!.Value, $"within the minimum {Display.Value(rule.Minimum!.Value, unit)}");
        }

        /// <summary>
        /// Fails when the value strays from the history's mean by more than MaxDeviationPercent of the mean, or by more
        /// than MaxStandardDeviations standard deviations (that test needs at least two entries with some spread).
        /// The limit reported is the nearest bound the value was held to.
        /// </summary>
        public static (bool Breached, double Limit, string Why) CheckBaseline(MemoryRule rule, MemoryBaselineStatistic h, double observed, string unit)
        {
            bool above = observed >= h.Mean;
            bool directionCounts = rule.Direction == BaselineDirection.Both || (rule.Direction == BaselineDirection.Above) == above;
            var bounds = new List<(double Bound, string Text)>();
            if (rule.MaxDeviationPercent.HasValue)
            {
                double d = Math.Abs(h.Mean) * rule.MaxDeviationPercent.Value / 100;
                bounds.Add((above ? h.Mean + d : h.Mean - d, $"{rule.MaxDeviationPercent.Value.ToString("0.##", CultureInfo.InvariantCulture)} %"));
            }
            if (rule.MaxStandardDeviations.HasValue && h.Count >= 2 && h.StandardDeviation > 0)
            {
                double d = h.StandardDeviation * rule.MaxStandardDeviations.Value;
                bounds.Add((above ? h.Mean + d : h.Mean - d, $"{rule.MaxStandardDeviations.Value.ToString("0.##", CultureInfo.InvariantCulture)} sd"));
            }
            string deviation = h.Mean != 0
                ? ((observed - h.Mean) / Math.Abs(h.Mean) * 100).ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture) + " %"
                : (observed == 0 ? "0 %" : "new");
            string context = $"{deviation} from the baseline mean {Display.Value(h.Mean, unit)} (sd {Display.Value(h.StandardDeviation, unit)}, {h.Count} entries)";
            if (bounds.Count == 0)
                return (false, h.Mean, context + "; too little history to judge by standard deviations");
            // The tightest bound: the one nearest the mean.
            var tight = bounds.OrderBy(b => Math.Abs(b.Bound - h.Mean)).First();
            bool breached = directionCounts && (above ? observed > tight.Bound : observed < tight.Bound);
            return (breached, tight.Bound, $"{context}, {(breached ? "beyond" : "within")} {tight.Text} ({Display.Value(tight.Bound, unit)})");
        }

        /// <summary>
        /// A host is held to its own history. A host the baseline has never seen (a new machine, a CI runner with a
        /// fresh name) is held to the history of all hosts, and told so once: silence would hide which mean it met.
        /// </summary>
        private IReadOnlyList<MemoryBaselineStatistic> BaselineFor(MemoryRule rule, string host)
        {
            var statistics = baselineOf(rule, host);
            if (statistics.Count > 0 && !string.Equals(statistics[0].Host, host, StringComparison.OrdinalIgnoreCase))
                WarnOnce($"Rule '{rule.Name}': baseline '{rule.Baseline}' has no entries from host '{host}'; it was held to the entries of all hosts.");
            return statistics;
        }

        private void WarnOnce(string text)
        {
            if (warned.Add(text)) Warnings.Add(Display.Escape(text));
        }

        private static string Seconds(TimeSpan t) => Display.Seconds(t.TotalSeconds);

        private static string Signed(string what, double value, string unit) =>
            what.EndsWith("Delta", StringComparison.Ordinal) && value > 0 ? "+" + Display.Value(value, unit) : Display.Value(value, unit);

        /// <summary>The samples of one metric of one process under one rule.</summary>
        private sealed class Series
        {
            private readonly LinkedList<(DateTime When, double Value)> window = new LinkedList<(DateTime, double)>();
            private long count;
            private double sum, min = double.MaxValue, max = double.MinValue, last;
            public DateTime? BreachStart;
            public bool Reported;
            public ThresholdResult? LastResult;

            public void Add(DateTime when, double value, TimeSpan? slidingWindow, bool keepForPercentile)
            {
                last = value;
                count++; sum += value; min = Math.Min(min, value); max = Math.Max(max, value);
                if (slidingWindow.HasValue || keepForPercentile)
                {
                    window.AddLast((when, value));
                    if (slidingWindow.HasValue)
                        while (window.First!.Value.When < when - slidingWindow.Value) window.RemoveFirst();
                    while (window.Count > MaxSamplesKept) window.RemoveFirst();
                }
            }

            /// <summary>Over the sliding window when the rule has one, else over every sample so far.</summary>
            public double Statistic(RuleStatistic statistic, TimeSpan? slidingWindow)
            {
                if (statistic == RuleStatistic.Last) return last;
                if (slidingWindow.HasValue || statistic == RuleStatistic.P95)
                {
                    var values = window.Select(v => v.Value).ToList();
                    return statistic switch
                    {
                        RuleStatistic.Mean => values.Average(),
                        RuleStatistic.Max => values.Max(),
                        RuleStatistic.Min => values.Min(),
                        _ => Percentile(values, 0.95),
                    };
                }
                return statistic switch
                {
                    RuleStatistic.Mean => sum / count,
                    RuleStatistic.Max => max,
                    _ => min,
                };
            }
        }

        /// <summary>Nearest-rank percentile (the value at or below which p of the samples fall).</summary>
        public static double Percentile(IReadOnlyList<double> values, double p)
        {
            var sorted = values.OrderBy(v => v).ToList();
            int rank = (int)Math.Ceiling(p * sorted.Count);
            return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
        }
    }
}
