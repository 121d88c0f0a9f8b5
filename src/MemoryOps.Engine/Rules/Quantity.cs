using System;
using System.Globalization;

namespace MemoryOps.Engine.Rules
{
    /// <summary>
    /// Reads the limits of a policy file: numbers in base units, or the strings PowerShell users write
    /// (512MB, 1.5GB, 200KB; 30s, 5m, 00:00:30), so a JSON policy reads as naturally as a .psd1 one.
    /// </summary>
    internal static class Quantity
    {
        public static bool TryParseBytes(string text, out double value)
        {
            string s = text.Trim();
            double factor = 1;
            string[] suffixes = { "PB", "TB", "GB", "MB", "KB" };
            double[] factors = { Math.Pow(1024, 5), Math.Pow(1024, 4), Math.Pow(1024, 3), Math.Pow(1024, 2), 1024 };
            for (int i = 0; i < suffixes.Length; i++)
            {
                if (s.EndsWith(suffixes[i], StringComparison.OrdinalIgnoreCase))
                {
                    factor = factors[i];
                    s = s.Substring(0, s.Length - 2).Trim();
                    break;
                }
            }
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number * factor))
            {
                value = number * factor;
                return true;
            }
            value = 0;
            return false;
        }

        public static bool TryParseDuration(string text, out TimeSpan value)
        {
            string s = text.Trim();
            double unit = 1;
            if (s.EndsWith("ms", StringComparison.OrdinalIgnoreCase)) { unit = 0.001; s = s[..^2]; }
            else if (s.EndsWith("s", StringComparison.OrdinalIgnoreCase)) { s = s[..^1]; }
            else if (s.EndsWith("m", StringComparison.OrdinalIgnoreCase)) { unit = 60; s = s[..^1]; }
            else if (s.EndsWith("h", StringComparison.OrdinalIgnoreCase)) { unit = 3600; s = s[..^1]; }
            // Beyond TimeSpan's range (1e300s) is not a duration; FromSeconds would throw a bare OverflowException.
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0)
            {
                if (!double.IsFinite(number * unit) || number * unit > TimeSpan.MaxValue.TotalSeconds) { value = default; return false; }
                value = TimeSpan.FromSeconds(number * unit);
                return true;
            }
            return TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out value);
        }
    }
}
