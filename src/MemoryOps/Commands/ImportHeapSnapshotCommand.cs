using System;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;

namespace MemoryOps.Commands
{
    /// <summary>Reads heap snapshots written by Export-HeapSnapshot, rejecting truncated, corrupt or future-version files.</summary>
    [Cmdlet(VerbsData.Import, "HeapSnapshot", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(HeapSnapshot))]
    public sealed class ImportHeapSnapshotCommand : MemoryOpsCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        /// <summary>Snapshot files; wildcards.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = System.Array.Empty<string>();

        /// <summary>Snapshot files, taken as written (no wildcards); Get-ChildItem output binds here.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = System.Array.Empty<string>();

        /// <summary>The most bytes one snapshot file may hold once decompressed (64 MB by default); the limits on JSON values and name length grow with it.</summary>
        [Parameter]
        [ValidateRange(InputLimits.SmallestMaximumInputSize, InputLimits.LargestMaximumInputSize)]
        public long MaximumInputSize { get; set; } = InputLimits.DefaultSnapshotMaximumInputSize;

        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == LiteralPathSet;
            foreach (var full in ResolveInputPaths(literal ? LiteralPath : Path, literal))
            {
                try
                {
                    WriteVerbose($"Reading {full}.");
                    WriteObject(HeapSnapshotFile.Read(full, new InputLimits(MaximumInputSize)));
                }
                catch (MemoryOpsException e) { WriteFailure(e, full); }
                catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException) { WriteFailure(e, full); }
            }
        }
    }
}
