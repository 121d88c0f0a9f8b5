using System;
using System.Collections.Generic;
using System.Linq;
using MemoryOps.Engine.GcEvents;
using MemoryOps.Engine.Rules;

namespace MemoryOps.Engine.Report
{
    /// <summary>
    /// Collects what MemoryOps cmdlets emit and turns it into one self-contained HTML page (<see cref="ReportHtml"/>).
    /// Inputs are folded as they come, so memory stays bounded whatever the pipeline holds: a snapshot keeps only its
    /// top types and the sum of the rest, samples and GC records are kept up to a cap (what is beyond is counted and
    /// said in the report), tables show their top rows and summarise the rest.
    /// </summary>
    internal sealed class MemoryReportBuilder
    {
        /// <summary>Bars in a type chart (top types by bytes, top growth, retained bytes).</summary>
        public const int ChartTypes = 15;
        /// <summary>Rows in a type table; the rest is one summary row.</summary>
        public const int TableTypes = 50;
        /// <summary>Snapshots shown (the latest ones); the others are named in one line.</summary>
        public const int MaxSnapshots = 10;
        /// <summary>Retention paths shown per retained type, and retained types shown.</summary>
        public const int MaxPathsPerType = 10, MaxRetentionTypes = 20;
        /// <summary>Verdict rows shown, failures first; the rest are counted.</summary>
        public const int MaxVerdictRows = 500;
        /// <summary>Series drawn in one chart; the others are named in a note under it.</summary>
        public const int MaxSeriesPerChart = 40;
        /// <summary>Counter samples and GC records kept (each about 40 bytes here); beyond, they are counted, not drawn.</summary>
        public const int MaxSamples = 2_000_000, MaxGcEvents = 500_000;
        /// <summary>Type deltas, retention rows and verdicts kept.</summary>
        public const int MaxRows = 1_000_000;

        internal readonly Dictionary<SeriesKey, CounterSeries> Series = new Dictionary<SeriesKey, CounterSeries>();
        internal readonly Dictionary<ProcessKey, List<GcEventRecord>> GcEvents = new Dictionary<ProcessKey, List<GcEventRecord>>();
        internal readonly List<GcSummary> GcSummaries = new List<GcSummary>();
        internal readonly List<SnapshotDigest> Snapshots = new List<SnapshotDigest>();
        internal readonly List<HeapTypeDelta> Deltas = new List<HeapTypeDelta>();
        internal readonly List<HeapComparison> Comparisons = new List<HeapComparison>();
        internal readonly List<ThresholdResult> Verdicts = new List<ThresholdResult>();
        internal readonly List<HeapRetentionPath> Paths = new List<HeapRetentionPath>();
        internal readonly List<HeapRetainedSize> Retained = new List<HeapRetainedSize>();
        internal readonly Dictionary<ProcessKey, ProcessFacts> Processes = new Dictionary<ProcessKey, ProcessFacts>();

        private int samples, gcEvents;

        /// <summary>Inputs left out because a cap was reached (the report says how many).</summary>
        public long SamplesDropped { get; private set; }
        public long GcEventsDropped { get; private set; }
        public long RowsDropped { get; private set; }

        /// <summary>How many inputs were taken.</summary>
        public long InputCount { get; private set; }

        /// <summary>Takes one input; false when a report has no place for it (the caller says so to the user).</summary>
        public bool Add(object? input)
        {
            if (!AddOne(input)) return false;
            InputCount++;
            return true;
        }

        private bool AddOne(object? input)
        {
            switch (input)
            {
                case AllocationProfile a:
                    // Get-AllocationProfile's windows are charted as their whole allocation rate over time (bytes/s).
                    foreach (var sample in a.ToSamples()) AddOne(sample);
                    break;
                case ProcessMemoryInfo m:
                    // Get-ProcessMemory's readings are charted as the samples they stand for (RSS, cgroup usage and limit, utilization...).
                    foreach (var sample in m.ToSamples()) AddOne(sample);
                    break;
                case CounterSample c:
                    Process(c.Host, c.ProcessId, c.ProcessName).See(c.Timestamp);
                    if (samples >= MaxSamples) { SamplesDropped++; break; }
                    samples++;
                    var key = new SeriesKey(c.Host ?? "", c.ProcessId, ObservationReader.MetricName(c));
                    if (!Series.TryGetValue(key, out var series)) Series[key] = series = new CounterSeries(c.Unit ?? "", c.ProcessName ?? "");
                    series.Add(c.Timestamp, c.Value);
                    break;
                case GcEventRecord r:
                    Process(r.Host, r.ProcessId, r.ProcessName).See(r.Start);
                    if (gcEvents >= MaxGcEvents) { GcEventsDropped++; break; }
                    gcEvents++;
                    var pk = new ProcessKey(r.Host ?? "", r.ProcessId);
                    if (!GcEvents.TryGetValue(pk, out var list)) GcEvents[pk] = list = new List<GcEventRecord>();
                    list.Add(r);
                    break;
                case GcSummary s:
                    Process(s.Host, s.ProcessId, s.ProcessName).See(s.WindowStart).See(s.WindowStart.AddSeconds(s.WindowDuration));
                    GcSummaries.Add(s);
                    break;
                case HeapSnapshot h:
                    var facts = Process(h.Host, h.ProcessId, h.ProcessName).See(h.Timestamp);
                    if (!string.IsNullOrEmpty(h.RuntimeVersion)) facts.RuntimeVersion = h.RuntimeVersion;
                    Snapshots.Add(new SnapshotDigest(h, TableTypes));
                    break;
                case HeapTypeDelta d:
                    Process(d.Host, d.ProcessId, d.ProcessName);
                    AddRow(Deltas, d);
                    break;
                case HeapComparison hc:
                    Process(hc.Host, hc.ProcessId, hc.ProcessName).See(hc.ReferenceTimestamp).See(hc.DifferenceTimestamp);
                    Comparisons.Add(hc);
                    break;
                case ThresholdResult t:
                    Process(t.Host, t.ProcessId, t.ProcessName).See(t.Timestamp);
                    AddRow(Verdicts, t);
                    break;
                case HeapRetentionPath p:
                    AddRow(Paths, p);
                    break;
                case HeapRetainedSize rs:
                    AddRow(Retained, rs);
                    break;
                case DotNetProcessInfo info:
                    var pf = Process(info.Host, info.ProcessId, info.Name);
                    if (!string.IsNullOrEmpty(info.RuntimeVersion)) pf.RuntimeVersion = info.RuntimeVersion;
                    if (info.StartTime.HasValue) pf.StartTime = info.StartTime;
                    break;
                default:
                    return false;
            }
            return true;
        }

        /// <summary>The page: sections for what came in, charts drawn by Chart.js from the data embedded in it.</summary>
        public string Build(string title, DateTime generated) => ReportHtml.Render(this, title, generated);

        private void AddRow<T>(List<T> list, T row)
        {
            if (list.Count >= MaxRows) { RowsDropped++; return; }
            list.Add(row);
        }

        private ProcessFacts Process(string? host, int pid, string? name)
        {
            var key = new ProcessKey(host ?? "", pid);
            if (!Processes.TryGetValue(key, out var facts)) Processes[key] = facts = new ProcessFacts();
            if (string.IsNullOrEmpty(facts.Name) && !string.IsNullOrEmpty(name)) facts.Name = name!;
            return facts;
        }

        /// <summary>The earliest and latest moment any input speaks of.</summary>
        internal (DateTime? First, DateTime? Last) TimeRange()
        {
            var firsts = Processes.Values.Where(p => p.First.HasValue).Select(p => p.First!.Value).ToList();
            var lasts = Processes.Values.Where(p => p.Last.HasValue).Select(p => p.Last!.Value).ToList();
            return (firsts.Count > 0 ? firsts.Min() : (DateTime?)null, lasts.Count > 0 ? lasts.Max() : (DateTime?)null);
        }

        /// <summary>GC summaries given, else computed from the records of each process (window: first start to last end).</summary>
        internal List<GcSummary> EffectiveGcSummaries()
        {
            if (GcSummaries.Count > 0) return GcSummaries;
            var result = new List<GcSummary>();
            foreach (var kv in GcEvents.OrderBy(k => k.Key.Host, StringComparer.Ordinal).ThenBy(k => k.Key.ProcessId))
            {
                var records = kv.Value;
                if (records.Count == 0) continue;
                DateTime start = records.Min(r => r.Start);
                DateTime end = records.Max(r => r.Start.AddSeconds(Math.Max(r.Duration, r.PauseDuration)));
                var s = GcSummaryCalculator.Summarize(kv.Key.ProcessId, records[0].ProcessName, start, end, records);
                s.Host = kv.Key.Host;
                result.Add(s);
            }
            return result;
        }

        internal readonly struct ProcessKey : IEquatable<ProcessKey>
        {
            public ProcessKey(string host, int pid) { Host = host; ProcessId = pid; }
            public string Host { get; }
            public int ProcessId { get; }
            public bool Equals(ProcessKey o) => ProcessId == o.ProcessId && string.Equals(Host, o.Host, StringComparison.OrdinalIgnoreCase);
            public override bool Equals(object? obj) => obj is ProcessKey o && Equals(o);
            public override int GetHashCode() => HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Host), ProcessId);
        }

        internal readonly struct SeriesKey : IEquatable<SeriesKey>
        {
            public SeriesKey(string host, int pid, string metric) { Process = new ProcessKey(host, pid); Metric = metric; }
            public ProcessKey Process { get; }
            public string Metric { get; }
            public bool Equals(SeriesKey o) => Process.Equals(o.Process) && string.Equals(Metric, o.Metric, StringComparison.Ordinal);
            public override bool Equals(object? obj) => obj is SeriesKey o && Equals(o);
            public override int GetHashCode() => HashCode.Combine(Process, Metric);
        }

        internal sealed class ProcessFacts
        {
            public string Name = "";
            public string RuntimeVersion = "";
            public DateTime? StartTime;
            public DateTime? First, Last;

            public ProcessFacts See(DateTime when)
            {
                if (when == default) return this;
                if (First == null || when < First) First = when;
                if (Last == null || when > Last) Last = when;
                return this;
            }
        }

        internal sealed class CounterSeries
        {
            public CounterSeries(string unit, string processName) { Unit = unit; ProcessName = processName; }
            public string Unit { get; }
            public string ProcessName { get; }
            public readonly List<DateTime> Times = new List<DateTime>();
            public readonly List<double> Values = new List<double>();
            private bool sorted = true;

            public void Add(DateTime when, double value)
            {
                if (Times.Count > 0 && when < Times[Times.Count - 1]) sorted = false;
                Times.Add(when);
                Values.Add(value);
            }

            /// <summary>Samples in time order (the charts need x sorted; inputs merged from several commands may not be).</summary>
            public void Sort()
            {
                if (sorted) return;
                var order = Enumerable.Range(0, Times.Count).OrderBy(i => Times[i]).ToArray();
                var t = order.Select(i => Times[i]).ToArray();
                var v = order.Select(i => Values[i]).ToArray();
                Times.Clear(); Times.AddRange(t);
                Values.Clear(); Values.AddRange(v);
                sorted = true;
            }
        }

        /// <summary>What a report keeps of a snapshot: its figures, its top types and the sum of the others.</summary>
        internal sealed class SnapshotDigest
        {
            public SnapshotDigest(HeapSnapshot s, int top)
            {
                Snapshot = new HeapSnapshot
                {
                    Source = s.Source, Host = s.Host, ProcessId = s.ProcessId, ProcessName = s.ProcessName, Timestamp = s.Timestamp,
                    RuntimeVersion = s.RuntimeVersion, TotalBytes = s.TotalBytes, ObjectCount = s.ObjectCount, LiveOnly = s.LiveOnly,
                    FreeBytes = s.FreeBytes, Gen0Bytes = s.Gen0Bytes, Gen1Bytes = s.Gen1Bytes, Gen2Bytes = s.Gen2Bytes,
                    LohBytes = s.LohBytes, PohBytes = s.PohBytes, DumpPath = s.DumpPath, Duration = s.Duration,
                };
                var types = (s.Types ?? new List<HeapTypeStat>()).Where(t => t != null && !t.IsFree).ToList();
                TypeCount = types.Count;
                Top = types.OrderByDescending(t => t.TotalBytes).ThenBy(t => t.TypeName, StringComparer.Ordinal).Take(top).ToList();
                foreach (var t in types) { AllBytes += t.TotalBytes; AllCount += t.Count; }
                RestBytes = AllBytes - Top.Sum(t => t.TotalBytes);
                RestCount = AllCount - Top.Sum(t => t.Count);
            }

            public HeapSnapshot Snapshot { get; }
            public List<HeapTypeStat> Top { get; }
            public int TypeCount { get; }
            public long AllBytes { get; }
            public long AllCount { get; }
            public long RestBytes { get; }
            public long RestCount { get; }
        }
    }
}
