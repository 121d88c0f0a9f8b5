using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>Files another local user may have planted: FIFOs, devices, links, hard links (root: mknod, chown).</summary>
    public sealed class HostileFileTests : IDisposable
    {
        private readonly string folder = Path.Combine(Path.GetTempPath(), "memoryops-hostile-" + Guid.NewGuid().ToString("N"));

        public HostileFileTests() => Directory.CreateDirectory(folder);

        public void Dispose() => Directory.Delete(folder, recursive: true);

        internal static void Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (this test needs root): {err}");
        }

        private string Fifo(string name)
        {
            string path = Path.Combine(folder, name);
            Run("mkfifo", path);
            return path;
        }

        /// <summary>A character device like /dev/null (1,3) or /dev/zero (1,5), made in the test folder: /dev is never touched.</summary>
        private string CharDevice(string name, int minor)
        {
            string path = Path.Combine(folder, name);
            Run("mknod", path, "c", "1", minor.ToString());
            return path;
        }

        /// <summary>True when the task ends (either way) within 30 s; a read blocked on a FIFO never would.</summary>
        private static bool Finishes(Task task) => Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(30))).Result == task;

        private static HeapSnapshot Snap()
        {
            var s = new HeapSnapshot { Source = SnapshotSource.Process, Timestamp = DateTime.UtcNow, ProcessName = "svc", RuntimeVersion = "10.0.0", TotalBytes = 80, ObjectCount = 1 };
            s.Types.Add(new HeapTypeStat { TypeName = "OrderStat", Count = 1, TotalBytes = 80 });
            return s;
        }

        [Fact]
        public void Reading_a_FIFO_as_a_snapshot_is_refused_at_once_instead_of_waiting_for_a_writer()
        {
            string fifo = Fifo("snap.json");
            var read = Task.Run(() => HeapSnapshotFile.Read(fifo));
            Assert.True(Finishes(read), "the read of a FIFO must not wait for a writer");
            var e = Assert.IsType<MemoryOpsException>(read.Exception!.InnerException);
            Assert.Equal(FailureKind.UnsafeFile, e.Kind);
            Assert.Contains("named pipe (FIFO)", e.Message);
            Assert.Contains(fifo, e.Message);
        }

        [Fact]
        public void A_device_is_never_read_as_a_snapshot_or_a_policy()
        {
            string zero = CharDevice("zero.json", 5);
            Assert.Equal(FailureKind.UnsafeFile, Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(zero)).Kind);
            Assert.Equal(FailureKind.UnsafeFile, Assert.Throws<MemoryOpsException>(() => Rules.MemoryPolicy.ReadJsonFile(zero)).Kind);
        }

        [Fact]
        public void A_FIFO_or_a_device_at_an_output_path_is_never_replaced_even_with_overwrite()
        {
            string fifo = Fifo("out.json");
            string nul = CharDevice("null", 3);
            foreach (var path in new[] { fifo, nul })
            {
                var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Write(Snap(), path, overwrite: true));
                Assert.Equal(FailureKind.UnsafeFile, e.Kind);
                Assert.Contains("not a regular file", e.Message);
            }
            Assert.Equal(UnixFileKind.NamedPipe, SafeFile.StatusOf(fifo)!.Value.Kind);
            Assert.Equal(UnixFileKind.CharacterDevice, SafeFile.StatusOf(nul)!.Value.Kind);
            Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        }

        [Fact]
        public void A_regular_file_needs_overwrite_and_a_link_is_replaced_as_a_link()
        {
            string file = Path.Combine(folder, "snap.json");
            File.WriteAllText(file, "old");
            Assert.Equal(FailureKind.FileExists, Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Write(Snap(), file, overwrite: false)).Kind);
            HeapSnapshotFile.Write(Snap(), file, overwrite: true);
            Assert.Equal(1, HeapSnapshotFile.Read(file).Types.Count);

            string victim = Path.Combine(folder, "victim");
            File.WriteAllText(victim, "precious");
            string link = Path.Combine(folder, "link.json");
            File.CreateSymbolicLink(link, victim);
            HeapSnapshotFile.Write(Snap(), link, overwrite: true);
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.Equal(UnixFileKind.Regular, SafeFile.StatusOf(link)!.Value.Kind);
        }

        [Fact]
        public void A_baseline_file_that_is_a_link_is_refused_even_when_it_points_at_a_valid_baseline()
        {
            var store = new BaselineStore(folder);
            store.Append("real", new[] { BaselineStore.FromSnapshot(Snap()) }, 10);
            File.CreateSymbolicLink(store.FileOf("linked"), store.FileOf("real"));
            var e = Assert.Throws<MemoryOpsException>(() => store.Read("linked"));
            Assert.Equal(FailureKind.UnsafeFile, e.Kind);
            Assert.Contains("symbolic link", e.Message);
            // A dangling link is not "no baseline": it is refused too, and nothing is written through it.
            string target = Path.Combine(folder, "created-through-link");
            File.CreateSymbolicLink(store.FileOf("dangling"), target);
            Assert.Equal(FailureKind.UnsafeFile, Assert.Throws<MemoryOpsException>(() => store.Append("dangling", new[] { BaselineStore.FromSnapshot(Snap()) }, 10)).Kind);
            Assert.False(File.Exists(target));
        }

        [Fact]
        public void A_FIFO_in_the_store_is_refused_and_the_other_baselines_still_read()
        {
            var store = new BaselineStore(folder);
            store.Append("good", new[] { BaselineStore.FromSnapshot(Snap()) }, 10);
            Run("mkfifo", store.FileOf("trap"));
            Assert.Equal(new[] { "good", "trap" }, store.List()); // listed: Get-MemoryBaseline with no name reads it
            var read = Task.Run(() => store.Read("trap"));
            Assert.True(Finishes(read), "the read of a FIFO must not wait for a writer");
            Assert.Equal(FailureKind.UnsafeFile, Assert.IsType<MemoryOpsException>(read.Exception!.InnerException).Kind);
            Assert.Single(store.Read("good"));
        }

        [Fact]
        public void The_lock_file_is_never_followed_nor_used_when_it_is_not_our_own_regular_file()
        {
            var store = new BaselineStore(folder);
            string lockPath = Path.Combine(folder, "b.baseline.lock");
            string target = Path.Combine(folder, "created-by-root");
            File.CreateSymbolicLink(lockPath, target);
            var e = Assert.Throws<MemoryOpsException>(() => store.Append("b", new[] { BaselineStore.FromSnapshot(Snap()) }, 10));
            Assert.Equal(FailureKind.UnsafeFile, e.Kind);
            Assert.False(File.Exists(target), "the link's target must not be created");
            Assert.False(SafeFile.Exists(store.FileOf("b")));

            // A hard link to another file: refused (the lock would otherwise be a second name of that file).
            File.Delete(lockPath);
            string precious = Path.Combine(folder, "precious");
            File.WriteAllText(precious, "x");
            Run("ln", precious, lockPath);
            Assert.Contains("2 names", Assert.Throws<MemoryOpsException>(() => store.Append("b", new[] { BaselineStore.FromSnapshot(Snap()) }, 10)).Message);

            // Another user's file.
            File.Delete(lockPath);
            File.WriteAllText(lockPath, "");
            Run("chown", "65534", lockPath);
            Assert.Contains("another user", Assert.Throws<MemoryOpsException>(() => store.Append("b", new[] { BaselineStore.FromSnapshot(Snap()) }, 10)).Message);

            // Ours, regular: used, and held exclusively.
            File.Delete(lockPath);
            store.Append("b", new[] { BaselineStore.FromSnapshot(Snap()) }, 10);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lockPath));
            // A process forked meanwhile by another test shares the lock until its exec closes the descriptor: wait for it.
            var waited = Stopwatch.StartNew();
            FileStream? first;
            while ((first = SafeFile.TryLock(lockPath, "b")) == null && waited.Elapsed < TimeSpan.FromSeconds(10)) System.Threading.Thread.Sleep(20);
            using (var held = first)
            {
                Assert.NotNull(held);
                Assert.Null(SafeFile.TryLock(lockPath, "b"));
            }
        }

        [Fact]
        public void Every_folder_of_a_new_store_is_created_owner_only()
        {
            string store = Path.Combine(folder, "a", "b", "store");
            new BaselineStore(store).Append("x", new[] { BaselineStore.FromSnapshot(Snap()) }, 10);
            const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            foreach (var dir in new[] { Path.Combine(folder, "a"), Path.Combine(folder, "a", "b"), store })
                Assert.Equal(OwnerOnly, File.GetUnixFileMode(dir));
        }
    }

    public sealed class InputLimitsTests : IDisposable
    {
        private readonly string folder = Path.Combine(Path.GetTempPath(), "memoryops-limits-" + Guid.NewGuid().ToString("N"));

        public InputLimitsTests() => Directory.CreateDirectory(folder);

        public void Dispose() => Directory.Delete(folder, recursive: true);

        private const string Head = "{\"format\":\"MemoryOps.HeapSnapshot\",\"version\":1,\"source\":\"Process\",\"processId\":1,\"processName\":\"x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"runtimeVersion\":\"10\",\"liveOnly\":false,\"totalBytes\":1,\"objectCount\":1,\"types\":[";

        /// <summary>A gzip file written from pieces, the middle one repeated (a bomb is a small file that expands).</summary>
        private string Gzip(string name, string head, string repeated, long times, string tail)
        {
            string path = Path.Combine(folder, name);
            using var file = File.Create(path);
            using var gz = new GZipStream(file, CompressionLevel.SmallestSize);
            gz.Write(Encoding.UTF8.GetBytes(head));
            var chunk = Encoding.UTF8.GetBytes(repeated);
            for (long i = 0; i < times; i++) gz.Write(chunk);
            gz.Write(Encoding.UTF8.GetBytes(tail));
            return path;
        }

        [Fact]
        public void Defaults_are_sized_for_real_heaps_and_grow_with_the_maximum_input_size()
        {
            Assert.Equal(64L << 20, InputLimits.Snapshot.MaxBytes);
            Assert.Equal(2_097_152, InputLimits.Snapshot.MaxValues);   // ~500,000 type rows: 5 times the largest real heaps
            Assert.Equal(16_384, InputLimits.Snapshot.MaxNameLength);
            Assert.Equal(256L << 20, InputLimits.Baseline.MaxBytes);
            Assert.Equal(65_536, InputLimits.Baseline.MaxNameLength);
            var raised = new InputLimits(1L << 30);
            Assert.Equal(4 * InputLimits.Baseline.MaxValues, raised.MaxValues);
            Assert.Equal(4 * InputLimits.Baseline.MaxNameLength, raised.MaxNameLength);
            Assert.Equal(FailureKind.InvalidInput, Assert.Throws<MemoryOpsException>(() => new InputLimits(3L << 30)).Kind);
        }

        [Fact]
        public void A_billion_character_name_is_refused_after_reading_a_few_hundred_KB()
        {
            // 256 MB of one name in a ~250 KB gzip file (the same shape at 1 GB was the issue's report).
            string bomb = Gzip("name.json.gz", Head + "{\"typeName\":\"", new string('A', 1 << 20), 256, "\",\"count\":1,\"totalBytes\":1}]}");
            Assert.True(new FileInfo(bomb).Length < 2 << 20);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(bomb));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(FailureKind.InputTooLarge, e.Kind);
            Assert.Contains("more than 16,384 characters", e.Message);
            Assert.Contains("-MaximumInputSize", e.Message);
            Assert.True(allocated < 16L << 20, $"reading stopped at the first violation: {allocated / 1048576} MB allocated");
        }

        [Fact]
        public void A_gzip_bomb_is_refused_at_the_decompressed_limit()
        {
            string bomb = Gzip("ws.json.gz", "", new string(' ', 1 << 20), 80, "{}");
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(bomb));
            Assert.Equal(FailureKind.InputTooLarge, e.Kind);
            Assert.Contains("decompresses to more than the limit of 64 MB", e.Message);
            // Raised, the same file is read (and then refused as what it is: not a snapshot).
            Assert.Equal(FailureKind.InvalidData, Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(bomb, new InputLimits(128L << 20))).Kind);
        }

        [Fact]
        public void A_flood_of_values_is_refused_at_the_value_limit()
        {
            string bomb = Gzip("values.json.gz", Head, "0,", 3_000_000, "0]}");
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(bomb));
            Assert.Equal(FailureKind.InputTooLarge, e.Kind);
            Assert.Contains("more than 2,097,152 JSON values", e.Message);
        }

        [Fact]
        public void A_huge_sparse_file_is_refused_from_its_size_without_reading_it()
        {
            string sparse = Path.Combine(folder, "sparse.json");
            using (var f = File.Create(sparse)) f.SetLength(100L << 30);
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(sparse));
            Assert.Equal(FailureKind.InputTooLarge, e.Kind);
            Assert.Contains("it holds 100 GB", e.Message);
        }

        [Fact]
        public void A_name_made_of_escapes_counts_its_characters_not_its_bytes()
        {
            // 16,000 characters written as \u0041 (96,000 bytes): under the 16,384-character limit, so it reads.
            string escaped = string.Concat(Enumerable.Repeat("\\u0041", 16_000));
            string ok = Path.Combine(folder, "ok.json");
            File.WriteAllText(ok, Head + "{\"typeName\":\"" + escaped + "\",\"count\":1,\"totalBytes\":1}]}");
            Assert.Equal(16_000, HeapSnapshotFile.Read(ok).Types[0].TypeName.Length);
            string over = Path.Combine(folder, "over.json");
            File.WriteAllText(over, Head + "{\"typeName\":\"" + escaped + "\\u0041\\u0041" + new string('B', 400) + "\",\"count\":1,\"totalBytes\":1}]}");
            Assert.Contains("16,402 characters", Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(over)).Message);
        }

        [Fact]
        public void Corrupt_JSON_is_still_reported_by_the_parser_with_its_position()
        {
            string bad = Path.Combine(folder, "bad.json");
            File.WriteAllText(bad, Head + "{\"typeName\":");
            var e = Assert.Throws<MemoryOpsException>(() => HeapSnapshotFile.Read(bad));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains("truncated or corrupt at line 1", e.Message);
        }

        [Fact]
        public void A_policy_larger_than_its_limit_is_refused()
        {
            string policy = Path.Combine(folder, "policy.json");
            File.WriteAllText(policy, "{ \"rules\": [ { \"counter\": \"gc-heap-size\", \"maximum\": 1 } ] }" + new string(' ', 5 << 20));
            var e = Assert.Throws<MemoryOpsException>(() => Rules.MemoryPolicy.ReadJsonFile(policy));
            Assert.Equal(FailureKind.InputTooLarge, e.Kind);
            Assert.Single(Rules.MemoryPolicy.ReadJsonFile(policy, new InputLimits(8L << 20)));
        }
    }

    public sealed class TemporaryFilesTests : IDisposable
    {
        private readonly string folder = Path.Combine(Path.GetTempPath(), "memoryops-temp-" + Guid.NewGuid().ToString("N"));

        public TemporaryFilesTests() => Directory.CreateDirectory(folder);

        public void Dispose() => Directory.Delete(folder, recursive: true);

        private static ulong OwnStartTime() => TemporaryFiles.ParseStat(File.ReadAllText("/proc/self/stat")).StartTime;

        [Fact]
        public void A_temporary_name_names_its_writer_and_parses_back()
        {
            string temp = TemporaryFiles.PathFor(Path.Combine(folder, "OrderService_42_20261125-101500.dmp"));
            string name = Path.GetFileName(temp);
            Assert.StartsWith(".OrderService_42_20261125-101500.dmp.memoryops-", name);
            Assert.EndsWith(".tmp", name);
            Assert.Equal((Environment.ProcessId, OwnStartTime()), TemporaryFiles.WriterOf(name));
        }

        [Theory]
        [InlineData(".x.dmp.1a2b3c4d.tmp")]                        // the naming of earlier versions: not provably ours
        [InlineData(".x.dmp.memoryops-12-34-1a2b3c4d.tmp.keep")]
        [InlineData("x.dmp.memoryops-12-34-1a2b3c4d.tmp")]          // not hidden
        [InlineData(".x.dmp.memoryops-12-34-1A2B3C4D.tmp")]
        [InlineData(".x.dmp.memoryops--34-1a2b3c4d.tmp")]
        [InlineData(".x.dmp.memoryops-0-34-1a2b3c4d.tmp")]
        [InlineData(".x.dmp.memoryops-99999999999-34-1a2b3c4d.tmp")]
        public void Names_not_of_our_exact_making_are_not_ours(string name) => Assert.Null(TemporaryFiles.WriterOf(name));

        [Fact]
        public void The_name_stays_within_NAME_MAX_for_a_long_target_name()
        {
            string temp = TemporaryFiles.PathFor(Path.Combine(folder, new string('é', 120) + ".json"));
            Assert.True(Encoding.UTF8.GetByteCount(Path.GetFileName(temp)) <= 255);
            Assert.NotNull(TemporaryFiles.WriterOf(Path.GetFileName(temp)));
            File.WriteAllText(temp, "x"); // the file system accepts it
        }

        [Fact]
        public void The_stat_line_is_parsed_past_a_name_with_spaces_and_parentheses()
        {
            string stat = "4242 (evil) S 1 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21";
            // After the last ')': "R" is the state and 987654 is field 22.
            Assert.Equal(('R', 987654UL), TemporaryFiles.ParseStat(stat));
        }

        [Fact]
        public void Liveness_needs_the_same_PID_and_the_same_start_time()
        {
            Assert.True(TemporaryFiles.IsWriterAlive(Environment.ProcessId, OwnStartTime()));
            Assert.False(TemporaryFiles.IsWriterAlive(Environment.ProcessId, OwnStartTime() + 1), "a reused PID is another process");
            using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            gone.WaitForExit();
            Assert.False(TemporaryFiles.IsWriterAlive(gone.Id, 1));
        }

        [Fact]
        public void Only_stale_regular_files_of_ours_are_removed()
        {
            string Make(string name) { string p = Path.Combine(folder, name); File.WriteAllText(p, "partial dump"); return p; }
            using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            gone.WaitForExit();
            string stale = Make($".a.dmp.memoryops-{gone.Id}-12345-1a2b3c4d.tmp");
            string reused = Make($".b.dmp.memoryops-1-999999999999-1a2b3c4d.tmp");   // PID 1 lives, but started at another time
            string live = Make($".c.dmp.memoryops-{Environment.ProcessId}-{OwnStartTime()}-1a2b3c4d.tmp");
            string foreign = Make(".d.dmp.1a2b3c4d.tmp");
            string target = Make("precious");
            string link = Path.Combine(folder, $".e.dmp.memoryops-{gone.Id}-12345-1a2b3c4d.tmp");
            File.CreateSymbolicLink(link, target);
            string fifo = Path.Combine(folder, $".f.dmp.memoryops-{gone.Id}-12345-1a2b3c4d.tmp");
            HostileFileTests.Run("mkfifo", fifo);
            string others = Make($".g.dmp.memoryops-{gone.Id}-12345-1a2b3c4d.tmp");
            HostileFileTests.Run("chown", "65534", others);

            var removed = TemporaryFiles.RemoveStale(folder);

            Assert.Equal(new[] { reused, stale }.OrderBy(p => p), removed.OrderBy(p => p));
            Assert.False(File.Exists(stale));
            Assert.False(File.Exists(reused));
            foreach (var kept in new[] { live, foreign, target, link, fifo, others }) Assert.True(SafeFile.Exists(kept), kept);
        }

        [Fact]
        public void The_next_atomic_write_to_the_folder_removes_a_stale_file()
        {
            using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            gone.WaitForExit();
            string stale = Path.Combine(folder, $".snap.json.memoryops-{gone.Id}-12345-1a2b3c4d.tmp");
            File.WriteAllText(stale, "left by kill -9");
            AtomicFile.Write(Path.Combine(folder, "other.json"), overwrite: false, s => s.WriteByte((byte)'x'));
            Assert.False(File.Exists(stale));
        }
    }

    public sealed class BaselineStatisticsScaleTests
    {
        private static MemoryBaselineEntry Entry(DateTime when, IEnumerable<(string Name, long Count, long Bytes)> types)
        {
            var s = new HeapSnapshot { Source = SnapshotSource.Process, Timestamp = when };
            foreach (var (name, count, bytes) in types) s.Types.Add(new HeapTypeStat { TypeName = name, Count = count, TotalBytes = bytes });
            return BaselineStore.FromSnapshot(s);
        }

        [Fact]
        public void Type_statistics_agree_with_the_values_counted_out_in_full()
        {
            var random = new Random(11);
            var t = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
            var history = Enumerable.Range(0, 12).Select(i => Entry(t.AddHours(i),
                Enumerable.Range(0, 30).Where(_ => random.Next(3) > 0).Select(k => ($"T{k % 20}", (long)random.Next(0, 1000), (long)random.Next(0, 1_000_000))))).ToList();
            var stats = BaselineStatistics.Compute("b", history);
            foreach (var type in Enumerable.Range(0, 20).Select(k => $"T{k}"))
            {
                // Independent: every entry's value for the type (0 when absent, summed when listed twice).
                var bytes = history.Select(e => (double)e.Snapshot!.Types.Where(x => x.TypeName == type).Sum(x => x.TotalBytes)).ToList();
                var expected = BaselineStatistics.Describe("b", BaselineStatisticKind.TypeBytes, type, "bytes", bytes.Select((v, i) => (history[i].Timestamp, v)).ToList());
                var actual = stats.SingleOrDefault(s => s.Kind == BaselineStatisticKind.TypeBytes && s.Name == type);
                if (bytes.All(v => v == 0) && actual == null) continue; // never listed
                Assert.NotNull(actual);
                Assert.Equal(expected.Mean, actual!.Mean);
                Assert.Equal(expected.StandardDeviation, actual.StandardDeviation, 6);
                Assert.Equal((expected.Minimum, expected.Maximum, expected.Count, expected.First, expected.Last), (actual.Minimum, actual.Maximum, actual.Count, actual.First, actual.Last));
            }
        }

        [Fact]
        public void A_history_of_new_types_in_every_entry_costs_time_in_proportion_to_its_rows()
        {
            // 1,500 entries of 1,000 types each, all different: 1.5 M rows. Counting absent types as zeros one by one
            // (as before) is 2.25 billion steps; in proportion to the rows it is a few seconds.
            var t = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
            var history = Enumerable.Range(0, 1500).Select(e => Entry(t.AddMinutes(e), Enumerable.Range(0, 1000).Select(k => ($"T{e}_{k}", 1L, 8L)))).ToList();
            var clock = Stopwatch.StartNew();
            var stats = BaselineStatistics.Compute("b", history);
            clock.Stop();
            Assert.Equal(2 * 1_500_000, stats.Count(s => s.Kind != BaselineStatisticKind.Metric));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
