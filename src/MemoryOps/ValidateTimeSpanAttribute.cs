using System;
using System.Globalization;
using System.Management.Automation;

namespace MemoryOps
{
    /// <summary>
    /// Bounds a TimeSpan parameter (-Duration, -Interval, -Timeout, -For) at binding time, so a value out of range is a
    /// parameter validation error that names the parameter and the range, instead of an overflow deep in the command
    /// ([timespan]::MaxValue added to the start time threw a raw ArgumentOutOfRangeException).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateTimeSpanAttribute : ValidateArgumentsAttribute
    {
        public double MinSeconds { get; }
        public double MaxSeconds { get; }
        /// <summary>Said after the range when the value is below it: why the lower bound is there.</summary>
        public string? TooShort { get; set; }
        /// <summary>Said after the range when the value is above it: what to do instead.</summary>
        public string? TooLong { get; set; }

        public ValidateTimeSpanAttribute(double minSeconds, double maxSeconds)
        {
            MinSeconds = minSeconds;
            MaxSeconds = maxSeconds;
        }

        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            object value = arguments is PSObject pso ? pso.BaseObject : arguments;
            if (!(value is TimeSpan t))
                throw new ValidationMetadataException($"'{Display.Escape(Convert.ToString(value, CultureInfo.InvariantCulture))}' is not a time span.");
            bool tooShort = t.TotalSeconds < MinSeconds, tooLong = t.TotalSeconds > MaxSeconds;
            if (tooShort || tooLong)
            {
                string? why = tooShort ? TooShort : TooLong;
                throw new ValidationMetadataException(
                    $"{Describe(t)} is out of range: give from {Describe(TimeSpan.FromSeconds(MinSeconds))} to {Describe(TimeSpan.FromSeconds(MaxSeconds))}." +
                    (why != null ? " " + why : ""));
            }
        }

        private static string Describe(TimeSpan t)
        {
            if (t == TimeSpan.Zero) return "0 s";
            if (t.Duration() >= TimeSpan.FromDays(1) && t.Ticks % TimeSpan.TicksPerDay == 0) return t.TotalDays == 1 ? "1 day" : $"{t.TotalDays:0} days";
            if (t.Duration() >= TimeSpan.FromHours(1) && t.Ticks % TimeSpan.TicksPerHour == 0) return $"{t.TotalHours:0} h";
            if (t.Duration() < TimeSpan.FromHours(1)) return $"{t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";
            return t.ToString("c", CultureInfo.InvariantCulture);
        }
    }
}
