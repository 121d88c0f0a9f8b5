using System;
using System.Collections.Generic;

namespace MemoryOps
{
    /// <summary>Gauge: a level (heap size). Rate: an amount per second (allocations/s).</summary>
    public enum CounterKind { Gauge, Rate }

    /// <summary>One value of one counter from one process, in base units (bytes, seconds).</summary>
    public sealed class CounterSample
    {
        public DateTime Timestamp { get; set; }
        public int ProcessId { get; set; }
        /// <summary>The machine the process ran on: this machine's name when made here, the remote computer's name
        /// (PSComputerName) when the object came home from remoting or a job.</summary>
        public string Host { get; set; } = Environment.MachineName;
        public string ProcessName { get; set; } = "";
        /// <summary>The EventSource or Meter that published the value (System.Runtime, or a Meter name).</summary>
        public string Provider { get; set; } = "";
        public string Name { get; set; } = "";
        public double Value { get; set; }
        /// <summary>bytes, bytes/s, seconds, s/s, count, count/s, percent, or the publisher's own unit when it is none of those.</summary>
        public string Unit { get; set; } = "";
        public CounterKind Kind { get; set; }
        /// <summary>Dimensions such as gc.heap.generation=gen0; empty when the counter has none.</summary>
        public CounterTags Tags { get; set; } = new CounterTags();
        /// <summary>Display name given by the publisher, if any.</summary>
        public string DisplayName { get; set; } = "";
        /// <summary>EventCounters or Meter.</summary>
        public string Source { get; set; } = "";

        /// <summary>Name plus tags: what identifies one series of samples.</summary>
        public string SeriesKey
        {
            get
            {
                if (Tags.Count == 0) return Provider + "/" + Name;
                var parts = new List<string>();
                foreach (var kv in Tags) parts.Add(kv.Key + "=" + kv.Value);
                parts.Sort(StringComparer.Ordinal);
                return Provider + "/" + Name + "[" + string.Join(",", parts) + "]";
            }
        }

        public override string ToString() => $"{Name} = {Value} {Unit}";
    }

    /// <summary>A counter a process publishes (for -ListAvailable and tab completion).</summary>
    public sealed class CounterDescriptor
    {
        public int ProcessId { get; set; }
        public string Provider { get; set; } = "";
        public string Name { get; set; } = "";
        public string DisplayName { get; set; } = "";
        public string Unit { get; set; } = "";
        public CounterKind Kind { get; set; }
        public string Source { get; set; } = "";
        public string[] TagKeys { get; set; } = Array.Empty<string>();
    }

    /// <summary>
    /// A counter's dimensions. A dictionary in every way, except that it reads as "key=value;key=value" where a
    /// value is made text (Export-Csv's column, string interpolation), instead of the dictionary's type name.
    /// </summary>
    public sealed class CounterTags : Dictionary<string, string>
    {
        public CounterTags() : base(StringComparer.Ordinal) { }
        public CounterTags(IDictionary<string, string> tags) : base(tags, StringComparer.Ordinal) { }

        public override string ToString()
        {
            var parts = new List<string>(Count);
            foreach (var kv in this) parts.Add(kv.Key + "=" + kv.Value);
            parts.Sort(StringComparer.Ordinal);
            return string.Join(";", parts);
        }
    }
}
