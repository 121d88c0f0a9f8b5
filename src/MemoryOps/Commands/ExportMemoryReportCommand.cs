using System;
using System.IO;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Report;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Writes one self-contained HTML page with charts of what the pipeline brought: counters over time, GC pauses,
    /// the heap's top types, growth between snapshots, retention paths and the verdicts, failures first. The page
    /// needs no network to be viewed (Chart.js is inlined) and reads on a phone and on paper.
    /// </summary>
    [Cmdlet(VerbsData.Export, "MemoryReport", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportMemoryReportCommand : MemoryOpsCmdlet
    {
        /// <summary>Counter samples, GC records and summaries, heap snapshots, type deltas, comparisons, threshold results,
        /// retention paths and retained sizes, .NET process descriptions (or their deserialized forms), in any mix.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject InputObject { get; set; } = null!;

        /// <summary>The .html file to write; taken as written.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [Alias("LiteralPath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>The page's title.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Title { get; set; } = "MemoryOps report";

        /// <summary>Replace a file at -Path that is not an earlier report.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Return the file once written.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private readonly MemoryReportBuilder builder = new MemoryReportBuilder();

        private string full = "";

        protected override void BeginProcessing()
        {
            // Where the report goes is checked before anything is gathered: a typo must not cost an hour of collecting.
            full = GetUnresolvedProviderPathFromPSPath(Path);
            try { MemoryReportFile.CheckWritable(full, Force); }
            catch (MemoryOpsException e) { ThrowTerminatingError(ToErrorRecord(e, full)); }
        }

        protected override void ProcessRecord()
        {
            // -InputObject $samples hands the whole array over as one object: its items go in one by one, as piped ones do.
            if (InputObject.BaseObject is object[] items)
                foreach (var item in items) AddInput(item is PSObject p ? p : new PSObject(item));
            else
                AddInput(InputObject);
        }

        private void AddInput(PSObject given)
        {
            object? input;
            try { input = ModelOf(given); }
            catch (MemoryOpsException e) { WriteFailure(e, given); return; }
            if (builder.Add(input)) return;
            WriteFailure(new MemoryOpsException(FailureKind.UnsupportedInput,
                "A report is made of CounterSample, ProcessMemoryInfo, AllocationProfile, GcEventRecord, GcSummary, HeapSnapshot, HeapTypeDelta, HeapComparison, ThresholdResult, " +
                $"HeapRetentionPath, HeapRetainedSize and DotNetProcessInfo objects, not {Rehydrator.TypeNameOf(given)}; it is left out.", input), input);
        }

        protected override void EndProcessing()
        {
            if (builder.InputCount == 0) { WriteWarning("Nothing was reported: no input could go in a report."); return; }
            if (!ShouldProcess(full, $"Write a memory report of {builder.InputCount:N0} inputs")) return;
            try
            {
                string html = builder.Build(Title, DateTime.UtcNow);
                MemoryReportFile.Write(html, full, Force);
                WriteVerbose($"Report of {builder.InputCount:N0} inputs written to {full} ({html.Length / 1024.0:N0} KB).");
                if (builder.SamplesDropped + builder.GcEventsDropped + builder.RowsDropped > 0)
                    WriteWarning($"The report leaves out {builder.SamplesDropped:N0} counter samples, {builder.GcEventsDropped:N0} GC records and {builder.RowsDropped:N0} rows beyond its caps.");
                if (PassThru) WriteObject(InvokeProvider.Item.Get(new[] { full }, force: false, literalPath: true), enumerateCollection: true); // a provider item, as Get-Item returns
            }
            catch (MemoryOpsException e) { WriteFailure(e, full); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { WriteFailure(e, full, FailureKind.WriteFailed); }
            // The page could not be made (its escaping guard, a missing chart library resource): one mapped error, not a crash.
            catch (Exception e) when (!(e is PipelineStoppedException) && !(e is OutOfMemoryException)) { WriteFailure(e, full); }
        }
    }
}
