using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace MemoryOps
{
    /// <summary>
    /// Text for the format views. Output objects keep raw numbers (bytes, seconds); only the views
    /// call these, so sorting and thresholds still work on the numbers. Static and number-only, so the
    /// same views work on Deserialized objects after remoting or Import-Clixml. It lives in the engine so
    /// rule messages say "612.3 MB" the same way the views do.
    /// </summary>
    public static class Display
    {
        private static readonly string[] ByteUnits = { "B", "KB", "MB", "GB", "TB" };

        /// <summary>1536 → "1.5 KB"; binary multiples, matching PowerShell's 1KB/1MB literals.</summary>
        public static string Bytes(double bytes)
        {
            if (double.IsNaN(bytes)) return "";
            double abs = Math.Abs(bytes);
            int unit = 0;
            while (abs >= 1024 && unit < ByteUnits.Length - 1) { abs /= 1024; unit++; }
            string number = unit == 0 ? abs.ToString("0", CultureInfo.CurrentCulture) : abs.ToString("0.0", CultureInfo.CurrentCulture);
            return (bytes < 0 ? "-" : "") + number + " " + ByteUnits[unit];
        }

        /// <summary>Like <see cref="Bytes"/> but always signed: "+12.0 MB", "-3 B", "0 B".</summary>
        public static string SignedBytes(double bytes) => bytes > 0 ? "+" + Bytes(bytes) : Bytes(bytes);

        /// <summary>0.0123 → "12.3 ms"; 75 → "1m 15.0s".</summary>
        public static string Seconds(double seconds)
        {
            if (double.IsNaN(seconds)) return "";
            double abs = Math.Abs(seconds);
            if (abs == 0) return "0 s";
            if (abs < 0.001) return (seconds * 1_000_000).ToString("0.#", CultureInfo.CurrentCulture) + " µs";
            if (abs < 1) return (seconds * 1000).ToString("0.###", CultureInfo.CurrentCulture) + " ms";
            if (abs < 60) return seconds.ToString("0.###", CultureInfo.CurrentCulture) + " s";
            var t = TimeSpan.FromSeconds(seconds);
            return $"{(int)t.TotalMinutes}m {t.Seconds + t.Milliseconds / 1000.0:0.0}s";
        }

        /// <summary>A counter value in its unit, for the CounterSample view.</summary>
        public static string Value(double value, string unit)
        {
            switch (unit)
            {
                case "bytes": return Bytes(value);
                case "bytes/s": return Bytes(value) + "/s";
                case "seconds": return Seconds(value);
                case "seconds/s": return (value * 100).ToString("0.##", CultureInfo.CurrentCulture) + " % of time";
                case "fraction": return Fraction(value);
                case "percent": return value.ToString("0.##", CultureInfo.CurrentCulture) + " %";
                case "count": return value.ToString("#,0.##", CultureInfo.CurrentCulture);
                case "count/s": return value.ToString("#,0.##", CultureInfo.CurrentCulture) + "/s";
                default: return value.ToString("#,0.###", CultureInfo.CurrentCulture) + " " + unit;
            }
        }

        public static string Fraction(double fraction) => (fraction * 100).ToString("0.##", CultureInfo.CurrentCulture) + " %";

        /// <summary>Tags as "k=v, k=v" from a dictionary or a deserialized hashtable.</summary>
        public static string Tags(object? tags)
        {
            if (tags is System.Collections.IDictionary d && d.Count > 0)
            {
                var parts = new List<string>();
                foreach (System.Collections.DictionaryEntry e in d) parts.Add($"{e.Key}={e.Value}");
                return string.Join(", ", parts.OrderBy(p => p, StringComparer.Ordinal));
            }
            return "";
        }
    }
}
