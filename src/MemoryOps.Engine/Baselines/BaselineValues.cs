using System;
using System.Globalization;

namespace MemoryOps.Engine.Baselines
{
    /// <summary>
    /// Which values a baseline may hold. A baseline's history is averaged: one planted or corrupt value (1e308, NaN, a
    /// negative size) would own the mean and spread of every later check against it, so such a value is refused where
    /// it enters, on save, and where it is read back, with an error naming the metric and the entry.
    /// </summary>
    internal static class BaselineValues
    {
        /// <summary>
        /// The largest magnitude a saved value may have: 10^18. No memory figure comes near it (10^18 bytes is 888 PiB,
        /// more than any address space holds; nor do counts or seconds of a real process), so a larger value is corrupt.
        /// </summary>
        public const double MaxMagnitude = 1e18;

        /// <summary>Why <paramref name="value"/> cannot be a baseline value in <paramref name="unit"/>; null when it can.</summary>
        public static string? Problem(double value, string? unit)
        {
            if (double.IsNaN(value) || double.IsInfinity(value)) return "is not a finite number";
            if (Math.Abs(value) > MaxMagnitude) return "is larger than 10^18, which no memory figure reaches";
            if (value < 0 && string.Equals(unit, "bytes", StringComparison.Ordinal)) return "is negative, which a size in bytes cannot be";
            return null;
        }

        /// <summary>The first value of the entry that cannot be a baseline value, described for an error; null when all can.</summary>
        public static string? FirstProblem(MemoryBaselineEntry entry)
        {
            foreach (var kv in entry.Metrics)
            {
                entry.Units.TryGetValue(kv.Key, out var unit);
                var problem = Problem(kv.Value, unit);
                if (problem != null) return $"metric '{kv.Key}' = {Format(kv.Value)} {problem}";
            }
            if (entry.Snapshot != null)
            {
                foreach (var t in entry.Snapshot.Types)
                {
                    var problem = Problem(t.TotalBytes, "bytes") ?? Problem(t.Count, "count") ?? (t.Count < 0 ? "is negative, which a count cannot be" : null);
                    if (problem != null) return $"type '{t.TypeName}' ({t.Count} objects, {t.TotalBytes} bytes) {problem}";
                }
            }
            return null;
        }

        private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }
}
