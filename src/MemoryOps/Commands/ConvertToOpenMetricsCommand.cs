using System;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Metrics;

namespace MemoryOps.Commands
{
    /// <summary>
    /// MemoryOps objects as Prometheus metrics text: counter samples, GC summaries, heap snapshots (top types),
    /// comparisons and threshold results. The latest value of each series is written, once the input has ended.
    /// </summary>
    [Cmdlet(VerbsData.ConvertTo, "OpenMetrics")]
    [OutputType(typeof(string))]
    public sealed class ConvertToOpenMetricsCommand : MetricsCmdlet
    {
        /// <summary>OpenMetrics 1.0 (default; with timestamps and # EOF) or Prometheus text 0.0.4 (what the textfile collector and the Pushgateway read).</summary>
        [Parameter]
        public MetricsFormat Format { get; set; } = MetricsFormat.OpenMetrics;

        protected override void ProcessRecord() => AddInput();

        protected override void EndProcessing()
        {
            WriteVerbose($"{Book.SeriesCount} series.");
            WriteObject(Book.ToText(Format));
        }
    }
}
