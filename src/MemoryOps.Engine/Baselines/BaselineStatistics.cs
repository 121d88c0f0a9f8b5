using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Baselines
{
    /// <summary>Mean, spread and range of every metric and heap type over a baseline's history.</summary>
    public static class BaselineStatistics
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
            var metricNames = history.SelectMany(e => e.Metrics.Keys).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(n => n, StringComparer.OrdinalIgnoreCase);
            foreach (var name in metricNames)
            {
                var having = history.Where(e => e.Metrics.ContainsKey(name)).ToList();
                string unit = having.Select(e => e.Units.TryGetValue(name, out var u) ? u : "").LastOrDefault(u => u.Length > 0) ?? "";
                result.Add(Describe(baseline, BaselineStatisticKind.Metric, name, unit, having.Select(e => (e.Timestamp, e.Metrics[name])).ToList()));
            }

            // A type missing from a snapshot entry had no instances then: it counts as 0, so a type that appears
            // only in the newest snapshots shows up as growth rather than as a stable value.
            var snapshots = history.Where(e => e.Snapshot != null).ToList();
            var typeNames = snapshots.SelectMany(e => e.Snapshot!.Types.Where(t => !t.IsFree).Select(t => t.TypeName)).Distinct(StringComparer.Ordinal).ToList();
            var byEntry = snapshots.Select(e => e.Snapshot!.Types.Where(t => !t.IsFree).GroupBy(t => t.TypeName, StringComparer.Ordinal)
                                                  .ToDictionary(g => g.Key, g => (Count: g.Sum(t => t.Count), Bytes: g.Sum(t => t.TotalBytes)), StringComparer.Ordinal)).ToList();
            var typeRows = new List<MemoryBaselineStatistic>();
            foreach (var type in typeNames)
            {
                var counts = new List<(DateTime, double)>(snapshots.Count);
                var bytes = new List<(DateTime, double)>(snapshots.Count);
                for (int i = 0; i < snapshots.Count; i++)
                {
                    byEntry[i].TryGetValue(type, out var v);
                    counts.Add((snapshots[i].Timestamp, v.Count));
                    bytes.Add((snapshots[i].Timestamp, v.Bytes));
                }
                typeRows.Add(Describe(baseline, BaselineStatisticKind.TypeBytes, type, "bytes", bytes));
                typeRows.Add(Describe(baseline, BaselineStatisticKind.TypeCount, type, "count", counts));
            }
            // Largest types first, each type's bytes row before its count row.
            var meanBytes = typeRows.Where(r => r.Kind == BaselineStatisticKind.TypeBytes).ToDictionary(r => r.Name, r => r.Mean, StringComparer.Ordinal);
            result.AddRange(typeRows.OrderByDescending(r => meanBytes[r.Name]).ThenBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Kind == BaselineStatisticKind.TypeCount));
            foreach (var r in result) r.Host = host;
            return result;
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
    public sealed class BaselineHistory
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
