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
                        ? session.RunWithStacks(sample => emit(new AllocationStreamItem { Sample = sample }), token,
                            onStarted: () => emit(new AllocationStreamItem { SessionStarted = true }),
                            onPhase: phase => emit(new AllocationStreamItem { Phase = phase }),
                            onEndedEarly: at => emit(new AllocationStreamItem { EndedEarly = at }))
                        : session.Run(sample => emit(new AllocationStreamItem { Sample = sample }), token,
                            onStarted: () => emit(new AllocationStreamItem { SessionStarted = true }),
                            onHeartbeat: () => emit(new AllocationStreamItem()));
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
                        state.WindowStart = value.Arrived;
                        state.Gap.Start(value.Arrived);
                        WriteVerbose($"Process {state.Target.ProcessId}: the session is open; sampling for {(Continuous ? "windows of " : "")}{window.TotalSeconds:0.###} s.");
                    }
                    else if (value.Finished) state.EventsLost = value.EventsLost;
                    else if (value.EndedEarly is DateTime early && !state.StopRequested.HasValue)
                    {
                        state.StopRequested = early;
                        WriteWarning($"Process {state.Target.ProcessId}: the window ended early, after {(early - state.WindowStart!.Value).TotalSeconds:0.#} s: " +
                                     $"the samples and their stacks reached {AllocationSession.MaxTraceBytes / (1024 * 1024)} MB. Use a shorter -Duration with -Stack.");
                    }
                    else if (value.Phase != null) { progress.StatusDescription = value.Phase; WriteProgress(progress); }
                    else if (!state.StopRequested.HasValue && state.Gap.Arrived(value.Arrived) is string resumed && !Stack) WriteWarning(resumed);
                    if (value.Sample is AllocationSample sample)
                    {
                        if (state.Method == AllocationSamplingMethod.Randomized) state.Accumulator.AddSampled(sample.TypeName, sample.ObjectSize, sample.Stack);
                        else state.Accumulator.AddTick(sample.TypeName, sample.Amount, sample.ObjectSize, sample.Stack);
                    }
                }

                foreach (var state in states.Values)
                {
                    if (state.Failed || !state.WindowStart.HasValue || state.StopRequested.HasValue) continue;
                    var windowEnd = state.WindowStart.Value + window;
                    if (!Stack && collector.Pending == 0 && state.Gap.Check(now, out _) is string begun) WriteWarning(begun);
                    if (now < windowEnd) continue;
                    if (Continuous)
                    {
                        // Samples are assigned to windows as they arrive: EventPipe hands them over within about a second.
                        WriteObject(state.Build(now, Top));
                        state.Restart(now);
                    }
                    else
                    {
                        state.StopRequested = now;
                        collector.StopWorker(state.Target.ProcessId);
                    }
                }

                var open = states.Values.Where(s => s.WindowStart.HasValue && !s.StopRequested.HasValue && !s.Failed).ToList();
                if (open.Count > 0)
                {
                    var first = open.Min(s => s.WindowStart!.Value);
                    double elapsed = (now - first).TotalSeconds % window.TotalSeconds;
                    progress.PercentComplete = (int)Math.Min(100, elapsed * 100 / window.TotalSeconds);
                    progress.SecondsRemaining = (int)Math.Max(0, window.TotalSeconds - elapsed);
                    progress.StatusDescription = Stack ? "Sampling with call stacks (they are resolved when the window closes)" : $"{open.Sum(s => s.Accumulator.SampleCount)} samples so far";
                    WriteProgress(progress);
                }
                else if (!Continuous && states.Values.All(s => s.Failed || !s.WindowStart.HasValue) && now - started > EventPipeRunner.StartTimeout + window)
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
                if (!state.WindowStart.HasValue || !state.StopRequested.HasValue)
                {
                    WriteFailure(new MemoryOpsException(FailureKind.Timeout,
                        $"Process {pid} did not open a diagnostic session (is it stopped or frozen?): nothing was sampled.", pid), pid);
                    continue;
                }
                if (!Stack && state.Gap.Close(state.StopRequested.Value) is string tail) WriteWarning(tail);
                var profile = state.Build(state.StopRequested.Value, Top);
                if (profile.EventsLost > 0)
                    WriteWarning($"Process {pid}: the runtime dropped {profile.EventsLost} events (a full session buffer): the estimates are low.");
                WriteObject(profile);
            }
        }

        private sealed class TargetState
        {
            public TargetState(DotNetProcessInfo target, AllocationSamplingMethod method, StreamGapDetector gap)
            {
                Target = target;
                Method = method;
                Gap = gap;
                Accumulator = new AllocationAccumulator(method);
            }

            public DotNetProcessInfo Target { get; }
            public AllocationSamplingMethod Method { get; }
            public StreamGapDetector Gap { get; }
            public AllocationAccumulator Accumulator { get; private set; }
            public DateTime? WindowStart;
            public DateTime? StopRequested;
            public bool Failed;
            public long EventsLost;

            public AllocationProfile Build(DateTime end, int top)
            {
                var profile = Accumulator.Build(Target.ProcessId, Target.Name, Target.RuntimeVersion, WindowStart!.Value, end, top);
                profile.EventsLost = EventsLost;
                if (Method == AllocationSamplingMethod.AllocationTick) profile.SamplingDistance = 100 * 1024;
                return profile;
            }

            public void Restart(DateTime now)
            {
                Accumulator = new AllocationAccumulator(Method);
                WindowStart = now;
            }
        }

        /// <summary>What a session hands the pipeline thread: a sample, the session's start, a heartbeat (nothing set), a phase, or its end.</summary>
        private sealed class AllocationStreamItem
        {
            public AllocationSample? Sample;
            public bool SessionStarted;
            public bool Finished;
            public long EventsLost;
            public string? Phase;
            public DateTime? EndedEarly;
            public readonly DateTime Arrived = DateTime.UtcNow;
        }
    }
}
