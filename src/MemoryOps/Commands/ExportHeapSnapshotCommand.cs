using System;
using System.IO;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Commands
{
    /// <summary>Saves a heap snapshot as versioned JSON (gzip when the path ends in .gz), atomically.</summary>
    [Cmdlet(VerbsData.Export, "HeapSnapshot", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportHeapSnapshotCommand : MemoryOpsCmdlet
    {
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [MemoryOpsObjectTransformation(single: true)]
        public HeapSnapshot InputObject { get; set; } = null!;

        /// <summary>The file to write, taken as written: an output path has no wildcards (hence the LiteralPath alias).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [Alias("LiteralPath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Return the written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private int count;

        protected override void ProcessRecord()
        {
            if (++count > 1)
            {
                WriteFailure(new MemoryOpsException(FailureKind.InvalidInput, "Export-HeapSnapshot writes one snapshot per file; more than one came from the pipeline. Use ForEach-Object with a path per snapshot.", InputObject));
                return;
            }
            string full = GetUnresolvedProviderPathFromPSPath(Path);
            if (!ShouldProcess(full, "Write heap snapshot")) return;
            try
            {
                WriteVerbose($"Writing {InputObject.Types.Count:N0} types to {full}.");
                HeapSnapshotFile.Write(InputObject, full, Force);
                if (PassThru) WriteObject(InvokeProvider.Item.Get(new[] { full }, force: false, literalPath: true), enumerateCollection: true); // a provider item, as Get-Item returns
            }
            catch (MemoryOpsException e) { WriteFailure(e, full); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { WriteFailure(e, full, FailureKind.WriteFailed); }
        }
    }
}
