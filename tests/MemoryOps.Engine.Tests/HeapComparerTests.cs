using System;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.Compare;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class HeapComparerTests
    {
        private static HeapSnapshot Snap(bool liveOnly, params (string Name, long Count, long Bytes, bool Free)[] types)
        {
            var s = new HeapSnapshot { LiveOnly = liveOnly };
            foreach (var t in types) s.Types.Add(new HeapTypeStat { TypeName = t.Name, Count = t.Count, TotalBytes = t.Bytes, IsFree = t.Free });
            s.ObjectCount = types.Where(t => !t.Free).Sum(t => t.Count);
            s.TotalBytes = types.Where(t => !t.Free).Sum(t => t.Bytes);
            return s;
        }

        [Fact]
        public void Reports_each_type_with_its_status_largest_growth_first()
        {
            var before = Snap(true, ("A", 10, 1000, false), ("B", 5, 500, false), ("C", 1, 100, false), ("Gone", 2, 64, false));
            var after = Snap(true, ("A", 20, 2000, false), ("B", 4, 400, false), ("C", 1, 100, false), ("New", 3, 300, false));
            var d = HeapComparer.Compare(before, after);
            Assert.Equal(new[] { "A", "New", "C", "Gone", "B" }, d.Select(x => x.TypeName));
            var a = d[0];
            Assert.Equal((10L, 20L, 10L, 1000L, 2000L, 1000L), (a.ReferenceCount, a.DifferenceCount, a.CountDelta, a.ReferenceBytes, a.DifferenceBytes, a.BytesDelta));
            Assert.Equal(100.0, a.GrowthPercent);
            Assert.Equal(DeltaStatus.Grown, a.Status);
            Assert.Equal(DeltaStatus.Added, d[1].Status);
            Assert.Null(d[1].GrowthPercent);
            Assert.Equal(DeltaStatus.Unchanged, d[2].Status);
            Assert.Equal(DeltaStatus.Removed, d[3].Status);
            Assert.Equal(-100.0, d[3].GrowthPercent);
            Assert.Equal(DeltaStatus.Shrunk, d[4].Status);
            Assert.Equal(-20.0, d[4].GrowthPercent);
        }

        [Fact]
        public void Free_space_is_never_reported()
        {
            var before = Snap(true, ("A", 1, 10, false));
            var after = Snap(false, ("A", 1, 10, false), ("Free", 100, 1_000_000, true));
            Assert.DoesNotContain(HeapComparer.Compare(before, after), x => x.TypeName == "Free");
        }

        [Fact]
        public void Summary_totals_and_top_growth()
        {
            var before = Snap(true, ("A", 10, 1000, false), ("B", 5, 500, false));
            var after = Snap(true, ("A", 30, 3000, false), ("C", 1, 50, false));
            var deltas = HeapComparer.Compare(before, after);
            var s = HeapComparer.Summarize(before, after, deltas);
            Assert.Equal((1500L, 3050L, 1550L), (s.ReferenceBytes, s.DifferenceBytes, s.BytesDelta));
            Assert.Equal((15L, 31L, 16L), (s.ReferenceObjectCount, s.DifferenceObjectCount, s.CountDelta));
            Assert.Equal((1, 1, 1, 0), (s.TypesAdded, s.TypesRemoved, s.TypesGrown, s.TypesShrunk));
            Assert.Equal("A", s.TopGrowthType);
            Assert.Equal(2000, s.TopGrowthBytes);
            Assert.Equal(1550 * 100.0 / 1500, s.GrowthPercent!.Value, 9);
        }

        [Fact]
        public void Nothing_grew_means_no_top_type()
        {
            var same = Snap(true, ("A", 1, 10, false));
            var s = HeapComparer.Summarize(same, same, HeapComparer.Compare(same, same));
            Assert.Equal("", s.TopGrowthType);
            Assert.Equal(0, s.BytesDelta);
        }
    }
}
