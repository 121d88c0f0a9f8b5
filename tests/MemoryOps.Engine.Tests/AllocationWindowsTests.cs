using System;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.Allocations;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>Samples go to the window in which they were allocated (their own timestamp), whenever they arrive.</summary>
    public class AllocationWindowsTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 12, 2, 4, 0, 0, DateTimeKind.Utc);

        private static AllocationSample Tick(double atSeconds, string type = "T", long amount = 1000) =>
            new AllocationSample { TypeName = type, ObjectSize = 100, Amount = amount, Timestamp = T0.AddSeconds(atSeconds) };

        [Fact]
        public void A_sample_that_arrives_after_its_window_ended_counts_in_it_and_not_in_the_next()
        {
            var windows = new AllocationWindows(AllocationSamplingMethod.AllocationTick, T0, TimeSpan.FromSeconds(10));
            Assert.True(windows.Add(Tick(2)));
            Assert.True(windows.Add(Tick(11)));          // the next window's, arriving first
            Assert.True(windows.Add(Tick(9.999)));       // allocated before the end, delivered late
            Assert.Empty(windows.CloseThrough(T0.AddSeconds(9.9)));
            var first = Assert.Single(windows.CloseThrough(T0.AddSeconds(12)));
            Assert.Equal(T0, first.Start);
            Assert.Equal(T0.AddSeconds(10), first.End);
            var p = first.Accumulator.Build(1, "svc", "10.0.0", first.Start, first.End);
            Assert.Equal(2, p.SampleCount);
            Assert.Equal(2000, p.TotalBytes);
            Assert.Equal(200, p.BytesPerSecond);        // over the window's own 10 s, not over when it was closed
            // A late sample for a closed window counts nowhere, and is counted as such.
            Assert.False(windows.Add(Tick(5)));
            Assert.Equal(1, windows.Outside);
            var second = Assert.Single(windows.CloseThrough(T0.AddSeconds(25)));
            Assert.Equal(T0.AddSeconds(10), second.Start);
            Assert.Equal(T0.AddSeconds(20), second.End);
            Assert.Equal(1, second.Accumulator.SampleCount);
        }

        [Fact]
        public void Windows_are_back_to_back_and_an_empty_one_is_still_closed()
        {
            var windows = new AllocationWindows(AllocationSamplingMethod.AllocationTick, T0, TimeSpan.FromSeconds(1));
            windows.Add(Tick(0.5));
            windows.Add(Tick(2.5));
            var closed = windows.CloseThrough(T0.AddSeconds(3));
            Assert.Equal(new[] { 1L, 0L, 1L }, closed.Select(w => w.Accumulator.SampleCount).ToArray());
            for (int i = 1; i < closed.Count; i++) Assert.Equal(closed[i - 1].End, closed[i].Start);
            Assert.Equal(0, windows.OpenSampleCount);
        }

        [Fact]
        public void One_window_holds_exactly_start_to_limit_whatever_arrives_around_it()
        {
            var windows = new AllocationWindows(AllocationSamplingMethod.Randomized, T0, TimeSpan.FromSeconds(10));
            windows.EndAt(T0.AddSeconds(10));
            windows.EndAt(T0.AddSeconds(6));                   // ended early: the earlier end wins
            windows.EndAt(T0.AddSeconds(8));
            Assert.False(windows.Add(Tick(-0.001)));          // before the session's window opened
            Assert.True(windows.Add(Tick(0)));
            Assert.True(windows.Add(Tick(5.9)));
            Assert.False(windows.Add(Tick(6)));                // [start, end): the end itself is outside
            Assert.False(windows.Add(Tick(9)));
            Assert.Equal(3, windows.Outside);
            var only = Assert.Single(windows.CloseThrough(DateTime.MaxValue));
            Assert.Equal(T0.AddSeconds(6), only.End);
            Assert.Equal(2, only.Accumulator.SampleCount);
            Assert.Empty(windows.CloseThrough(DateTime.MaxValue));
        }
    }
}
