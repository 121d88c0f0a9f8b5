using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.ProcessMemory;

namespace MemoryOps.Commands
{
    /// <summary>
    /// The memory of any process (not only .NET) against its memory cgroup's limit: resident, anonymous, file-backed,
    /// shared and swapped bytes, PSS, the cgroup's usage, effective limit, headroom, utilization and OOM kills. One
    /// ProcessMemoryInfo per process and reading (a one-line summary), or with -AsSample the same figures as
    /// CounterSamples (memory.rss, memory.limit.utilization, memory.cgroup.oom_kill, ...). Read from /proc and the
    /// cgroup file system: no diagnostic socket, nothing runs in the target.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ProcessMemory", DefaultParameterSetName = ByIdSet)]
    [OutputType(typeof(ProcessMemoryInfo))]
    [OutputType(typeof(CounterSample))]
    public sealed class GetProcessMemoryCommand : MemoryOpsCmdlet
    {
        private const string ByIdSet = "ProcessId";
        private const string ByNameSet = "Name";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByIdSet, ValueFromPipelineByPropertyName = true)]
        [Alias("Id", "PID")]
        [ValidateRange(1, int.MaxValue)]
        public int[] ProcessId { get; set; } = Array.Empty<int>();

        [Parameter(Mandatory = true, ParameterSetName = ByNameSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = Array.Empty<string>();

        [Parameter]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0.1, 3600)]
        public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

        [Parameter]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0, GetGcCounterCommand.MaxWindowSeconds, TooLong = "For longer, use -Continuous.")]
        public TimeSpan Duration { get; set; }

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxSamples { get; set; }

        [Parameter]
        public SwitchParameter Continuous { get; set; }

        /// <summary>Emit the figures as CounterSamples (one per figure) instead of one ProcessMemoryInfo per reading.</summary>
        [Parameter]
        public SwitchParameter AsSample { get; set; }

        /// <summary>
        /// For a .NET process, also the GC's view (gc-committed, gc-heap-size) from a counter session in the process;
        /// other processes are read as without it. The one option that runs anything in the target.
        /// </summary>
        [Parameter]
        public SwitchParameter IncludeGc { get; set; }

        // How long the first reading waits for the GC's first values (they come about a second after the session opens).
        private static readonly TimeSpan GcFirstValues = TimeSpan.FromSeconds(10);

        private readonly ProcessMemoryReader reader = new ProcessMemoryReader();
        private readonly List<ProcessIdentity> targets = new List<ProcessIdentity>();

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByNameSet)
            {
                foreach (var pattern in Name)
                {
                    var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
                    var found = reader.FindByName(wildcard.IsMatch);
                    WriteVerbose($"'{pattern}' matches {found.Count} process(es)" + (found.Count > 0 ? ": " + string.Join(", ", found) : "") + ".");
                    if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                        WriteFailure(new MemoryOpsException(FailureKind.ProcessNotFound, $"No process is named '{pattern}'.", pattern), pattern);
                    foreach (var p in found) Add(p);
                }
                return;
            }
            foreach (var pid in ProcessId)
            {
                try { Add(reader.Identify(pid)); }
                catch (Exception e) when (!(e is PipelineStoppedException)) { WriteFailure(e, pid); }
            }
        }

        private void Add(ProcessIdentity p)
        {
            if (targets.Any(t => t.ProcessId == p.ProcessId)) return;
            targets.Add(p);
        }

        protected override void EndProcessing()
        {
            if (targets.Count == 0) return;
            bool oneShot = !Continuous && Duration == TimeSpan.Zero && MaxSamples == 0;
            DateTime? deadline = Duration > TimeSpan.Zero ? DateTime.UtcNow + Duration : (DateTime?)null;
            var live = new List<Watched>(targets.Select(t => new Watched(t)));
            var warned = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                if (IncludeGc) OpenGcViews(live);
                Watch(live, oneShot, deadline, warned);
            }
            finally
            {
                foreach (var w in live.Concat(closed)) w.Gc?.Dispose();
            }
        }

        private readonly List<Watched> closed = new List<Watched>();

        private void OpenGcViews(List<Watched> live)
        {
            foreach (var w in live)
            {
                WriteVerbose($"Opening a counter session in {w.Who} for {GcView.CommittedCounter} and {GcView.HeapCounter}.");
                w.Gc = GcView.TryOpen(w.Who.ProcessId, w.Who.Name, Interval, StopToken, out string why);
                if (w.Gc == null) WriteVerbose($"No GC figures for {w.Who}: {why}");
            }
            // The first reading waits for the GC's first values, so that the kernel's and the GC's figures are of one moment.
            var deadline = DateTime.UtcNow + GcFirstValues;
            var progress = new ProgressRecord(1, "Get-ProcessMemory", "Waiting for the GC's first values") { PercentComplete = -1 };
            foreach (var w in live.Where(w => w.Gc != null))
            {
                WriteProgress(progress);
                var left = deadline - DateTime.UtcNow;
                if (!w.Gc!.WaitForValues(left > TimeSpan.Zero ? left : TimeSpan.Zero, StopToken) && !StopToken.IsCancellationRequested)
                    WriteWarning($"Process {w.Who}: no GC figures within {GcFirstValues.TotalSeconds:0} s" + (w.Gc.Failure != null ? $" ({w.Gc.Failure.Message})" : "") + "; they are left empty until they come.");
            }
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        private void Watch(List<Watched> live, bool oneShot, DateTime? deadline, HashSet<string> warned)
        {
            while (live.Count > 0 && !StopToken.IsCancellationRequested)
            {
                var tick = DateTime.UtcNow;
                foreach (var w in live.ToList())
                {
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        var info = reader.Read(w.Who, text => { if (warned.Add(text)) WriteWarning(text); }, out var cgroup);
                        if (w.Gc != null)
                        {
                            info.GcCommittedBytes = w.Gc.CommittedBytes;
                            info.GcHeapBytes = w.Gc.HeapBytes;
                        }
                        WriteVerbose($"Read process {w.Who} in {clock.Elapsed.TotalMilliseconds:0.##} ms" + (cgroup == null ? "." : $" (cgroup v{cgroup.Version} '{cgroup.Path}' at {cgroup.Directory})."));
                        w.Cgroup = cgroup ?? w.Cgroup;
                        w.LastOomKills = info.OomKills ?? w.LastOomKills;
                        w.Count++;
                        Emit(info);
                        if (MaxSamples > 0 && w.Count >= MaxSamples) Close(live, w);
                    }
                    catch (MemoryOpsException e) when (e.Kind == FailureKind.TargetExited)
                    {
                        Close(live, w);
                        Ended(w, e);
                    }
                    catch (Exception e) when (!(e is PipelineStoppedException))
                    {
                        Close(live, w);
                        WriteFailure(e, w.Who.ProcessId);
                    }
                }
                if (oneShot || live.Count == 0) break;
                if (deadline.HasValue && DateTime.UtcNow >= deadline.Value)
                {
                    WriteVerbose($"Duration of {Duration.TotalSeconds:0.###} s reached.");
                    break;
                }
                // The next reading one interval after this one began (reading takes well under a millisecond per process).
                var next = tick + Interval;
                if (deadline.HasValue && deadline.Value < next) next = deadline.Value;
                var wait = next - DateTime.UtcNow;
                if (wait > TimeSpan.Zero) StopToken.WaitHandle.WaitOne(wait);
            }
        }

        private void Close(List<Watched> live, Watched w)
        {
            live.Remove(w);
            closed.Add(w);
        }

        /// <summary>
        /// A watched process ended. Its cgroup usually outlives it: one last reading of the cgroup alone (ProcessAlive
        /// false) shows the OOM kill that ended it, so a rule on memory.cgroup.oom_kill sees it; the error says so too.
        /// </summary>
        private void Ended(Watched w, MemoryOpsException e)
        {
            string why = "";
            if (w.Cgroup != null && ProcessMemoryReader.ReadAfterExit(w.Who, w.Cgroup) is ProcessMemoryInfo after)
            {
                if (after.OomKills.HasValue && w.LastOomKills.HasValue && after.OomKills > w.LastOomKills)
                    why = $" The OOM killer ended a process of its cgroup '{w.Cgroup.Path}' meanwhile (oom_kill {w.LastOomKills} → {after.OomKills}): most likely this one.";
                Emit(after);
            }
            WriteFailure(new MemoryOpsException(FailureKind.TargetExited, e.Message + why, w.Who.ProcessId), w.Who.ProcessId);
        }

        private void Emit(ProcessMemoryInfo info)
        {
            if (AsSample) WriteObject(info.ToSamples(), enumerateCollection: true);
            else WriteObject(info);
        }

        private sealed class Watched
        {
            public Watched(ProcessIdentity who) => Who = who;
            public ProcessIdentity Who { get; }
            public CgroupLocation? Cgroup { get; set; }
            public long? LastOomKills { get; set; }
            public int Count { get; set; }
            public GcView? Gc { get; set; }
        }
    }
}
