using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace MemoryOps.Engine.Metrics
{
    /// <summary>
    /// Turns MemoryOps objects into Prometheus metric families and writes them as text. The latest value of each
    /// series wins, so a book fed a continuous stream always holds "the state now", which is what a scrape of a
    /// textfile or a push to a Pushgateway means.
    ///
    /// Written here rather than taken from prometheus-net: that library is a metrics registry for instrumenting
    /// the process it runs in (its collectors hold live values of this process), and it would have to be fed
    /// through its global registry; what is needed is only the exposition of values someone else measured, which
    /// is a page of escaping rules.
    /// </summary>
    internal sealed class MetricsBook
    {
        /// <summary>How many heap types per snapshot or comparison become series (each is a series in Prometheus: cardinality costs).</summary>
        public int TopTypes { get; set; } = 20;

        private readonly Dictionary<string, Family> families = new Dictionary<string, Family>(StringComparer.Ordinal);

        /// <summary>The number of series held.</summary>
        public int SeriesCount => families.Values.Sum(f => f.Series.Count);

        /// <summary>Adds what <paramref name="input"/> measures; false when it is not something metrics can say.</summary>
        public bool Add(object input)
        {
            switch (input)
            {
                case CounterSample c: AddCounterSample(c); return true;
                case ProcessMemoryInfo p: foreach (var c in p.ToSamples()) AddCounterSample(c); return true;
                case HeapSnapshot s: AddSnapshot(s); return true;
                case GcSummary g: AddGcSummary(g); return true;
                case ThresholdResult r: AddThresholdResult(r); return true;
                case HeapComparison h: AddComparison(h); return true;
                case HeapTypeDelta d: AddDelta(d); return true;
                case AllocationProfile a: AddAllocationProfile(a); return true;
                default: return false;
            }
        }

        public void Write(TextWriter writer, MetricsFormat format)
        {
            foreach (var family in families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                // OpenMetrics names a counter's family without _total and its samples with it; 0.0.4 uses one name.
                string familyName = format == MetricsFormat.OpenMetrics && family.Type == "counter" ? family.Name.Substring(0, family.Name.Length - "_total".Length) : family.Name;
                writer.Write("# HELP "); writer.Write(familyName); writer.Write(' '); writer.Write(EscapeHelp(family.Help)); writer.Write('\n');
                writer.Write("# TYPE "); writer.Write(familyName); writer.Write(' '); writer.Write(family.Type); writer.Write('\n');
                if (format == MetricsFormat.OpenMetrics && family.Unit.Length > 0) { writer.Write("# UNIT "); writer.Write(familyName); writer.Write(' '); writer.Write(family.Unit); writer.Write('\n'); }
                foreach (var series in family.Series.Values.OrderBy(s => s.LabelText, StringComparer.Ordinal))
                {
                    writer.Write(family.Name);
                    writer.Write(series.LabelText);
                    writer.Write(' ');
                    writer.Write(FormatValue(series.Value));
                    if (format == MetricsFormat.OpenMetrics && series.Timestamp.HasValue)
                    {
                        writer.Write(' ');
                        double seconds = (series.Timestamp.Value.ToUniversalTime() - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;
                        writer.Write(seconds.ToString("0.###", CultureInfo.InvariantCulture));
                    }
                    writer.Write('\n');
                }
            }
            if (format == MetricsFormat.OpenMetrics) writer.Write("# EOF\n");
        }

        public string ToText(MetricsFormat format)
        {
            var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            Write(w, format);
            return w.ToString();
        }

        // --- what each object says --------------------------------------------------------------------------------

        private void AddCounterSample(CounterSample c)
        {
            var (name, type, unit, scale) = CounterMetricName(c.Name, c.Unit, c.Kind, c.Provider);
            var labels = ProcessLabels(c.ProcessName, c.ProcessId, c.Host);
            foreach (var tag in c.Tags.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                string label = SanitizeName(tag.Key);
                if (labels.Any(l => l.Name == label)) label = "tag_" + label; // a tag never overrides process, pid or host
                labels.Add((label, tag.Value));
            }
            string help = (c.DisplayName.Length > 0 ? c.DisplayName : c.Name) + $" ({c.Provider} {c.Name}, {c.Source})" +
                (unit == "ratio" && c.Unit == "percent" ? ", as a 0..1 ratio" : "");
            Set(name, type, unit, help, labels, c.Value * scale, c.Timestamp);
        }

        private void AddSnapshot(HeapSnapshot s)
        {
            var process = ProcessLabels(s.ProcessName, s.ProcessId, s.Host);
            Set("memoryops_heap_bytes", "gauge", "bytes", "Bytes of the objects on the managed heap (Free space excluded), from a MemoryOps heap snapshot", process, s.TotalBytes, s.Timestamp);
            Set("memoryops_heap_objects", "gauge", "", "Objects on the managed heap, from a MemoryOps heap snapshot", process, s.ObjectCount, s.Timestamp);
            foreach (var (generation, bytes) in new[] { ("0", s.Gen0Bytes), ("1", s.Gen1Bytes), ("2", s.Gen2Bytes), ("loh", s.LohBytes), ("poh", s.PohBytes) })
                if (bytes.HasValue)
                    Set("memoryops_heap_generation_bytes", "gauge", "bytes", "Size of one GC generation (objects and the free space between them), from a MemoryOps heap snapshot",
                        With(process, ("generation", generation)), bytes.Value, s.Timestamp);
            foreach (var t in s.Types.Where(t => !t.IsFree).OrderByDescending(t => t.TotalBytes).ThenBy(t => t.TypeName, StringComparer.Ordinal).Take(TopTypes))
            {
                var labels = With(process, ("type", t.TypeName));
                Set("memoryops_heap_type_bytes", "gauge", "bytes", "Bytes of the instances of a heap type (the largest types by bytes of each snapshot, -Top)", labels, t.TotalBytes, s.Timestamp);
                Set("memoryops_heap_type_objects", "gauge", "", "Instances of a heap type (the largest types by bytes of each snapshot, -Top)", labels, t.Count, s.Timestamp);
            }
        }

        private void AddAllocationProfile(AllocationProfile a)
        {
            var process = ProcessLabels(a.ProcessName, a.ProcessId, a.Host);
            Set("memoryops_allocation_bytes_per_second", "gauge", "", "Estimated bytes allocated per second over a MemoryOps allocation profile's window", process, a.BytesPerSecond, a.End);
            foreach (var t in a.Types.OrderByDescending(t => t.EstimatedBytes).ThenBy(t => t.TypeName, StringComparer.Ordinal).Take(TopTypes))
            {
                var labels = With(process, ("type", t.TypeName));
                Set("memoryops_allocation_type_bytes_per_second", "gauge", "", "Estimated bytes of a type allocated per second (the most allocated types of each profile, -Top)", labels, t.BytesPerSecond, a.End);
                Set("memoryops_allocation_type_objects_per_second", "gauge", "", "Estimated objects of a type allocated per second (the most allocated types of each profile, -Top)", labels, t.CountPerSecond, a.End);
            }
        }

        private void AddDelta(HeapTypeDelta d)
        {
            var labels = With(ProcessLabels(d.ProcessName, d.ProcessId, d.Host), ("type", d.TypeName));
            // Deltas arrive one by one, largest growth first: keep the first TopTypes of each process.
            var family = families.TryGetValue("memoryops_heap_type_growth_bytes", out var f) ? f : null;
            string process = ProcessKey(d.ProcessName, d.ProcessId, d.Host);
            // (HELP texts are constants: node_exporter drops a metric whose HELP differs between two files.)
            if (TopTypes == 0 || family != null && family.Series.Count(kv => kv.Value.Process == process) >= TopTypes && !family.Series.ContainsKey(LabelText(labels))) return;
            Set("memoryops_heap_type_growth_bytes", "gauge", "bytes", "Growth of a heap type's bytes between two snapshots (the types that grew most, -Top)", labels, d.BytesDelta, null, process);
        }

        private void AddComparison(HeapComparison h)
        {
            var labels = ProcessLabels(h.ProcessName, h.ProcessId, h.Host);
            Set("memoryops_heap_growth_bytes", "gauge", "bytes", "Growth of the managed heap's bytes between two snapshots", labels, h.BytesDelta, h.DifferenceTimestamp);
        }

        private void AddGcSummary(GcSummary g)
        {
            var labels = ProcessLabels(g.ProcessName, g.ProcessId, g.Host);
            DateTime end = g.WindowStart.AddSeconds(g.WindowDuration);
            Set("memoryops_gc_window_seconds", "gauge", "seconds", "Length of the window a MemoryOps GC summary covers", labels, g.WindowDuration, end);
            foreach (var (generation, count) in new[] { ("0", g.Gen0Count), ("1", g.Gen1Count), ("2", g.Gen2Count) })
                Set("memoryops_gc_collections", "gauge", "", "Garbage collections of one generation in the summary's window", With(labels, ("generation", generation)), count, end);
            Set("memoryops_gc_pause_seconds", "gauge", "seconds", "Total time threads were paused by the GC in the summary's window", labels, g.TotalPause, end);
            Set("memoryops_gc_pause_max_seconds", "gauge", "seconds", "Longest GC pause in the summary's window", labels, g.MaxPause, end);
            Set("memoryops_gc_pause_ratio", "gauge", "ratio", "Share of the summary's window the process spent paused by the GC (0..1)", labels, g.PauseFraction, end);
            Set("memoryops_gc_promoted_bytes", "gauge", "bytes", "Bytes promoted by the GCs of the summary's window", labels, g.PromotedBytes, end);
        }

        private void AddThresholdResult(ThresholdResult r)
        {
            var labels = With(ProcessLabels(r.ProcessName, r.ProcessId, r.Host), ("rule", r.Rule), ("subject", r.Subject), ("severity", r.Severity.ToString()));
            Set("memoryops_rule_passed", "gauge", "", "1 when a MemoryOps rule passed for its subject, 0 when it failed", labels, r.Passed ? 1 : 0, r.Timestamp);
            Set("memoryops_rule_observed", "gauge", "", "The value a MemoryOps rule judged (in its unit: bytes, seconds, count...)", labels, r.Observed, r.Timestamp);
            Set("memoryops_rule_limit", "gauge", "", "The limit a MemoryOps rule held the value to", labels, r.Limit, r.Timestamp);
        }

        // --- names, labels, values ------------------------------------------------------------------------------

        /// <summary>
        /// A counter's Prometheus name: "dotnet_" + its name in snake case + its base unit as the suffix
        /// (gc-heap-size in bytes → dotnet_gc_heap_size_bytes; alloc-rate in bytes/s →
        /// dotnet_alloc_rate_bytes_per_second; a percent becomes a 0..1 _ratio). Every counter sample is a level or a
        /// rate per second already, so every family is a gauge.
        /// </summary>
        public static (string Name, string Type, string Unit, double Scale) CounterMetricName(string counter, string unit, CounterKind kind, string provider = "")
        {
            string stem = counter.StartsWith("dotnet.", StringComparison.OrdinalIgnoreCase) ? counter.Substring("dotnet.".Length) : counter;
            // Get-ProcessMemory's figures come from the kernel, for any process: not "dotnet_" (memory.rss → memoryops_memory_rss_bytes).
            string prefix = provider == ProcessMemoryInfo.SampleProvider ? "memoryops_" : "dotnet_";
            string name = prefix + SanitizeName(stem).Trim('_').ToLowerInvariant();
            // "_count" is the suffix of a histogram's or summary's sample count: a plain level of things must not
            // end with it (promtool's lint), so the known ones get plural names and the rest lose the suffix.
            if (CountNames.TryGetValue(name, out var plural)) name = plural;
            else if (name.EndsWith("_count", StringComparison.Ordinal) && unit == "count") name = name.Substring(0, name.Length - "_count".Length);
            (string suffix, string metricUnit, double scale) = unit switch
            {
                "bytes" => ("_bytes", "bytes", 1d),
                "seconds" => ("_seconds", "seconds", 1d),
                "percent" => ("_ratio", "ratio", 0.01),
                "fraction" => ("_ratio", "ratio", 1d),
                "bytes/s" => ("_bytes_per_second", "", 1d),
                "seconds/s" => ("_seconds_per_second", "", 1d),
                "count/s" => ("_per_second", "", 1d),
                "count" => ("", "", 1d),
                _ => ("_" + SanitizeName(unit.Replace("/s", "_per_second")).Trim('_').ToLowerInvariant(), "", 1d),
            };
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) name += suffix;
            return (name, "gauge", metricUnit, scale);
        }

        private static readonly Dictionary<string, string> CountNames = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dotnet_active_timer_count"] = "dotnet_timers_active",
            ["dotnet_assembly_count"] = "dotnet_assemblies_loaded",
            ["dotnet_threadpool_thread_count"] = "dotnet_threadpool_threads",
            ["dotnet_timer_count"] = "dotnet_timers",
            ["dotnet_process_cpu_count"] = "dotnet_process_cpus",
            ["dotnet_methods_jitted_count"] = "dotnet_methods_jitted",
        };

        /// <summary>Any string as a metric or label name: [a-zA-Z_][a-zA-Z0-9_]*, other characters become '_'.</summary>
        public static string SanitizeName(string raw)
        {
            var b = new StringBuilder(raw.Length + 1);
            foreach (char ch in raw)
                b.Append(ch < 128 && (char.IsLetterOrDigit(ch) || ch == '_') ? ch : '_');
            if (b.Length == 0 || char.IsDigit(b[0])) b.Insert(0, '_');
            return b.ToString();
        }

        /// <summary>A label value: backslash, double quote and line feed escaped (the text formats' only escapes).</summary>
        public static string EscapeLabelValue(string value) =>
            value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

        private static string EscapeHelp(string help) =>
            help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

        public static string FormatValue(double v) =>
            double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : v.ToString("R", CultureInfo.InvariantCulture);

        private static List<(string Name, string Value)> ProcessLabels(string process, int pid, string host)
        {
            var labels = new List<(string, string)>();
            if (host.Length > 0) labels.Add(("host", host));
            if (pid != 0) labels.Add(("pid", pid.ToString(CultureInfo.InvariantCulture)));
            if (process.Length > 0) labels.Add(("process", process));
            return labels;
        }

        private static string ProcessKey(string process, int pid, string host) => host + "\0" + pid.ToString(CultureInfo.InvariantCulture) + "\0" + process;

        private static List<(string Name, string Value)> With(List<(string Name, string Value)> labels, params (string Name, string Value)[] more)
        {
            var all = new List<(string, string)>(labels);
            all.AddRange(more);
            return all;
        }

        private static string LabelText(List<(string Name, string Value)> labels) =>
            labels.Count == 0 ? "" : "{" + string.Join(",", labels.Select(l => l.Name + "=\"" + EscapeLabelValue(l.Value) + "\"")) + "}";

        private void Set(string name, string type, string unit, string help, List<(string Name, string Value)> labels, double value, DateTime? timestamp, string? process = null)
        {
            if (!families.TryGetValue(name, out var family)) families[name] = family = new Family(name, type, unit, help);
            string text = LabelText(labels);
            family.Series[text] = new Series(text, value, timestamp == default(DateTime) ? null : timestamp, process);
        }

        private sealed class Family
        {
            public string Name { get; }
            public string Type { get; }
            public string Unit { get; }
            public string Help { get; }
            public Dictionary<string, Series> Series { get; } = new Dictionary<string, Series>(StringComparer.Ordinal);
            public Family(string name, string type, string unit, string help) { Name = name; Type = type; Unit = unit; Help = help; }
        }

        private sealed class Series
        {
            public string LabelText { get; }
            public double Value { get; }
            public DateTime? Timestamp { get; }
            public string? Process { get; }
            public Series(string labelText, double value, DateTime? timestamp, string? process) { LabelText = labelText; Value = value; Timestamp = timestamp; Process = process; }
        }
    }
}
