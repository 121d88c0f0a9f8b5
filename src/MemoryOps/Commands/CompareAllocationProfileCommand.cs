using System;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
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
            if (Significant && (ReferenceProfile.Method != AllocationSamplingMethod.Randomized || DifferenceProfile.Method != AllocationSamplingMethod.Randomized))
            {
                // Asked for the changes beyond the sampling error, of an estimate that has none: nothing (what the filter would
                // give) would read as "no real change". Refused for this pair; the pipeline goes on with the next profile.
                var tick = ReferenceProfile.Method != AllocationSamplingMethod.Randomized ? ReferenceProfile : DifferenceProfile;
                WriteFailure(new MemoryOpsException(FailureKind.InvalidInput,
                    $"-Significant needs two profiles from randomized sampling: the {(ReferenceProfile.Method != AllocationSamplingMethod.Randomized ? "reference" : "difference")} profile ({tick}) " +
                    $"was estimated from {tick.Method} events, which have no known error, so no change can be called significant. Compare without -Significant.", tick), tick);
                return;
            }
            if (ReferenceProfile.Method != DifferenceProfile.Method)
                WriteWarning($"The reference profile was estimated from {ReferenceProfile.Method} events and the difference from {DifferenceProfile.Method}: their biases differ.");
            var deltas = AllocationComparer.Compare(ReferenceProfile, DifferenceProfile, out var unknown);
            if (unknown.Count > 0)
            {
                string Cut(string which, AllocationProfile p) => $"the {which} profile holds only {p.Types.Count:N0} of its {p.TypeCount:N0} types (-Top)";
                string cut = string.Join(" and ", new[]
                {
                    AllocationComparer.IsTruncated(ReferenceProfile) ? Cut("reference", ReferenceProfile) : null,
                    AllocationComparer.IsTruncated(DifferenceProfile) ? Cut("difference", DifferenceProfile) : null,
                }.Where(x => x != null));
                WriteWarning($"{char.ToUpperInvariant(cut[0])}{cut.Substring(1)}: {unknown.Count:N0} type(s) missing from it may only have fallen below its top, " +
                             "so they are left out rather than called Added or Removed. Compare profiles taken without -Top to see every type.");
            }
            WriteVerbose($"{deltas.Count:N0} types compared: {ReferenceProfile.BytesPerSecond:N0} → {DifferenceProfile.BytesPerSecond:N0} bytes/s.");
            var patterns = TypeName?.Select(t => WildcardPattern.Get(t, WildcardOptions.IgnoreCase)).ToArray();
            var selected = deltas.Where(d => patterns == null || patterns.Any(p => p.IsMatch(d.TypeName)))
                                 .Where(d => !Significant || d.Significant == true);
            if (Top > 0) selected = selected.Take(Top);
            WriteObject(selected, enumerateCollection: true);
        }
    }
}
