using System;
using System.Globalization;
using System.Management.Automation;

namespace MemoryOps
{
    /// <summary>
    /// Lets a TimeSpan parameter take plain seconds: -Duration 30 means 30 seconds, not 30 ticks
    /// (PowerShell's own conversion of an integer to TimeSpan). TimeSpans and "00:01:00" pass through.
    /// </summary>
    public sealed class SecondsToTimeSpanAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject pso ? pso.BaseObject : inputData;
            switch (value)
            {
                case TimeSpan t: return t;
                case int i: return FromSeconds(i);
                case long l: return FromSeconds(l);
                case double d: return FromSeconds(d);
                case float f: return FromSeconds(f);
                case decimal m: return FromSeconds((double)m);
                case string s:
                    if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs)) return FromSeconds(secs);
                    if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var ts)) return ts;
                    throw new ArgumentTransformationMetadataException($"'{Display.Escape(s)}' is neither a number of seconds nor a time span such as 00:01:30.");
                default:
                    return inputData;
            }
        }

        // TimeSpan.FromSeconds throws a bare OverflowException (1e300) or ArgumentException (NaN): say what was wrong instead.
        private static TimeSpan FromSeconds(double seconds)
        {
            if (double.IsNaN(seconds) || double.IsInfinity(seconds) || Math.Abs(seconds) > TimeSpan.MaxValue.TotalSeconds)
                throw new ArgumentTransformationMetadataException($"{seconds.ToString(CultureInfo.InvariantCulture)} seconds is not a time span: give a finite number of seconds.");
            return TimeSpan.FromSeconds(seconds);
        }
    }
}
