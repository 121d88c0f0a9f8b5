using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using MemoryOps;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.Rules;
using MemoryOps.Engine.Sessions;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>The engine pieces of issue 11's "streams and values" items: escaping, gap detection, policy, baseline and snapshot value checks.</summary>
    public sealed class HostileValuesTests : IDisposable
    {
        private readonly string folder = Path.Combine(Path.GetTempPath(), "memoryops-hostile-" + Guid.NewGuid().ToString("N"));

        public HostileValuesTests() => Directory.CreateDirectory(folder);

        public void Dispose()
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }

        // ---- Display.Escape ----

        [Theory]
        [InlineData("System.String", "System.String")]
        [InlineData("T\u001b[41mX\r\nFAKE", "T\\e[41mX\\r\\nFAKE")]
        [InlineData("title\u001b]0;pwned\u0007", "title\\e]0;pwned\\x07")]
        [InlineData("tab\there", "tab\\there")]
        [InlineData("del\u007f c1\u009b31m", "del\\x7f c1\\u009b31m")]
        [InlineData("nul\0", "nul\\x00")]
        [InlineData("bidi\u202egnp.exe", "bidi\\u202egnp.exe")]
        [InlineData("sep\u2028line", "sep\\u2028line")]
        [InlineData("C:\\dumps\\a.dmp", "C:\\dumps\\a.dmp")]
        [InlineData("Dictionary<String, Int32>+Entry[]", "Dictionary<String, Int32>+Entry[]")]
        [InlineData("", "")]
        public void Escape_writes_every_control_character_as_an_escape_and_leaves_the_rest(string raw, string shown)
        {
            Assert.Equal(shown, Display.Escape(raw));
            Assert.False(Display.HasControlCharacters(Display.Escape(raw)));
            Assert.Equal(Display.Escape(raw), Display.Escape(Display.Escape(raw))); // escaping twice changes nothing
            Assert.Equal(shown != raw, Display.HasControlCharacters(raw));
        }

        [Fact]
        public void Escape_of_null_is_empty_and_a_clean_string_is_returned_as_is()
        {
            Assert.Equal("", Display.Escape(null));
            string clean = "OrderService.OrderStat";
            Assert.Same(clean, Display.Escape(clean));
        }

        [Fact]
        public void Every_C0_C1_and_DEL_character_is_escaped()
        {
            for (int c = 0; c <= 0x9f; c++)
            {
                bool control = c < 0x20 || c >= 0x7f;
                string raw = ((char)c).ToString();
                string shown = Display.Escape(raw);
                Assert.Equal(control, shown != raw);
                Assert.DoesNotContain(shown, ch => ch < 0x20 || (ch >= 0x7f && ch <= 0x9f));
            }
        }

        [Fact]
        public void Exception_messages_and_tags_are_escaped_where_they_are_made()
        {
            var e = new MemoryOpsException(FailureKind.InvalidData, "'/tmp/x\u001b[2J\r\nFAKE.json' is empty", "x");
            Assert.Equal("'/tmp/x\\e[2J\\r\\nFAKE.json' is empty", e.Message);
            Assert.Equal("tag=a\\nb", Display.Tags(new Dictionary<string, string> { ["tag"] = "a\nb" }));
            Assert.Equal("3 \\e[31m", Display.Value(3, "\u001b[31m"));
        }

        [Fact]
        public void A_threshold_message_about_a_hostile_type_cannot_forge_a_line()
        {
            var rule = new MemoryRule { Name = "evil", Kind = MemoryRuleKind.Type, TypeName = new[] { "Evil*" }, MaxCount = 1 };
            var evaluator = new ThresholdEvaluator(new[] { rule }, (_, _) => Array.Empty<MemoryBaselineStatistic>());
            var snapshot = new HeapSnapshot { ProcessId = 7, ProcessName = "svc\r\nFAKE" };
            snapshot.Types.Add(new HeapTypeStat { TypeName = "Evil\u001b]0;x\u0007\r\nPASS everything", Count = 5, TotalBytes = 120 });
            Assert.True(evaluator.TryObserve(snapshot, out var results));
            var r = Assert.Single(results);
            Assert.Equal("Evil\u001b]0;x\u0007\r\nPASS everything", r.Subject); // the object keeps the raw name
            Assert.False(Display.HasControlCharacters(r.Message));
            Assert.StartsWith("Evil\\e]0;x\\x07\\r\\nPASS everything:", r.Message);
        }

        // ---- Rule names ----

        [Theory]
        [InlineData("Name")]
        [InlineData("Counter")]
        public void A_rule_with_a_control_character_in_a_name_or_pattern_is_refused(string field)
        {
            var rule = new MemoryRule { Kind = MemoryRuleKind.Counter, Counter = new[] { "gc-heap-size" }, Maximum = 1, Name = "ok" };
            if (field == "Name") rule.Name = "heap\u001b[2J"; else rule.Counter = new[] { "gc\r\nheap" };
            var e = Assert.Throws<MemoryOpsException>(rule.Validate);
            Assert.Equal(FailureKind.InvalidInput, e.Kind);
            Assert.Equal(field, e.Data[MemoryRule.FieldKey]);
            Assert.Contains("control characters", e.Message);
            Assert.False(Display.HasControlCharacters(e.Message));
        }

        // ---- Policies ----

        private string PolicyFile(string json)
        {
            string path = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".json");
            File.WriteAllText(path, json);
            return path;
        }

        [Theory]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""gc-heap-size"", ""maximum"": ""5"" } ] }", "field 'Maximum': '5' is text, not a number: write it without quotes (5), or with a unit ('5MB')")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""typeName"": ""X"", ""maxGrowthPercent"": ""10"" } ] }", "field 'MaxGrowthPercent': '10' is text, not a number")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""gc-heap-size"", ""maximum"": 5, ""for"": ""30"" } ] }", "field 'For': '30' is text, not a number")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": [ [ ""gc-heap-size"" ] ], ""maximum"": 5 } ] }", "field 'Counter': item 1 is a list, not text")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": [ ""gc-heap-size"", 7 ], ""maximum"": 5 } ] }", "field 'Counter': item 2 is the number 7, not text")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": [ ], ""maximum"": 5 } ] }", "field 'Counter' is an empty list")]
        [InlineData(@"{ ""rules"": [ { ""name"": [ ""a"" ], ""counter"": ""x"", ""maximum"": 5 } ] }", "field 'Name' is a list, not text")]
        [InlineData(@"[ { ""name"": ""a"", ""counter"": ""gc-heap-size"", ""maximum"": 5 } ]", "is a list at the top level")]
        [InlineData(@"""gc-heap-size""", "is not a table with a Rules list")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a\u001b[2J\r\nFAKE"", ""counter"": ""x"", ""maximum"": 5 } ] }", "field 'Name': must not contain control characters")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""typeName"": ""Evil\u0007"", ""maxCount"": 5 } ] }", "field 'TypeName': must not contain control characters")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": 1e400 } ] }", "' is not a finite number")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": ""1e308PB"" } ] }", "field 'Maximum': '1e308PB' is not a number")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": 5, ""for"": 1e300 } ] }", "field 'For': 1E+300 seconds is out of range")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": 5, ""for"": ""1e300s"" } ] }", "field 'For': '1e300s' is not a duration")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": 5, ""for"": ""40d"" } ] }", "field 'For': '40d' is not a duration")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": 5, ""for"": ""35.00:00:00"" } ] }", "field 'For': must be at most 30 days")]
        public void A_policy_with_a_hostile_or_mistyped_value_gets_an_error_naming_file_rule_and_field(string json, string expected)
        {
            string path = PolicyFile(json);
            var e = Assert.Throws<MemoryOpsException>(() => MemoryPolicy.ReadJsonFile(path));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(path, e.Message);
            Assert.Contains(expected, e.Message);
            Assert.False(Display.HasControlCharacters(e.Message));
        }

        [Fact]
        public void A_policy_keeps_accepting_what_its_documentation_shows()
        {
            string path = PolicyFile(@"{ ""$schema"": ""x"", ""rules"": [
                { ""name"": ""heap"", ""counter"": ""gc-heap-size"", ""maximum"": ""512MB"", ""for"": ""30s"" },
                { ""name"": ""two"", ""counter"": [ ""TotalBytes"", ""ObjectCount"" ], ""maximum"": 1e12, ""for"": 30 },
                { ""name"": ""growth"", ""typeName"": ""Order*"", ""maxGrowthPercent"": 10, ""for"": ""00:00:30"" } ] }");
            var rules = MemoryPolicy.ReadJsonFile(path);
            Assert.Equal(512.0 * 1024 * 1024, rules[0].Maximum);
            Assert.Equal(TimeSpan.FromSeconds(30), rules[0].For);
            Assert.Equal(new[] { "TotalBytes", "ObjectCount" }, rules[1].Counter);
            Assert.Equal(10, rules[2].MaxGrowthPercent);
        }

        // ---- Baselines ----

        private static HeapSnapshot Snap(DateTime when, long totalBytes)
        {
            var s = new HeapSnapshot { Source = SnapshotSource.Process, Timestamp = when, ProcessId = 5, ProcessName = "svc", RuntimeVersion = "10.0.0", LiveOnly = true, TotalBytes = totalBytes, ObjectCount = 10 };
            s.Types.Add(new HeapTypeStat { TypeName = "OrderStat", Count = 10, TotalBytes = Math.Max(0, totalBytes) });
            return s;
        }

        [Theory]
        [InlineData(1e308, "metric 'TotalBytes' = 1E+308 is larger than 10^18")]
        [InlineData(-4096, "metric 'TotalBytes' = -4096 is negative")]
        [InlineData(double.NaN, "metric 'TotalBytes' = NaN is not a finite number")]
        public void Saving_a_value_no_memory_figure_can_have_is_refused_and_nothing_is_written(double value, string expected)
        {
            var store = new BaselineStore(folder);
            var t = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
            store.Append("orders", new[] { BaselineStore.FromSnapshot(Snap(t, 8000)) }, maxHistory: 10);
            byte[] before = File.ReadAllBytes(store.FileOf("orders"));
            var bad = BaselineStore.FromSnapshot(Snap(t.AddDays(1), 8000));
            bad.Metrics["TotalBytes"] = value;
            var e = Assert.Throws<MemoryOpsException>(() => store.Append("orders", new[] { bad }, maxHistory: 10));
            Assert.Equal(FailureKind.InvalidInput, e.Kind);
            Assert.Contains(expected, e.Message);
            Assert.Contains("Nothing was saved", e.Message);
            Assert.Equal(before, File.ReadAllBytes(store.FileOf("orders")));
        }

        [Fact]
        public void A_counter_entry_whose_mean_is_not_finite_is_refused()
        {
            var store = new BaselineStore(folder);
            var samples = new[]
            {
                new CounterSample { Name = "gc-heap-size", Unit = "bytes", Value = double.MaxValue, Timestamp = DateTime.UtcNow, ProcessId = 3, ProcessName = "svc" },
                new CounterSample { Name = "gc-heap-size", Unit = "bytes", Value = double.MaxValue, Timestamp = DateTime.UtcNow, ProcessId = 3, ProcessName = "svc" },
            };
            var e = Assert.Throws<MemoryOpsException>(() => store.Append("counters", new[] { BaselineStore.FromCounterSamples(samples) }, maxHistory: 10));
            Assert.Contains("metric 'gc-heap-size' = ∞ is not a finite number", e.Message.Replace("Infinity", "∞"));
            Assert.False(File.Exists(store.FileOf("counters")));
        }

        private string WriteBaselineFile(string name, string metricJson)
        {
            string path = Path.Combine(folder, name + ".baseline.json.gz");
            string json = @"{ ""format"": ""MemoryOps.Baseline"", ""version"": 1, ""name"": """ + name + @""", ""entries"": [
                { ""timestamp"": ""2026-11-01T00:00:00Z"", ""kind"": ""Counters"", ""processId"": 3, ""processName"": ""svc"", ""host"": ""h"", ""metrics"": { ""gc-heap-size"": 1000 }, ""units"": { ""gc-heap-size"": ""bytes"" } },
                { ""timestamp"": ""2026-11-02T00:00:00Z"", ""kind"": ""Counters"", ""processId"": 3, ""processName"": ""svc"", ""host"": ""h"", ""metrics"": { ""gc-heap-size"": " + metricJson + @" }, ""units"": { ""gc-heap-size"": ""bytes"" } } ] }";
            using var file = File.Create(path);
            using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            gzip.Write(Encoding.UTF8.GetBytes(json));
            return path;
        }

        [Theory]
        [InlineData("1e308", "in entry 1 (from 2026-11-02 00:00:00Z, process svc (3)), metric 'gc-heap-size' = 1E+308 is larger than 10^18")]
        [InlineData("1e400", "metric 'gc-heap-size' = ∞ is not a finite number")]
        [InlineData("-1", "metric 'gc-heap-size' = -1 is negative, which a size in bytes cannot be")]
        public void Reading_a_planted_value_fails_naming_the_entry_and_metric_and_leaves_the_file(string value, string expected)
        {
            string path = WriteBaselineFile("planted", value);
            byte[] before = File.ReadAllBytes(path);
            var store = new BaselineStore(folder);
            var e = Assert.Throws<MemoryOpsException>(() => store.Read("planted"));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(path, e.Message);
            Assert.Contains(expected, e.Message.Replace("Infinity", "∞"));
            // A save reads the history first: it must refuse too, and leave the file as it was.
            Assert.Throws<MemoryOpsException>(() => store.Append("planted", new[] { BaselineStore.FromSnapshot(Snap(DateTime.UtcNow, 100)) }, 10));
            Assert.Equal(before, File.ReadAllBytes(path));
        }

        [Fact]
        public void Values_within_range_are_accepted_by_the_value_check()
        {
            Assert.Null(BaselineValues.Problem(0, "bytes"));
            Assert.Null(BaselineValues.Problem(1e18, "bytes"));
            Assert.Null(BaselineValues.Problem(-3, "count/s")); // an up-down counter's rate may fall
            Assert.NotNull(BaselineValues.Problem(1.0000001e18, "count"));
        }

        // ---- Snapshot files ----

        [Fact]
        public void A_snapshot_file_with_a_type_twice_is_refused_naming_the_type()
        {
            var s = Snap(DateTime.UtcNow, 1600);
            s.Types.Add(new HeapTypeStat { TypeName = "OrderStat", Count = 10, TotalBytes = 800 });
            string path = Path.Combine(folder, "dup.json");
            HeapSnapshotFile.Write(s, path, overwrite: false);
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(path));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains("type rows 0 and 1 are both 'OrderStat'", e.Message);
        }

        // ---- Gap detection ----

        private static readonly DateTime T0 = new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);

        [Fact]
        public void A_stream_on_time_has_no_gap_even_with_late_blocks()
        {
            var d = new StreamGapDetector(42, TimeSpan.FromSeconds(1), "sample", timeout: null);
            Assert.Equal(TimeSpan.FromSeconds(6), d.LateAfter);
            Assert.Null(d.Check(T0, out _)); // not watching before the first arrival
            for (int i = 0; i <= 60; i++)
            {
                // Values come every second, sometimes a block 2.9 s late (EventPipe delivers in blocks).
                var at = T0.AddSeconds(i + (i % 10 == 0 ? 2.9 : 0));
                Assert.Null(d.Arrived(at));
                Assert.Null(d.Check(at.AddSeconds(0.5), out bool timedOut));
                Assert.False(timedOut);
            }
            Assert.Equal(0, d.GapCount);
            Assert.Null(d.Close(T0.AddSeconds(63)));
        }

        [Fact]
        public void A_frozen_stream_is_reported_once_when_the_gap_begins_and_once_when_it_ends_with_its_length()
        {
            var d = new StreamGapDetector(42, TimeSpan.FromSeconds(1), "sample", timeout: null);
            d.Arrived(T0);
            Assert.Null(d.Check(T0.AddSeconds(5.9), out _));
            string? begun = d.Check(T0.AddSeconds(6), out bool timedOut);
            Assert.False(timedOut);
            Assert.Equal("No sample from process 42 for 6 s (expected every 1 s): is it stopped or frozen? Still waiting for it.", begun);
            Assert.Null(d.Check(T0.AddSeconds(30), out timedOut)); // once per gap, and no timeout in a watch
            Assert.False(timedOut);
            Assert.True(d.InGap);
            string? resumed = d.Arrived(T0.AddSeconds(40.4));
            Assert.Equal("Process 42 sent samples again after 40 s without any (expected every 1 s): it was stopped, frozen or starved, and nothing was recorded in between.", resumed);
            Assert.False(d.InGap);
            Assert.Equal(1, d.GapCount);
            Assert.Equal(40.4, d.GapSeconds, 3);
            // A second gap, still open when the window ends.
            d.Arrived(T0.AddSeconds(41));
            Assert.NotNull(d.Check(T0.AddSeconds(50), out _));
            Assert.Equal("No sample from process 42 in the last 19 s of the window (expected every 1 s): it was stopped, frozen or starved, and nothing was recorded then.", d.Close(T0.AddSeconds(60)));
            Assert.Equal(2, d.GapCount);
            Assert.Equal(59.4, d.GapSeconds, 3);
            Assert.Equal(40.4, d.LongestGapSeconds, 3);
        }

        [Fact]
        public void Waiting_for_a_count_gives_up_at_the_timeout_with_a_Timeout_error_naming_the_process()
        {
            var d = new StreamGapDetector(42, TimeSpan.FromSeconds(1), "sample", timeout: TimeSpan.FromSeconds(16));
            d.Arrived(T0);
            Assert.Contains("Giving up after 16 s.", d.Check(T0.AddSeconds(7), out bool timedOut));
            Assert.False(timedOut);
            Assert.Null(d.Check(T0.AddSeconds(16), out timedOut));
            Assert.True(timedOut);
            var e = d.TimeoutError(T0.AddSeconds(16));
            Assert.Equal(FailureKind.Timeout, e.Kind);
            Assert.Equal(42, e.Target);
            Assert.StartsWith("No sample from process 42 for 16 s (expected every 1 s): is it stopped or frozen?", e.Message);
        }

        [Fact]
        public void A_long_interval_waits_longer_and_a_started_session_is_watched_before_its_first_value()
        {
            var d = new StreamGapDetector(7, TimeSpan.FromSeconds(10), "heartbeat", timeout: null);
            Assert.Equal(TimeSpan.FromSeconds(33), d.LateAfter);
            d.Start(T0);
            Assert.Null(d.Check(T0.AddSeconds(32), out _));
            Assert.StartsWith("No heartbeat from process 7 for 33 s (expected every 10 s)", d.Check(T0.AddSeconds(33), out _));
            Assert.StartsWith("Process 7 sent heartbeats again after 35 s", d.Arrived(T0.AddSeconds(35)));
            // A stamp older than the last one (items come from several threads) proves nothing new.
            Assert.Null(d.Arrived(T0.AddSeconds(20)));
            Assert.Equal(1, d.GapCount);
        }
    }
}
