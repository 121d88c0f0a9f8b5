using System;
using System.Collections.Generic;

namespace MemoryOps.Engine.Rules
{
    /// <summary>One value of one metric of one process at one moment: what counter and baseline rules read.</summary>
    internal sealed class MetricObservation
    {
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public string Host { get; set; } = "";
        public string Metric { get; set; } = "";
        public double Value { get; set; }
        public string Unit { get; set; } = "";
        public DateTime Timestamp { get; set; }
    }

    /// <summary>One heap type of one snapshot or comparison: what type rules read. Growth is known only for deltas.</summary>
    internal sealed class TypeObservation
    {
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public string Host { get; set; } = "";
        public string TypeName { get; set; } = "";
        public long Count { get; set; }
        public long Bytes { get; set; }
        public long? CountDelta { get; set; }
        public long? BytesDelta { get; set; }
        public double? GrowthPercent { get; set; }
        /// <summary>Set for a type of an allocation profile: its estimated allocation rate in bytes per second (Count and Bytes are 0: nothing is said about the heap).</summary>
        public double? AllocationRate { get; set; }
        public DateTime Timestamp { get; set; }
    }

    /// <summary>
    /// Turns what MemoryOps cmdlets emit (counter samples, GC records and summaries, heap snapshots, type deltas,
    /// comparisons) into observations. Metric names are the names users see: a counter's name (with its tags in
    /// brackets when it has any), or the property name of a snapshot, GC record or summary (TotalBytes, PauseDuration).
    /// </summary>
    internal static class ObservationReader
    {
        public static bool TryRead(object input, out List<MetricObservation> metrics, out List<TypeObservation> types)
        {
            metrics = new List<MetricObservation>();
            types = new List<TypeObservation>();
            switch (input)
            {
                case CounterSample c:
                    metrics.Add(new MetricObservation { ProcessId = c.ProcessId, ProcessName = c.ProcessName, Host = c.Host, Metric = MetricName(c), Value = c.Value, Unit = c.Unit, Timestamp = c.Timestamp });
                    return true;
                case ProcessMemoryInfo p:
                    // Get-ProcessMemory's summary is judged as the samples it stands for (memory.limit.utilization, ...).
                    foreach (var c in p.ToSamples())
                        metrics.Add(new MetricObservation { ProcessId = c.ProcessId, ProcessName = c.ProcessName, Host = c.Host, Metric = c.Name, Value = c.Value, Unit = c.Unit, Timestamp = c.Timestamp });
                    return true;
                case HeapSnapshot s:
                    foreach (var (name, value) in SnapshotMetrics(s))
                        metrics.Add(new MetricObservation { ProcessId = s.ProcessId, ProcessName = s.ProcessName, Host = s.Host, Metric = name, Value = value, Unit = name == "ObjectCount" ? "count" : "bytes", Timestamp = s.Timestamp });
                    foreach (var t in s.Types)
                        if (!t.IsFree)
                            types.Add(new TypeObservation { ProcessId = s.ProcessId, ProcessName = s.ProcessName, Host = s.Host, TypeName = t.TypeName, Count = t.Count, Bytes = t.TotalBytes, Timestamp = s.Timestamp });
                    return true;
                case AllocationProfile a:
                    Add(metrics, a.ProcessId, a.ProcessName, a.Host, a.End, (AllocationProfile.RateMetric, a.BytesPerSecond, "bytes/s"));
                    foreach (var t in a.Types)
                        types.Add(new TypeObservation { ProcessId = a.ProcessId, ProcessName = a.ProcessName, Host = a.Host, TypeName = t.TypeName, AllocationRate = t.BytesPerSecond, Timestamp = a.End });
                    return true;
                case HeapTypeDelta d:
                    types.Add(new TypeObservation
                    {
                        ProcessId = d.ProcessId, ProcessName = d.ProcessName, Host = d.Host,
                        TypeName = d.TypeName, Count = d.DifferenceCount, Bytes = d.DifferenceBytes,
                        CountDelta = d.CountDelta, BytesDelta = d.BytesDelta, GrowthPercent = d.GrowthPercent, Timestamp = DateTime.UtcNow,
                    });
                    return true;
                case HeapComparison h:
                    var when = h.DifferenceTimestamp;
                    Add(metrics, h.ProcessId, h.ProcessName, h.Host, when, ("BytesDelta", h.BytesDelta, "bytes"), ("CountDelta", h.CountDelta, "count"),
                        ("DifferenceBytes", h.DifferenceBytes, "bytes"), ("DifferenceObjectCount", h.DifferenceObjectCount, "count"));
                    if (h.GrowthPercent.HasValue) Add(metrics, h.ProcessId, h.ProcessName, h.Host, when, ("GrowthPercent", h.GrowthPercent.Value, "percent"));
                    return true;
                case GcEventRecord g:
                    Add(metrics, g.ProcessId, g.ProcessName, g.Host, g.Start,
                        ("PauseDuration", g.PauseDuration, "seconds"), ("HeapSizeAfter", g.HeapSizeAfter, "bytes"), ("HeapSizeBefore", g.HeapSizeBefore, "bytes"),
                        ("PromotedBytes", g.PromotedBytes, "bytes"), ("FragmentationBytes", g.FragmentationBytes, "bytes"), ("Gen2SizeAfter", g.Gen2SizeAfter, "bytes"),
                        ("LohSizeAfter", g.LohSizeAfter, "bytes"), ("PinnedObjectCount", g.PinnedObjectCount, "count"));
                    return true;
                case GcSummary g:
                    Add(metrics, g.ProcessId, g.ProcessName, g.Host, g.WindowStart.AddSeconds(g.WindowDuration),
                        ("Count", g.Count, "count"), ("Gen0Count", g.Gen0Count, "count"), ("Gen1Count", g.Gen1Count, "count"), ("Gen2Count", g.Gen2Count, "count"),
                        ("InducedCount", g.InducedCount, "count"), ("TotalPause", g.TotalPause, "seconds"), ("MaxPause", g.MaxPause, "seconds"),
                        ("MeanPause", g.MeanPause, "seconds"), ("PauseFraction", g.PauseFraction, "fraction"), ("PromotedBytes", g.PromotedBytes, "bytes"),
                        ("LastHeapSizeAfter", g.LastHeapSizeAfter, "bytes"), ("MaxHeapSizeAfter", g.MaxHeapSizeAfter, "bytes"),
                        ("GapDuration", g.GapDuration, "seconds"));
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>The metrics a snapshot contributes to a baseline and to counter rules.</summary>
        public static IEnumerable<(string Name, double Value)> SnapshotMetrics(HeapSnapshot s)
        {
            yield return ("TotalBytes", s.TotalBytes);
            yield return ("ObjectCount", s.ObjectCount);
            if (s.Gen0Bytes.HasValue) yield return ("Gen0Bytes", s.Gen0Bytes.Value);
            if (s.Gen1Bytes.HasValue) yield return ("Gen1Bytes", s.Gen1Bytes.Value);
            if (s.Gen2Bytes.HasValue) yield return ("Gen2Bytes", s.Gen2Bytes.Value);
            if (s.LohBytes.HasValue) yield return ("LohBytes", s.LohBytes.Value);
            if (s.PohBytes.HasValue) yield return ("PohBytes", s.PohBytes.Value);
        }

        /// <summary>gc-heap-size, or dotnet.gc.last_collection.heap.size[gc.heap.generation=gen0] for a tagged series.</summary>
        public static string MetricName(CounterSample c)
        {
            if (c.Tags.Count == 0) return c.Name;
            var parts = new List<string>();
            foreach (var kv in c.Tags) parts.Add(kv.Key + "=" + kv.Value);
            parts.Sort(StringComparer.Ordinal);
            return c.Name + "[" + string.Join(",", parts) + "]";
        }

        private static void Add(List<MetricObservation> list, int pid, string name, string host, DateTime when, params (string Metric, double Value, string Unit)[] values)
        {
            foreach (var v in values)
                list.Add(new MetricObservation { ProcessId = pid, ProcessName = name, Host = host, Metric = v.Metric, Value = v.Value, Unit = v.Unit, Timestamp = when });
        }
    }
}
