using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace MemoryOps.Engine.ProcessMemory
{
    /// <summary>Who a process is: its PID and start time (together they tell it from a later process given the same PID) and name.</summary>
    internal sealed class ProcessIdentity
    {
        public int ProcessId { get; init; }
        public ulong StartTicks { get; init; }
        /// <summary>/proc/PID/comm, raw (any process may call itself anything).</summary>
        public string Name { get; init; } = "";
        /// <summary>A kernel thread: no user memory, so no process figures (its cgroup is still read).</summary>
        public bool IsKernelThread { get; init; }

        public override string ToString() => $"{Display.Escape(Name)} ({ProcessId})";
    }

    /// <summary>
    /// Reads the memory of any process from the kernel (no diagnostic socket, no ptrace): /proc/PID/smaps_rollup
    /// (Rss, Pss, Swap), /proc/PID/status (RssAnon, RssFile, RssShmem, VmHWM) and its memory cgroup's files
    /// (<see cref="CgroupMemoryReader"/>). A process that is not there is ProcessNotFound; one that ends (or whose
    /// PID is taken by another process) between two reads is TargetExited.
    /// </summary>
    internal sealed class ProcessMemoryReader
    {
        private const int StatusMax = 16 * 1024, RollupMax = 8 * 1024, CgroupFileMax = 64 * 1024, MountInfoMax = 4 * 1024 * 1024;
        private readonly string procRoot;
        private IReadOnlyList<MountEntry>? mounts;

        /// <param name="procRoot">Where proc is mounted ("/proc").</param>
        public ProcessMemoryReader(string procRoot = "/proc") => this.procRoot = procRoot;

        /// <summary>This process's mounts, read once per reader (the cgroup mounts of a host do not move while a watch runs).</summary>
        private IReadOnlyList<MountEntry> Mounts => mounts ??=
            KernelFormats.MountInfo(KernelFile.TryRead(Path.Combine(procRoot, "self", "mountinfo"), MountInfoMax, "mountinfo") ?? "");

        /// <summary>The process with this PID, or ProcessNotFound.</summary>
        public ProcessIdentity Identify(int pid)
        {
            string? stat = ReadProc(pid, "stat", 4096);
            char? state = stat == null ? null : KernelFormats.State(stat);
            if (stat == null || state == 'Z' || state == 'X')
                throw new MemoryOpsException(FailureKind.ProcessNotFound, $"No process has the ID {pid}" + (stat == null ? "." : " (it has ended and is waiting to be reaped)."), pid);
            ulong ticks = KernelFormats.StartTicks(stat)
                ?? throw new MemoryOpsException(FailureKind.InvalidData, $"/proc/{pid}/stat cannot be read: it has no start time.", pid);
            string name = (ReadProc(pid, "comm", 256) ?? "").TrimEnd('\n');
            bool kernelThread = (KernelFormats.Flags(stat) & KernelFormats.KernelThreadFlag) != 0;
            return new ProcessIdentity { ProcessId = pid, StartTicks = ticks, Name = name, IsKernelThread = kernelThread };
        }

        /// <summary>Every process whose name (/proc/PID/comm, or its program file's name, for names the kernel cut at 15 characters) matches.</summary>
        public List<ProcessIdentity> FindByName(Func<string, bool> isMatch)
        {
            var found = new List<ProcessIdentity>();
            IEnumerable<string> dirs;
            try { dirs = Directory.EnumerateDirectories(procRoot).ToList(); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return found; }
            foreach (var dir in dirs)
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0) continue;
                ProcessIdentity who;
                try { who = Identify(pid); }
                catch (MemoryOpsException) { continue; } // ended while listing
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { continue; }
                bool matches = isMatch(who.Name);
                if (!matches && who.Name.Length >= 15)
                {
                    // comm holds 15 characters at most: "OrderServiceHost" is "OrderServiceHos" there.
                    string? cmdline = TryReadProc(pid, "cmdline", 64 * 1024);
                    string first = cmdline == null ? "" : cmdline.Split('\0')[0];
                    matches = first.Length > 0 && isMatch(Path.GetFileName(first));
                }
                if (matches) found.Add(who);
            }
            return found.OrderBy(p => p.ProcessId).ToList();
        }

        /// <summary>
        /// One reading of the process and its cgroup. <paramref name="warning"/> is told (once per call) when the
        /// cgroup cannot be found or read; the process figures are still returned then.
        /// </summary>
        public ProcessMemoryInfo Read(ProcessIdentity who, Action<string>? warning = null) => Read(who, warning, out _);

        /// <summary>As <see cref="Read(ProcessIdentity, Action{string})"/>, also giving the cgroup the reading came from (to read it once more after the process ends).</summary>
        public ProcessMemoryInfo Read(ProcessIdentity who, Action<string>? warning, out CgroupLocation? cgroup)
        {
            int pid = who.ProcessId;
            var info = new ProcessMemoryInfo { Timestamp = DateTime.UtcNow, ProcessId = pid, ProcessName = who.Name };

            string rollupText = ReadProcOfLive(who, "smaps_rollup", RollupMax);
            string statusText = ReadProcOfLive(who, "status", StatusMax);
            string cgroupText = ReadProcOfLive(who, "cgroup", CgroupFileMax);
            // The files were read one after another: if the PID now belongs to another process, they may mix two.
            EnsureSame(who);

            var rollup = KernelFormats.KilobyteFields(rollupText);
            var status = KernelFormats.KilobyteFields(statusText);
            info.ResidentBytes = Get(rollup, "Rss") ?? Get(status, "VmRSS");
            info.ProportionalBytes = Get(rollup, "Pss");
            info.SwapBytes = Get(rollup, "Swap") ?? Get(status, "VmSwap");
            info.AnonymousBytes = Get(status, "RssAnon") ?? Get(rollup, "Anonymous");
            info.FileBytes = Get(status, "RssFile");
            info.SharedBytes = Get(status, "RssShmem");
            info.PeakResidentBytes = Get(status, "VmHWM");

            cgroup = CgroupMemoryReader.Locate(KernelFormats.CgroupFile(cgroupText), Mounts, out string why);
            if (cgroup == null)
            {
                warning?.Invoke($"Process {who}: no memory cgroup figures, because {why}.");
                info.NoLimit = false;
                return info;
            }
            var memory = CgroupMemoryReader.Read(cgroup, pid);
            if (memory == null)
            {
                warning?.Invoke($"Process {who}: its memory cgroup '{cgroup.Path}' was removed while it was read.");
                return info;
            }
            Apply(info, memory);
            return info;
        }

        /// <summary>
        /// The cgroup figures alone, for a record made after the process ended (its cgroup outlives it: the OOM kill
        /// that ended it is counted there). Null when the cgroup is gone too.
        /// </summary>
        public static ProcessMemoryInfo? ReadAfterExit(ProcessIdentity who, CgroupLocation cgroup)
        {
            CgroupMemory? memory;
            try { memory = CgroupMemoryReader.Read(cgroup, who.ProcessId); }
            catch (Exception e) when (e is MemoryOpsException || e is IOException || e is UnauthorizedAccessException) { return null; }
            if (memory == null) return null;
            var info = new ProcessMemoryInfo { Timestamp = DateTime.UtcNow, ProcessId = who.ProcessId, ProcessName = who.Name, ProcessAlive = false };
            Apply(info, memory);
            return info;
        }

        private static void Apply(ProcessMemoryInfo info, CgroupMemory memory)
        {
            info.CgroupVersion = memory.Location.Version;
            info.CgroupPath = memory.Location.Path;
            info.CgroupUsageBytes = memory.Usage;
            info.CgroupPeakBytes = memory.Peak;
            info.CgroupHighBytes = memory.High;
            info.CgroupAnonymousBytes = memory.Anonymous;
            info.CgroupFileBytes = memory.File;
            info.LimitHits = memory.LimitHits;
            info.OomEvents = memory.OomEvents;
            info.OomKills = memory.OomKills;
            info.LimitBytes = memory.Limit;
            info.NoLimit = memory.Limit == null;
            info.LimitCgroupPath = memory.Limit == null ? "" : memory.LimitPath;
            info.LimitUsageBytes = memory.LimitUsage;
            if (memory.Limit is long limit && memory.LimitUsage is long usage)
            {
                info.HeadroomBytes = limit - usage;
                info.Utilization = limit > 0 ? (double)usage / limit : 1.0;
            }
        }

        /// <summary>Throws TargetExited when the PID no longer names the process that was identified.</summary>
        public void EnsureSame(ProcessIdentity who)
        {
            if (!IsSame(who))
                throw new MemoryOpsException(FailureKind.TargetExited, $"Process {who} has ended.", who.ProcessId);
        }

        /// <summary>True while the PID still names the identified process (not ended, not a zombie, not reused).</summary>
        public bool IsSame(ProcessIdentity who)
        {
            string? stat = TryReadProc(who.ProcessId, "stat", 4096);
            if (stat == null) return false;
            char? state = KernelFormats.State(stat);
            return state != 'Z' && state != 'X' && KernelFormats.StartTicks(stat) == who.StartTicks;
        }

        private string ReadProcOfLive(ProcessIdentity who, string file, int max)
        {
            string? text;
            try { text = ReadProc(who.ProcessId, file, max); }
            catch (UnauthorizedAccessException e)
            {
                throw new MemoryOpsException(FailureKind.AccessDenied, $"Process {who}: /proc/{who.ProcessId}/{file} cannot be read ({e.Message}). Only its owner or root can read its memory map.", who.ProcessId, e);
            }
            if (!string.IsNullOrEmpty(text)) return text;
            // A kernel thread has no memory map to open (ESRCH): nothing to report, and it goes on.
            if (who.IsKernelThread && IsSame(who)) return "";
            // A user process whose memory map cannot be opened (ESRCH) or reads empty has released its memory on the
            // way out (an OOM kill tears it down before it becomes a zombie): it has ended.
            throw new MemoryOpsException(FailureKind.TargetExited, $"Process {who} has ended.", who.ProcessId);
        }

        private string? ReadProc(int pid, string file, int max) =>
            KernelFile.TryRead(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), file), max, pid);

        private string? TryReadProc(int pid, string file, int max)
        {
            try { return ReadProc(pid, file, max); }
            catch (Exception e) when (e is MemoryOpsException || e is IOException || e is UnauthorizedAccessException) { return null; }
        }

        private static long? Get(Dictionary<string, long> values, string key) => values.TryGetValue(key, out long v) ? v : (long?)null;
    }
}
