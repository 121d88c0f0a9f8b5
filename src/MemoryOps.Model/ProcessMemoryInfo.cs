using System;
using System.Collections.Generic;

namespace MemoryOps
{
    /// <summary>
    /// The memory of one process (any process, .NET or not) at one moment, against the limit of its memory cgroup:
    /// what the kernel counts for it (/proc/PID/smaps_rollup and status), what its cgroup uses and may use, how many
    /// times the kernel's OOM killer struck there, and for a .NET process the GC's share. All sizes in bytes; a value
    /// the kernel does not give (no cgroup, no limit, no GC) is null, never 0 or a huge number.
    /// </summary>
    public sealed class ProcessMemoryInfo
    {
        /// <summary>The provider the samples of <see cref="ToSamples"/> carry.</summary>
        public const string SampleProvider = "MemoryOps.ProcessMemory";

        public DateTime Timestamp { get; set; }
        /// <summary>The machine the process ran on (see CounterSample.Host).</summary>
        public string Host { get; set; } = Environment.MachineName;
        public int ProcessId { get; set; }
        /// <summary>The kernel's name for the process (/proc/PID/comm), raw; views show it escaped.</summary>
        public string ProcessName { get; set; } = "";
        /// <summary>False for a record made after the process ended (its cgroup read one last time): the process figures are null then.</summary>
        public bool ProcessAlive { get; set; } = true;

        /// <summary>Resident set size (smaps_rollup Rss).</summary>
        public long? ResidentBytes { get; set; }
        /// <summary>Proportional set size: resident bytes with each shared page divided among the processes that map it.</summary>
        public long? ProportionalBytes { get; set; }
        /// <summary>Resident anonymous memory (status RssAnon): heaps, stacks, the GC's heap; what a leak grows.</summary>
        public long? AnonymousBytes { get; set; }
        /// <summary>Resident file-backed pages (status RssFile): program code, mapped files.</summary>
        public long? FileBytes { get; set; }
        /// <summary>Resident shared memory (status RssShmem: tmpfs, shm segments).</summary>
        public long? SharedBytes { get; set; }
        /// <summary>Swapped-out bytes (smaps_rollup Swap).</summary>
        public long? SwapBytes { get; set; }
        /// <summary>The highest resident set size since the process started (status VmHWM).</summary>
        public long? PeakResidentBytes { get; set; }

        /// <summary>1 or 2 (the cgroup hierarchy the memory controller is on); null when no memory cgroup was found.</summary>
        public int? CgroupVersion { get; set; }
        /// <summary>The process's memory cgroup, as /proc/PID/cgroup names it (raw).</summary>
        public string CgroupPath { get; set; } = "";
        /// <summary>What the process's cgroup (and its descendants) is charged: memory.current or memory.usage_in_bytes.</summary>
        public long? CgroupUsageBytes { get; set; }
        /// <summary>The cgroup's highest usage (memory.peak, or memory.max_usage_in_bytes); null where the kernel has no such file.</summary>
        public long? CgroupPeakBytes { get; set; }
        /// <summary>cgroup v2's memory.high throttling threshold, null when "max" or on v1.</summary>
        public long? CgroupHighBytes { get; set; }
        /// <summary>Anonymous memory of the cgroup (memory.stat anon, or total_rss on v1).</summary>
        public long? CgroupAnonymousBytes { get; set; }
        /// <summary>Page cache of the cgroup (memory.stat file, or total_cache on v1): mostly reclaimable before an OOM kill.</summary>
        public long? CgroupFileBytes { get; set; }

        /// <summary>The effective limit: of the memory.max / memory.limit_in_bytes of the cgroup and its ancestors, the one with the least headroom (usually the smallest); null when none is set.</summary>
        public long? LimitBytes { get; set; }
        /// <summary>True when neither the cgroup nor any ancestor sets a limit (the process can use the machine's memory).</summary>
        public bool NoLimit { get; set; }
        /// <summary>The cgroup whose limit is nearest to being reached (the process's own or an ancestor).</summary>
        public string LimitCgroupPath { get; set; } = "";
        /// <summary>The usage of <see cref="LimitCgroupPath"/>: what the limit is held against (an ancestor's includes its other children).</summary>
        public long? LimitUsageBytes { get; set; }
        /// <summary>Limit minus usage of the limiting cgroup; null when there is no limit.</summary>
        public long? HeadroomBytes { get; set; }
        /// <summary>Usage over limit of the limiting cgroup, 0..1 (above 1 only for a limit lowered below the usage); null when there is no limit.</summary>
        public double? Utilization { get; set; }

        /// <summary>How often the cgroup hit its limit (v1 memory.failcnt, v2 memory.events max).</summary>
        public long? LimitHits { get; set; }
        /// <summary>Times the cgroup ran out of memory (v2 memory.events oom; v1 has no such count).</summary>
        public long? OomEvents { get; set; }
        /// <summary>Processes of the cgroup the OOM killer ended (memory.events oom_kill, or memory.oom_control oom_kill on v1), since the cgroup was made.</summary>
        public long? OomKills { get; set; }

        /// <summary>For a .NET process: memory the GC has committed (System.Runtime gc-committed); null otherwise.</summary>
        public long? GcCommittedBytes { get; set; }
        /// <summary>For a .NET process: the GC heap's size (System.Runtime gc-heap-size); null otherwise.</summary>
        public long? GcHeapBytes { get; set; }
        /// <summary>Resident bytes the GC has not committed (native memory, code, stacks, mapped files): RSS minus GC committed.</summary>
        public long? NonGcBytes => ResidentBytes.HasValue && GcCommittedBytes.HasValue ? Math.Max(0, ResidentBytes.Value - GcCommittedBytes.Value) : (long?)null;

        /// <summary>
        /// The record as counter samples, one per known value, for Test-MemoryThreshold, baselines and metric export:
        /// memory.rss, memory.pss, memory.anonymous, memory.file, memory.shared, memory.swap, memory.peak,
        /// memory.cgroup.usage, memory.cgroup.peak, memory.cgroup.high, memory.cgroup.anonymous, memory.cgroup.file,
        /// memory.cgroup.limit, memory.limit.headroom, memory.limit.utilization (a 0..1 fraction),
        /// memory.cgroup.limit_hits, memory.cgroup.oom, memory.cgroup.oom_kill, memory.gc.committed, memory.gc.heap and
        /// memory.non_gc. A value that is not known (no limit: no memory.cgroup.limit, headroom or utilization) has no sample.
        /// </summary>
        public CounterSample[] ToSamples()
        {
            var samples = new List<CounterSample>(21);
            string description = "";
            void Add(string name, double? value, string unit)
            {
                if (!value.HasValue) return;
                samples.Add(new CounterSample
                {
                    Timestamp = Timestamp, ProcessId = ProcessId, Host = Host, ProcessName = ProcessName, Provider = SampleProvider,
                    Name = name, Value = value.Value, Unit = unit, Kind = CounterKind.Gauge, Source = "Kernel", DisplayName = description,
                });
            }
            foreach (var (name, what) in Names)
            {
                description = what;
                switch (name)
                {
                    case "memory.rss": Add(name, ResidentBytes, "bytes"); break;
                    case "memory.pss": Add(name, ProportionalBytes, "bytes"); break;
                    case "memory.anonymous": Add(name, AnonymousBytes, "bytes"); break;
                    case "memory.file": Add(name, FileBytes, "bytes"); break;
                    case "memory.shared": Add(name, SharedBytes, "bytes"); break;
                    case "memory.swap": Add(name, SwapBytes, "bytes"); break;
                    case "memory.peak": Add(name, PeakResidentBytes, "bytes"); break;
                    case "memory.cgroup.usage": Add(name, CgroupUsageBytes, "bytes"); break;
                    case "memory.cgroup.peak": Add(name, CgroupPeakBytes, "bytes"); break;
                    case "memory.cgroup.high": Add(name, CgroupHighBytes, "bytes"); break;
                    case "memory.cgroup.anonymous": Add(name, CgroupAnonymousBytes, "bytes"); break;
                    case "memory.cgroup.file": Add(name, CgroupFileBytes, "bytes"); break;
                    case "memory.cgroup.limit": Add(name, LimitBytes, "bytes"); break;
                    case "memory.limit.headroom": Add(name, HeadroomBytes, "bytes"); break;
                    case "memory.limit.utilization": Add(name, Utilization, "fraction"); break;
                    case "memory.cgroup.limit_hits": Add(name, LimitHits, "count"); break;
                    case "memory.cgroup.oom": Add(name, OomEvents, "count"); break;
                    case "memory.cgroup.oom_kill": Add(name, OomKills, "count"); break;
                    case "memory.gc.committed": Add(name, GcCommittedBytes, "bytes"); break;
                    case "memory.gc.heap": Add(name, GcHeapBytes, "bytes"); break;
                    case "memory.non_gc": Add(name, NonGcBytes, "bytes"); break;
                }
            }
            return samples.ToArray();
        }

        /// <summary>Every sample name <see cref="ToSamples"/> can give, with what it is (for completion, help and rule checks).</summary>
        public static readonly (string Name, string Description)[] Names =
        {
            ("memory.rss", "resident set size (smaps_rollup Rss)"),
            ("memory.pss", "proportional set size (smaps_rollup Pss)"),
            ("memory.anonymous", "resident anonymous memory (status RssAnon)"),
            ("memory.file", "resident file-backed memory (status RssFile)"),
            ("memory.shared", "resident shared memory (status RssShmem)"),
            ("memory.swap", "swapped-out memory (smaps_rollup Swap)"),
            ("memory.peak", "highest resident set size (status VmHWM)"),
            ("memory.cgroup.usage", "the cgroup's usage (memory.current / memory.usage_in_bytes)"),
            ("memory.cgroup.peak", "the cgroup's highest usage (memory.peak / memory.max_usage_in_bytes)"),
            ("memory.cgroup.high", "the cgroup's memory.high (v2)"),
            ("memory.cgroup.anonymous", "the cgroup's anonymous memory (memory.stat anon / total_rss)"),
            ("memory.cgroup.file", "the cgroup's page cache (memory.stat file / total_cache)"),
            ("memory.cgroup.limit", "the effective limit (of the cgroup's and its ancestors', the one with the least headroom)"),
            ("memory.limit.headroom", "bytes left to the effective limit"),
            ("memory.limit.utilization", "usage over the effective limit, 0..1"),
            ("memory.cgroup.limit_hits", "times the cgroup hit its limit (memory.failcnt / memory.events max)"),
            ("memory.cgroup.oom", "times the cgroup ran out of memory (memory.events oom, v2)"),
            ("memory.cgroup.oom_kill", "processes of the cgroup ended by the OOM killer (oom_kill)"),
            ("memory.gc.committed", "memory the .NET GC has committed (gc-committed)"),
            ("memory.gc.heap", "the .NET GC heap's size (gc-heap-size)"),
            ("memory.non_gc", "resident memory outside the GC's committed memory (RSS - gc-committed)"),
        };

        public override string ToString() => $"{ProcessName} ({ProcessId}): {ResidentBytes} bytes resident" +
            (LimitBytes.HasValue ? $", {LimitUsageBytes} of {LimitBytes} bytes of its cgroup's limit" : NoLimit ? ", no memory limit" : "");
    }
}
