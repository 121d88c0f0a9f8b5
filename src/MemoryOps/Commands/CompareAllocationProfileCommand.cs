using System;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine.Allocations;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Per-type changes in allocation rate between two windows (e.g. before and after a deploy), largest change first;
    /// each says whether it exceeds the sampling error of the two estimates.
    /// </summary>
    [Cmdlet(VerbsData.Compare, "AllocationProfile")]
    [OutputType(typeof(AllocationTypeDelta))]
    public sealed class CompareAllocationProfileCommand : MemoryOpsCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNull]
        [MemoryOpsObjectTransformation(single: true)]
        public AllocationProfile ReferenceProfile { get; set; } = null!;

        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [ValidateNotNull]
        [MemoryOpsObjectTransformation(single: true)]
        public AllocationProfile DifferenceProfile { get; set; } = null!;

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Top { get; set; }

        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? TypeName { get; set; }

        /// <summary>Only the changes larger than the sampling error (1.96 combined standard errors).</summary>
        [Parameter]
        public SwitchParameter Significant { get; set; }

        protected override void ProcessRecord()
        {
            if (ReferenceProfile.Method != DifferenceProfile.Method)
                WriteWarning($"The reference profile was estimated from {ReferenceProfile.Method} events and the difference from {DifferenceProfile.Method}: their biases differ.");
            var deltas = AllocationComparer.Compare(ReferenceProfile, DifferenceProfile);
            WriteVerbose($"{deltas.Count:N0} types compared: {ReferenceProfile.BytesPerSecond:N0} → {DifferenceProfile.BytesPerSecond:N0} bytes/s.");
            var patterns = TypeName?.Select(t => WildcardPattern.Get(t, WildcardOptions.IgnoreCase)).ToArray();
            var selected = deltas.Where(d => patterns == null || patterns.Any(p => p.IsMatch(d.TypeName)))
                                 .Where(d => !Significant || d.Significant == true);
            if (Top > 0) selected = selected.Take(Top);
            WriteObject(selected, enumerateCollection: true);
        }
    }
}
