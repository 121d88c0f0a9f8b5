using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;

namespace MemoryOps.Commands
{
    /// <summary>Reads heap snapshots written by Export-HeapSnapshot, rejecting truncated, corrupt or future-version files.</summary>
    [Cmdlet(VerbsData.Import, "HeapSnapshot")]
    [OutputType(typeof(HeapSnapshot))]
    public sealed class ImportHeapSnapshotCommand : MemoryOpsCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = System.Array.Empty<string>();

        /// <summary>The most bytes one snapshot file may hold once decompressed (64 MB by default); the limits on JSON values and name length grow with it.</summary>
        [Parameter]
        [ValidateRange(InputLimits.SmallestMaximumInputSize, InputLimits.LargestMaximumInputSize)]
        public long MaximumInputSize { get; set; } = InputLimits.DefaultSnapshotMaximumInputSize;

        protected override void ProcessRecord()
        {
            foreach (var p in Path)
            {
                string full = GetUnresolvedProviderPathFromPSPath(p);
                try
                {
                    WriteVerbose($"Reading {full}.");
                    WriteObject(HeapSnapshotFile.Read(full, new InputLimits(MaximumInputSize)));
                }
                catch (MemoryOpsException e) { WriteFailure(e, full); }
                catch (System.IO.IOException e) { WriteError(new ErrorRecord(e, "ReadFailed", ErrorCategory.ReadError, full)); }
                catch (System.UnauthorizedAccessException e) { WriteError(new ErrorRecord(e, "AccessDenied", ErrorCategory.PermissionDenied, full)); }
            }
        }
    }
}
