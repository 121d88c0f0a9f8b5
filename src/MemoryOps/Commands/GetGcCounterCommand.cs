using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Counters;
using MemoryOps.Engine.Sessions;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Samples GC and memory counters (System.Runtime EventCounters and Meter, or any -Provider)
    /// from one or many processes, streaming one CounterSample per value as it arrives.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "GcCounter", DefaultParameterSetName = ByIdSet)]
    [OutputType(typeof(CounterSample))]
    [OutputType(typeof(CounterDescriptor))]
    public sealed class GetGcCounterCommand : SessionStreamCmdlet<GetGcCounterCommand.StreamItem>
    {
        [Parameter(Position = 1)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(CounterNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? Counter { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Provider { get; set; } = { CounterSessionOptions.RuntimeProvider };

        [Parameter]
        public CounterSource Source { get; set; } = CounterSource.All;

        [Parameter]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0.1, 3600)]
        public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

        [Parameter]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0, MaxWindowSeconds, TooLong = "For longer, use -Continuous.")]
        public TimeSpan Duration { get; set; }

        /// <summary>The longest -Duration: 30 days (a window longer than that is a -Continuous watch).</summary>
        internal const double MaxWindowSeconds = 30 * 86400;

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxSamples { get; set; }

        [Parameter]
        public SwitchParameter Continuous { get; set; }

        [Parameter]
        public SwitchParameter ListAvailable { get; set; }

        // How long after the last new counter appeared the set of expected counters counts as known. Whether a
        // round's values have all arrived is decided by the tracker from the stream's own clock, not by this.
        private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);
        // A provider that publishes nothing (misspelt, or not loaded yet) must not hang a one-shot read.
        private static readonly TimeSpan NothingArrivedGrace = TimeSpan.FromSeconds(10);

        protected override void BeginProcessing()
        {
            // A misspelt System.Runtime counter is said at once, not as "published no counter" after 11 s.
            if (Provider.Length == 1 && string.Equals(Provider[0], CounterSessionOptions.RuntimeProvider, StringComparison.OrdinalIgnoreCase))
                foreach (var name in Counter ?? Array.Empty<string>())
                    if (ProcessMemoryInfo.Names.Any(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)))
                        ThrowTerminatingError(ToErrorRecord(new MemoryOpsException(FailureKind.InvalidInput,
                            $"'{name}' is a figure of Get-ProcessMemory (read from the kernel, for any process), not a System.Runtime counter: use Get-ProcessMemory -AsSample.", name)));
                    else if (KnownCounters.MisspellingOf(name) is string meant)
                        ThrowTerminatingError(ToErrorRecord(new MemoryOpsException(FailureKind.InvalidInput,
                            $"System.Runtime publishes no counter '{name}'. Did you mean '{meant}'? (Get-GcCounter -ListAvailable lists them; give -Provider for another provider's counter.)", name)));
        }

        protected override void ProcessRecord() => ResolveTargets();

        private readonly Dictionary<int, SampleLimitTracker> trackers = new Dictionary<int, SampleLimitTracker>();
        private readonly Dictionary<string, CounterDescriptor> descriptors = new Dictionary<string, CounterDescriptor>(StringComparer.Ordinal);
        private readonly ProgressRecord progress = new ProgressRecord(1, "Get-GcCounter", "Waiting for the first values") { PercentComplete = -1 };
        private int perCounter;
        private bool anyValue, warnedNothing;

        // Counters have no heartbeat: the gap detector starts with the first value, clock or announcement. A provider
        // that publishes nothing at all is a misspelling, which the "published no counter" warning names.
        protected override bool GapStartsWithSession => false;

        protected override void EndProcessing()
        {
            if (Targets.Count == 0) return;

            // With no stop condition, take one sample of each counter (like Get-Counter).
            bool oneShot = ListAvailable || (!Continuous && Duration == TimeSpan.Zero && MaxSamples == 0);
            perCounter = ListAvailable ? 1 : MaxSamples > 0 ? MaxSamples : oneShot ? 1 : 0;
            var filters = Counter?.Select(c => WildcardPattern.Get(c, WildcardOptions.IgnoreCase)).ToArray();
            var options = new CounterSessionOptions
            {
                Providers = Provider,
                IntervalSeconds = Interval.TotalSeconds,
                NameFilter = filters == null ? null : name => filters.Any(f => f.IsMatch(name)),
                EventCounters = Source != CounterSource.Meter,
                Meters = Source != CounterSource.EventCounters,
            };

            // A target that goes silent mid-stream (stopped, frozen) is reported, never waited on in silence. In a watch
            // (-Continuous) or a window (-Duration) the gap is reported when it begins and when it ends, and the watch goes
            // on: a monitor should outlast a paused container or a debugger, and show the hole. Waiting for a count
            // (one sample, -MaxSamples, -ListAvailable), it gives up with a Timeout error once a value is the start
            // timeout overdue, as it does when the target does not answer at all.
            bool watch = Continuous || Duration > TimeSpan.Zero;
            TimeSpan? silenceLimit = watch ? (TimeSpan?)null : Interval + EventPipeRunner.StartTimeout;

            // Samples, announcements and round markers travel through one ordered queue: a round's end must never be
            // seen before the samples the target wrote ahead of it.
            Stream(TimeSpan.FromMilliseconds(100), Duration, target =>
            {
                int pid = target.ProcessId;
                if (perCounter > 0)
                    trackers[pid] = new SampleLimitTracker(perCounter, Settle, patience: Interval + Interval + TimeSpan.FromSeconds(1.5)) { RoundGap = TimeSpan.FromTicks(Interval.Ticks / 2) };
                WriteVerbose($"Starting a counter session in {target} for {string.Join(", ", Provider)} every {Interval.TotalSeconds:0.###} s.");
                var session = new CounterSession(pid, target.Name, options);
                return (new StreamGapDetector(pid, Interval, "sample", silenceLimit), (emit, warn, token) => session.Run(
                    sample => emit(new StreamItem { Sample = sample }), warn,
                    key => emit(new StreamItem { Announce = key }), token,
                    (source, time) => emit(new StreamItem { ClockSource = source, Clock = time }),
                    (source, time) => emit(new StreamItem { ClockSource = source, Clock = time, RoundEnd = true }),
                    () => emit(new StreamItem { SessionStarted = true })));
            });
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);

            // Failed, or had its samples and ended its session early (Done): its silence since then is no gap.
            CloseWindow("no sample was taken");

            if (ListAvailable)
                WriteObject(descriptors.Values.OrderBy(d => d.Source).ThenBy(d => d.Provider).ThenBy(d => d.Name, StringComparer.Ordinal), enumerateCollection: true);
        }

        protected override void OnItem(int pid, StreamItem item, DateTime now)
        {
            trackers.TryGetValue(pid, out var tracker);
            if (item.Sample == null)
            {
                if (tracker != null && item.Announce != null) tracker.Announce(item.Announce, now);
                else if (tracker != null && item.ClockSource != null) tracker.ObserveClock(item.ClockSource, item.Clock, item.RoundEnd, now);
            }
            else if (tracker == null || tracker.Record(item.Sample, now))
            {
                HandleSample(item.Sample);
            }
        }

        private void HandleSample(CounterSample sample)
        {
            anyValue = true;
            if (!ListAvailable)
            {
                WriteObject(sample);
                return;
            }
            string key = sample.Source + "|" + sample.Provider + "|" + sample.Name;
            if (!descriptors.ContainsKey(key))
            {
                descriptors[key] = new CounterDescriptor
                {
                    ProcessId = sample.ProcessId,
                    Provider = sample.Provider,
                    Name = sample.Name,
                    DisplayName = sample.DisplayName,
                    Unit = sample.Unit,
                    Kind = sample.Kind,
                    Source = sample.Source,
                    TagKeys = sample.Tags.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray(),
                };
            }
        }

        protected override void OnTick(DateTime now)
        {
            foreach (var kv in trackers)
            {
                if (Failed.Contains(kv.Key) || Done.Contains(kv.Key)) continue;
                bool nothingArrived = kv.Value.ExpectedCounters == 0 && now - Started > Interval + NothingArrivedGrace;
                if (kv.Value.IsSatisfied(now) || nothingArrived)
                {
                    if (nothingArrived)
                        WriteWarning($"Process {kv.Key} published no counter matching the request within {(Interval + NothingArrivedGrace).TotalSeconds:0} s. Check -Provider and -Counter with -ListAvailable.");
                    WriteVerbose($"Process {kv.Key}: every counter has {MaxSamplesText(perCounter)}; ending its session.");
                    Finish(kv.Key);
                }
            }
            if (!anyValue && !warnedNothing && trackers.Count == 0 && now - Started > Interval + NothingArrivedGrace)
            {
                warnedNothing = true;
                WriteWarning($"No counter matching the request has arrived in {(now - Started).TotalSeconds:0} s. Check -Provider and -Counter with -ListAvailable.");
            }
            if (!anyValue && !Continuous)
            {
                progress.StatusDescription = $"Waiting for the first values ({(now - Started).TotalSeconds:0.0} s)";
                WriteProgress(progress);
            }
        }

        private static string MaxSamplesText(int n) => n == 1 ? "1 sample" : $"{n} samples";

        /// <summary>What a counter session hands the pipeline thread, in the order it happened.</summary>
        public sealed class StreamItem : SessionStreamItem
        {
            public CounterSample? Sample;
            public string? Announce;
            public string? ClockSource;
            public DateTime Clock;
            public bool RoundEnd;
        }
    }
}
