using System;
using System.Collections.Generic;

namespace MemoryOps
{
    /// <summary>Snapshot: saved from a heap snapshot (metrics and per-type stats). Counters: saved from counter samples.</summary>
    public enum BaselineEntryKind { Snapshot, Counters }

    /// <summary>One entry of a baseline's history: what one scheduled run saw.</summary>
    public sealed class MemoryBaselineEntry
    {
        public string Name { get; set; } = "";
        public DateTime Timestamp { get; set; }
        public BaselineEntryKind Kind { get; set; }
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        /// <summary>The machine the snapshot or samples came from (their Host): a fleet's hosts share one store, each with its own history.</summary>
        public string Host { get; set; } = "";
        /// <summary>Metric name → value in base units: counters (the mean of the samples saved) or snapshot totals.</summary>
        public Dictionary<string, double> Metrics { get; set; } = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Metric name → unit (bytes, count, seconds, ...).</summary>
        public Dictionary<string, string> Units { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>The heap snapshot saved in a Snapshot entry (per-type stats), so it can be the reference of Compare-HeapSnapshot.</summary>
        public HeapSnapshot? Snapshot { get; set; }

        public override string ToString() => $"{Name} @ {Timestamp:u}: {Kind}, {Metrics.Count} metrics";
    }

    /// <summary>Metric: a saved metric. TypeCount / TypeBytes: a heap type's instance count / bytes over the snapshot entries.</summary>
    public enum BaselineStatisticKind { Metric, TypeCount, TypeBytes }

    /// <summary>The spread of one metric or type over a baseline's history.</summary>
    public sealed class MemoryBaselineStatistic
    {
        public string Baseline { get; set; } = "";
        /// <summary>The machine whose entries the figures cover: statistics are kept per host.</summary>
        public string Host { get; set; } = "";
        public BaselineStatisticKind Kind { get; set; }
        /// <summary>The metric or type name.</summary>
        public string Name { get; set; } = "";
        public string Unit { get; set; } = "";
        /// <summary>How many history entries the figures cover.</summary>
        public int Count { get; set; }
        public double Mean { get; set; }
        /// <summary>Sample standard deviation (n − 1); 0 for a single entry.</summary>
        public double StandardDeviation { get; set; }
        public double Minimum { get; set; }
        public double Maximum { get; set; }
        public DateTime First { get; set; }
        public DateTime Last { get; set; }

        public override string ToString() => $"{Baseline}/{Name}: mean {Mean}, sd {StandardDeviation}, n {Count}";
    }
}
