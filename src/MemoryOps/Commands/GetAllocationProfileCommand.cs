using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Allocations;
using MemoryOps.Engine.Sessions;

namespace MemoryOps.Commands
{
    /// <summary>
    /// What a process allocates, per type (and per allocating call stack with -Stack), estimated from the runtime's
    /// allocation samples over a window: one AllocationProfile per process and window.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AllocationProfile", DefaultParameterSetName = ByIdSet)]
    [OutputType(typeof(AllocationProfile))]
    public sealed class GetAllocationProfileCommand : ProcessTargetCmdlet
    {
        /// <summary>The window; with -Continuous, the length of each window.</summary>
        [Parameter]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0, GetGcCounterCommand.MaxWindowSeconds, TooLong = "For longer, use -Continuous.")]
        public TimeSpan Duration { get; set; }

        [Parameter]
        public SwitchParameter Continuous { get; set; }

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Top { get; set; }

        [Parameter]
        public SwitchParameter Stack { get; set; }

        /// <summary>Randomized (AllocationSampled, .NET 10+) or AllocationTick; by default the best the target's runtime has.</summary>
        [Parameter]
        public AllocationSamplingMethod Method { get; set; }

        private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

        protected override void BeginProcessing()
        {
            if (Stack && Continuous)
                ThrowTerminatingError(ToErrorRecord(new MemoryOpsException(FailureKind.InvalidInput,
                    "-Stack resolves call stacks once the window has closed (from the runtime's rundown at the session's end), so it takes one -Duration window, not -Continuous.")));
        }

        protected override void ProcessRecord() => ResolveTargets();

        protected override void EndProcessing()
        {
            if (Targets.Count == 0) return;
            TimeSpan window = Duration > TimeSpan.Zero ? Duration : DefaultDuration;
            bool methodGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Method));

            var states = new Dictionary<int, TargetState>();
            using var collector = new ParallelCollector<AllocationStreamItem>(StopToken);
            foreach (var target in Targets)
            {
                int pid = target.ProcessId;
                bool hasRandomized = AllocationSession.HasRandomizedSampling(target.RuntimeVersion);
                var method = methodGiven ? Method : (hasRandomized ? AllocationSamplingMethod.Randomized : AllocationSamplingMethod.AllocationTick);
                if (method == AllocationSamplingMethod.Randomized && !hasRandomized)
                {
                    WriteFailure(new MemoryOpsException(FailureKind.UnsupportedVersion,
                        $"Process {pid} runs .NET {target.RuntimeVersion}, which has no randomized allocation sampling (.NET 10 and later): use -Method AllocationTick, whose estimate is biased.", pid), pid);
                    continue;
                }
                if (method == AllocationSamplingMethod.AllocationTick)
                    WriteVerbose($"Process {pid}: estimating from GCAllocationTick events (every ~100 KB per heap): the estimate is biased and has no error bound.");
                var state = new TargetState(target, method, new StreamGapDetector(pid, AllocationSession.HeartbeatInterval, "heartbeat", null));
                states[pid] = state;
                WriteVerbose($"Starting an allocation sampling session ({method}{(Stack ? ", with call stacks" : "")}) in {target}.");
                var session = new AllocationSession(pid, method);
                collector.Start(pid, (emit, warn, token) =>
                {
                    long lost = Stack
                        ? session.RunWithStacks(sample => emit(new AllocationStreamItem { Sample = sample }), token, StopToken,
                            onStarted: () => emit(new AllocationStreamItem { SessionStarted = true }),
                            onPhase: phase => emit(new AllocationStreamItem { Phase = phase }),
                            onEndedEarly: at => emit(new AllocationStreamItem { EndedEarly = at }))
                        : session.Run(sample => emit(new AllocationStreamItem { Sample = sample }), token,
                            onStarted: () => emit(new AllocationStreamItem { SessionStarted = true }),
                            onHeartbeat: (at, lostSoFar) => emit(new AllocationStreamItem { HeartbeatAt = at, EventsLost = lostSoFar }));
                    emit(new AllocationStreamItem { Finished = true, EventsLost = lost });
                });
            }
            if (states.Count == 0) return;

            var started = DateTime.UtcNow;
            var progress = new ProgressRecord(3, "Get-AllocationProfile", "Sampling allocations");
            foreach (var item in collector.Consume(TimeSpan.FromMilliseconds(200)))
            {
                if (StopToken.IsCancellationRequested) break;
                var now = DateTime.UtcNow;
                if (item.Error != null)
                {
                    WriteFailure(item.Error, item.WorkerKey);
                    states[item.WorkerKey].Failed = true;
                }
                else if (item.Value != null && states.TryGetValue(item.WorkerKey, out var state) && !state.Failed)
                {
                    var value = item.Value;
                    if (value.SessionStarted)
                    {
                        state.Open(value.Arrived, window, Continuous);
                        state.Gap.Start(value.Arrived);
                        WriteVerbose($"Process {state.Target.ProcessId}: the session is open; sampling for {(Continuous ? "windows of " : "")}{window.TotalSeconds:0.###} s.");
                    }
                    else if (value.Finished) state.LostSoFar = Math.Max(state.LostSoFar, value.EventsLost);
                    else if (value.EndedEarly is DateTime early && !state.StopRequested.HasValue)
                    {
                        state.StopRequested = early;
                        state.Windows?.EndAt(early);
                        WriteWarning($"Process {state.Target.ProcessId}: the window ended early, after {(early - state.Windows!.Start).TotalSeconds:0.#} s: " +
                                     $"the samples and their stacks reached {AllocationSession.MaxTraceBytes / (1024 * 1024)} MB. Use a shorter -Duration with -Stack.");
                    }
                    else if (value.Phase != null) { progress.StatusDescription = value.Phase; WriteProgress(progress); }
                    else if (!state.StopRequested.HasValue && state.Gap.Arrived(value.Arrived) is string resumed && !Stack) WriteWarning(resumed);
                    if (value.HeartbeatAt is DateTime beat)
                    {
                        state.LostSoFar = Math.Max(state.LostSoFar, value.EventsLost);
                        state.Saw(beat);
                    }
                    if (value.Sample is AllocationSample sample && state.Windows != null)
                    {
                        // Counted in the window in which the target allocated it, whenever it arrives.
                        state.Windows.Add(sample);
                        state.Saw(sample.Timestamp);
                    }
                }

                foreach (var state in states.Values)
                {
                    if (state.Failed || state.Windows == null || state.StopRequested.HasValue) continue;
                    if (!Stack && collector.Pending == 0 && state.Gap.Check(now, out _) is string begun) WriteWarning(begun);
                    if (Continuous)
                    {
                        // A window is written once its samples can all have arrived: EventPipe hands events over within
                        // about a second, and the stream has moved past its end (a frozen target's windows wait for it).
                        var upTo = now - DeliveryGrace;
                        if (state.LatestEvent < upTo) upTo = state.LatestEvent;
                        foreach (var closed in state.Windows.CloseThrough(upTo)) WriteObject(state.Build(closed, Top, WriteWarning));
                    }
                    else if (now >= state.Windows.Start + window)
                    {
                        state.StopRequested = now;
                        collector.StopWorker(state.Target.ProcessId);
                    }
                }

                var open = states.Values.Where(s => s.Windows != null && !s.StopRequested.HasValue && !s.Failed).ToList();
                if (open.Count > 0)
                {
                    var first = open.Min(s => s.Windows!.Start);
                    double elapsed = (now - first).TotalSeconds % window.TotalSeconds;
                    progress.PercentComplete = (int)Math.Min(100, elapsed * 100 / window.TotalSeconds);
                    progress.SecondsRemaining = (int)Math.Max(0, window.TotalSeconds - elapsed);
                    progress.StatusDescription = Stack ? "Sampling with call stacks (they are resolved when the window closes)" : $"{open.Sum(s => s.Windows!.OpenSampleCount)} samples so far";
                    WriteProgress(progress);
                }
                else if (!Continuous && states.Values.All(s => s.Failed || s.Windows == null) && now - started > EventPipeRunner.StartTimeout + window)
                {
                    break;
                }
            }
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);

            if (StopToken.IsCancellationRequested || Continuous) return;
            foreach (var state in states.Values)
            {
                if (state.Failed) continue;
                int pid = state.Target.ProcessId;
                if (state.Windows == null || !state.StopRequested.HasValue)
                {
                    WriteFailure(new MemoryOpsException(FailureKind.Timeout,
                        $"Process {pid} did not open a diagnostic session (is it stopped or frozen?): nothing was sampled.", pid), pid);
                    continue;
                }
                if (!Stack && state.Gap.Close(state.StopRequested.Value) is string tail) WriteWarning(tail);
                // The one window, [start, start + Duration) or shorter when it ended early: samples are counted by when they
                // were allocated, so those that arrive after the stop request but were allocated before its end count.
                foreach (var closed in state.Windows.CloseThrough(DateTime.MaxValue))
                    WriteObject(state.Build(closed, Top, WriteWarning));
                WriteVerbose($"Process {pid}: {state.Windows.Outside:N0} sample(s) were allocated outside the window (before it opened or after it closed) and are not counted.");
            }
        }

        /// <summary>How long after a -Continuous window's end its last samples may still arrive.</summary>
        private static readonly TimeSpan DeliveryGrace = TimeSpan.FromSeconds(2);

        private sealed class TargetState
        {
            public TargetState(DotNetProcessInfo target, AllocationSamplingMethod method, StreamGapDetector gap)
            {
                Target = target;
                Method = method;
                Gap = gap;
            }

            public DotNetProcessInfo Target { get; }
            public AllocationSamplingMethod Method { get; }
            public StreamGapDetector Gap { get; }
            /// <summary>Set once the session is open.</summary>
            public AllocationWindows? Windows { get; private set; }
            public DateTime? StopRequested;
            public bool Failed;
            /// <summary>Events the runtime reported lost so far in the session, and how many of them earlier windows reported.</summary>
            public long LostSoFar, LostReported;
            /// <summary>The latest event timestamp the stream delivered (samples, heartbeats).</summary>
            public DateTime LatestEvent = DateTime.MinValue;

            public void Open(DateTime start, TimeSpan window, bool continuous)
            {
                Windows = new AllocationWindows(Method, start, window);
                if (!continuous) Windows.EndAt(start + window);
                LatestEvent = start;
            }

            public void Saw(DateTime timestamp)
            {
                if (timestamp > LatestEvent) LatestEvent = timestamp;
            }

            /// <summary>The profile of a closed window, with the events lost since the previous one (warned about when there were any).</summary>
            public AllocationProfile Build(AllocationWindow window, int top, Action<string> warn)
            {
                var profile = window.Accumulator.Build(Target.ProcessId, Target.Name, Target.RuntimeVersion, window.Start, window.End, top);
                profile.EventsLost = Math.Max(0, LostSoFar - LostReported);
                LostReported = Math.Max(LostReported, LostSoFar);
                if (Method == AllocationSamplingMethod.AllocationTick) profile.SamplingDistance = 100 * 1024;
                if (profile.EventsLost > 0)
                    warn($"Process {Target.ProcessId}: the runtime dropped {profile.EventsLost} events (a full session buffer) in the window ending {window.End:HH:mm:ss.fff} UTC: the estimates are low.");
                return profile;
            }
        }

        /// <summary>What a session hands the pipeline thread: a sample, the session's start, a heartbeat (HeartbeatAt), a phase, or its end.</summary>
        private sealed class AllocationStreamItem
        {
            public AllocationSample? Sample;
            public bool SessionStarted;
            public bool Finished;
            /// <summary>With Finished: the session's total of lost events; with a heartbeat: the total so far.</summary>
            public long EventsLost;
            /// <summary>A heartbeat's own timestamp (UTC).</summary>
            public DateTime? HeartbeatAt;
            public string? Phase;
            public DateTime? EndedEarly;
            public readonly DateTime Arrived = DateTime.UtcNow;
        }
    }
}
