using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Allocations
{
    /// <summary>
    /// Per-type changes between two allocation profiles. Rates (bytes per second) are compared, not totals, so windows
    /// of different lengths compare; each change says whether it exceeds the two estimates' combined sampling error.
    /// </summary>
    internal static class AllocationComparer
    {
        public static List<AllocationTypeDelta> Compare(AllocationProfile reference, AllocationProfile difference) =>
            Compare(reference, difference, out _);

        /// <summary>True when the profile holds fewer type rows than the window saw (taken with -Top).</summary>
        public static bool IsTruncated(AllocationProfile profile) => profile.TypeCount > profile.Types.Count;

        /// <summary>
        /// As <see cref="Compare(AllocationProfile, AllocationProfile)"/>; a type missing from a truncated profile (one
        /// taken with -Top) may only have fallen below its top rows, so it is neither Added nor Removed: such types are
        /// left out and named in <paramref name="unknown"/>. A type missing from a complete profile was not allocated there.
        /// </summary>
        public static List<AllocationTypeDelta> Compare(AllocationProfile reference, AllocationProfile difference, out List<string> unknown)
        {
            bool referenceTruncated = IsTruncated(reference), differenceTruncated = IsTruncated(difference);
            unknown = new List<string>();
            var before = reference.Types.GroupBy(t => t.TypeName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var after = difference.Types.GroupBy(t => t.TypeName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            bool bothRandomized = reference.Method == AllocationSamplingMethod.Randomized && difference.Method == AllocationSamplingMethod.Randomized;
            var deltas = new List<AllocationTypeDelta>();
            foreach (var name in before.Keys.Union(after.Keys, StringComparer.Ordinal))
            {
                before.TryGetValue(name, out var r);
                after.TryGetValue(name, out var d);
                if ((r == null && referenceTruncated) || (d == null && differenceTruncated)) { unknown.Add(name); continue; }
                double rRate = r?.BytesPerSecond ?? 0, dRate = d?.BytesPerSecond ?? 0;
                var delta = new AllocationTypeDelta
                {
                    TypeName = name,
                    ReferenceBytesPerSecond = rRate,
                    DifferenceBytesPerSecond = dRate,
                    BytesPerSecondDelta = dRate - rRate,
                    ReferenceBytes = r?.EstimatedBytes ?? 0,
                    DifferenceBytes = d?.EstimatedBytes ?? 0,
                    ReferenceCount = r?.EstimatedCount ?? 0,
                    DifferenceCount = d?.EstimatedCount ?? 0,
                    GrowthPercent = r != null && rRate > 0 ? (dRate - rRate) * 100 / rRate : (double?)null,
                    Status = r == null ? DeltaStatus.Added : d == null ? DeltaStatus.Removed : dRate > rRate ? DeltaStatus.Grown : dRate < rRate ? DeltaStatus.Shrunk : DeltaStatus.Unchanged,
                    ProcessId = difference.ProcessId,
                    ProcessName = difference.ProcessName,
                    Host = difference.Host,
                };
                if (bothRandomized)
                {
                    // A type absent from a window was not sampled there: its rate's error is that of one sample's worth.
                    double rError = r?.RelativeError is double re ? re * rRate : RandomizedSampling.MeanDistance / Math.Max(reference.Duration, 1e-9);
                    double dError = d?.RelativeError is double de ? de * dRate : RandomizedSampling.MeanDistance / Math.Max(difference.Duration, 1e-9);
                    delta.Significant = Math.Abs(delta.BytesPerSecondDelta) > 1.96 * Math.Sqrt(rError * rError + dError * dError);
                }
                deltas.Add(delta);
            }
            return deltas.OrderByDescending(x => Math.Abs(x.BytesPerSecondDelta)).ThenBy(x => x.TypeName, StringComparer.Ordinal).ToList();
        }
    }
}
