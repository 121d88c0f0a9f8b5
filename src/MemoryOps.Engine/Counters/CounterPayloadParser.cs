using System;
using System.Collections.Generic;
using System.Globalization;

namespace MemoryOps.Engine.Counters
{
    /// <summary>
    /// Turns the two counter wire formats into <see cref="CounterSample"/>s in base units.
    /// No TraceEvent types here: the session hands over plain payload dictionaries, so every
    /// conversion can be tested without a live process.
    /// </summary>
    internal static class CounterPayloadParser
    {
        public const string EventCountersSource = "EventCounters";
        public const string MeterSource = "Meter";

        /// <summary>
        /// An EventCounters payload (the "Payload" dictionary of an "EventCounters" event).
        /// Mean counters are gauges; Sum ("Increment") counters become per-second rates.
        /// Returns null for a payload without a value.
        /// </summary>
        public static CounterSample? FromEventCounter(string provider, IDictionary<string, object?> payload, DateTime timestamp)
        {
            string name = GetString(payload, "Name");
            if (name.Length == 0) return null;
            string counterType = GetString(payload, "CounterType");
            string displayUnits = GetString(payload, "DisplayUnits");
            bool isRate = string.Equals(counterType, "Sum", StringComparison.OrdinalIgnoreCase) || payload.ContainsKey("Increment") && !payload.ContainsKey("Mean");

            double raw = isRate ? GetDouble(payload, "Increment") : GetDouble(payload, "Mean");
            if (double.IsNaN(raw)) return null;
            double interval = GetDouble(payload, "IntervalSec");

            var (scale, unit) = NormalizeEventCounterUnit(displayUnits);
            double value = raw * scale;
            if (isRate)
            {
                // An increment is "per interval"; per second is what a threshold should be written against.
                if (interval > 0 && !double.IsNaN(interval)) value /= interval;
                unit += "/s";
            }

            return new CounterSample
            {
                Timestamp = timestamp,
                Provider = provider,
                Name = name,
                DisplayName = GetString(payload, "DisplayName"),
                Value = value,
                Unit = unit,
                Kind = isRate ? CounterKind.Rate : CounterKind.Gauge,
                Source = EventCountersSource,
            };
        }

        /// <summary>
        /// A System.Diagnostics.Metrics event (GaugeValuePublished, CounterRateValuePublished,
        /// UpDownCounterRateValuePublished, HistogramValuePublished). Histograms yield one sample per
        /// quantile with a "quantile" tag. Returns nothing for other events or empty values.
        /// </summary>
        public static IEnumerable<CounterSample> FromMeterEvent(string eventName, IDictionary<string, object?> payload, DateTime timestamp, double intervalSeconds)
        {
            string meter = GetString(payload, "meterName");
            string instrument = GetString(payload, "instrumentName");
            string rawUnit = GetString(payload, "unit");
            var tags = ParseTags(GetString(payload, "tags"));
            var (scale, unit) = NormalizeMeterUnit(rawUnit);

            CounterSample Make(double value, CounterKind kind, string u, IDictionary<string, string> t) => new CounterSample
            {
                Timestamp = timestamp,
                Provider = meter,
                Name = instrument,
                Value = value,
                Unit = u,
                Kind = kind,
                Tags = new CounterTags(t),
                Source = MeterSource,
            };

            switch (eventName)
            {
                case "GaugeValuePublished":
                {
                    double v = GetDouble(payload, "lastValue");
                    if (!double.IsNaN(v)) yield return Make(v * scale, CounterKind.Gauge, unit, tags);
                    break;
                }
                case "UpDownCounterRateValuePublished":
                {
                    // An up-down counter is a level (heap size by generation): its "value" is the current
                    // total, its "rate" only the change since the last interval.
                    double v = GetDouble(payload, "value");
                    if (!double.IsNaN(v)) yield return Make(v * scale, CounterKind.Gauge, unit, tags);
                    break;
                }
                case "CounterRateValuePublished":
                {
                    // "rate" is the increase over the refresh interval; report it per second.
                    double r = GetDouble(payload, "rate");
                    if (!double.IsNaN(r))
                    {
                        double per = intervalSeconds > 0 ? intervalSeconds : 1;
                        yield return Make(r * scale / per, CounterKind.Rate, unit + "/s", tags);
                    }
                    break;
                }
                case "HistogramValuePublished":
                {
                    foreach (var (quantile, v) in ParseQuantiles(GetString(payload, "quantiles")))
                    {
                        var t = new CounterTags(tags) { ["quantile"] = quantile };
                        yield return Make(v * scale, CounterKind.Gauge, unit, t);
                    }
                    break;
                }
            }
        }

        /// <summary>EventCounters' DisplayUnits to a factor into base units and the base unit's name.</summary>
        public static (double Scale, string Unit) NormalizeEventCounterUnit(string displayUnits)
        {
            switch (displayUnits?.Trim())
            {
                // The runtime divides by 1,000,000 (not 2^20) for its MB counters (RuntimeEventSource).
                case "MB": return (1_000_000d, "bytes");
                case "KB": return (1_000d, "bytes");
                case "GB": return (1_000_000_000d, "bytes");
                case "B": return (1d, "bytes");
                case "ms": return (0.001d, "seconds");
                case "s": case "sec": return (1d, "seconds");
                case "%": return (1d, "percent");
                case null: case "": return (1d, "count");
                default: return (1d, displayUnits!.Trim());
            }
        }

        /// <summary>A Meter instrument's UCUM-style unit to a factor into base units and the base unit's name.</summary>
        public static (double Scale, string Unit) NormalizeMeterUnit(string unit)
        {
            string u = unit?.Trim() ?? "";
            switch (u)
            {
                case "By": return (1d, "bytes");
                case "KiBy": return (1024d, "bytes");
                case "MiBy": return (1024d * 1024d, "bytes");
                case "kBy": return (1000d, "bytes");
                case "MBy": return (1_000_000d, "bytes");
                case "s": return (1d, "seconds");
                case "ms": return (0.001d, "seconds");
                case "us": return (0.000001d, "seconds");
                case "ns": return (0.000000001d, "seconds");
                case "%": return (1d, "percent");
                case "": case "1": return (1d, "count");
            }
            // {collection}, {thread}, {exception}: an annotation means "a count of these".
            if (u.StartsWith("{", StringComparison.Ordinal) && u.EndsWith("}", StringComparison.Ordinal)) return (1d, "count");
            return (1d, u);
        }

        /// <summary>"gc.heap.generation=gen0,other=x" → dictionary. Empty string → empty dictionary.</summary>
        public static Dictionary<string, string> ParseTags(string tags)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (string.IsNullOrEmpty(tags)) return result;
            foreach (var part in tags.Split(','))
            {
                int eq = part.IndexOf('=');
                if (eq <= 0) continue;
                result[part.Substring(0, eq)] = part.Substring(eq + 1);
            }
            return result;
        }

        /// <summary>"0.5=1.2;0.95=3.4;0.99=5" → (50, 1.2), (95, 3.4), (99, 5).</summary>
        public static IEnumerable<(string Quantile, double Value)> ParseQuantiles(string quantiles)
        {
            if (string.IsNullOrEmpty(quantiles)) yield break;
            foreach (var part in quantiles.Split(';'))
            {
                int eq = part.IndexOf('=');
                if (eq <= 0) continue;
                if (!double.TryParse(part.Substring(0, eq), NumberStyles.Float, CultureInfo.InvariantCulture, out var q)) continue;
                if (!double.TryParse(part.Substring(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) continue;
                yield return ((q * 100).ToString("0.##", CultureInfo.InvariantCulture), v);
            }
        }

        private static string GetString(IDictionary<string, object?> payload, string key) =>
            payload.TryGetValue(key, out var v) && v != null ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" : "";

        /// <summary>Numbers arrive as doubles (EventCounters) or invariant strings (Metrics); "" means "no value".</summary>
        private static double GetDouble(IDictionary<string, object?> payload, string key)
        {
            if (!payload.TryGetValue(key, out var v) || v == null) return double.NaN;
            switch (v)
            {
                case double d: return d;
                case float f: return f;
                case int i: return i;
                case long l: return l;
                case string s:
                    return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : double.NaN;
                default:
                    try { return Convert.ToDouble(v, CultureInfo.InvariantCulture); }
                    catch (Exception) { return double.NaN; }
            }
        }
    }
}
