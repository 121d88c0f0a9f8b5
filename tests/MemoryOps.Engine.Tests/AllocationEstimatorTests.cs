using System;
using System.Collections.Generic;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.Allocations;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>
    /// The estimator against synthetic sample streams whose answer is known. The streams are made the way the runtime
    /// makes them (docs/design/features/RandomizedAllocationSampling.md): one thread's bytes are Bernoulli trials, drawn
    /// as a geometric count of failures before the next success (inverse transform sampling), consumed object by object;
    /// an object that holds the success is sampled and its remaining trials are discarded. That is a different
    /// computation from the estimator's inclusion probability, so agreement is a test, not a tautology.
    /// </summary>
    public class AllocationEstimatorTests
    {
        private sealed class RuntimeSampler
        {
            private readonly Random random;
            private long failuresLeft;
            public RuntimeSampler(int seed) { random = new Random(seed); failuresLeft = Draw(); }
            private long Draw() => (long)Math.Floor(Math.Log(1 - random.NextDouble()) / Math.Log(1 - 1.0 / RandomizedSampling.MeanDistance));

            /// <summary>True when the object of this size is sampled.</summary>
            public bool Allocate(long size)
            {
                if (failuresLeft >= size) { failuresLeft -= size; return false; }
                failuresLeft = Draw(); // the rest of this object's trials are not done; a fresh run starts after it
                return true;
            }
        }

        private static AllocationProfile Simulate(int seed, IReadOnlyList<(string Type, long Size, long Count)> mix)
        {
            var sampler = new RuntimeSampler(seed);
            var acc = new AllocationAccumulator(AllocationSamplingMethod.Randomized);
            // Interleaved, as a program allocates: one object of each kind per round while any is left.
            var left = mix.Select(m => m.Count).ToArray();
            bool any = true;
            while (any)
            {
                any = false;
                for (int i = 0; i < mix.Count; i++)
                {
                    if (left[i] == 0) continue;
                    any = true;
                    left[i]--;
                    if (sampler.Allocate(mix[i].Size)) acc.AddSampled(mix[i].Type, mix[i].Size);
                }
            }
            return acc.Build(1, "synthetic", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(10));
        }

        [Fact]
        public void Estimates_each_type_of_a_mixed_stream_within_its_error()
        {
            var mix = new List<(string, long, long)>
            {
                ("OrderService.Invoice", 56, 3_572_000),          // 200 MB of small objects
                ("OrderService.InvoiceLine[]", 984, 204_000),     // 200 MB of mid-sized arrays
                ("System.Byte[]", 100_024, 2_000),                // 200 MB on the large object heap
                ("System.String", 30, 1_000),                     // 30 KB: hardly ever sampled
            };
            var profile = Simulate(seed: 15, mix);
            foreach (var (type, size, count) in mix.Take(3))
            {
                var row = profile.Types.Single(t => t.TypeName == type);
                double truth = size * count;
                Assert.InRange(row.RelativeError!.Value, 0.005, 0.03);
                // Four standard errors: a seeded stream, but the bound is the one the estimate claims for itself.
                Assert.InRange(row.EstimatedBytes, truth * (1 - 4 * row.RelativeError.Value), truth * (1 + 4 * row.RelativeError.Value));
                Assert.InRange(row.EstimatedCount, count * 0.9, count * 1.1);
                Assert.Equal(row.EstimatedBytes / 10, row.BytesPerSecond, 6);
            }
            Assert.Equal(profile.Types.Sum(t => t.SampleCount), profile.SampleCount);
            Assert.Equal(profile.Types.Sum(t => t.EstimatedBytes), profile.TotalBytes, 3);
            // Largest first.
            Assert.True(profile.Types.Zip(profile.Types.Skip(1), (a, b) => a.EstimatedBytes >= b.EstimatedBytes).All(x => x));
        }

        [Theory]
        [InlineData(56L, 40_000L)]       // small objects: ~22 samples a run
        [InlineData(100_024L, 40L)]      // large objects: sampled with probability 0.62
        public void Is_unbiased_and_its_relative_error_matches_the_spread_of_repeated_runs(long size, long count)
        {
            const int runs = 400;
            double truth = size * count;
            var estimates = new double[runs];
            var claimed = new double[runs];
            var counts = new double[runs];
            for (int r = 0; r < runs; r++)
            {
                var row = Simulate(seed: 1000 + r, new[] { ("T", size, count) }).Types.SingleOrDefault();
                estimates[r] = row?.EstimatedBytes ?? 0;
                counts[r] = row?.EstimatedCount ?? 0;
                claimed[r] = row?.RelativeError ?? double.NaN;
            }
            double mean = estimates.Average();
            double sd = Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (runs - 1));
            // Unbiased: the mean of 400 runs is within 3 standard errors of the mean of the truth.
            Assert.InRange(mean, truth - 3 * sd / Math.Sqrt(runs), truth + 3 * sd / Math.Sqrt(runs));
            Assert.InRange(counts.Average(), count * (1 - 3 * sd / truth / Math.Sqrt(runs)) - 1, count * (1 + 3 * sd / truth / Math.Sqrt(runs)) + 1);
            // The error each run claims (its median) is the spread the runs really show, within 25 %.
            double claimedMedian = claimed.Where(c => !double.IsNaN(c)).OrderBy(c => c).ElementAt(claimed.Count(c => !double.IsNaN(c)) / 2);
            Assert.InRange(claimedMedian, sd / truth * 0.75, sd / truth * 1.25);
        }

        [Fact]
        public void Weights_follow_the_runtime_sampling_probability()
        {
            Assert.Equal(1.0 / RandomizedSampling.MeanDistance, RandomizedSampling.SampleProbability(1), 12);
            Assert.Equal(1 - Math.Exp(-100_024.0 / 102_400), RandomizedSampling.SampleProbability(100_024), 4);
            var acc = new AllocationAccumulator(AllocationSamplingMethod.Randomized);
            acc.AddSampled("System.Byte[]", 100_024);
            var row = acc.Build(1, "p", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1)).Types.Single();
            double pi = RandomizedSampling.SampleProbability(100_024);
            Assert.Equal(1 / pi, row.EstimatedCount, 9);
            Assert.Equal(100_024 / pi, row.EstimatedBytes, 6);
            Assert.Equal(Math.Sqrt(1 - pi), row.RelativeError!.Value, 9);   // one sample: sqrt((1-π)/π² · s²) / (s/π)
        }

        [Fact]
        public void AllocationTick_charges_each_tick_to_the_crossing_type_and_is_biased_by_periodic_patterns()
        {
            // A program that allocates 90 KB of Small, then one 12 KB Big, over and over: a ~100 KB stride of ticks
            // lands on one type far more often than bytes say. The fallback reports it as it is, without an error bound.
            var acc = new AllocationAccumulator(AllocationSamplingMethod.AllocationTick);
            long sinceTick = 0, truthSmall = 0, truthBig = 0;
            for (int round = 0; round < 1000; round++)
            {
                for (int i = 0; i < 900; i++) { sinceTick += 100; truthSmall += 100; if (sinceTick >= 102_400) { acc.AddTick("Small", sinceTick, 100); sinceTick = 0; } }
                sinceTick += 12_000; truthBig += 12_000;
                if (sinceTick >= 102_400) { acc.AddTick("Big", sinceTick, 12_000); sinceTick = 0; }
            }
            var p = acc.Build(1, "p", "8.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1));
            Assert.Equal(AllocationSamplingMethod.AllocationTick, p.Method);
            Assert.Null(p.RelativeError);
            Assert.All(p.Types, t => Assert.Null(t.RelativeError));
            double big = p.Types.SingleOrDefault(t => t.TypeName == "Big")?.EstimatedBytes ?? 0;
            // Every byte is charged to someone: the total is right, the split is not.
            Assert.InRange(p.TotalBytes, (truthSmall + truthBig) * 0.99, truthSmall + truthBig);
            Assert.True(Math.Abs(big - truthBig) > 0.2 * truthBig, $"Big: {big} estimated, {truthBig} allocated");
        }

        [Fact]
        public void Names_are_canonical_and_the_number_of_types_is_bounded()
        {
            var acc = new AllocationAccumulator(AllocationSamplingMethod.Randomized);
            acc.AddSampled("Entry[System.String,System.String][]", 1000);
            for (int i = 0; i < AllocationAccumulator.MaxKeys + 10; i++) acc.AddSampled("T" + i, 24);
            var p = acc.Build(1, "p", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1));
            Assert.Contains(p.Types, t => t.TypeName == "Entry<System.String, System.String>[]");
            Assert.Equal(AllocationAccumulator.MaxKeys + 1, p.TypeCount);
            Assert.Equal(11, p.Types.Single(t => t.TypeName == AllocationAccumulator.OtherTypes).SampleCount);
            Assert.Equal(3, acc.Build(1, "p", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1), top: 3).Types.Count);
        }

        [Fact]
        public void Stacks_are_grouped_per_type_and_stack()
        {
            var acc = new AllocationAccumulator(AllocationSamplingMethod.Randomized);
            acc.AddSampled("A", 100, new[] { "M1", "Main" });
            acc.AddSampled("A", 100, new[] { "M1", "Main" });
            acc.AddSampled("A", 100, new[] { "M2", "Main" });
            var p = acc.Build(1, "p", "10.0.0", DateTime.UnixEpoch, DateTime.UnixEpoch.AddSeconds(1));
            Assert.Single(p.Types);
            Assert.Equal(2, p.Stacks.Count);
            Assert.Equal(new[] { "M1", "Main" }, p.Stacks[0].Stack);
            Assert.Equal(2, p.Stacks[0].SampleCount);
        }
    }
}
