using System;
using System.IO;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Allocations;

namespace MemoryOps.Commands
{
    /// <summary>Saves an allocation profile for pprof (gzipped protobuf) or speedscope (JSON), atomically.</summary>
    [Cmdlet(VerbsData.Export, "AllocationProfile", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportAllocationProfileCommand : MemoryOpsCmdlet
    {
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [MemoryOpsObjectTransformation(single: true)]
        public AllocationProfile InputObject { get; set; } = null!;

        /// <summary>The file to write, taken as written (hence the LiteralPath alias).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [Alias("LiteralPath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        [Parameter]
        public AllocationExportFormat Format { get; set; } = AllocationExportFormat.Pprof;

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private int count;

        protected override void ProcessRecord()
        {
            if (++count > 1)
            {
                WriteFailure(new MemoryOpsException(FailureKind.InvalidInput, "Export-AllocationProfile writes one profile per file; more than one came from the pipeline. Use ForEach-Object with a path per profile.", InputObject));
                return;
            }
            string full = GetUnresolvedProviderPathFromPSPath(Path);
            if (!ShouldProcess(full, $"Write allocation profile ({Format})")) return;
            try
            {
                WriteVerbose($"Writing {(InputObject.Stacks.Count > 0 ? InputObject.Stacks.Count + " stacks" : InputObject.Types.Count + " types")} to {full} as {Format}.");
                AllocationProfileExport.Write(InputObject, full, Format, Force);
                if (PassThru) WriteObject(InvokeProvider.Item.Get(new[] { full }, force: false, literalPath: true), enumerateCollection: true);
            }
            catch (MemoryOpsException e) { WriteFailure(e, full); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { WriteFailure(e, full, FailureKind.WriteFailed); }
        }
    }
}
