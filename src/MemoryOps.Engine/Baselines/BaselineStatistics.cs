using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Baselines
{
    /// <summary>Mean, spread and range of every metric and heap type over a baseline's history.</summary>
    internal static class BaselineStatistics
    {
        /// <summary>Each host's own statistics (hosts in name order): a fleet sharing a store keeps one history per host.</summary>
        public static List<MemoryBaselineStatistic> Compute(string baseline, IReadOnlyList<MemoryBaselineEntry> history)
        {
            var result = new List<MemoryBaselineStatistic>();
            foreach (var host in history.GroupBy(e => e.Host, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
                result.AddRange(ComputeOne(baseline, host.Key, host.ToList()));
            return result;
        }

        /// <summary>The statistics of all entries whatever their host (Host ""), for a host the baseline has never seen.</summary>
        public static List<MemoryBaselineStatistic> ComputeAcrossHosts(string baseline, IReadOnlyList<MemoryBaselineEntry> history) =>
            ComputeOne(baseline, "", history);

        private static List<MemoryBaselineStatistic> ComputeOne(string baseline, string host, IReadOnlyList<MemoryBaselineEntry> history)
        {
            var result = new List<MemoryBaselineStatistic>();
            // One pass over the entries (not one per metric name): the work follows the number of values read.
            var series = new Dictionary<string, (List<(DateTime, double)> Values, string Unit)>(StringComparer.OrdinalIgnoreCase);
            foreach (var e in history)
                foreach (var (name, value) in e.Metrics)
                {
                    if (!series.TryGetValue(name, out var s)) s = (new List<(DateTime, double)>(), "");
                    s.Values.Add((e.Timestamp, value));
                    if (e.Units.TryGetValue(name, out var u) && u.Length > 0) s.Unit = u; // the newest unit given
                    series[name] = s;
                }
            foreach (var (name, s) in series.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
                result.Add(Describe(baseline, BaselineStatisticKind.Metric, name, s.Unit, s.Values));

            // A type missing from a snapshot entry had no instances then: it counts as 0, so a type that appears
            // only in the newest snapshots shows up as growth rather than as a stable value. The zeros are not
            // materialised: each type's sums run over the entries that have it, and the zeros are added in closed
            // form, so the work is proportional to the rows read, not to types × entries (a hostile history of 2,000
            // entries of 2,000 new types each would otherwise be 8 billion steps).
            var snapshots = history.Where(e => e.Snapshot != null).ToList();
            int n = snapshots.Count;
            var byType = new Dictionary<string, TypeSums>(StringComparer.Ordinal);
            // Each entry's rows, merged by type (a type listed twice in one snapshot counts once, summed), kept compact
            // for the second pass.
            var byEntry = new List<(TypeSums Type, long Count, long Bytes)[]>(n);
            var merged = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
            foreach (var e in snapshots)
            {
                merged.Clear();
                foreach (var t in e.Snapshot!.Types)
                {
                    if (t.IsFree) continue;
                    merged.TryGetValue(t.TypeName, out var v);
                    merged[t.TypeName] = (v.Count + t.Count, v.Bytes + t.TotalBytes);
                }
                var rows = new (TypeSums, long, long)[merged.Count];
                int i = 0;
                foreach (var (name, v) in merged)
                {
                    if (!byType.TryGetValue(name, out var sums)) byType[name] = sums = new TypeSums(name);
                    sums.Present++;
                    sums.Count.Add(v.Count);
                    sums.Bytes.Add(v.Bytes);
                    rows[i++] = (sums, v.Count, v.Bytes);
                }
                byEntry.Add(rows);
            }
            // Second pass for the spread: squared distances from the mean, again only over the entries that have the type.
            foreach (var rows in byEntry)
                foreach (var (sums, count, bytes) in rows)
                {
                    sums.Count.AddSquare(count, n);
                    sums.Bytes.AddSquare(bytes, n);
                }
            byEntry.Clear();
            DateTime first = n == 0 ? default : snapshots.Min(e => e.Timestamp), last = n == 0 ? default : snapshots.Max(e => e.Timestamp);
            // Largest types first (by mean bytes, then by name), each type's bytes row before its count row.
            var types = byType.Values.ToArray();
            byType.Clear();
            Array.Sort(types, (a, b) =>
            {
                int c = b.Bytes.Mean(n).CompareTo(a.Bytes.Mean(n));
                return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
            });
            foreach (var t in types)
            {
                result.Add(t.Bytes.Describe(baseline, BaselineStatisticKind.TypeBytes, t.Name, "bytes", n, t.Present, first, last));
                result.Add(t.Count.Describe(baseline, BaselineStatisticKind.TypeCount, t.Name, "count", n, t.Present, first, last));
            }
            foreach (var r in result) r.Host = host;
            return result;
        }

        private sealed class TypeSums
        {
            public TypeSums(string name) => Name = name;
            public readonly string Name;
            public int Present;
            public Series Count = Series.Empty, Bytes = Series.Empty;
        }

        /// <summary>Sums over the entries that have a value; the other entries count as zeros.</summary>
        private struct Series
        {
            public static Series Empty => new Series { min = double.PositiveInfinity, max = double.NegativeInfinity };
            private double sum, squares, min, max;

            public readonly double Mean(int n) => n == 0 ? 0 : sum / n;

            public void Add(double v)
            {
                sum += v;
                if (v < min) min = v;
                if (v > max) max = v;
            }

            public void AddSquare(double v, int n)
            {
                double d = v - sum / n;
                squares += d * d;
            }

            public MemoryBaselineStatistic Describe(string baseline, BaselineStatisticKind kind, string name, string unit, int n, int present, DateTime first, DateTime last)
            {
                double mean = n == 0 ? 0 : sum / n;
                int zeros = n - present;
                double m2 = squares + zeros * mean * mean; // each absent entry is a 0, at distance mean
                return new MemoryBaselineStatistic
                {
                    Baseline = baseline, Kind = kind, Name = name, Unit = unit, Count = n, Mean = mean,
                    StandardDeviation = n < 2 ? 0 : Math.Sqrt(m2 / (n - 1)),
                    Minimum = n == 0 ? 0 : zeros > 0 ? Math.Min(min, 0) : min,
                    Maximum = n == 0 ? 0 : zeros > 0 ? Math.Max(max, 0) : max,
                    First = first, Last = last,
                };
            }
        }

        public static MemoryBaselineStatistic Describe(string baseline, BaselineStatisticKind kind, string name, string unit, IReadOnlyList<(DateTime When, double Value)> values)
        {
            int n = values.Count;
            double mean = n == 0 ? 0 : values.Average(v => v.Value);
            double sd = n < 2 ? 0 : Math.Sqrt(values.Sum(v => (v.Value - mean) * (v.Value - mean)) / (n - 1));
            return new MemoryBaselineStatistic
            {
                Baseline = baseline, Kind = kind, Name = name, Unit = unit, Count = n, Mean = mean, StandardDeviation = sd,
                Minimum = n == 0 ? 0 : values.Min(v => v.Value), Maximum = n == 0 ? 0 : values.Max(v => v.Value),
                First = n == 0 ? default : values.Min(v => v.When), Last = n == 0 ? default : values.Max(v => v.When),
            };
        }
    }

    /// <summary>One baseline's history, with each host's statistics computed once, when first asked for.</summary>
    internal sealed class BaselineHistory
    {
        private readonly Dictionary<string, IReadOnlyList<MemoryBaselineStatistic>> byHost = new Dictionary<string, IReadOnlyList<MemoryBaselineStatistic>>(StringComparer.OrdinalIgnoreCase);
        private IReadOnlyList<MemoryBaselineStatistic>? acrossHosts;

        public string Name { get; }
        public IReadOnlyList<MemoryBaselineEntry> Entries { get; }

        public BaselineHistory(string name, IReadOnlyList<MemoryBaselineEntry> entries)
        {
            Name = name;
            Entries = entries;
        }

        /// <summary>The host's own statistics; those of all hosts (Host "") when the baseline has no entry from it.</summary>
        public IReadOnlyList<MemoryBaselineStatistic> For(string host)
        {
            if (byHost.TryGetValue(host, out var known)) return known;
            var own = Entries.Where(e => string.Equals(e.Host, host, StringComparison.OrdinalIgnoreCase)).ToList();
            var statistics = own.Count > 0
                ? BaselineStatistics.Compute(Name, own)
                : acrossHosts ??= BaselineStatistics.ComputeAcrossHosts(Name, Entries);
            byHost[host] = statistics;
            return statistics;
        }
    }
}
