using System;
using System.Collections.Generic;

namespace MemoryOps.Engine.Counters
{
    /// <summary>
    /// Decides when "N samples of every counter" has been reached for one process. Counters do not
    /// arrive together: EventCounters come in a burst after one interval, Meter instruments are
    /// announced up front but a rate has no value until its second interval. So a counter counts as
    /// expected from its announcement, and the limit is met when every expected counter has N values
    /// and no new counter has shown up for a short settle time (the rest of a burst). A counter that is
    /// announced but never reports (a Counter&lt;T&gt; nobody has incremented, such as dotnet.exceptions in a
    /// process without exceptions) stops being waited for after <c>patience</c>.
    /// </summary>
    internal sealed class SampleLimitTracker
    {
        private readonly int samplesPerCounter;
        private readonly TimeSpan settle;
        private readonly TimeSpan patience;
        private readonly Dictionary<string, DateTime> announcedAt = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        // Counter key ("provider/name") → series key → samples seen; a counter's count is its best series'.
        private readonly Dictionary<string, Dictionary<string, int>> counts = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        private DateTime lastNewCounter = DateTime.MinValue;

        public SampleLimitTracker(int samplesPerCounter, TimeSpan settle, TimeSpan patience)
        {
            this.patience = patience;
            if (samplesPerCounter < 1) throw new ArgumentOutOfRangeException(nameof(samplesPerCounter));
            this.samplesPerCounter = samplesPerCounter;
            this.settle = settle;
        }

        public int ExpectedCounters => counts.Count;

        // Per source (EventCounters, Meter): the newest "clock" seen and the newest sample recorded.
        // EventPipe may deliver the end of one interval's burst only with the next block, so a round
        // counts as complete only once the stream has shown something from after it.
        private readonly Dictionary<string, DateTime> clock = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        private readonly Dictionary<string, DateTime> lastSample = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        private TimeSpan roundGap = TimeSpan.FromSeconds(0.5);

        /// <summary>How far past a sample's timestamp the stream must have moved for its round to count as complete (half an interval).</summary>
        public TimeSpan RoundGap { get => roundGap; set => roundGap = value; }

        private readonly Dictionary<string, DateTime> lastArrival = new Dictionary<string, DateTime>(StringComparer.Ordinal);

        /// <summary>Evidence of how far a source's stream has got: any event's timestamp (proves the rounds before it complete),
        /// or with <paramref name="roundEnd"/> a marker written after a round's last value (proves that round complete).</summary>
        public void ObserveClock(string source, DateTime timestamp, bool roundEnd = false, DateTime? now = null)
        {
            if (roundEnd) timestamp += roundGap;
            if (!clock.TryGetValue(source, out var t) || timestamp > t) clock[source] = timestamp;
            if (now.HasValue) lastArrival[source] = now.Value;
        }

        public void Announce(string counterKey, DateTime now)
        {
            if (counts.ContainsKey(counterKey)) return;
            counts[counterKey] = new Dictionary<string, int>(StringComparer.Ordinal);
            announcedAt[counterKey] = now;
            lastNewCounter = now;
        }

        /// <summary>Records a sample; returns false when this series already has its N samples (the caller drops it).</summary>
        public bool Record(CounterSample sample, DateTime now)
        {
            string key = sample.Provider + "/" + sample.Name;
            Announce(key, now);
            var series = counts[key];
            series.TryGetValue(sample.SeriesKey, out int n);
            if (n >= samplesPerCounter) return false;
            series[sample.SeriesKey] = n + 1;
            if (!lastSample.TryGetValue(sample.Source, out var last) || sample.Timestamp > last) lastSample[sample.Source] = sample.Timestamp;
            ObserveClock(sample.Source, sample.Timestamp, roundEnd: false, now);
            return true;
        }

        public bool IsSatisfied(DateTime now)
        {
            if (counts.Count == 0 || now - lastNewCounter < settle) return false;
            foreach (var kv in counts)
            {
                var series = kv.Value;
                if (series.Count == 0 && now - announcedAt[kv.Key] >= patience) continue; // announced, silent: give up on it
                int best = 0;
                foreach (var n in series.Values) best = Math.Max(best, n);
                if (best < samplesPerCounter) return false;
            }
            foreach (var kv in lastSample)
            {
                // The source's last round must be closed, unless nothing at all has come from it for a while
                // (a source that publishes once and then only on change).
                bool closed = clock[kv.Key] >= kv.Value + roundGap;
                bool quiet = lastArrival.TryGetValue(kv.Key, out var arrived) && now - arrived >= patience;
                if (!closed && !quiet) return false;
            }
            return true;
        }
    }
}
