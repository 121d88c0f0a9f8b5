using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.IO;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Appends what came down the pipeline to a baseline's history: one entry per heap snapshot, and one entry per
    /// process for its counter samples (each counter's mean over the samples given).
    /// </summary>
    [Cmdlet(VerbsData.Save, "MemoryBaseline", SupportsShouldProcess = true)]
    [OutputType(typeof(MemoryBaselineEntry))]
    public sealed class SaveMemoryBaselineCommand : MemoryOpsCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateBaselineName]
        [ArgumentCompleter(typeof(BaselineNameCompleter))]
        public string Name { get; set; } = "";

        /// <summary>A HeapSnapshot, CounterSample, ProcessMemoryInfo or AllocationProfile (kept as its AllocationRate).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject InputObject { get; set; } = null!;

        /// <summary>The store folder; default: $env:MEMORYOPS_BASELINE_STORE, else ~/.local/share/MemoryOps/baselines.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Store { get; set; }

        /// <summary>Keep at most this many entries, dropping the oldest.</summary>
        [Parameter]
        [ValidateRange(1, 100000)]
        public int MaxHistory { get; set; } = 30;

        /// <summary>Return the entries saved.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>The most bytes the baseline's history may hold when it is read before appending once decompressed (256 MB by default); the limits on JSON values and name length grow with it.</summary>
        [Parameter]
        [ValidateRange(InputLimits.SmallestMaximumInputSize, InputLimits.LargestMaximumInputSize)]
        public long MaximumInputSize { get; set; } = InputLimits.DefaultBaselineMaximumInputSize;

        private readonly List<MemoryBaselineEntry> entries = new List<MemoryBaselineEntry>();
        private readonly List<CounterSample> samples = new List<CounterSample>();

        protected override void ProcessRecord()
        {
            object? input;
            try { input = ModelOf(InputObject); }
            catch (MemoryOpsException e) { WriteFailure(e, InputObject); return; }
            switch (input)
            {
                case HeapSnapshot s: entries.Add(BaselineStore.FromSnapshot(s)); break;
                case CounterSample c: samples.Add(c); break;
                case ProcessMemoryInfo p: samples.AddRange(p.ToSamples()); break;
                case AllocationProfile a: samples.AddRange(a.ToSamples()); break;
                default:
                    WriteFailure(new MemoryOpsException(FailureKind.UnsupportedInput,
                        $"A baseline is saved from HeapSnapshot, CounterSample, ProcessMemoryInfo or AllocationProfile objects, not {Rehydrator.TypeNameOf(InputObject)}.", InputObject.BaseObject));
                    break;
            }
        }

        protected override void EndProcessing()
        {
            foreach (var process in samples.GroupBy(s => (Host: s.Host.ToUpperInvariant(), s.ProcessId)))
                entries.Add(BaselineStore.FromCounterSamples(process.ToList()));
            if (entries.Count == 0)
            {
                WriteWarning($"Nothing was saved to baseline '{Name}': no heap snapshot or counter sample came from the pipeline.");
                return;
            }
            BaselineStore store;
            try { store = OpenBaselineStore(Store, MaximumInputSize); }
            catch (MemoryOpsException e) { ThrowTerminatingError(ToErrorRecord(e, Store)); return; }
            string file = store.FileOf(Name);
            if (!ShouldProcess(file, $"Append {entries.Count} entr{(entries.Count == 1 ? "y" : "ies")} to baseline '{Name}'")) return;
            try
            {
                var history = store.Append(Name, entries, MaxHistory, StopToken);
                WriteVerbose($"Baseline '{Name}' in {file} now holds {history.Count} entries (at most {MaxHistory} per host).");
                if (PassThru) WriteObject(entries, enumerateCollection: true);
            }
            catch (MemoryOpsException e) { ThrowTerminatingError(ToErrorRecord(e, file)); }
            catch (OperationCanceledException) { /* Ctrl+C while waiting for another writer: nothing was written */ }
            catch (Exception e) when (e is UnauthorizedAccessException || e is System.IO.IOException) { ThrowTerminatingError(ToErrorRecord(e, file, FailureKind.WriteFailed)); }
        }
    }
}
