using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using MemoryOps;
using MemoryOps.Engine.Heap;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public sealed class HeapSnapshotFileTests : IDisposable
    {
        private readonly string dir = Directory.CreateTempSubdirectory("memoryops-tests-").FullName;

        public void Dispose() => Directory.Delete(dir, recursive: true);

        private static HeapSnapshot Sample() => new HeapSnapshot
        {
            Source = SnapshotSource.Dump,
            ProcessId = 4242,
            ProcessName = "OrderService",
            Timestamp = new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc),
            RuntimeVersion = "10.0.12",
            LiveOnly = false,
            Gen0Bytes = 10, Gen2Bytes = 1000, LohBytes = 5,
            DumpPath = "/tmp/x.dmp",
            Duration = 1.25,
            Types =
            {
                new HeapTypeStat { TypeName = "OrderService.OrderStat", Count = 2_000_000, TotalBytes = 96_000_000 },
                new HeapTypeStat { TypeName = "System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]", Count = 1, TotalBytes = 58_000_000 },
                new HeapTypeStat { TypeName = "Free", Count = 12, TotalBytes = 4096, IsFree = true },
            },
            TotalBytes = 154_000_000, ObjectCount = 2_000_001, FreeBytes = 4096,
        };

        private static void AssertSame(HeapSnapshot a, HeapSnapshot b)
        {
            Assert.Equal(a.Source, b.Source);
            Assert.Equal(a.ProcessId, b.ProcessId);
            Assert.Equal(a.ProcessName, b.ProcessName);
            Assert.Equal(a.Timestamp, b.Timestamp);
            Assert.Equal(a.RuntimeVersion, b.RuntimeVersion);
            Assert.Equal(a.LiveOnly, b.LiveOnly);
            Assert.Equal((a.TotalBytes, a.ObjectCount, a.FreeBytes), (b.TotalBytes, b.ObjectCount, b.FreeBytes));
            Assert.Equal((a.Gen0Bytes, a.Gen1Bytes, a.Gen2Bytes, a.LohBytes, a.PohBytes), (b.Gen0Bytes, b.Gen1Bytes, b.Gen2Bytes, b.LohBytes, b.PohBytes));
            Assert.Equal(a.DumpPath, b.DumpPath);
            Assert.Equal(a.Types.Select(t => (t.TypeName, t.Count, t.TotalBytes, t.IsFree)), b.Types.Select(t => (t.TypeName, t.Count, t.TotalBytes, t.IsFree)));
        }

        [Theory]
        [InlineData("s.json")]
        [InlineData("s.json.gz")]
        public void Round_trips(string name)
        {
            string path = Path.Combine(dir, name);
            HeapSnapshotFile.Write(Sample(), path, overwrite: false);
            AssertSame(Sample(), HeapSnapshotFile.Read(path));
            bool gz = File.ReadAllBytes(path)[0] == 0x1f;
            Assert.Equal(name.EndsWith(".gz"), gz);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        [Fact]
        public void Refuses_to_overwrite_without_force_and_keeps_the_old_file()
        {
            string path = Path.Combine(dir, "s.json");
            File.WriteAllText(path, "precious");
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Write(Sample(), path, overwrite: false));
            Assert.Equal(FailureKind.FileExists, e.Kind);
            Assert.Equal("precious", File.ReadAllText(path));
            HeapSnapshotFile.Write(Sample(), path, overwrite: true);
            AssertSame(Sample(), HeapSnapshotFile.Read(path));
            Assert.Single(Directory.GetFiles(dir)); // no temp file left
        }

        [Fact]
        public void Replaces_a_planted_symlink_instead_of_writing_through_it()
        {
            string victim = Path.Combine(dir, "victim.txt");
            File.WriteAllText(victim, "do not touch");
            string path = Path.Combine(dir, "s.json");
            File.CreateSymbolicLink(path, victim);
            Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Write(Sample(), path, overwrite: false));
            HeapSnapshotFile.Write(Sample(), path, overwrite: true);
            Assert.Equal("do not touch", File.ReadAllText(victim));
            Assert.Null(new FileInfo(path).LinkTarget);
        }

        [Fact]
        public void A_failing_writer_leaves_the_old_file_and_no_temp_file()
        {
            string path = Path.Combine(dir, "s.json");
            HeapSnapshotFile.Write(Sample(), path, overwrite: false);
            var before = File.ReadAllBytes(path);
            var bad = Sample();
            bad.Types.Add(null!); // makes the writer throw half-way
            Assert.ThrowsAny<Exception>(() => HeapSnapshotFile.Write(bad, path, overwrite: true));
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(dir));
        }

        [Fact]
        public void Rejects_truncated_json_naming_the_file()
        {
            string path = Path.Combine(dir, "t.json");
            HeapSnapshotFile.Write(Sample(), path, overwrite: false);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes.Take(bytes.Length / 2).ToArray());
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(path));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated or corrupt", e.Message);
        }

        [Fact]
        public void Rejects_truncated_gzip()
        {
            string path = Path.Combine(dir, "t.json.gz");
            HeapSnapshotFile.Write(Sample(), path, overwrite: false);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes.Take(bytes.Length - 20).ToArray());
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(path));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(path, e.Message);
        }

        [Fact]
        public void Rejects_a_future_version()
        {
            string path = Path.Combine(dir, "f.json");
            File.WriteAllText(path, "{\"format\":\"MemoryOps.HeapSnapshot\",\"version\":99,\"types\":[]}");
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(path));
            Assert.Equal(FailureKind.UnsupportedVersion, e.Kind);
            Assert.Contains("version 99", e.Message);
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData("[1,2]", "not a JSON object")]
        [InlineData("{\"format\":\"Other\",\"version\":1}", "format")]
        [InlineData("{\"format\":\"MemoryOps.HeapSnapshot\",\"version\":1}", "\"source\" is missing")]
        [InlineData("\u0001\u0002garbage", "truncated or corrupt")]
        [InlineData("{\"format\":\"MemoryOps.HeapSnapshot\",\"version\":\"1\"}", "whole-number \"version\"")]
        public void Rejects_corrupt_files_with_a_specific_reason(string content, string reason)
        {
            string path = Path.Combine(dir, "c.json");
            File.WriteAllText(path, content, new UTF8Encoding(false));
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(path));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(reason, e.Message);
            Assert.Contains(path, e.Message);
        }

        [Fact]
        public void Rejects_a_bad_type_row_naming_it()
        {
            string path = Path.Combine(dir, "r.json");
            HeapSnapshotFile.Write(Sample(), path, overwrite: false);
            string text = File.ReadAllText(path).Replace("\"count\": 2000000", "\"count\": -5");
            File.WriteAllText(path, text);
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(path));
            Assert.Contains("OrderService.OrderStat", e.Message);
        }
    }
}
