using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace MemoryOps
{
    /// <summary>
    /// Text for the format views and messages. Output objects keep raw numbers (bytes, seconds) and raw names; only
    /// the views and messages call these, so sorting, matching and thresholds still work on the values. Static and
    /// free of object types, so the same views work on Deserialized objects after remoting or Import-Clixml. It is
    /// shared by the engine and the cmdlets so rule messages say "612.3 MB" and escape names the same way the views do.
    /// </summary>
    public static class Display
    {
        private static readonly string[] ByteUnits = { "B", "KB", "MB", "GB", "TB" };

        /// <summary>
        /// A name or message as it may safely reach a terminal or a log: every control character is written as an
        /// escape (ESC → \e, CR → \r, LF → \n, TAB → \t, other C0 and DEL → \x07, C1 such as CSI → \u009b), and
        /// so are the line and paragraph separators and the bidirectional overrides, which reorder or break what a
        /// reader sees. Names come from processes, heaps and files that another user may control: unescaped, an ANSI or
        /// OSC sequence would recolour, retitle or clear the terminal, and a CR/LF would forge a line of output.
        /// Objects keep the raw names (a script can still match them); views, messages, warnings and errors show this.
        /// Backslashes are left alone, so paths and type names stay readable; the result contains no control character,
        /// so escaping twice changes nothing.
        /// </summary>
        public static string Escape(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text ?? "";
            int first = 0;
            while (first < text!.Length && !NeedsEscape(text[first])) first++;
            if (first == text.Length) return text; // the usual case: nothing to do, no allocation
            var sb = new StringBuilder(text.Length + 16);
            sb.Append(text, 0, first);
            for (int i = first; i < text.Length; i++)
            {
                char c = text[i];
                if (!NeedsEscape(c)) { sb.Append(c); continue; }
                switch (c)
                {
                    case '\x1b': sb.Append("\\e"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x80) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                        else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        break;
                }
            }
            return sb.ToString();
        }

        /// <summary>True when <paramref name="text"/> holds a character that <see cref="Escape"/> would rewrite.</summary>
        public static bool HasControlCharacters(string? text)
        {
            if (text == null) return false;
            foreach (char c in text) if (NeedsEscape(c)) return true;
            return false;
        }

        private static bool NeedsEscape(char c) =>
            c < 0x20 || (c >= 0x7f && c <= 0x9f)        // C0, DEL, C1 (0x9b is a one-byte CSI)
            || c == '\u2028' || c == '\u2029'            // line and paragraph separators
            || c == '\u061c' || c == '\u200e' || c == '\u200f' // bidi marks
            || (c >= '\u202a' && c <= '\u202e')          // bidi embeddings and overrides
            || (c >= '\u2066' && c <= '\u2069');         // bidi isolates

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
                default: return value.ToString("#,0.###", CultureInfo.CurrentCulture) + " " + Escape(unit); // a Meter's unit is any text the target chose
            }
        }

        public static string Fraction(double fraction) => (fraction * 100).ToString("0.##", CultureInfo.CurrentCulture) + " %";

        /// <summary>Tags as "k=v, k=v" from a dictionary or a deserialized hashtable.</summary>
        public static string Tags(object? tags)
        {
            if (tags is System.Collections.IDictionary d && d.Count > 0)
            {
                var parts = new List<string>();
                foreach (System.Collections.DictionaryEntry e in d) parts.Add(Escape($"{e.Key}={e.Value}"));
                return string.Join(", ", parts.OrderBy(p => p, StringComparer.Ordinal));
            }
            return "";
        }
    }
}
