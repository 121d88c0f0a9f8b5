using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using static MemoryOps.Engine.Report.MemoryReportBuilder;

namespace MemoryOps.Engine.Report
{
    /// <summary>
    /// Writes the page. Tables are HTML made here, every name encoded (names come from heaps and processes another user
    /// may control); charts are Chart.js configurations (report.js) over data embedded as JSON in a
    /// &lt;script type="application/json"&gt;, where the JSON encoder writes every '&lt;', '&gt;', '&amp;' and quote as
    /// \uXXXX, so no name can close the script element. A Content-Security-Policy allows only the page's own three
    /// scripts (by hash) and no network at all.
    /// </summary>
    internal static class ReportHtml
    {
        /// <summary>The start of every report: what lets a later run replace it without -Force.</summary>
        public const string Header = "<!DOCTYPE html>\n<!-- MemoryOps report (Export-MemoryReport): this file is replaced when the report is written again. -->\n";

        private static readonly Lazy<string> Css = new Lazy<string>(() => Resource("MemoryOps.Engine.Report.report.css"));
        private static readonly Lazy<string> ChartScript = new Lazy<string>(() => Resource("MemoryOps.Engine.Report.report.js"));

        // Errors thrown before report.js runs (in the library, say) must also reach the summary it writes.
        private const string ErrorCatcher =
            "window.memoryOpsErrors=[];" +
            "window.addEventListener('error',function(e){window.memoryOpsErrors.push(String(e.message))});" +
            "window.addEventListener('unhandledrejection',function(e){window.memoryOpsErrors.push(String(e.reason))});" +
            "document.addEventListener('securitypolicyviolation',function(e){window.memoryOpsErrors.push('CSP: '+e.violatedDirective)});";

        private static readonly string[] UnitOrder = { "bytes", "bytes/s", "seconds/s", "fraction", "percent", "count", "count/s", "seconds" };

        public static string Render(MemoryReportBuilder b, string title, DateTime generated)
        {
            var charts = new List<Action<Utf8JsonWriter>>();
            var (first, last) = b.TimeRange();
            long t0 = EpochMs(first ?? generated);
            var body = new StringBuilder();
            var nav = new List<(string Id, string Text)>();

            Overview(b, body, nav, first, last);
            Verdicts(b, body, nav);
            // The leak's story first: what climbed, what grew, what holds it; then every snapshot's types, then the GC.
            Counters(b, body, nav, charts, t0);
            Growth(b, body, nav, charts);
            Retention(b, body, nav, charts);
            Heap(b, body, nav, charts);
            Gc(b, body, nav, charts, t0);

            string json = Json(charts, t0);
            // The encoder escapes them; a report whose data could end its script element is never written.
            if (json.IndexOf('<') >= 0 || json.IndexOf('>') >= 0) throw new InvalidOperationException("The report's data holds an unescaped '<' or '>'.");
            string library = ChartLibrary.Script;
            if (library.IndexOf("</script", StringComparison.OrdinalIgnoreCase) >= 0 || library.IndexOf("<!--", StringComparison.Ordinal) >= 0)
                throw new InvalidOperationException("The chart library holds text that would end its script element.");

            var html = new StringBuilder(json.Length + library.Length + body.Length + 16384);
            html.Append(Header);
            html.Append("<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
            html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
            html.Append("<meta name=\"generator\" content=\"MemoryOps Export-MemoryReport; Chart.js ").Append(H(ChartLibrary.Version)).Append("\">\n");
            html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src ")
                .Append(ScriptHash(ErrorCatcher)).Append(' ').Append(ScriptHash(library)).Append(' ').Append(ScriptHash(ChartScript.Value)).Append("\">\n");
            html.Append("<title>").Append(H(title)).Append("</title>\n");
            html.Append("<script>").Append(ErrorCatcher).Append("</script>\n");
            html.Append("<style>\n").Append(Css.Value).Append("</style>\n</head>\n<body>\n<header>\n");
            html.Append("<h1>").Append(H(title)).Append("</h1>\n");
            html.Append("<div class=\"muted\">Written ").Append(H(Instant(generated))).Append(" by MemoryOps");
            if (first.HasValue) html.Append(" · data from ").Append(H(Instant(first.Value))).Append(" to ").Append(H(Instant(last!.Value)));
            html.Append("</div>\n<nav>");
            foreach (var (id, text) in nav) html.Append("<a href=\"#").Append(id).Append("\">").Append(H(text)).Append("</a>");
            html.Append("</nav>\n</header>\n<main>\n").Append(body).Append("</main>\n");
            html.Append("<footer><p>Charts drawn by Chart.js ").Append(H(ChartLibrary.Version)).Append(" (MIT licence), inlined: this page needs no network.</p>\n");
            html.Append("<details><summary>Chart.js licence</summary><pre>").Append(H(ChartLibrary.Licence)).Append("</pre></details></footer>\n");
            html.Append("<pre id=\"memoryops-drawn\"></pre>\n");
            html.Append("<script type=\"application/json\" id=\"memoryops-data\">").Append(json).Append("</script>\n");
            html.Append("<script>").Append(library).Append("</script>\n");
            html.Append("<script>").Append(ChartScript.Value).Append("</script>\n");
            html.Append("</body></html>\n");
            return html.ToString();
        }

        // ---- sections ------------------------------------------------------------------------------------------

        private static void Overview(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav, DateTime? first, DateTime? last)
        {
            nav.Add(("overview", "Overview"));
            s.Append("<section id=\"overview\"><h2>Overview</h2>\n<div class=\"figures\">");
            if (first.HasValue) Figure(s, Seconds((last!.Value - first.Value).TotalSeconds), "time range");
            Figure(s, b.Processes.Count.ToString("N0", Inv), b.Processes.Count == 1 ? "process" : "processes");
            int hosts = b.Processes.Keys.Select(k => k.Host.ToUpperInvariant()).Distinct().Count();
            if (hosts > 1) Figure(s, hosts.ToString("N0", Inv), "hosts");
            long sampleCount = b.Series.Values.Sum(x => (long)x.Times.Count);
            if (sampleCount > 0) Figure(s, sampleCount.ToString("N0", Inv), $"counter samples in {b.Series.Count:N0} series");
            long gcCount = b.GcEvents.Values.Sum(x => (long)x.Count);
            if (gcCount > 0) Figure(s, gcCount.ToString("N0", Inv), "garbage collections");
            if (b.Snapshots.Count > 0) Figure(s, b.Snapshots.Count.ToString("N0", Inv), b.Snapshots.Count == 1 ? "heap snapshot" : "heap snapshots");
            if (b.Verdicts.Count > 0)
            {
                int failed = b.Verdicts.Count(v => v.IsViolation);
                Figure(s, $"{failed:N0} of {b.Verdicts.Count:N0}", "verdicts failed", failed > 0);
            }
            s.Append("</div>\n");
            if (b.Processes.Count > 0)
            {
                s.Append("<div class=\"scroll\"><table><thead><tr><th>Host</th><th class=\"n\">PID</th><th>Process</th><th>Runtime</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>\n");
                foreach (var kv in b.Processes.OrderBy(k => k.Key.Host, StringComparer.OrdinalIgnoreCase).ThenBy(k => k.Key.ProcessId))
                {
                    var p = kv.Value;
                    s.Append("<tr><td class=\"name\">").Append(H(kv.Key.Host)).Append("</td><td class=\"n\">").Append(kv.Key.ProcessId.ToString(Inv))
                     .Append("</td><td class=\"name\">").Append(H(p.Name)).Append("</td><td>").Append(H(p.RuntimeVersion))
                     .Append("</td><td>").Append(p.First.HasValue ? H(Instant(p.First.Value)) : "").Append("</td><td>").Append(p.Last.HasValue ? H(Instant(p.Last.Value)) : "").Append("</td></tr>\n");
                }
                s.Append("</tbody></table></div>\n");
            }
            if (b.SamplesDropped > 0) Note(s, $"{b.SamplesDropped:N0} counter samples beyond the first {MaxSamples:N0} are not in this report.");
            if (b.GcEventsDropped > 0) Note(s, $"{b.GcEventsDropped:N0} GC records beyond the first {MaxGcEvents:N0} are not in this report.");
            if (b.RowsDropped > 0) Note(s, $"{b.RowsDropped:N0} rows (deltas, verdicts, retention) beyond {MaxRows:N0} of a kind are not in this report.");
            if (b.InputCount == 0) Note(s, "No input: nothing to show.");
            s.Append("</section>\n");
        }

        private static void Verdicts(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav)
        {
            if (b.Verdicts.Count == 0) return;
            nav.Add(("verdicts", "Verdicts"));
            // Failures first (the ones that fail a check, then failed warnings), the worst severity first within each.
            var ordered = b.Verdicts
                .OrderBy(v => v.IsViolation ? 0 : !v.Passed ? 1 : 2)
                .ThenByDescending(v => v.Severity)
                .ThenBy(v => v.Rule, StringComparer.Ordinal).ThenBy(v => v.Subject, StringComparer.Ordinal)
                .ToList();
            int failed = ordered.Count(v => !v.Passed);
            s.Append("<section id=\"verdicts\"><h2>Verdicts</h2>\n<p>").Append(failed.ToString("N0", Inv)).Append(" failed, ")
             .Append((ordered.Count - failed).ToString("N0", Inv)).Append(" passed.</p>\n");
            s.Append("<div class=\"scroll\"><table id=\"verdict-table\"><thead><tr><th>Result</th><th>Severity</th><th>Rule</th><th>Subject</th><th>Process</th><th class=\"n\">Observed</th><th class=\"n\">Limit</th><th>Message</th></tr></thead><tbody>\n");
            foreach (var v in ordered.Take(MaxVerdictRows))
            {
                string cls = v.Passed ? "pass" : v.IsViolation ? "fail" : "warn";
                s.Append("<tr><td class=\"").Append(cls).Append("\">").Append(v.Passed ? "PASS" : "FAIL").Append("</td><td>").Append(v.Severity.ToString())
                 .Append("</td><td class=\"name\">").Append(H(v.Rule)).Append("</td><td class=\"name\">").Append(H(v.Subject))
                 .Append("</td><td class=\"name\">").Append(H(ProcessLabel(b, v.Host, v.ProcessId, v.ProcessName)))
                 .Append("</td><td class=\"n\">").Append(H(Display.Value(v.Observed, v.Unit))).Append("</td><td class=\"n\">").Append(H(Display.Value(v.Limit, v.Unit)))
                 .Append("</td><td class=\"name\">").Append(H(v.Message)).Append("</td></tr>\n");
            }
            if (ordered.Count > MaxVerdictRows)
            {
                var rest = ordered.Skip(MaxVerdictRows).ToList();
                s.Append("<tr class=\"rest\"><td colspan=\"8\">").Append(rest.Count.ToString("N0", Inv)).Append(" more results: ")
                 .Append(rest.Count(v => !v.Passed).ToString("N0", Inv)).Append(" failed, ").Append(rest.Count(v => v.Passed).ToString("N0", Inv)).Append(" passed.</td></tr>\n");
            }
            s.Append("</tbody></table></div></section>\n");
        }

        private static void Counters(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav, List<Action<Utf8JsonWriter>> charts, long t0)
        {
            if (b.Series.Count == 0) return;
            nav.Add(("counters", "Counters"));
            s.Append("<section id=\"counters\"><h2>Counters</h2>\n<p class=\"note\">One chart per unit; every process");
            if (HostCount(b) > 1) s.Append(" of every host");
            s.Append(" overlaid. Dashed red lines are the limits of the rules that judged a series, red crosses the samples that broke them.</p>\n");
            var counterVerdicts = b.Verdicts.Where(v => v.RuleKind != MemoryRuleKind.Type).ToList();
            foreach (var unitGroup in b.Series.GroupBy(kv => kv.Value.Unit).OrderBy(g => UnitRank(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
            {
                string unit = unitGroup.Key;
                var series = unitGroup.OrderBy(kv => kv.Key.Metric, StringComparer.Ordinal).ThenBy(kv => kv.Key.Process.Host, StringComparer.OrdinalIgnoreCase).ThenBy(kv => kv.Key.Process.ProcessId).ToList();
                var shown = series.Take(MaxSeriesPerChart).ToList();
                var lines = new List<(string Role, string Label, long[] T, float[] V)>();
                foreach (var kv in shown)
                {
                    kv.Value.Sort();
                    lines.Add(("data", SeriesLabel(b, kv.Key, kv.Value.ProcessName), kv.Value.Times.Select(t => EpochMs(t) - t0).ToArray(), kv.Value.Values.Select(v => (float)v).ToArray()));
                }
                // Limits and breaches of the rules that judged a shown series.
                var seenLimits = new HashSet<(string, string, double)>();
                foreach (var kv in shown)
                {
                    var mine = counterVerdicts.Where(v => v.Subject == kv.Key.Metric && v.ProcessId == kv.Key.Process.ProcessId && SameHost(v.Host, kv.Key.Process.Host)).ToList();
                    if (mine.Count == 0 || kv.Value.Times.Count == 0) continue;
                    long start = EpochMs(kv.Value.Times[0]) - t0, end = EpochMs(kv.Value.Times[kv.Value.Times.Count - 1]) - t0;
                    foreach (var v in mine)
                    {
                        if (seenLimits.Add((v.Rule, kv.Key.Metric, v.Limit)))
                            lines.Add(("limit", $"limit of {v.Rule}: {Display.Value(v.Limit, unit)}", new[] { start, Math.Max(end, start + 1) }, new[] { (float)v.Limit, (float)v.Limit }));
                        if (v.Passed) continue;
                        bool above = v.Observed > v.Limit;
                        var t = new List<long>(); var y = new List<float>();
                        for (int i = 0; i < kv.Value.Times.Count; i++)
                        {
                            double value = kv.Value.Values[i];
                            if (above ? value > v.Limit : value < v.Limit) { t.Add(EpochMs(kv.Value.Times[i]) - t0); y.Add((float)value); }
                        }
                        // A statistic (a mean, a p95) may break the limit when no single sample does: mark when it was judged.
                        if (t.Count == 0) { t.Add(EpochMs(v.Timestamp) - t0); y.Add((float)v.Observed); }
                        lines.Add(("breach", $"broke {v.Rule}: {SeriesLabel(b, kv.Key, kv.Value.ProcessName)}", t.ToArray(), y.ToArray()));
                    }
                }
                string id = $"chart-counters-{charts.Count}";
                s.Append("<h3>").Append(H(UnitTitle(unit))).Append("</h3>\n");
                ChartBox(s, id, $"Counters in {unit}", 320);
                if (series.Count > shown.Count)
                    Note(s, $"{series.Count - shown.Count:N0} more series in {unit} are not drawn: " + string.Join(", ", series.Skip(shown.Count).Take(20).Select(kv => SeriesLabel(b, kv.Key, kv.Value.ProcessName))) + (series.Count - shown.Count > 20 ? ", …" : "") + ".");
                charts.Add(w => TimeChart(w, id, unit, lines, points: false, zero: true)); // from 0: a level or a rate is read against nothing, not against its own minimum
            }
            s.Append("</section>\n");
        }

        private static void Gc(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav, List<Action<Utf8JsonWriter>> charts, long t0)
        {
            var summaries = b.EffectiveGcSummaries();
            if (b.GcEvents.Count == 0 && summaries.Count == 0) return;
            nav.Add(("gc", "Garbage collections"));
            s.Append("<section id=\"gc\"><h2>Garbage collections</h2>\n");
            if (b.GcEvents.Count > 0)
            {
                var lines = new List<(string, string, long[], float[])>();
                foreach (var kv in b.GcEvents.OrderBy(k => k.Key.Host, StringComparer.OrdinalIgnoreCase).ThenBy(k => k.Key.ProcessId))
                {
                    var records = kv.Value.OrderBy(r => r.Start).ToList();
                    string who = ProcessLabel(b, kv.Key.Host, kv.Key.ProcessId, records[0].ProcessName);
                    foreach (var gen in records.GroupBy(r => Math.Min(r.Generation, 2)).OrderBy(g => g.Key))
                        lines.Add(("data", $"gen{gen.Key} · {who}", gen.Select(r => EpochMs(r.Start) - t0).ToArray(), gen.Select(r => (float)r.PauseDuration).ToArray()));
                    if (lines.Count >= MaxSeriesPerChart) break;
                }
                string id = $"chart-gc-{charts.Count}";
                s.Append("<h3>Pauses over time</h3>\n<p class=\"note\">Each point is one collection: how long it stopped the managed threads, by generation.</p>\n");
                ChartBox(s, id, "GC pause durations over time", 300);
                charts.Add(w => TimeChart(w, id, "seconds", lines, points: true, zero: true));
            }
            if (summaries.Count > 0)
            {
                string id = $"chart-gcshare-{charts.Count}";
                s.Append("<h3>Pause-time share</h3>\n<p class=\"note\">The share of the observed window each process spent paused by the GC");
                if (b.GcSummaries.Count == 0) s.Append(" (window: its first collection's start to its last one's end)");
                s.Append(".</p>\n");
                var shown = summaries.Take(MaxSeriesPerChart).ToList();
                ChartBox(s, id, "GC pause-time share", BarHeight(shown.Count));
                var labels = shown.Select(x => ProcessLabel(b, x.Host, x.ProcessId, x.ProcessName)).ToArray();
                var values = shown.Select(x => x.PauseFraction).ToArray();
                charts.Add(w => BarChart(w, id, "pause-time share", "fraction", labels, values, alarm: false));
                s.Append("<div class=\"scroll\"><table><thead><tr><th>Process</th><th>Window start</th><th class=\"n\">Window</th><th class=\"n\">GCs</th><th class=\"n\">gen0</th><th class=\"n\">gen1</th><th class=\"n\">gen2</th><th class=\"n\">Total pause</th><th class=\"n\">Max pause</th><th class=\"n\">Mean pause</th><th class=\"n\">Paused</th></tr></thead><tbody>\n");
                foreach (var x in summaries.Take(MaxVerdictRows))
                {
                    s.Append("<tr><td class=\"name\">").Append(H(ProcessLabel(b, x.Host, x.ProcessId, x.ProcessName))).Append("</td><td>").Append(H(Instant(x.WindowStart)))
                     .Append("</td><td class=\"n\">").Append(H(Seconds(x.WindowDuration))).Append("</td><td class=\"n\">").Append(x.Count.ToString("N0", Inv))
                     .Append("</td><td class=\"n\">").Append(x.Gen0Count.ToString("N0", Inv)).Append("</td><td class=\"n\">").Append(x.Gen1Count.ToString("N0", Inv))
                     .Append("</td><td class=\"n\">").Append(x.Gen2Count.ToString("N0", Inv)).Append("</td><td class=\"n\">").Append(H(Seconds(x.TotalPause)))
                     .Append("</td><td class=\"n\">").Append(H(Seconds(x.MaxPause))).Append("</td><td class=\"n\">").Append(H(Seconds(x.MeanPause)))
                     .Append("</td><td class=\"n\">").Append(H(Display.Fraction(x.PauseFraction))).Append("</td></tr>\n");
                }
                s.Append("</tbody></table></div>\n");
            }
            s.Append("</section>\n");
        }

        private static void Heap(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav, List<Action<Utf8JsonWriter>> charts)
        {
            if (b.Snapshots.Count == 0) return;
            nav.Add(("heap", "Heap"));
            s.Append("<section id=\"heap\"><h2>Heap: top types by bytes</h2>\n");
            var ordered = b.Snapshots.OrderByDescending(d => d.Snapshot.Timestamp).ToList();
            var shown = ordered.Take(MaxSnapshots).OrderBy(d => d.Snapshot.Timestamp).ToList();
            if (ordered.Count > shown.Count)
                Note(s, $"The latest {shown.Count} of {ordered.Count} snapshots are shown; the others: " +
                    string.Join(", ", ordered.Skip(shown.Count).Take(20).Select(d => $"{ProcessLabel(b, d.Snapshot.Host, d.Snapshot.ProcessId, d.Snapshot.ProcessName)} at {Instant(d.Snapshot.Timestamp)}")) + ".");
            foreach (var d in shown)
            {
                var h = d.Snapshot;
                s.Append("<h3>").Append(H(ProcessLabel(b, h.Host, h.ProcessId, h.ProcessName))).Append(" at ").Append(H(Instant(h.Timestamp))).Append("</h3>\n<div class=\"figures\">");
                Figure(s, Display.Bytes(h.TotalBytes), "in objects");
                Figure(s, h.ObjectCount.ToString("N0", Inv), "objects");
                Figure(s, d.TypeCount.ToString("N0", Inv), "types");
                if (h.Gen2Bytes.HasValue) Figure(s, Display.Bytes(h.Gen2Bytes.Value), "gen 2");
                if (h.LohBytes.HasValue) Figure(s, Display.Bytes(h.LohBytes.Value), "large object heap");
                Figure(s, h.Source == SnapshotSource.Dump ? (h.LiveOnly ? "dump, live" : "dump") : "live process", "source");
                s.Append("</div>\n");
                if (d.Top.Count == 0) continue;
                var bars = d.Top.Take(ChartTypes).ToList();
                string id = $"chart-heap-{charts.Count}";
                ChartBox(s, id, "Top types by bytes", BarHeight(bars.Count));
                var labels = bars.Select(t => t.TypeName).ToArray();
                var values = bars.Select(t => (double)t.TotalBytes).ToArray();
                charts.Add(w => BarChart(w, id, "bytes", "bytes", labels, values, alarm: false));
                s.Append("<div class=\"scroll\"><table><thead><tr><th class=\"n\">#</th><th>Type</th><th class=\"n\">Objects</th><th class=\"n\">Bytes</th><th class=\"n\">Share</th></tr></thead><tbody>\n");
                int rank = 0;
                foreach (var t in d.Top)
                {
                    s.Append("<tr><td class=\"n\">").Append((++rank).ToString(Inv)).Append("</td><td class=\"name\">").Append(H(t.TypeName)).Append("</td><td class=\"n\">")
                     .Append(t.Count.ToString("N0", Inv)).Append("</td><td class=\"n\">").Append(H(Display.Bytes(t.TotalBytes))).Append("</td><td class=\"n\">")
                     .Append(H(Share(t.TotalBytes, d.AllBytes))).Append("</td></tr>\n");
                }
                if (d.TypeCount > d.Top.Count)
                    s.Append("<tr class=\"rest\"><td></td><td>").Append((d.TypeCount - d.Top.Count).ToString("N0", Inv)).Append(" other types</td><td class=\"n\">")
                     .Append(d.RestCount.ToString("N0", Inv)).Append("</td><td class=\"n\">").Append(H(Display.Bytes(d.RestBytes))).Append("</td><td class=\"n\">")
                     .Append(H(Share(d.RestBytes, d.AllBytes))).Append("</td></tr>\n");
                s.Append("</tbody></table></div>\n");
            }
            s.Append("</section>\n");
        }

        private static void Growth(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav, List<Action<Utf8JsonWriter>> charts)
        {
            if (b.Deltas.Count == 0 && b.Comparisons.Count == 0) return;
            nav.Add(("growth", "Growth"));
            s.Append("<section id=\"growth\"><h2>Growth between snapshots</h2>\n");
            foreach (var c in b.Comparisons.Take(MaxSnapshots))
            {
                s.Append("<h3>").Append(H(ProcessLabel(b, c.Host, c.ProcessId, c.ProcessName))).Append(": ").Append(H(Instant(c.ReferenceTimestamp))).Append(" → ").Append(H(Instant(c.DifferenceTimestamp))).Append("</h3>\n<div class=\"figures\">");
                Figure(s, Display.SignedBytes(c.BytesDelta), "heap bytes", c.BytesDelta > 0);
                Figure(s, c.CountDelta.ToString("+#,0;-#,0;0", Inv), "objects");
                if (c.GrowthPercent.HasValue) Figure(s, c.GrowthPercent.Value.ToString("+0.#;-0.#;0", Inv) + " %", "growth");
                Figure(s, $"{c.TypesAdded:N0} / {c.TypesGrown:N0}", "types added / grown");
                if (!string.IsNullOrEmpty(c.TopGrowthType)) Figure(s, Display.SignedBytes(c.TopGrowthBytes), "top growth: " + c.TopGrowthType);
                s.Append("</div>\n");
            }
            foreach (var group in b.Deltas.GroupBy(d => new ProcessKey(d.Host ?? "", d.ProcessId)).OrderBy(g => g.Key.Host, StringComparer.OrdinalIgnoreCase).ThenBy(g => g.Key.ProcessId).Take(MaxSnapshots))
            {
                var all = group.ToList();
                var grown = all.Where(d => d.BytesDelta > 0).OrderByDescending(d => d.BytesDelta).ThenBy(d => d.TypeName, StringComparer.Ordinal).ToList();
                s.Append("<h3>Top growth · ").Append(H(ProcessLabel(b, group.Key.Host, group.Key.ProcessId, all[0].ProcessName))).Append("</h3>\n");
                if (grown.Count > 0)
                {
                    var bars = grown.Take(ChartTypes).ToList();
                    string id = $"chart-growth-{charts.Count}";
                    ChartBox(s, id, "Top growth by bytes", BarHeight(bars.Count));
                    var labels = bars.Select(d => d.TypeName).ToArray();
                    var values = bars.Select(d => (double)d.BytesDelta).ToArray();
                    charts.Add(w => BarChart(w, id, "bytes grown", "bytes", labels, values, alarm: true));
                }
                else Note(s, "No type grew.");
                var rows = all.OrderByDescending(d => d.BytesDelta).ThenBy(d => d.TypeName, StringComparer.Ordinal).ToList();
                s.Append("<div class=\"scroll\"><table><thead><tr><th>Type</th><th>Status</th><th class=\"n\">Objects</th><th class=\"n\">Δ objects</th><th class=\"n\">Bytes</th><th class=\"n\">Δ bytes</th><th class=\"n\">Growth</th></tr></thead><tbody>\n");
                foreach (var d in rows.Take(TableTypes))
                {
                    s.Append("<tr><td class=\"name\">").Append(H(d.TypeName)).Append("</td><td>").Append(d.Status.ToString()).Append("</td><td class=\"n\">")
                     .Append(d.DifferenceCount.ToString("N0", Inv)).Append("</td><td class=\"n\">").Append(d.CountDelta.ToString("+#,0;-#,0;0", Inv)).Append("</td><td class=\"n\">")
                     .Append(H(Display.Bytes(d.DifferenceBytes))).Append("</td><td class=\"n\">").Append(H(Display.SignedBytes(d.BytesDelta))).Append("</td><td class=\"n\">")
                     .Append(d.GrowthPercent.HasValue ? H(d.GrowthPercent.Value.ToString("+0.#;-0.#;0", Inv) + " %") : "new").Append("</td></tr>\n");
                }
                if (rows.Count > TableTypes)
                {
                    var rest = rows.Skip(TableTypes).ToList();
                    s.Append("<tr class=\"rest\"><td colspan=\"3\">").Append(rest.Count.ToString("N0", Inv)).Append(" other types</td><td class=\"n\">")
                     .Append(rest.Sum(d => d.CountDelta).ToString("+#,0;-#,0;0", Inv)).Append("</td><td></td><td class=\"n\">").Append(H(Display.SignedBytes(rest.Sum(d => d.BytesDelta))))
                     .Append("</td><td></td></tr>\n");
                }
                s.Append("</tbody></table></div>\n");
            }
            s.Append("</section>\n");
        }

        private static void Retention(MemoryReportBuilder b, StringBuilder s, List<(string, string)> nav, List<Action<Utf8JsonWriter>> charts)
        {
            if (b.Paths.Count == 0 && b.Retained.Count == 0) return;
            nav.Add(("retention", "Retention"));
            s.Append("<section id=\"retention\"><h2>What keeps memory alive</h2>\n");
            if (b.Retained.Count > 0)
            {
                var rows = b.Retained.OrderByDescending(r => r.RetainedBytes).ThenBy(r => r.TypeName, StringComparer.Ordinal).ToList();
                var bars = rows.Take(ChartTypes).ToList();
                string id = $"chart-retained-{charts.Count}";
                s.Append("<h3>Retained bytes by type</h3>\n<p class=\"note\">The bytes that would become garbage if all instances of the type were gone, their own included.</p>\n");
                ChartBox(s, id, "Retained bytes by type", BarHeight(bars.Count));
                var labels = bars.Select(r => r.TypeName).ToArray();
                var values = bars.Select(r => (double)r.RetainedBytes).ToArray();
                charts.Add(w => BarChart(w, id, "retained bytes", "bytes", labels, values, alarm: false));
                s.Append("<div class=\"scroll\"><table><thead><tr><th>Type</th><th class=\"n\">Instances</th><th class=\"n\">Own bytes</th><th class=\"n\">Retained</th><th class=\"n\">Of the heap</th></tr></thead><tbody>\n");
                foreach (var r in rows.Take(TableTypes))
                    s.Append("<tr><td class=\"name\">").Append(H(r.TypeName)).Append("</td><td class=\"n\">").Append(r.Count.ToString("N0", Inv)).Append("</td><td class=\"n\">")
                     .Append(H(Display.Bytes(r.ShallowBytes))).Append("</td><td class=\"n\">").Append(H(Display.Bytes(r.RetainedBytes))).Append("</td><td class=\"n\">")
                     .Append(H(Display.Fraction(r.HeapFraction))).Append("</td></tr>\n");
                if (rows.Count > TableTypes)
                    s.Append("<tr class=\"rest\"><td colspan=\"5\">").Append((rows.Count - TableTypes).ToString("N0", Inv)).Append(" other types not shown.</td></tr>\n");
                s.Append("</tbody></table></div>\n");
            }
            var types = b.Paths.GroupBy(p => p.TypeName, StringComparer.Ordinal)
                .Select(g => (Type: g.Key, Paths: g.OrderByDescending(p => p.TotalBytes).ThenByDescending(p => p.Count).ToList()))
                .OrderByDescending(x => x.Paths.Sum(p => p.TotalBytes)).ToList();
            foreach (var (type, paths) in types.Take(MaxRetentionTypes))
            {
                s.Append("<h3>Paths to ").Append(H(type)).Append("</h3>\n");
                foreach (var p in paths.Take(MaxPathsPerType))
                {
                    s.Append("<div class=\"path\"><ol class=\"chain\">");
                    foreach (var step in (p.Path ?? "").Split(new[] { " → " }, StringSplitOptions.None)) s.Append("<li>").Append(H(step)).Append("</li>");
                    s.Append("</ol><div class=\"muted\">").Append(p.Count.ToString("N0", Inv)).Append(" instances · ").Append(H(Display.Bytes(p.TotalBytes)))
                     .Append(" · ").Append(H(Display.Fraction(p.Fraction))).Append(" of the type · root: ").Append(H(p.RootKind));
                    if (!string.IsNullOrEmpty(p.RootName)) s.Append(' ').Append(H(p.RootName));
                    s.Append(" · depth ").Append(p.Depth.ToString(Inv));
                    if (p.SampleAddress != 0) s.Append(" · e.g. 0x").Append(p.SampleAddress.ToString("x", Inv));
                    s.Append("</div></div>\n");
                }
                if (paths.Count > MaxPathsPerType)
                    Note(s, $"{paths.Count - MaxPathsPerType:N0} more paths hold {paths.Skip(MaxPathsPerType).Sum(p => p.Count):N0} instances ({Display.Bytes(paths.Skip(MaxPathsPerType).Sum(p => p.TotalBytes))}).");
            }
            if (types.Count > MaxRetentionTypes) Note(s, $"Paths of {types.Count - MaxRetentionTypes:N0} more types are not shown.");
            s.Append("</section>\n");
        }

        // ---- chart data ------------------------------------------------------------------------------------------

        private static void TimeChart(Utf8JsonWriter w, string id, string unit, List<(string Role, string Label, long[] T, float[] V)> lines, bool points, bool zero)
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("kind", "time");
            w.WriteString("unit", unit);
            w.WriteBoolean("points", points);
            w.WriteBoolean("zero", zero);
            w.WriteStartArray("series");
            foreach (var (role, label, t, v) in lines)
            {
                w.WriteStartObject();
                w.WriteString("role", role);
                w.WriteString("label", Display.Escape(label));
                w.WriteStartArray("t");
                foreach (var x in t) w.WriteNumberValue(x);
                w.WriteEndArray();
                w.WriteStartArray("v");
                foreach (var y in v) { if (float.IsFinite(y)) w.WriteNumberValue(y); else w.WriteNullValue(); }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static void BarChart(Utf8JsonWriter w, string id, string title, string unit, string[] labels, double[] values, bool alarm)
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("kind", "bar");
            w.WriteString("title", title);
            w.WriteString("unit", unit);
            w.WriteBoolean("alarm", alarm);
            w.WriteStartArray("labels");
            foreach (var l in labels) w.WriteStringValue(Display.Escape(l));
            w.WriteEndArray();
            w.WriteStartArray("values");
            foreach (var v in values) { if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue(); }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static string Json(List<Action<Utf8JsonWriter>> charts, long t0)
        {
            using var buffer = new MemoryStream();
            // JavaScriptEncoder.Default: '<', '>', '&', quotes and every non-ASCII character become \uXXXX.
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
            {
                w.WriteStartObject();
                w.WriteNumber("t0", t0);
                w.WriteStartArray("charts");
                foreach (var chart in charts) chart(w);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        // ---- helpers ---------------------------------------------------------------------------------------------

        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>HTML text of a name: control characters shown escaped (Display.Escape), then HTML-encoded.</summary>
        internal static string H(string? text) => HtmlEncoder.Default.Encode(Display.Escape(text ?? ""));

        private static void Figure(StringBuilder s, string value, string label, bool bad = false) =>
            s.Append(bad ? "<div class=\"figure bad\"><b>" : "<div class=\"figure\"><b>").Append(H(value)).Append("</b><span>").Append(H(label)).Append("</span></div>");

        private static void Note(StringBuilder s, string text) => s.Append("<p class=\"note\">").Append(H(text)).Append("</p>\n");

        private static void ChartBox(StringBuilder s, string id, string label, int height) =>
            s.Append("<div class=\"chart\" style=\"height:").Append(height.ToString(Inv)).Append("px\"><canvas id=\"").Append(id).Append("\" role=\"img\" aria-label=\"").Append(H(label)).Append("\"></canvas></div>\n");

        private static int BarHeight(int bars) => 60 + 24 * Math.Max(1, bars);

        private static int HostCount(MemoryReportBuilder b) => b.Processes.Keys.Select(k => k.Host.ToUpperInvariant()).Distinct().Count();

        private static bool SameHost(string? a, string? b) => string.Equals(a ?? "", b ?? "", StringComparison.OrdinalIgnoreCase);

        private static string ProcessLabel(MemoryReportBuilder b, string? host, int pid, string? name)
        {
            string label = $"{(string.IsNullOrEmpty(name) ? "process" : name)} ({pid})";
            return HostCount(b) > 1 && !string.IsNullOrEmpty(host) ? label + " @ " + host : label;
        }

        private static string SeriesLabel(MemoryReportBuilder b, SeriesKey key, string processName) =>
            key.Metric + " · " + ProcessLabel(b, key.Process.Host, key.Process.ProcessId, processName);

        private static int UnitRank(string unit)
        {
            int i = Array.IndexOf(UnitOrder, unit);
            return i < 0 ? UnitOrder.Length : i;
        }

        private static string UnitTitle(string unit) => unit switch
        {
            "bytes" => "Sizes (bytes)",
            "bytes/s" => "Allocation and other byte rates (bytes/s)",
            "seconds/s" => "Time shares (seconds per second)",
            "fraction" => "Fractions",
            "percent" => "Percentages",
            "count" => "Counts",
            "count/s" => "Rates (per second)",
            "seconds" => "Durations (seconds)",
            "" => "Without a unit",
            _ => $"In {unit}",
        };

        private static string Share(long part, long whole) => whole > 0 ? (100.0 * part / whole).ToString("0.0", Inv) + " %" : "";

        private static string Seconds(double seconds) => Display.Seconds(seconds);

        private static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);

        private static long EpochMs(DateTime t) => (long)(Utc(t) - DateTime.UnixEpoch).TotalMilliseconds;

        private static string Instant(DateTime t) => Utc(t).ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC";

        private static string ScriptHash(string script) => "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script))) + "'";

        private static string Resource(string name)
        {
            using var stream = typeof(ReportHtml).Assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"The assembly holds no {name}.");
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            return reader.ReadToEnd();
        }
    }
}
