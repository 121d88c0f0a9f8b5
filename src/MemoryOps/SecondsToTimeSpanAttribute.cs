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
                case int i: return TimeSpan.FromSeconds(i);
                case long l: return TimeSpan.FromSeconds(l);
                case double d: return TimeSpan.FromSeconds(d);
                case float f: return TimeSpan.FromSeconds(f);
                case decimal m: return TimeSpan.FromSeconds((double)m);
                case string s:
                    if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs)) return TimeSpan.FromSeconds(secs);
                    if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var ts)) return ts;
                    throw new ArgumentTransformationMetadataException($"'{s}' is neither a number of seconds nor a time span such as 00:01:30.");
                default:
                    return inputData;
            }
        }
    }
}
