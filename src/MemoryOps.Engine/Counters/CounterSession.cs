using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Linq;
using System.Threading;
using MemoryOps.Engine.Sessions;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace MemoryOps.Engine.Counters
{
    internal sealed class CounterSessionOptions
    {
        /// <summary>EventSource and Meter names; each is asked for both, as dotnet-counters does, since a name may be either.</summary>
        public IReadOnlyList<string> Providers { get; set; } = new[] { RuntimeProvider };
        public double IntervalSeconds { get; set; } = 1;
        /// <summary>Which counter names to keep (wildcards are resolved by the caller); null keeps all.</summary>
        public Func<string, bool>? NameFilter { get; set; }
        /// <summary>Include the EventCounters source.</summary>
        public bool EventCounters { get; set; } = true;
        /// <summary>Include the Meter source (.NET 8+).</summary>
        public bool Meters { get; set; } = true;

        public const string RuntimeProvider = "System.Runtime";
    }

    /// <summary>
    /// Streams counter values from one process over EventPipe: the EventCounters of the named
    /// EventSources and the instruments of the named Meters (through the System.Diagnostics.Metrics
    /// EventSource), converted to base units by <see cref="CounterPayloadParser"/>.
    /// </summary>
    internal sealed class CounterSession
    {
        private const string MetricsEventSource = "System.Diagnostics.Metrics";
        // MetricsEventSource shares one aggregation among all clients that use this id (.NET 8+),
        // so many collectors can watch the same process at once instead of being refused.
        private const string SharedSessionId = "SHARED";
        private const long MetricsKeywords = 0x7; // Messages | TimeSeriesValues | InstrumentPublishing

        private readonly int pid;
        private readonly string processName;
        private readonly CounterSessionOptions options;

        public CounterSession(int pid, string processName, CounterSessionOptions options)
        {
            this.pid = pid;
            this.processName = processName;
            this.options = options;
        }

        public IReadOnlyList<EventPipeProvider> BuildProviders()
        {
            var providers = new List<EventPipeProvider>();
            string interval = options.IntervalSeconds.ToString(CultureInfo.InvariantCulture);
            if (options.EventCounters)
            {
                foreach (var name in options.Providers.Distinct(StringComparer.OrdinalIgnoreCase))
                {
                    providers.Add(new EventPipeProvider(name, EventLevel.Informational, 0,
                        new Dictionary<string, string> { ["EventCounterIntervalSec"] = interval }));
                }
            }
            if (options.Meters)
            {
                providers.Add(new EventPipeProvider(MetricsEventSource, EventLevel.Informational, MetricsKeywords,
                    new Dictionary<string, string>
                    {
                        ["SessionId"] = SharedSessionId,
                        ["Metrics"] = string.Join(",", options.Providers.Distinct(StringComparer.OrdinalIgnoreCase)),
                        ["RefreshInterval"] = interval,
                        ["MaxTimeSeries"] = "1000",
                        ["MaxHistograms"] = "20",
                        ["ClientId"] = SharedClientId,
                    }));
            }
            return providers;
        }

        // One id per collecting process: the runtime keys its shared aggregation on it.
        private static readonly string SharedClientId = Guid.NewGuid().ToString();

        /// <summary>
        /// Collects until <paramref name="cancel"/> fires (returns normally) or the target exits
        /// (throws <see cref="FailureKind.TargetExited"/>). <paramref name="onSample"/> runs on the reading thread.
        /// <paramref name="onWarning"/> receives the runtime's own complaints (e.g. a Meter refused for a conflicting configuration).
        /// </summary>
        /// <param name="onAnnounce">Told "provider/name" of every counter the target says it will report and the
        /// filter keeps, before its first value (Meter instruments are announced up front; EventCounters with their first value).</param>
        /// <param name="onClock">Told (source, time) for every event of a source, filtered or not, and for each Meter round's end:
        /// proof of how far the stream has got, which a caller needs to know a round of values is complete.</param>
        /// <param name="onStarted">Told once the session is open in the target, before any value.</param>
        public void Run(Action<CounterSample> onSample, Action<string>? onWarning, Action<string>? onAnnounce, CancellationToken cancel,
            Action<string, DateTime>? onClock = null, Action<string, DateTime>? onRoundEnd = null, Action? onStarted = null)
        {
            this.onAnnounce = onAnnounce;
            this.onClock = onClock;
            this.onRoundEnd = onRoundEnd;
            using var runner = EventPipeRunner.Start(pid, BuildProviders(), circularBufferMB: 16, cancel: cancel);
            onStarted?.Invoke();
            var providerNames = new HashSet<string>(options.Providers, StringComparer.OrdinalIgnoreCase);
            runner.Source.Dynamic.All += e => Handle(e, providerNames, onSample, onWarning);
            runner.Run(cancel);
        }

        private Action<string>? onAnnounce;
        private Action<string, DateTime>? onClock;
        private Action<string, DateTime>? onRoundEnd;

        private void Handle(TraceEvent e, HashSet<string> providerNames, Action<CounterSample> onSample, Action<string>? onWarning)
        {
            if (e.EventName == "EventCounters")
            {
                if (!providerNames.Contains(e.ProviderName)) return;
                onClock?.Invoke(CounterPayloadParser.EventCountersSource, e.TimeStamp.ToUniversalTime());
                if (e.PayloadValue(0) is not IDictionary<string, object> outer) return;
                if (!outer.TryGetValue("Payload", out var inner) || inner is not IDictionary<string, object> payload) return;
                var sample = CounterPayloadParser.FromEventCounter(e.ProviderName, payload!, e.TimeStamp.ToUniversalTime());
                if (sample != null) Emit(sample, onSample);
                return;
            }

            if (e.ProviderName != MetricsEventSource) return;
            var fields = ToDictionary(e);
            if (fields.TryGetValue("sessionId", out var sid) && sid is string s && s != SharedSessionId) return;
            switch (e.EventName)
            {
                case "GaugeValuePublished":
                case "CounterRateValuePublished":
                case "UpDownCounterRateValuePublished":
                case "HistogramValuePublished":
                    foreach (var sample in CounterPayloadParser.FromMeterEvent(e.EventName!, fields, e.TimeStamp.ToUniversalTime(), options.IntervalSeconds))
                        Emit(sample, onSample);
                    break;
                case "CollectionStop":
                case "Collection/Stop":
                    // Written after the round's last value on the same thread: the round is complete.
                    onRoundEnd?.Invoke(CounterPayloadParser.MeterSource, e.TimeStamp.ToUniversalTime());
                    break;
                case "BeginInstrumentReporting":
                    if (onAnnounce != null && fields.TryGetValue("instrumentName", out var inst) && inst is string instrument
                        && (options.NameFilter == null || options.NameFilter(instrument)))
                        onAnnounce(Convert.ToString(fields.TryGetValue("meterName", out var m) ? m : "") + "/" + instrument);
                    break;
                case "Error":
                case "MultipleSessionsNotSupportedError":
                case "MultipleSessionsConfiguredIncorrectlyError":
                case "TimeSeriesLimitReached":
                case "HistogramLimitReached":
                case "ObservableInstrumentCallbackError":
                    onWarning?.Invoke($"Process {pid}: {e.EventName} {string.Join(" ", fields.Where(kv => kv.Key != "sessionId").Select(kv => kv.Key + "=" + kv.Value))}");
                    break;
            }
        }

        private void Emit(CounterSample sample, Action<CounterSample> onSample)
        {
            if (options.NameFilter != null && !options.NameFilter(sample.Name)) return;
            sample.ProcessId = pid;
            sample.ProcessName = processName;
            onAnnounce?.Invoke(sample.Provider + "/" + sample.Name);
            onSample(sample);
        }

        private static Dictionary<string, object?> ToDictionary(TraceEvent e)
        {
            var names = e.PayloadNames;
            var d = new Dictionary<string, object?>(names.Length, StringComparer.Ordinal);
            for (int i = 0; i < names.Length; i++) d[names[i]] = e.PayloadValue(i);
            return d;
        }
    }
}
