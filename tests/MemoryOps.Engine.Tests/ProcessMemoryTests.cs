using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MemoryOps.Engine.ProcessMemory;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>
    /// The kernel-file parsers on captured files (Fixtures/proc-v1-host: copied from this machine), the cgroup v2 reader
    /// on a v2 host's files (Fixtures/cgroup-v2: written in the kernel's formats by hand, since this machine's memory
    /// controller is on v1 and no v2 host was at hand; see its README), and the reader on this machine's real /proc.
    /// </summary>
    public sealed class ProcessMemoryTests : IDisposable
    {
        private static string Fixture(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "Fixtures" }.Concat(parts).ToArray());

        private readonly string temp = Path.Combine(Path.GetTempPath(), "memoryops procmem " + Guid.NewGuid().ToString("N").Substring(0, 8));

        public void Dispose()
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }

        [Fact]
        public void Reads_the_sizes_of_a_captured_smaps_rollup_and_status_in_bytes()
        {
            var rollup = KernelFormats.KilobyteFields(File.ReadAllText(Fixture("proc-v1-host", "smaps_rollup")));
            Assert.Equal(1760L * 1024, rollup["Rss"]);
            Assert.Equal(217L * 1024, rollup["Pss"]);
            Assert.Equal(0L, rollup["Swap"]);
            Assert.False(rollup.ContainsKey("55e584428000-7fff9d7d6000 ---p 00000000 00")); // the header line is no size

            var status = KernelFormats.KilobyteFields(File.ReadAllText(Fixture("proc-v1-host", "status")));
            Assert.True(status["VmRSS"] > 0);
            Assert.Equal(status["VmRSS"], status["RssAnon"] + status["RssFile"] + status["RssShmem"]);
            Assert.False(status.ContainsKey("Pid"));   // no kB unit: not a size
            Assert.False(status.ContainsKey("State"));
        }

        [Fact]
        public void Leaves_out_values_that_do_not_parse_or_overflow()
        {
            var fields = KernelFormats.KilobyteFields("Rss: 12 kB\nPss: x kB\nSwap: 99999999999999999999 kB\nHuge: 9223372036854775807 kB\nNeg: -4 kB\n");
            Assert.Equal(new[] { "Rss" }, fields.Keys.ToArray());
        }

        [Fact]
        public void Reads_captured_cgroup_lines_and_keeps_colons_in_a_cgroup_name()
        {
            var lines = KernelFormats.CgroupFile(File.ReadAllText(Fixture("proc-v1-host", "cgroup")));
            var memory = Assert.Single(lines, l => l.Controllers.Contains("memory"));
            Assert.Equal(4, memory.HierarchyId);
            Assert.Equal("/process_api/fcc847861ec9fc8155e17d75720fce2b", memory.Path);
            Assert.Single(lines, l => l.IsUnified && l.Path == "/");
            Assert.Equal(new[] { "name=systemd" }, lines.Single(l => l.HierarchyId == 9).Controllers);

            var odd = KernelFormats.CgroupFile("4:memory:/odd:name with space\n0::/a:b\ngarbage\n:memory:/x\n");
            Assert.Equal(new[] { "/odd:name with space", "/a:b" }, odd.Select(l => l.Path).ToArray());
        }

        [Fact]
        public void Unescapes_mountinfo_paths_and_finds_the_memory_hierarchies_of_a_captured_file()
        {
            var mounts = KernelFormats.MountInfo(File.ReadAllText(Fixture("proc-v1-host", "mountinfo")));
            var v1 = Assert.Single(mounts, m => m.FileSystemType == "cgroup" && m.SuperOptions.Contains("memory"));
            Assert.Equal("/sys/fs/cgroup/memory", v1.MountPoint);
            Assert.Equal("/", v1.Root);
            Assert.Single(mounts, m => m.FileSystemType == "cgroup2" && m.MountPoint == "/sys/fs/cgroup/unified");

            var escaped = KernelFormats.MountInfo("40 31 0:38 /a\\040b /mnt/with\\040space\\011tab\\012nl\\134back rw shared:1 - cgroup2 cgroup2 rw\n");
            Assert.Equal("/mnt/with space\ttab\nnl\\back", escaped[0].MountPoint);
            Assert.Equal("/a b", escaped[0].Root);
            Assert.Equal("a\\9b\\", KernelFormats.Unescape("a\\9b\\"));   // not an octal escape: kept as written
            Assert.Empty(KernelFormats.MountInfo("short line - x\n"));
        }

        [Theory]
        [InlineData("max\n", null)]
        [InlineData("9223372036854771712\n", null)]   // cgroup v1's "unlimited" with 4 KB pages
        [InlineData("9223372036854710272\n", null)]   // ... with 64 KB pages
        [InlineData("209715200\n", 209715200L)]
        [InlineData("0\n", 0L)]
        public void Says_no_limit_for_max_and_for_v1s_huge_number(string text, long? expected) =>
            Assert.Equal(expected, KernelFormats.Limit(text));

        [Theory]
        [InlineData("")]
        [InlineData("-1")]
        [InlineData("12abc")]
        [InlineData("99999999999999999999999")]
        public void Refuses_a_limit_that_is_not_a_number_rather_than_taking_it_for_no_limit(string text) =>
            Assert.Throws<FormatException>(() => KernelFormats.Limit(text));

        [Fact]
        public void Reads_start_time_and_state_from_stat_even_with_spaces_and_parentheses_in_the_name()
        {
            string stat = "4242 (evil) (name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 5558272 450 18446744073709551615";
            Assert.Equal(987654UL, KernelFormats.StartTicks(stat));
            Assert.Equal('S', KernelFormats.State(stat));
            Assert.Null(KernelFormats.StartTicks("4242 (x"));
            Assert.Equal(4194560UL, KernelFormats.Flags(stat));
            Assert.Equal(0UL, KernelFormats.Flags(stat)!.Value & KernelFormats.KernelThreadFlag);
        }

        [Fact]
        public void Chooses_v1_on_a_hybrid_host_where_the_memory_controller_is_on_v1()
        {
            var memberships = KernelFormats.CgroupFile(File.ReadAllText(Fixture("proc-v1-host", "cgroup")));
            var mounts = KernelFormats.MountInfo(File.ReadAllText(Fixture("proc-v1-host", "mountinfo")));
            var location = CgroupMemoryReader.Locate(memberships, mounts, out _);
            Assert.NotNull(location);
            Assert.Equal(1, location!.Version);
            Assert.Equal("/sys/fs/cgroup/memory/process_api/fcc847861ec9fc8155e17d75720fce2b", location.Directory);
        }

        [Fact]
        public void Of_several_mounts_of_the_hierarchy_takes_the_one_that_holds_the_cgroup()
        {
            // A bind mount of part of the hierarchy listed first (as a container runtime leaves it), the whole one after.
            var mounts = KernelFormats.MountInfo(
                "40 31 0:32 /docker/abc /mnt/part rw - cgroup cgroup rw,memory\n" +
                "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
            CgroupLocation? Locate(string path) => CgroupMemoryReader.Locate(KernelFormats.CgroupFile($"4:memory:{path}\n"), mounts, out _);
            Assert.Equal("/sys/fs/cgroup/memory/kubepods/x", Locate("/kubepods/x")!.Directory);
            Assert.Equal("/mnt/part/child", Locate("/docker/abc/child")!.Directory);
        }

        [Fact]
        public void Resolves_a_cgroup_under_a_mount_of_part_of_the_hierarchy_and_refuses_paths_that_leave_it()
        {
            var mounts = KernelFormats.MountInfo("35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
            CgroupLocation? Locate(string path, out string why) => CgroupMemoryReader.Locate(KernelFormats.CgroupFile($"4:memory:{path}\n"), mounts, out why);

            Assert.Equal("/sys/fs/cgroup/memory/child", Locate("/docker/abc/child", out _)!.Directory);
            Assert.Equal("/sys/fs/cgroup/memory", Locate("/docker/abc", out _)!.Directory);
            Assert.Null(Locate("/docker/other", out string outside));
            Assert.Contains("outside", outside);
            Assert.Null(Locate("/docker/abc/../../../etc", out string dots));
            Assert.Contains("not a cgroup path", dots);
            Assert.Null(Locate("relative", out _));
            Assert.Null(CgroupMemoryReader.Locate(KernelFormats.CgroupFile("4:memory:/x\n"), new List<MountEntry>(), out string unmounted));
            Assert.Contains("not mounted", unmounted);
        }

        /// <summary>The v2 fixture copied under a folder whose name has a space (escaped as \040 in mountinfo), located through its cgroup and mountinfo files.</summary>
        private CgroupLocation LocateV2Fixture()
        {
            CopyTree(Fixture("cgroup-v2", "sys-fs-cgroup"), temp);
            string mountinfo = File.ReadAllText(Fixture("cgroup-v2", "proc-self-mountinfo")).Replace(" /sys/fs/cgroup ", " " + temp.Replace(" ", "\\040") + " ");
            var location = CgroupMemoryReader.Locate(KernelFormats.CgroupFile(File.ReadAllText(Fixture("cgroup-v2", "proc-cgroup"))), KernelFormats.MountInfo(mountinfo), out string why);
            Assert.True(location != null, why);
            return location!;
        }

        private string ContainerDir(CgroupLocation l) => l.Directory;
        private static string PodDir(CgroupLocation l) => Path.GetDirectoryName(l.Directory)!;
        private static long FileNumber(string dir, string file) => long.Parse(File.ReadAllText(Path.Combine(dir, file)).Trim());

        [Fact]
        public void Reads_a_v2_containers_usage_limit_peak_breakdown_and_oom_events()
        {
            var location = LocateV2Fixture();
            Assert.Equal(2, location.Version);
            Assert.EndsWith("/cri-containerd-7d1e9f0c2b.scope", location.Directory);
            Assert.StartsWith(temp, location.Directory);

            var m = CgroupMemoryReader.Read(location, 1)!;
            string dir = ContainerDir(location);
            Assert.Equal(FileNumber(dir, "memory.current"), m.Usage);
            Assert.Equal(FileNumber(dir, "memory.peak"), m.Peak);
            Assert.Null(m.High);                                            // "max"
            Assert.Equal(196083712L, m.Anonymous);                          // memory.stat anon
            Assert.Equal(18874368L, m.File);                                // memory.stat file
            Assert.Equal(4817L, m.LimitHits);                               // memory.events max
            Assert.Equal(3L, m.OomEvents);                                  // memory.events oom
            Assert.Equal(1L, m.OomKills);                                   // memory.events oom_kill
            // The container's 256 MiB is nearer than the pod's 512 MiB and the node's 7 GiB.
            Assert.Equal(FileNumber(dir, "memory.max"), m.Limit);
            Assert.Equal(location.Path, m.LimitPath);
            Assert.Equal(m.Usage, m.LimitUsage);
        }

        [Fact]
        public void Takes_the_limit_of_an_ancestor_when_the_container_sets_none()
        {
            var location = LocateV2Fixture();
            File.WriteAllText(Path.Combine(ContainerDir(location), "memory.max"), "max\n");
            var m = CgroupMemoryReader.Read(location, 1)!;
            Assert.Equal(FileNumber(PodDir(location), "memory.max"), m.Limit);
            Assert.Equal(FileNumber(PodDir(location), "memory.current"), m.LimitUsage);
            Assert.Equal(location.Path.Substring(0, location.Path.LastIndexOf('/')), m.LimitPath);
        }

        [Fact]
        public void Says_no_limit_when_no_level_sets_one()
        {
            var location = LocateV2Fixture();
            foreach (var file in Directory.GetFiles(temp, "memory.max", SearchOption.AllDirectories)) File.WriteAllText(file, "max\n");
            var m = CgroupMemoryReader.Read(location, 1)!;
            Assert.Null(m.Limit);
            Assert.Equal("", m.LimitPath);

            var info = new ProcessMemoryInfo { ProcessId = 1, ResidentBytes = 10, NoLimit = true, CgroupUsageBytes = 20 };
            var names = info.ToSamples().Select(s => s.Name).ToArray();
            Assert.DoesNotContain("memory.cgroup.limit", names);
            Assert.DoesNotContain("memory.limit.utilization", names);
            Assert.DoesNotContain("memory.limit.headroom", names);
        }

        [Fact]
        public void Refuses_the_v2_files_of_a_host_without_the_memory_controller_on_v2()
        {
            CopyTree(Fixture("cgroup-v2", "sys-fs-cgroup"), temp);
            File.WriteAllText(Path.Combine(temp, "cgroup.controllers"), "cpu io pids\n");
            string mountinfo = File.ReadAllText(Fixture("cgroup-v2", "proc-self-mountinfo")).Replace(" /sys/fs/cgroup ", " " + temp.Replace(" ", "\\040") + " ");
            Assert.Null(CgroupMemoryReader.Locate(KernelFormats.CgroupFile(File.ReadAllText(Fixture("cgroup-v2", "proc-cgroup"))), KernelFormats.MountInfo(mountinfo), out string why));
            Assert.Contains("not enabled", why);
        }

        [Fact]
        public void Refuses_a_corrupt_an_oversized_and_a_fifo_cgroup_file_without_guessing_or_hanging()
        {
            var location = LocateV2Fixture();
            string dir = ContainerDir(location);
            File.WriteAllText(Path.Combine(dir, "memory.max"), "12abc\n");
            var corrupt = Assert.Throws<MemoryOpsException>(() => CgroupMemoryReader.Read(location, 7));
            Assert.Equal(FailureKind.InvalidData, corrupt.Kind);
            Assert.Equal(7, corrupt.Target);

            File.WriteAllText(Path.Combine(dir, "memory.max"), "268435456\n");
            File.WriteAllText(Path.Combine(dir, "memory.stat"), new string('x', 200_000));
            Assert.Equal(FailureKind.InvalidData, Assert.Throws<MemoryOpsException>(() => CgroupMemoryReader.Read(location, 7)).Kind);

            File.Delete(Path.Combine(dir, "memory.stat"));
            File.Delete(Path.Combine(dir, "memory.current"));
            var psi = new ProcessStartInfo("mkfifo");
            psi.ArgumentList.Add(Path.Combine(dir, "memory.current"));
            using (var mkfifo = Process.Start(psi)!) mkfifo.WaitForExit();
            Assert.True(File.Exists(Path.Combine(dir, "memory.current")));
            var clock = Stopwatch.StartNew();
            Assert.Equal(FailureKind.UnsafeFile, Assert.Throws<MemoryOpsException>(() => CgroupMemoryReader.Read(location, 7)).Kind);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        }

        [Fact]
        public void Reads_this_process_from_the_real_proc_and_its_cgroup()
        {
            var reader = new ProcessMemoryReader();
            var me = reader.Identify(Environment.ProcessId);
            var info = reader.Read(me);
            long rss = KernelFormats.KilobyteFields(File.ReadAllText("/proc/self/status"))["VmRSS"];
            Assert.InRange(info.ResidentBytes!.Value, rss / 2, rss * 2);   // this process allocates while it runs
            Assert.True(info.ProportionalBytes <= info.ResidentBytes);
            Assert.NotNull(info.CgroupVersion);
            string line = File.ReadAllLines("/proc/self/cgroup").First(l => info.CgroupVersion == 1 ? l.Split(':')[1].Split(',').Contains("memory") : l.StartsWith("0::"));
            Assert.Equal(line.Substring(line.IndexOf(':', line.IndexOf(':') + 1) + 1), info.CgroupPath);
            Assert.Equal(info.NoLimit, info.LimitBytes == null);
            Assert.True(reader.IsSame(me));
        }

        [Fact]
        public void Reads_a_kernel_thread_as_a_process_without_memory_not_as_one_that_ended()
        {
            // kthreadd is PID 2 where the host's PIDs are seen (as here); in a container's PID namespace no kernel
            // thread is visible and there is nothing to read.
            var reader = new ProcessMemoryReader();
            var stat = File.Exists("/proc/2/stat") ? File.ReadAllText("/proc/2/stat") : "";
            if ((KernelFormats.Flags(stat) & KernelFormats.KernelThreadFlag) == 0) return;
            var kthreadd = reader.Identify(2);
            Assert.True(kthreadd.IsKernelThread);
            var info = reader.Read(kthreadd);
            Assert.Null(info.ResidentBytes);
            Assert.True(info.ProcessAlive);
        }

        [Fact]
        public void Says_ProcessNotFound_for_a_PID_with_no_process_and_TargetExited_once_it_has_ended()
        {
            var reader = new ProcessMemoryReader();
            using var sleep = Process.Start("sleep", "60");
            var who = reader.Identify(sleep.Id);
            sleep.Kill();
            sleep.WaitForExit();
            Assert.Equal(FailureKind.TargetExited, Assert.Throws<MemoryOpsException>(() => reader.Read(who)).Kind);
            Assert.Equal(FailureKind.ProcessNotFound, Assert.Throws<MemoryOpsException>(() => reader.Identify(sleep.Id)).Kind);
            Assert.False(reader.IsSame(who));
        }

        [Fact]
        public void Gives_every_figure_a_named_sample_in_base_units()
        {
            var info = new ProcessMemoryInfo
            {
                ProcessId = 5, ProcessName = "orders", ResidentBytes = 100, ProportionalBytes = 90, AnonymousBytes = 80, FileBytes = 20, SharedBytes = 0,
                SwapBytes = 0, PeakResidentBytes = 120, CgroupVersion = 2, CgroupUsageBytes = 150, CgroupPeakBytes = 160, CgroupHighBytes = 190,
                CgroupAnonymousBytes = 100, CgroupFileBytes = 40, LimitBytes = 200, LimitUsageBytes = 150, HeadroomBytes = 50, Utilization = 0.75,
                LimitHits = 1, OomEvents = 2, OomKills = 3, GcCommittedBytes = 60, GcHeapBytes = 50,
            };
            var samples = info.ToSamples();
            Assert.Equal(ProcessMemoryInfo.Names.Select(n => n.Name).ToArray(), samples.Select(s => s.Name).ToArray());
            Assert.All(samples, s => Assert.Equal(ProcessMemoryInfo.SampleProvider, s.Provider));
            Assert.Equal(0.75, samples.Single(s => s.Name == "memory.limit.utilization").Value);
            Assert.Equal("fraction", samples.Single(s => s.Name == "memory.limit.utilization").Unit);
            Assert.Equal(3, samples.Single(s => s.Name == "memory.cgroup.oom_kill").Value);
            Assert.Equal(40, samples.Single(s => s.Name == "memory.non_gc").Value);   // RSS 100 - GC committed 60
        }

        private static void CopyTree(string from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            foreach (var dir in Directory.GetDirectories(from)) CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}
