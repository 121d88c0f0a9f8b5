using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MemoryOps.Engine.Report;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>The report builder: which sections appear, what the charts get, how names are escaped and tables capped.</summary>
    public sealed class MemoryReportTests : IDisposable
    {
        private static readonly DateTime T0 = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
        private const string Hostile = "</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>";
        private readonly string folder = Path.Combine(Path.GetTempPath(), "memoryops-report-" + Guid.NewGuid().ToString("N"));

        public MemoryReportTests() => Directory.CreateDirectory(folder);

        public void Dispose() => Directory.Delete(folder, recursive: true);

        private static CounterSample Sample(int i, double value, string name = "gc-heap-size", int pid = 42, string unit = "bytes") =>
            new CounterSample { Timestamp = T0.AddSeconds(i), ProcessId = pid, ProcessName = "orders", Host = "web1", Provider = "System.Runtime", Name = name, Value = value, Unit = unit };

        private static HeapSnapshot Snapshot(int types, string? firstName = null)
        {
            var s = new HeapSnapshot { ProcessId = 42, ProcessName = "orders", Host = "web1", Timestamp = T0, RuntimeVersion = "10.0.12" };
            for (int i = 0; i < types; i++)
                s.Types.Add(new HeapTypeStat { TypeName = i == 0 && firstName != null ? firstName : $"Ns.Type{i}", Count = i + 1, TotalBytes = 1000L * (types - i) + 7 });
            s.TotalBytes = s.Types.Sum(t => t.TotalBytes);
            s.ObjectCount = s.Types.Sum(t => t.Count);
            return s;
        }

        private static string Build(params object[] inputs)
        {
            var b = new MemoryReportBuilder();
            foreach (var i in inputs) Assert.True(b.Add(i), $"{i.GetType().Name} is taken");
            return b.Build("Test report", T0.AddHours(1));
        }

        /// <summary>The embedded chart data, as the page's script reads it.</summary>
        private static JsonElement Data(string html)
        {
            var m = Regex.Match(html, "<script type=\"application/json\" id=\"memoryops-data\">(.*?)</script>", RegexOptions.Singleline);
            Assert.True(m.Success);
            return JsonDocument.Parse(m.Groups[1].Value).RootElement;
        }

        private static JsonElement[] Charts(string html) => Data(html).GetProperty("charts").EnumerateArray().ToArray();

        private static int TableRows(string html, string sectionId)
        {
            var section = Regex.Match(html, $"<section id=\"{sectionId}\">(.*?)</section>", RegexOptions.Singleline);
            Assert.True(section.Success, $"section {sectionId}");
            return Regex.Matches(section.Groups[1].Value, "<tr><td").Count;
        }

        [Fact]
        public void Sections_appear_only_when_their_data_is_there()
        {
            string empty = new MemoryReportBuilder().Build("Empty", T0);
            foreach (var id in new[] { "verdicts", "counters", "gc", "heap", "growth", "retention" })
                Assert.DoesNotContain($"<section id=\"{id}\">", empty);
            Assert.Empty(Charts(empty));

            string counters = Build(Sample(0, 1), Sample(1, 2));
            Assert.Contains("<section id=\"counters\">", counters);
            Assert.DoesNotContain("<section id=\"heap\">", counters);
            var chart = Assert.Single(Charts(counters));
            Assert.Equal("time", chart.GetProperty("kind").GetString());
            Assert.Equal("bytes", chart.GetProperty("unit").GetString());

            var gc = new GcEventRecord { ProcessId = 42, ProcessName = "orders", Host = "web1", Number = 1, Generation = 2, Start = T0, PauseDuration = 0.004, Duration = 0.004 };
            var delta = new HeapTypeDelta { TypeName = "A", BytesDelta = 100, DifferenceBytes = 100, Status = DeltaStatus.Added, ProcessId = 42, Host = "web1" };
            var verdict = new ThresholdResult { Rule = "r", Subject = "TotalBytes", Passed = true, ProcessId = 42, Host = "web1", Unit = "bytes" };
            var path = new HeapRetentionPath { TypeName = "A", Path = "[static] X.y → List<A> → A[] → A", RootKind = "StaticField", RootName = "X.y", Depth = 3, Count = 5, TotalBytes = 120, Fraction = 1 };
            string all = Build(Sample(0, 1), gc, Snapshot(3), delta, verdict, path);
            foreach (var id in new[] { "verdicts", "counters", "gc", "heap", "growth", "retention" })
                Assert.Contains($"<section id=\"{id}\">", all);
            // Counters, top growth, top types, GC pauses, GC pause share (computed from the records).
            Assert.Equal(new[] { "time", "bar", "bar", "time", "bar" }, Charts(all).Select(c => c.GetProperty("kind").GetString()).ToArray());
            // The retention path as a chain, one step per item.
            Assert.Contains("<ol class=\"chain\"><li>[static] X.y</li><li>List&lt;A&gt;</li><li>A[]</li><li>A</li></ol>", all);
        }

        [Fact]
        public void Counter_charts_are_one_per_unit_with_processes_overlaid()
        {
            var inputs = new List<object>();
            for (int i = 0; i < 10; i++)
            {
                inputs.Add(Sample(i, i, pid: 1));
                inputs.Add(Sample(i, i * 2, pid: 2));
                inputs.Add(Sample(i, i / 10.0, name: "time-in-gc", pid: 1, unit: "percent"));
            }
            var charts = Charts(Build(inputs.ToArray()));
            Assert.Equal(2, charts.Length);
            var bytes = charts.Single(c => c.GetProperty("unit").GetString() == "bytes").GetProperty("series").EnumerateArray().ToArray();
            Assert.Equal(new[] { "gc-heap-size · orders (1)", "gc-heap-size · orders (2)" }, bytes.Select(s => s.GetProperty("label").GetString()).ToArray());
            Assert.All(bytes, s => Assert.Equal(10, s.GetProperty("v").GetArrayLength()));
            Assert.Equal(18f, bytes[1].GetProperty("v")[9].GetSingle());
            Assert.Equal(9000, bytes[1].GetProperty("t")[9].GetInt64()); // ms after the first sample
        }

        [Fact]
        public void A_failed_counter_rule_draws_its_limit_and_marks_the_samples_beyond_it()
        {
            var inputs = Enumerable.Range(0, 100).Select(i => (object)Sample(i, i)).ToList();
            inputs.Add(new ThresholdResult { Rule = "heap-max", RuleKind = MemoryRuleKind.Counter, Subject = "gc-heap-size", ProcessId = 42, Host = "web1", Observed = 99, Limit = 50.5, Unit = "bytes", Passed = false, Severity = RuleSeverity.Error, Timestamp = T0.AddSeconds(99) });
            var series = Charts(Build(inputs.ToArray())).Single().GetProperty("series").EnumerateArray().ToArray();
            Assert.Equal(new[] { "data", "limit", "breach" }, series.Select(s => s.GetProperty("role").GetString()).ToArray());
            Assert.Equal(new[] { 50.5f, 50.5f }, series[1].GetProperty("v").EnumerateArray().Select(v => v.GetSingle()).ToArray());
            // Samples 51..99 are above 50.5: 49 of them.
            var breach = series[2].GetProperty("v").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(Enumerable.Range(51, 49).Select(i => (float)i).ToArray(), breach);
        }

        [Fact]
        public void Hostile_names_cannot_end_a_script_element_or_make_markup()
        {
            var snapshot = Snapshot(3, firstName: Hostile);
            snapshot.ProcessName = Hostile + "\u001b[31m";
            var sample = Sample(0, 1, name: Hostile);
            sample.ProcessName = Hostile;
            var verdict = new ThresholdResult { Rule = Hostile, Subject = Hostile, Message = Hostile, Passed = false, Severity = RuleSeverity.Critical, ProcessId = 42, Host = "web1", Unit = Hostile };
            string html = Build(snapshot, sample, verdict, new HeapRetentionPath { TypeName = Hostile, Path = Hostile + " → " + Hostile, Count = 1, TotalBytes = 1 });

            Assert.DoesNotContain(Hostile, html);
            Assert.DoesNotContain("<img", html);
            Assert.False(html.Contains('\u001b'), "no raw escape character"); // ordinal: a culture comparison ignores control characters
            // Exactly the page's own scripts: the error catcher, the data, Chart.js, the chart configuration.
            Assert.Equal(4, Regex.Matches(html, "<script", RegexOptions.IgnoreCase).Count);
            Assert.Equal(4, Regex.Matches(html, "</script", RegexOptions.IgnoreCase).Count);
            // The names still arrive whole in the chart data, for the canvas to draw as text.
            var labels = Charts(html).Where(c => c.GetProperty("kind").GetString() == "bar").SelectMany(c => c.GetProperty("labels").EnumerateArray()).Select(l => l.GetString());
            Assert.Contains(Hostile, labels);
            // And as text in the tables.
            Assert.Contains("&lt;/script&gt;&lt;script&gt;", html);
        }

        [Fact]
        public void Only_the_pages_own_scripts_may_run()
        {
            string html = Build(Sample(0, 1));
            var csp = Regex.Match(html, "http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\"").Groups[1].Value;
            Assert.Contains("default-src 'none'", csp);
            var scripts = Regex.Matches(html, "<script>(.*?)</script>", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToArray();
            Assert.Equal(3, scripts.Length);
            foreach (var script in scripts)
                Assert.Contains("'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script))) + "'", csp);
            Assert.DoesNotContain("http://", csp);
            Assert.DoesNotContain("https://", csp);
        }

        [Fact]
        public void The_chart_library_is_the_pinned_npm_package_with_its_licence()
        {
            Assert.Equal("4.6.1", ChartLibrary.Version);
            Assert.StartsWith("/*!\n * Chart.js v" + ChartLibrary.Version, ChartLibrary.Script);
            Assert.DoesNotContain("sourceMappingURL", ChartLibrary.Script);
            Assert.Contains("Permission is hereby granted, free of charge", ChartLibrary.Licence);
            string html = Build(Sample(0, 1));
            Assert.Contains(ChartLibrary.Script, html);
            Assert.Contains(ReportHtml.H(ChartLibrary.Licence), html);
        }

        [Fact]
        public void Type_tables_are_capped_and_the_rest_summarised()
        {
            var snapshot = Snapshot(50_000);
            string html = Build(snapshot);
            var chart = Charts(html).Single();
            Assert.Equal(MemoryReportBuilder.ChartTypes, chart.GetProperty("labels").GetArrayLength());
            Assert.Equal("Ns.Type0", chart.GetProperty("labels")[0].GetString());
            Assert.Equal(MemoryReportBuilder.TableTypes, TableRows(html, "heap"));
            var top = snapshot.Types.OrderByDescending(t => t.TotalBytes).Take(MemoryReportBuilder.TableTypes).ToList();
            long restBytes = snapshot.TotalBytes - top.Sum(t => t.TotalBytes), restCount = snapshot.ObjectCount - top.Sum(t => t.Count);
            Assert.Contains($"<tr class=\"rest\"><td></td><td>49,950 other types</td><td class=\"n\">{restCount:N0}</td><td class=\"n\">{WebUtility.HtmlEncode(Display.Bytes(restBytes))}</td>", html);
            Assert.True(html.Length < 1_000_000, $"{html.Length} characters for one snapshot of 50,000 types");

            var deltas = snapshot.Types.Select(t => (object)new HeapTypeDelta { TypeName = t.TypeName, BytesDelta = t.TotalBytes, DifferenceBytes = t.TotalBytes, CountDelta = 1, Status = DeltaStatus.Grown, ProcessId = 42, Host = "web1" }).ToArray();
            string growth = Build(deltas);
            Assert.Equal(MemoryReportBuilder.TableTypes, TableRows(growth, "growth"));
            Assert.Contains("<tr class=\"rest\"><td colspan=\"3\">49,950 other types</td><td class=\"n\">+49,950</td>", growth);
        }

        [Fact]
        public void Verdicts_show_failures_first_and_are_capped()
        {
            var inputs = new List<object>();
            for (int i = 0; i < 600; i++)
                inputs.Add(new ThresholdResult { Rule = $"r{i:D3}", Subject = "TotalBytes", Passed = i % 100 != 7, Severity = i == 407 ? RuleSeverity.Warning : RuleSeverity.Error, ProcessId = 42, Host = "web1", Unit = "bytes" });
            string html = Build(inputs.ToArray());
            var results = Regex.Matches(html, "<tr><td class=\"(fail|warn|pass)\">").Select(m => m.Groups[1].Value).ToArray();
            Assert.Equal(MemoryReportBuilder.MaxVerdictRows, results.Length);
            Assert.Equal(new[] { "fail", "fail", "fail", "fail", "fail", "warn", "pass" }, results.Take(7).ToArray());
            Assert.Contains("<tr class=\"rest\"><td colspan=\"8\">100 more results: 0 failed, 100 passed.</td></tr>", html);
            Assert.Contains("6 failed, 594 passed.", html);
        }

        [Fact]
        public void A_chart_draws_at_most_its_cap_of_series_and_names_the_others()
        {
            int processes = MemoryReportBuilder.MaxSeriesPerChart + 5;
            string html = Build(Enumerable.Range(1, processes).Select(pid => (object)Sample(0, pid, pid: pid)).ToArray());
            var series = Charts(html).Single().GetProperty("series");
            Assert.Equal(MemoryReportBuilder.MaxSeriesPerChart, series.GetArrayLength());
            Assert.Contains("5 more series in bytes are not drawn: ", html);
        }

        [Fact]
        public void Samples_beyond_the_cap_are_counted_not_kept()
        {
            var b = new MemoryReportBuilder();
            for (int i = 0; i < MemoryReportBuilder.MaxSamples + 5; i++) b.Add(Sample(i % 1000, i));
            Assert.Equal(5, b.SamplesDropped);
            Assert.Contains("5 counter samples beyond the first 2,000,000 are not in this report.", b.Build("Capped", T0));
        }

        [Fact]
        public void Unsupported_inputs_are_refused()
        {
            var b = new MemoryReportBuilder();
            Assert.False(b.Add("text"));
            Assert.False(b.Add(new MemoryDumpInfo()));
            Assert.False(b.Add(null));
            Assert.Equal(0, b.InputCount);
        }

        [Fact]
        public void A_report_replaces_an_earlier_report_but_not_a_foreign_file_or_a_fifo()
        {
            string path = Path.Combine(folder, "report.html");
            string html = Build(Sample(0, 1));
            MemoryReportFile.Write(html, path, force: false);
            Assert.Equal(html, File.ReadAllText(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
            MemoryReportFile.Write(html + "<!-- again -->", path, force: false);
            Assert.EndsWith("<!-- again -->", File.ReadAllText(path));

            string foreign = Path.Combine(folder, "notes.html");
            File.WriteAllText(foreign, "<html>mine</html>");
            var e = Assert.Throws<MemoryOpsException>(() => MemoryReportFile.Write(html, foreign, force: false));
            Assert.Equal(FailureKind.FileExists, e.Kind);
            Assert.Equal("<html>mine</html>", File.ReadAllText(foreign));
            MemoryReportFile.Write(html, foreign, force: true);
            Assert.Equal(html, File.ReadAllText(foreign));

            // A link is not taken for a report, even one pointing at a report; with -Force it is replaced, never written through.
            string link = Path.Combine(folder, "link.html");
            File.CreateSymbolicLink(link, path);
            string before = File.ReadAllText(path);
            e = Assert.Throws<MemoryOpsException>(() => MemoryReportFile.Write(html, link, force: false));
            Assert.Equal(FailureKind.FileExists, e.Kind);
            MemoryReportFile.Write(html, link, force: true);
            Assert.Null(new FileInfo(link).LinkTarget);
            Assert.Equal(before, File.ReadAllText(path));

            string fifo = Path.Combine(folder, "fifo.html");
            HostileFileTests.Run("mkfifo", fifo);
            e = Assert.Throws<MemoryOpsException>(() => MemoryReportFile.Write(html, fifo, force: true));
            Assert.Equal(FailureKind.UnsafeFile, e.Kind);
        }
    }
}
