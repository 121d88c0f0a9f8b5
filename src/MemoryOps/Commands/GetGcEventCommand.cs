using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.GcEvents;
using MemoryOps.Engine.Sessions;

namespace MemoryOps.Commands
{
    /// <summary>
    /// One GcEventRecord per garbage collection in the target(s), from the runtime's GC events;
    /// with -Summary, one GcSummary per process for the window instead (collections, pauses, pause fraction).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "GcEvent", DefaultParameterSetName = ByIdSet)]
    [OutputType(typeof(GcEventRecord))]
    [OutputType(typeof(GcSummary))]
    public sealed class GetGcEventCommand : SessionStreamCmdlet<GetGcEventCommand.GcStreamItem>
    {
        [Parameter]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0, GetGcCounterCommand.MaxWindowSeconds, TooLong = "For longer, use -Continuous.")]
        public TimeSpan Duration { get; set; }

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxEvents { get; set; }

        [Parameter]
        public SwitchParameter Continuous { get; set; }

        [Parameter]
        public SwitchParameter Summary { get; set; }

        private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

        protected override void BeginProcessing()
        {
            if (Summary && Continuous && Duration == TimeSpan.Zero)
                ThrowTerminatingError(ToErrorRecord(new MemoryOpsException(FailureKind.InvalidInput, "-Summary needs a window: use -Duration (or -MaxEvents), not -Continuous alone.")));
        }

        protected override void ProcessRecord() => ResolveTargets();

        private readonly Dictionary<int, int> counts = new Dictionary<int, int>();
        private readonly Dictionary<int, List<GcEventRecord>> records = new Dictionary<int, List<GcEventRecord>>();
        private ProgressRecord? progress;

        protected override void EndProcessing()
        {
            if (Targets.Count == 0) return;

            // Without -Continuous, -Duration or -MaxEvents, watch for 10 seconds.
            TimeSpan window = Duration > TimeSpan.Zero ? Duration : (!Continuous && MaxEvents == 0 ? DefaultDuration : TimeSpan.Zero);

            // GCs are irregular, so the session also asks for a once-a-second heartbeat: a target that stops sending it is
            // stopped or frozen, not idle. In a watch or a window the gap is reported when it begins and ends (and a
            // summary carries it); waiting for -MaxEvents, it ends with a Timeout error once the heartbeat is the start
            // timeout overdue. See Get-GcCounter for the same rule.
            bool watch = Continuous || window > TimeSpan.Zero;
            TimeSpan? silenceLimit = watch ? (TimeSpan?)null : GcEventSession.HeartbeatInterval + EventPipeRunner.StartTimeout;
            progress = window > TimeSpan.Zero ? new ProgressRecord(2, "Get-GcEvent", "Watching garbage collections") : null;

            Stream(TimeSpan.FromMilliseconds(200), window, target =>
            {
                int pid = target.ProcessId;
                counts[pid] = 0;
                records[pid] = new List<GcEventRecord>();
                WriteVerbose($"Starting a GC event session in {target}.");
                var session = new GcEventSession(pid, target.Name);
                return (new StreamGapDetector(pid, GcEventSession.HeartbeatInterval, "heartbeat", silenceLimit), (emit, warn, token) => session.Run(
                    record => emit(new GcStreamItem { Record = record }), token,
                    onStarted: () => emit(new GcStreamItem { SessionStarted = true }),
                    onHeartbeat: () => emit(new GcStreamItem())));
            });
            if (progress != null)
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }

            if (StopToken.IsCancellationRequested) return;
            // A process that had its -MaxEvents ended its session early (Done): its silence since then is no gap.
            CloseWindow("nothing was observed");
            if (!Summary) return;
            var ended = StoppedAt ?? DateTime.UtcNow;
            foreach (var target in Targets)
            {
                int pid = target.ProcessId;
                if (Failed.Contains(pid)) continue;
                var gap = Gaps[pid];
                var summary = GcSummaryCalculator.Summarize(pid, target.Name, Started, ended, records[pid]);
                summary.GapCount = gap.GapCount;
                summary.GapDuration = gap.GapSeconds;
                if (gap.GapCount > 0)
                    WriteWarning($"The summary of process {pid} covers {summary.GapDuration:0.#} s of {summary.WindowDuration:0.#} s in which the target sent nothing " +
                                 $"(stopped or frozen): its counts and PauseFraction describe less than the window (see GapDuration).");
                WriteObject(summary);
            }
        }

        protected override void OnItem(int pid, GcStreamItem item, DateTime now)
        {
            var record = item.Record;
            if (record == null || (MaxEvents > 0 && counts[pid] >= MaxEvents)) return;
            counts[pid]++;
            if (Summary) records[pid].Add(record); else WriteObject(record);
            if (MaxEvents > 0 && counts[pid] >= MaxEvents) Finish(pid);
        }

        protected override void OnTick(DateTime now)
        {
            if (progress == null) return;
            progress.PercentComplete = (int)Math.Min(100, (now - Started).TotalMilliseconds * 100 / Window.TotalMilliseconds);
            progress.SecondsRemaining = (int)Math.Max(0, (Started + Window - now).TotalSeconds);
            progress.StatusDescription = $"{counts.Values.Sum()} collections so far";
            WriteProgress(progress);
        }

        /// <summary>What a GC event session hands the pipeline thread: a record, or (with none) a heartbeat or the session's start.</summary>
        public sealed class GcStreamItem : SessionStreamItem
        {
            public GcEventRecord? Record;
        }
    }
}
