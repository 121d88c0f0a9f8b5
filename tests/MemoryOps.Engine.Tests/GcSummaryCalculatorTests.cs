using System;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.GcEvents;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class GcSummaryCalculatorTests
    {
        [Fact]
        public void Summarizes_counts_pauses_and_fraction()
        {
            var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var records = new[]
            {
                new GcEventRecord { Generation = 0, Reason = "AllocSmall", Type = "Blocking", PauseDuration = 0.010, HeapSizeAfter = 100, PromotedBytes = 5 },
                new GcEventRecord { Generation = 1, Reason = "AllocSmall", Type = "Blocking", PauseDuration = 0.030, HeapSizeAfter = 300, PromotedBytes = 7 },
                new GcEventRecord { Generation = 2, Reason = "Induced", Type = "Background", PauseDuration = 0.060, HeapSizeAfter = 200, PromotedBytes = 11 },
            };
            var s = GcSummaryCalculator.Summarize(42, "svc", start, start.AddSeconds(10), records);
            Assert.Equal(3, s.Count);
            Assert.Equal((1, 1, 1), (s.Gen0Count, s.Gen1Count, s.Gen2Count));
            Assert.Equal(1, s.BackgroundCount);
            Assert.Equal(1, s.InducedCount);
            Assert.Equal(0.1, s.TotalPause, 12);
            Assert.Equal(0.06, s.MaxPause, 12);
            Assert.Equal(0.1 / 3, s.MeanPause, 12);
            Assert.Equal(0.01, s.PauseFraction, 12);
            Assert.Equal(23, s.PromotedBytes);
            Assert.Equal(200, s.LastHeapSizeAfter);
            Assert.Equal(300, s.MaxHeapSizeAfter);
            Assert.Equal(10, s.WindowDuration, 12);
        }

        [Fact]
        public void Empty_window_is_all_zero_not_NaN()
        {
            var now = DateTime.UtcNow;
            var s = GcSummaryCalculator.Summarize(1, "x", now, now, Enumerable.Empty<GcEventRecord>());
            Assert.Equal(0, s.Count);
            Assert.Equal(0, s.MeanPause);
            Assert.Equal(0, s.PauseFraction);
        }
    }
}
