using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using MemoryOps.Engine.Heap;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>What the module and its dump reader process say to each other, and how the module words a reader's death.</summary>
    public sealed class DumpWorkerProtocolTests
    {
        [Fact]
        public void The_reader_is_given_a_minute_plus_a_second_per_5_MB_far_beyond_a_real_read()
        {
            Assert.Equal(60, DumpWorkerClient.TimeLimitFor(0).TotalSeconds);
            // The 500 MB benchmark dump: per-type read 0.5-0.8 s, retention graph 5-6 s.
            Assert.Equal(160, DumpWorkerClient.TimeLimitFor(500L * 1048576).TotalSeconds);
            // A 32 GB dump (the seed's service): 1 h 50 min at the slowest real rate this assumes.
            Assert.InRange(DumpWorkerClient.TimeLimitFor(32L << 30).TotalMinutes, 100, 120);
        }

        [Fact]
        public void Protocol_result_round_trips_and_refuses_a_cut_short_stream()
        {
            var snapshot = new HeapSnapshot
            {
                Source = SnapshotSource.Dump, ProcessId = 42, ProcessName = "app\u001b", Timestamp = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc),
                RuntimeVersion = "10.0.12", TotalBytes = 100, ObjectCount = 4, DumpPath = "/tmp/x.dmp", Gen2Bytes = 64,
                Types = new List<HeapTypeStat> { new HeapTypeStat { TypeName = "Holder", Count = 2, TotalBytes = 56 } },
            };
            var graph = HeapGraphSerializerTests.SmallGraph();
            var stream = new MemoryStream();
            DumpWorkerProtocol.WriteResult(stream, snapshot, graph);
            var bytes = stream.ToArray();
            var (s, g) = DumpWorkerProtocol.ReadResult(new MemoryStream(bytes), withGraph: true, 1L << 40, "/tmp/x.dmp");
            Assert.Equal("app\u001b", s.ProcessName);
            Assert.Equal(64, s.Gen2Bytes);
            Assert.Equal("Holder", Assert.Single(s.Types).TypeName);
            HeapGraphSerializerTests.AssertSame(graph, g!);
            for (int length = 0; length < bytes.Length; length += 7)
                Assert.Throws<InvalidDataException>(() => DumpWorkerProtocol.ReadResult(new MemoryStream(bytes, 0, length), withGraph: true, 1L << 40, "/tmp/x.dmp"));
            var extra = bytes.Concat(new byte[] { 1 }).ToArray();
            Assert.Throws<InvalidDataException>(() => DumpWorkerProtocol.ReadResult(new MemoryStream(extra), withGraph: true, 1L << 40, "/tmp/x.dmp"));
        }

        [Fact]
        public void Protocol_error_lines_carry_kind_message_and_target_on_one_line()
        {
            string line = DumpWorkerProtocol.ErrorLine(FailureKind.UnsupportedVersion, "two\nlines \"quoted\"", "/tmp/a b.dmp");
            Assert.DoesNotContain('\n', line);
            var e = DumpWorkerProtocol.ParseError(line)!;
            Assert.Equal(FailureKind.UnsupportedVersion, e.Kind);
            // The text travels whole; MemoryOpsException shows control characters escaped, as every message does.
            Assert.Equal(Display.Escape("two\nlines \"quoted\""), e.Message);
            Assert.Equal("/tmp/a b.dmp", e.Target);
            Assert.Null(DumpWorkerProtocol.ParseError("error {\"kind\":\"7\",\"message\":\"m\"}"));
            Assert.Null(DumpWorkerProtocol.ParseError("error {\"kind\":\"NoSuchKind\",\"message\":\"m\"}"));
            Assert.Null(DumpWorkerProtocol.ParseError("error not json"));
            Assert.True(DumpWorkerProtocol.TryParseProgress(DumpWorkerProtocol.ProgressLine(0.25), out double f) && f == 0.25);
            Assert.False(DumpWorkerProtocol.TryParseProgress("progress 7", out _));
        }

        [Fact]
        public void Arguments_round_trip_whatever_the_values_hold()
        {
            var options = new DumpReadOptions { RuntimePath = "--live-only", LiveOnly = true, ProcessId = 12, ProcessName = "a b\tc" };
            var request = DumpWorkerProtocol.Parse(DumpWorkerProtocol.Arguments(DumpWorkerMode.Graph, "-x; rm -rf /", options), out _)!;
            Assert.Equal(DumpWorkerMode.Graph, request.Mode);
            Assert.Equal("-x; rm -rf /", request.DumpPath);
            Assert.Equal("--live-only", request.Options.RuntimePath);
            Assert.True(request.Options.LiveOnly);
            Assert.Equal(12, request.Options.ProcessId);
            Assert.Equal("a b\tc", request.Options.ProcessName);
            Assert.Null(DumpWorkerProtocol.Parse(new[] { "snapshot" }, out var problem));
            Assert.Contains("--dump", problem);
            Assert.Null(DumpWorkerProtocol.Parse(new[] { "snapshot", "--dump", "x", "--pid", "-1" }, out _));
        }
        [Theory]
        [InlineData(139, "crashed the dump reader (signal 11, SIGSEGV): the dump is corrupt")]
        [InlineData(134, "crashed the dump reader (signal 6, SIGABRT): the dump is corrupt")]
        [InlineData(135, "crashed the dump reader (signal 7, SIGBUS): the dump is corrupt")]
        [InlineData(137, "was killed (signal 9, SIGKILL)")]
        [InlineData(143, "was ended by signal 15, SIGTERM from outside")]
        [InlineData(1, "ended with exit code 1 without a result or an error")]
        public void A_reader_that_dies_is_InvalidData_naming_the_dump_and_the_signal(int exitCode, string expected)
        {
            var e = DumpWorkerClient.Crashed("/data/a.dmp", "a.dmp", exitCode, " Its last output: boom");
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Equal("a.dmp", e.Target);
            Assert.Contains("'/data/a.dmp'", e.Message);
            Assert.Contains(expected, e.Message);
            Assert.EndsWith("Its last output: boom", e.Message);
        }
    }
}
