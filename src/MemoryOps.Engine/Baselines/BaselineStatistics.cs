using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Baselines
{
    /// <summary>Mean, spread and range of every metric and heap type over a baseline's history.</summary>
    public static class BaselineStatistics
    {
        public static List<MemoryBaselineStatistic> Compute(string baseline, IReadOnlyList<MemoryBaselineEntry> history)
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
            var byEntry = new List<Dictionary<string, (long Count, long Bytes)>>(n);
            foreach (var e in snapshots)
            {
                var rows = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
                foreach (var t in e.Snapshot!.Types)
                {
                    if (t.IsFree) continue;
                    rows.TryGetValue(t.TypeName, out var v);
                    rows[t.TypeName] = (v.Count + t.Count, v.Bytes + t.TotalBytes);
                }
                byEntry.Add(rows);
                foreach (var (name, v) in rows)
                {
                    if (!byType.TryGetValue(name, out var sums)) byType[name] = sums = new TypeSums();
                    sums.Present++;
                    sums.Count.Add(v.Count);
                    sums.Bytes.Add(v.Bytes);
                }
            }
            // Second pass for the spread: squared distances from the mean, again only over the entries that have the type.
            foreach (var rows in byEntry)
                foreach (var (name, v) in rows)
                {
                    var sums = byType[name];
                    sums.Count.AddSquare(v.Count, n);
                    sums.Bytes.AddSquare(v.Bytes, n);
                }
            DateTime first = n == 0 ? default : snapshots.Min(e => e.Timestamp), last = n == 0 ? default : snapshots.Max(e => e.Timestamp);
            var typeRows = new List<MemoryBaselineStatistic>(byType.Count * 2);
            foreach (var (type, sums) in byType)
            {
                typeRows.Add(sums.Bytes.Describe(baseline, BaselineStatisticKind.TypeBytes, type, "bytes", n, sums.Present, first, last));
                typeRows.Add(sums.Count.Describe(baseline, BaselineStatisticKind.TypeCount, type, "count", n, sums.Present, first, last));
            }
            // Largest types first, each type's bytes row before its count row.
            var meanBytes = typeRows.Where(r => r.Kind == BaselineStatisticKind.TypeBytes).ToDictionary(r => r.Name, r => r.Mean, StringComparer.Ordinal);
            result.AddRange(typeRows.OrderByDescending(r => meanBytes[r.Name]).ThenBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Kind == BaselineStatisticKind.TypeCount));
            return result;
        }

        private sealed class TypeSums
        {
            public int Present;
            public readonly Series Count = new Series(), Bytes = new Series();
        }

        /// <summary>Sums over the entries that have a value; the other entries count as zeros.</summary>
        private sealed class Series
        {
            private double sum, squares;
            private double min = double.PositiveInfinity, max = double.NegativeInfinity;

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
}
