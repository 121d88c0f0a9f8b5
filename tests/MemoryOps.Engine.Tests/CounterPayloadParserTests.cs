using System;
using System.Collections.Generic;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.Counters;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class CounterPayloadParserTests
    {
        private static readonly DateTime T = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);

        // Shapes copied from what .NET 10's RuntimeEventSource sends (seen with a live TestTarget).
        private static Dictionary<string, object?> Mean(string name, double mean, string units) => new Dictionary<string, object?>
        {
            ["Name"] = name, ["DisplayName"] = name, ["Mean"] = mean, ["StandardDeviation"] = 0d, ["Count"] = 1, ["Min"] = mean,
            ["Max"] = mean, ["IntervalSec"] = 1.0004, ["Series"] = "Interval=1000", ["CounterType"] = "Mean", ["Metadata"] = "", ["DisplayUnits"] = units,
        };

        private static Dictionary<string, object?> Sum(string name, double increment, string units, double interval) => new Dictionary<string, object?>
        {
            ["Name"] = name, ["DisplayName"] = name, ["DisplayRateTimeScale"] = "00:00:01", ["Increment"] = increment,
            ["IntervalSec"] = interval, ["Series"] = "Interval=1000", ["CounterType"] = "Sum", ["Metadata"] = "", ["DisplayUnits"] = units,
        };

        [Fact]
        public void EventCounter_MB_gauge_becomes_bytes_with_the_runtimes_decimal_megabyte()
        {
            var s = CounterPayloadParser.FromEventCounter("System.Runtime", Mean("gc-heap-size", 467.25, "MB"), T)!;
            Assert.Equal(467_250_000d, s.Value, 3);
            Assert.Equal("bytes", s.Unit);
            Assert.Equal(CounterKind.Gauge, s.Kind);
            Assert.Equal("EventCounters", s.Source);
            Assert.Equal("System.Runtime", s.Provider);
            Assert.Equal(T, s.Timestamp);
        }

        [Fact]
        public void EventCounter_increment_becomes_a_per_second_rate()
        {
            var s = CounterPayloadParser.FromEventCounter("System.Runtime", Sum("alloc-rate", 2_000_000, "B", 2.0), T)!;
            Assert.Equal(1_000_000d, s.Value, 3);
            Assert.Equal("bytes/s", s.Unit);
            Assert.Equal(CounterKind.Rate, s.Kind);
        }

        [Theory]
        [InlineData("ms", 250, 0.25, "seconds")]
        [InlineData("%", 3.5, 3.5, "percent")]
        [InlineData("", 42, 42, "count")]
        [InlineData("B", 1024, 1024, "bytes")]
        public void EventCounter_units(string units, double raw, double expected, string unit)
        {
            var s = CounterPayloadParser.FromEventCounter("P", Mean("x", raw, units), T)!;
            Assert.Equal(expected, s.Value, 9);
            Assert.Equal(unit, s.Unit);
        }

        [Fact]
        public void EventCounter_without_a_name_or_value_is_ignored()
        {
            Assert.Null(CounterPayloadParser.FromEventCounter("P", new Dictionary<string, object?> { ["Mean"] = 1d }, T));
            Assert.Null(CounterPayloadParser.FromEventCounter("P", new Dictionary<string, object?> { ["Name"] = "x", ["CounterType"] = "Mean" }, T));
        }

        private static Dictionary<string, object?> Meter(string instrument, string unit, string tags, params (string, object?)[] values)
        {
            var d = new Dictionary<string, object?>
            {
                ["sessionId"] = "SHARED", ["meterName"] = "System.Runtime", ["meterVersion"] = "", ["instrumentName"] = instrument,
                ["unit"] = unit, ["tags"] = tags,
            };
            foreach (var (k, v) in values) d[k] = v;
            return d;
        }

        [Fact]
        public void Meter_up_down_counter_is_a_gauge_of_its_value_with_tags()
        {
            var s = CounterPayloadParser.FromMeterEvent("UpDownCounterRateValuePublished",
                Meter("dotnet.gc.last_collection.heap.size", "By", "gc.heap.generation=gen2", ("rate", "0"), ("value", "123456")), T, 1).Single();
            Assert.Equal(123456d, s.Value);
            Assert.Equal("bytes", s.Unit);
            Assert.Equal(CounterKind.Gauge, s.Kind);
            Assert.Equal("gen2", s.Tags["gc.heap.generation"]);
            Assert.Equal("Meter", s.Source);
            Assert.Equal("System.Runtime/dotnet.gc.last_collection.heap.size[gc.heap.generation=gen2]", s.SeriesKey);
        }

        [Fact]
        public void Meter_counter_rate_is_per_second_and_empty_first_rate_is_skipped()
        {
            var s = CounterPayloadParser.FromMeterEvent("CounterRateValuePublished",
                Meter("dotnet.gc.heap.total_allocated", "By", "", ("rate", "4000"), ("value", "99999")), T, 2).Single();
            Assert.Equal(2000d, s.Value);
            Assert.Equal("bytes/s", s.Unit);
            Assert.Equal(CounterKind.Rate, s.Kind);
            Assert.Empty(CounterPayloadParser.FromMeterEvent("CounterRateValuePublished",
                Meter("dotnet.gc.heap.total_allocated", "By", "", ("rate", ""), ("value", "99999")), T, 1));
        }

        [Fact]
        public void Meter_gauge_uses_lastValue_in_invariant_culture()
        {
            var s = CounterPayloadParser.FromMeterEvent("GaugeValuePublished", Meter("orders.count", "{order}", "", ("lastValue", "1.5E3")), T, 1).Single();
            Assert.Equal(1500d, s.Value);
            Assert.Equal("count", s.Unit);
        }

        [Fact]
        public void Meter_histogram_yields_one_sample_per_quantile()
        {
            var samples = CounterPayloadParser.FromMeterEvent("HistogramValuePublished",
                Meter("http.server.request.duration", "s", "http.route=/orders", ("quantiles", "0.5=0.012;0.95=0.2;0.99=0.5"), ("count", "10"), ("sum", "1")), T, 1).ToList();
            Assert.Equal(new[] { "50", "95", "99" }, samples.Select(s => s.Tags["quantile"]));
            Assert.Equal(new[] { 0.012, 0.2, 0.5 }, samples.Select(s => s.Value));
            Assert.All(samples, s => Assert.Equal("/orders", s.Tags["http.route"]));
        }

        [Fact]
        public void Meter_other_events_yield_nothing()
        {
            Assert.Empty(CounterPayloadParser.FromMeterEvent("BeginInstrumentReporting", Meter("x", "By", ""), T, 1));
        }

        [Theory]
        [InlineData("By", 1, "bytes")]
        [InlineData("KiBy", 1024, "bytes")]
        [InlineData("ms", 0.001, "seconds")]
        [InlineData("s", 1, "seconds")]
        [InlineData("{collection}", 1, "count")]
        [InlineData("1", 1, "count")]
        [InlineData("req", 1, "req")]
        public void Meter_units(string unit, double scale, string name)
        {
            var (s, u) = CounterPayloadParser.NormalizeMeterUnit(unit);
            Assert.Equal(scale, s, 12);
            Assert.Equal(name, u);
        }

        [Fact]
        public void Tags_parse_and_tolerate_garbage()
        {
            var t = CounterPayloadParser.ParseTags("a=1,b=x=y,broken,=nokey");
            Assert.Equal(2, t.Count);
            Assert.Equal("1", t["a"]);
            Assert.Equal("x=y", t["b"]);
            Assert.Empty(CounterPayloadParser.ParseTags(""));
        }
    }
}
