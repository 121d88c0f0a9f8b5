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
    public sealed class GetGcEventCommand : ProcessTargetCmdlet
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

        protected override void EndProcessing()
        {
            if (Targets.Count == 0) return;

            // Without -Continuous, -Duration or -MaxEvents, watch for 10 seconds.
            TimeSpan window = Duration > TimeSpan.Zero ? Duration : (!Continuous && MaxEvents == 0 ? DefaultDuration : TimeSpan.Zero);
            var started = DateTime.UtcNow;
            DateTime? deadline = window > TimeSpan.Zero ? started + window : (DateTime?)null;
            var counts = new Dictionary<int, int>();
            var records = new Dictionary<int, List<GcEventRecord>>();
            var failed = new HashSet<int>();

            // GCs are irregular, so the session also asks for a once-a-second heartbeat: a target that stops sending it is
            // stopped or frozen, not idle. In a watch or a window the gap is reported when it begins and ends (and a
            // summary carries it); waiting for -MaxEvents, it ends with a Timeout error once the heartbeat is the start
            // timeout overdue. See Get-GcCounter for the same rule.
            bool watch = Continuous || deadline.HasValue;
            TimeSpan? silenceLimit = watch ? (TimeSpan?)null : GcEventSession.HeartbeatInterval + EventPipeRunner.StartTimeout;
            var gaps = new Dictionary<int, StreamGapDetector>();
            DateTime? stoppedAt = null;

            using var collector = new ParallelCollector<GcStreamItem>(StopToken);
            foreach (var target in Targets)
            {
                int pid = target.ProcessId;
                counts[pid] = 0;
                records[pid] = new List<GcEventRecord>();
                gaps[pid] = new StreamGapDetector(pid, GcEventSession.HeartbeatInterval, "heartbeat", silenceLimit);
                WriteVerbose($"Starting a GC event session in {target}.");
                var session = new GcEventSession(pid, target.Name);
                collector.Start(pid, (emit, warn, token) => session.Run(
                    record => emit(new GcStreamItem { Record = record }), token,
                    onStarted: () => emit(new GcStreamItem { SessionStarted = true }),
                    onHeartbeat: () => emit(new GcStreamItem())));
            }

            var progress = new ProgressRecord(2, "Get-GcEvent", "Watching garbage collections");
            foreach (var item in collector.Consume(TimeSpan.FromMilliseconds(200)))
            {
                // Ctrl+C: leave even if a frozen target keeps a worker from finishing (Dispose abandons it after a grace period).
                if (StopToken.IsCancellationRequested) break;
                var now = DateTime.UtcNow;
                if (item.Error != null)
                {
                    WriteFailure(item.Error, item.WorkerKey);
                    failed.Add(item.WorkerKey);
                }
                else if (item.Value != null && !failed.Contains(item.WorkerKey))
                {
                    int pid = item.WorkerKey;
                    var gap = gaps[pid];
                    if (item.Value.SessionStarted) gap.Start(item.Value.Arrived);
                    else if (stoppedAt == null && gap.Arrived(item.Value.Arrived) is string resumed) WriteWarning(resumed);
                    var record = item.Value.Record;
                    if (record != null && (MaxEvents == 0 || counts[pid] < MaxEvents))
                    {
                        counts[pid]++;
                        if (Summary) records[pid].Add(record); else WriteObject(record);
                        if (MaxEvents > 0 && counts[pid] >= MaxEvents) collector.StopWorker(pid);
                    }
                }

                // Silence is judged only with the queue empty (a backlog behind a slow consumer is not a silent target).
                if (stoppedAt == null && collector.Pending == 0)
                {
                    foreach (var kv in gaps)
                    {
                        if (failed.Contains(kv.Key) || (MaxEvents > 0 && counts[kv.Key] >= MaxEvents)) continue;
                        string? begun = kv.Value.Check(now, out bool timedOut);
                        if (timedOut)
                        {
                            WriteFailure(kv.Value.TimeoutError(now), kv.Key);
                            failed.Add(kv.Key);
                            collector.StopWorker(kv.Key);
                        }
                        else if (begun != null) WriteWarning(begun);
                    }
                }

                if (deadline.HasValue)
                {
                    if (now >= deadline.Value && stoppedAt == null)
                    {
                        stoppedAt = now;
                        collector.StopAll();
                    }
                    progress.PercentComplete = (int)Math.Min(100, (now - started).TotalMilliseconds * 100 / window.TotalMilliseconds);
                    progress.SecondsRemaining = (int)Math.Max(0, (deadline.Value - now).TotalSeconds);
                    progress.StatusDescription = $"{counts.Values.Sum()} collections so far";
                    WriteProgress(progress);
                }
            }
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);

            if (StopToken.IsCancellationRequested) return;
            var ended = stoppedAt ?? DateTime.UtcNow;
            foreach (var target in Targets)
            {
                int pid = target.ProcessId;
                if (failed.Contains(pid)) continue;
                var gap = gaps[pid];
                // The window closed while the session was still being opened: the target never answered. A summary of
                // "0 collections" would read as a quiet, healthy process, so this is an error, not a summary.
                if (!gap.Watching && stoppedAt.HasValue)
                {
                    WriteFailure(new MemoryOpsException(FailureKind.Timeout,
                        $"Process {pid} did not open a diagnostic session within the {window.TotalSeconds:0.###} s window (is it stopped or frozen?): nothing was observed.", pid), pid);
                    continue;
                }
                // A process that had its -MaxEvents ended its session early: its silence since then is no gap.
                bool endedEarly = MaxEvents > 0 && counts[pid] >= MaxEvents;
                if (stoppedAt.HasValue && !endedEarly && gap.Close(stoppedAt.Value) is string tail) WriteWarning(tail);
                if (!Summary) continue;
                var summary = GcSummaryCalculator.Summarize(pid, target.Name, started, ended, records[pid]);
                summary.GapCount = gap.GapCount;
                summary.GapDuration = gap.GapSeconds;
                if (gap.GapCount > 0)
                    WriteWarning($"The summary of process {pid} covers {summary.GapDuration:0.#} s of {summary.WindowDuration:0.#} s in which the target sent nothing " +
                                 $"(stopped or frozen): its counts and PauseFraction describe less than the window (see GapDuration).");
                WriteObject(summary);
            }
        }

        /// <summary>What a GC event session hands the pipeline thread: a record, or (with none) a heartbeat or the session's start.</summary>
        private sealed class GcStreamItem
        {
            public GcEventRecord? Record;
            public bool SessionStarted;
            /// <summary>When the worker thread received it, so a backlog on the pipeline thread is not mistaken for a silent target.</summary>
            public readonly DateTime Arrived = DateTime.UtcNow;
        }
    }
}
