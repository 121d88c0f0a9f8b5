using System;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine.Compare;

namespace MemoryOps.Commands
{
    /// <summary>What grew between two heap snapshots: one HeapTypeDelta per type, largest growth first (or a HeapComparison with -Summary).</summary>
    [Cmdlet(VerbsData.Compare, "HeapSnapshot")]
    [OutputType(typeof(HeapTypeDelta))]
    [OutputType(typeof(HeapComparison))]
    public sealed class CompareHeapSnapshotCommand : MemoryOpsCmdlet
    {
        /// <summary>A snapshot, its deserialized form (remoting, jobs, Import-Clixml) or a Snapshot baseline entry.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNull]
        [MemoryOpsObjectTransformation(single: true)]
        public HeapSnapshot ReferenceSnapshot { get; set; } = null!;

        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [ValidateNotNull]
        [MemoryOpsObjectTransformation(single: true)]
        public HeapSnapshot DifferenceSnapshot { get; set; } = null!;

        /// <summary>Return only the first N deltas (after filtering).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Top { get; set; }

        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? TypeName { get; set; }

        [Parameter]
        public SwitchParameter IncludeUnchanged { get; set; }

        /// <summary>Return one HeapComparison for the whole heap instead of per-type deltas.</summary>
        [Parameter]
        public SwitchParameter Summary { get; set; }

        protected override void ProcessRecord()
        {
            if (ReferenceSnapshot.LiveOnly != DifferenceSnapshot.LiveOnly)
                WriteWarning("One snapshot counts only live objects and the other also dead ones (a dump read without -LiveOnly): " +
                    "types with garbage may look grown or shrunk. Read the dump with New-HeapSnapshot -LiveOnly to compare like with like.");
            var deltas = HeapComparer.Compare(ReferenceSnapshot, DifferenceSnapshot);
            WriteVerbose($"{deltas.Count:N0} types compared: {ReferenceSnapshot.ObjectCount:N0} → {DifferenceSnapshot.ObjectCount:N0} objects.");
            if (Summary)
            {
                WriteObject(HeapComparer.Summarize(ReferenceSnapshot, DifferenceSnapshot, deltas));
                return;
            }
            var patterns = TypeName?.Select(t => WildcardPattern.Get(t, WildcardOptions.IgnoreCase)).ToArray();
            var selected = deltas.Where(d => IncludeUnchanged || d.Status != DeltaStatus.Unchanged)
                                 .Where(d => patterns == null || patterns.Any(p => p.IsMatch(d.TypeName)));
            if (Top > 0) selected = selected.Take(Top);
            WriteObject(selected, enumerateCollection: true);
        }
    }
}
