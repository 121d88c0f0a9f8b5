using System;
using MemoryOps;
using MemoryOps.Engine.Counters;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class SampleLimitTrackerTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(3.5);

        private static CounterSample S(string name, string? gen = null)
        {
            var s = new CounterSample { Provider = "System.Runtime", Name = name, Source = "EventCounters", Timestamp = T0 };
            if (gen != null) s.Tags["gen"] = gen;
            return s;
        }

        [Fact]
        public void Not_satisfied_before_anything_arrives()
        {
            var t = new SampleLimitTracker(1, Settle, Patience);
            Assert.False(t.IsSatisfied(T0.AddHours(1)));
        }

        [Fact]
        public void Waits_for_an_announced_counter_then_for_the_settle_time()
        {
            var t = new SampleLimitTracker(1, Settle, Patience);
            t.Announce("System.Runtime/rate", T0);
            Assert.True(t.Record(S("gauge"), T0.AddSeconds(1)));
            Assert.False(t.IsSatisfied(T0.AddSeconds(2)));          // rate has no value yet
            Assert.True(t.Record(S("rate"), T0.AddSeconds(2)));
            Assert.False(t.IsSatisfied(T0.AddSeconds(2.5)));        // the round may still be arriving
            t.ObserveClock("EventCounters", T0.AddSeconds(1));      // the next round has started
            Assert.True(t.IsSatisfied(T0.AddSeconds(2.5)));
        }

        [Fact]
        public void Drops_samples_past_the_limit_per_series()
        {
            var t = new SampleLimitTracker(2, Settle, Patience);
            Assert.True(t.Record(S("x", "gen0"), T0));
            Assert.True(t.Record(S("x", "gen1"), T0));
            Assert.True(t.Record(S("x", "gen0"), T0));
            Assert.False(t.Record(S("x", "gen0"), T0));
            t.ObserveClock("EventCounters", T0.AddSeconds(1));
            Assert.True(t.IsSatisfied(T0.AddSeconds(1)));
        }

        [Fact]
        public void Gives_up_on_a_silent_announced_counter_after_patience()
        {
            var t = new SampleLimitTracker(1, Settle, Patience);
            t.Announce("System.Runtime/dotnet.exceptions", T0);
            t.Record(S("gc-heap-size"), T0.AddSeconds(1));
            t.ObserveClock("EventCounters", T0.AddSeconds(2));
            Assert.False(t.IsSatisfied(T0.AddSeconds(3)));
            Assert.True(t.IsSatisfied(T0.AddSeconds(3.6)));
        }

        [Fact]
        public void A_round_is_complete_only_when_the_stream_has_moved_past_it()
        {
            // EventPipe delivered gc-heap-size of a round but the rest of the burst only a second later.
            var t = new SampleLimitTracker(1, Settle, Patience) { RoundGap = TimeSpan.FromSeconds(0.5) };
            t.Record(S("gc-heap-size"), T0.AddSeconds(1));
            Assert.False(t.IsSatisfied(T0.AddSeconds(2)));
            t.ObserveClock("EventCounters", T0.AddSeconds(0.1));    // an older event: proves nothing
            Assert.False(t.IsSatisfied(T0.AddSeconds(2)));
            t.ObserveClock("EventCounters", T0.AddSeconds(0.6));
            Assert.True(t.IsSatisfied(T0.AddSeconds(2)));
        }
    
        [Fact]
        public void A_tagged_meter_counter_waits_for_the_end_of_its_round_not_the_previous_one()
        {
            // Seen live: a one-shot read returned one generation of dotnet.gc.last_collection.heap.size only.
            var t = new SampleLimitTracker(1, Settle, Patience) { RoundGap = TimeSpan.FromSeconds(0.5) };
            CounterSample M(string gen, double at) => new CounterSample
            {
                Provider = "System.Runtime", Name = "dotnet.gc.last_collection.heap.size", Source = "Meter", Timestamp = T0.AddSeconds(at), Tags = { ["gc.heap.generation"] = gen },
            };
            t.Announce("System.Runtime/dotnet.gc.last_collection.heap.size", T0);
            t.ObserveClock("Meter", T0.AddSeconds(1), roundEnd: true, now: T0.AddSeconds(1));   // round 1 ended
            t.Record(M("gen0", 2), T0.AddSeconds(2));
            Assert.False(t.IsSatisfied(T0.AddSeconds(2.1)));                                       // gen1..poh may follow
            t.Record(M("gen1", 2), T0.AddSeconds(2.1));
            t.ObserveClock("Meter", T0.AddSeconds(2.001), roundEnd: true, now: T0.AddSeconds(2.2)); // round 2 ended
            Assert.True(t.IsSatisfied(T0.AddSeconds(2.6)));
        }

        [Fact]
        public void A_source_that_went_quiet_counts_as_complete_after_patience()
        {
            var t = new SampleLimitTracker(1, Settle, Patience);
            t.Record(S("gc-heap-size"), T0);
            Assert.False(t.IsSatisfied(T0.AddSeconds(3)));
            Assert.True(t.IsSatisfied(T0.AddSeconds(3.6)));
        }
    }
}
