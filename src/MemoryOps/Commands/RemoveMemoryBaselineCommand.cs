using System;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Baselines;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Removes what a baseline store has accumulated: whole baselines, the entries of some hosts, or the entries
    /// older than a date. What is removed is written out with -PassThru, so a script can keep it elsewhere first.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "MemoryBaseline", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(MemoryBaselineEntry))]
    public sealed class RemoveMemoryBaselineCommand : MemoryOpsCmdlet
    {
        /// <summary>Baseline names; wildcards. A name that matches no baseline is an error; a pattern may match none.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(BaselineNameCompleter))]
        public string[] Name { get; set; } = Array.Empty<string>();

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? Store { get; set; }

        /// <summary>Only the entries of these hosts; wildcards. Binds Host by property name, so a piped baseline entry removes only its host's entries.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [Alias("Host")]
        public string[]? HostName { get; set; }

        /// <summary>Only the entries taken before this moment.</summary>
        [Parameter]
        public DateTime Before { get; set; }

        /// <summary>Write out the entries removed.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            BaselineStore store;
            try { store = OpenBaselineStore(Store); }
            catch (MemoryOpsException e) { WriteFailure(e, Store); return; }
            var ofHosts = HostFilter(HostName);
            DateTime? before = MyInvocation.BoundParameters.ContainsKey(nameof(Before)) ? Before.ToUniversalTime() : (DateTime?)null;
            foreach (var name in SelectBaselines(store.List(), Name))
            {
                string what = (ofHosts == null && before == null) ? "Remove the whole baseline"
                    : "Remove the entries" + (ofHosts != null ? $" of host {string.Join(", ", HostName!)}" : "") + (before != null ? $" taken before {before:u}" : "");
                try
                {
                    BaselineStore.ValidateName(name);
                    if (!store.Exists(name))
                        throw new MemoryOpsException(FailureKind.BaselineNotFound, $"There is no baseline '{name}' in the store {store.Path}.", name);
                    if (!ShouldProcess(store.FileOf(name), what)) continue;
                    var removed = store.RemoveEntries(name,
                        e => (ofHosts == null || ofHosts(e)) && (before == null || e.Timestamp < before.Value), StopToken);
                    WriteVerbose($"Baseline '{name}': {removed.Count} entr{(removed.Count == 1 ? "y" : "ies")} removed from {store.FileOf(name)}.");
                    if (PassThru) WriteObject(removed, enumerateCollection: true);
                }
                catch (MemoryOpsException e) { WriteFailure(e, name); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
