using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
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
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Summary needs a window: use -Duration (or -MaxEvents), not -Continuous alone."),
                    "SummaryNeedsWindow", ErrorCategory.InvalidArgument, null));
            if (Duration < TimeSpan.Zero)
                ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Duration), "-Duration cannot be negative."),
                    "InvalidDuration", ErrorCategory.InvalidArgument, Duration));
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

            using var collector = new ParallelCollector<GcEventRecord>(Stopping);
            foreach (var target in Targets)
            {
                counts[target.ProcessId] = 0;
                records[target.ProcessId] = new List<GcEventRecord>();
                WriteVerbose($"Starting a GC event session in {target}.");
                var session = new GcEventSession(target.ProcessId, target.Name);
                collector.Start(target.ProcessId, (emit, warn, token) => session.Run(emit, token));
            }

            var progress = new ProgressRecord(2, "Get-GcEvent", "Watching garbage collections");
            foreach (var item in collector.Consume(TimeSpan.FromMilliseconds(200)))
            {
                // Ctrl+C: leave even if a frozen target keeps a worker from finishing (Dispose abandons it after a grace period).
                if (Stopping.IsCancellationRequested) break;
                var now = DateTime.UtcNow;
                if (item.Error != null)
                {
                    WriteFailure(item.Error, item.WorkerKey);
                    failed.Add(item.WorkerKey);
                }
                else if (item.Value != null)
                {
                    int pid = item.Value.ProcessId;
                    if (MaxEvents == 0 || counts[pid] < MaxEvents)
                    {
                        counts[pid]++;
                        if (Summary) records[pid].Add(item.Value); else WriteObject(item.Value);
                        if (MaxEvents > 0 && counts[pid] >= MaxEvents) collector.StopWorker(pid);
                    }
                }

                if (deadline.HasValue)
                {
                    if (now >= deadline.Value) collector.StopAll();
                    progress.PercentComplete = (int)Math.Min(100, (now - started).TotalMilliseconds * 100 / window.TotalMilliseconds);
                    progress.SecondsRemaining = (int)Math.Max(0, (deadline.Value - now).TotalSeconds);
                    progress.StatusDescription = $"{counts.Values.Sum()} collections so far";
                    WriteProgress(progress);
                }
            }
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);

            if (Summary)
            {
                var ended = DateTime.UtcNow;
                foreach (var target in Targets)
                {
                    if (failed.Contains(target.ProcessId)) continue;
                    WriteObject(GcSummaryCalculator.Summarize(target.ProcessId, target.Name, started, ended, records[target.ProcessId]));
                }
            }
        }
    }
}
