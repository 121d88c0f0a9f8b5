using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Metrics;

namespace MemoryOps
{
    /// <summary>
    /// What ConvertTo-OpenMetrics and Export-MemoryMetric share: the input they read, -Top, and the book the inputs
    /// go into. <see cref="AddInput"/> takes one pipeline object (rebuilt when it came deserialized) or says why not.
    /// </summary>
    public abstract class MetricsCmdlet : MemoryOpsCmdlet
    {
        /// <summary>A CounterSample, GcSummary, HeapSnapshot, HeapComparison, HeapTypeDelta, ThresholdResult or AllocationProfile (or their deserialized forms).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject InputObject { get; set; } = null!;

        /// <summary>How many heap types of each snapshot (by bytes) or comparison (by growth) become series.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int Top { get; set; } = 20;

        internal readonly MetricsBook Book = new MetricsBook();

        protected override void BeginProcessing() => Book.TopTypes = Top;

        /// <summary>Adds this record's input to the book; false (with an UnsupportedInput error) when metrics cannot say it.</summary>
        protected bool AddInput()
        {
            object? input;
            try { input = ModelOf(InputObject); }
            catch (MemoryOpsException e) { WriteFailure(e, InputObject); return false; }
            if (input != null && Book.Add(input)) return true;
            WriteFailure(new MemoryOpsException(FailureKind.UnsupportedInput,
                $"Metrics are made of CounterSample, GcSummary, HeapSnapshot, HeapComparison, HeapTypeDelta, ThresholdResult and AllocationProfile objects, not {Rehydrator.TypeNameOf(InputObject)}." +
                (input is GcEventRecord ? " GC records are events: pipe Get-GcEvent -Summary instead." : ""), input), input);
            return false;
        }
    }
}
