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
    public sealed class ConvertToOpenMetricsCommand : MemoryOpsCmdlet
    {
        /// <summary>A CounterSample, GcSummary, HeapSnapshot, HeapComparison, HeapTypeDelta or ThresholdResult (or their deserialized forms).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject InputObject { get; set; } = null!;

        /// <summary>How many heap types of each snapshot (by bytes) or comparison (by growth) become series.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int Top { get; set; } = 20;

        /// <summary>OpenMetrics 1.0 (default; with timestamps and # EOF) or Prometheus text 0.0.4 (what the textfile collector and the Pushgateway read).</summary>
        [Parameter]
        public MetricsFormat Format { get; set; } = MetricsFormat.OpenMetrics;

        private readonly MetricsBook book = new MetricsBook();

        protected override void BeginProcessing() => book.TopTypes = Top;

        protected override void ProcessRecord()
        {
            object? input;
            try { input = ModelOf(InputObject); }
            catch (MemoryOpsException e) { WriteFailure(e, InputObject); return; }
            if (input == null || !book.Add(input))
                WriteFailure(new MemoryOpsException(FailureKind.UnsupportedInput,
                    $"Metrics are made of CounterSample, GcSummary, HeapSnapshot, HeapComparison, HeapTypeDelta and ThresholdResult objects, not {Rehydrator.TypeNameOf(InputObject)}." +
                    (input is GcEventRecord ? " GC records are events: pipe Get-GcEvent -Summary instead." : ""), input), input);
        }

        protected override void EndProcessing()
        {
            WriteVerbose($"{book.SeriesCount} series.");
            WriteObject(book.ToText(Format));
        }
    }
}
