using System;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.IO;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Reads baselines: each host's latest entry (default), the whole history, or per-metric and per-type statistics
    /// of each host. A baseline a fleet shares holds one history per host; -Host picks hosts.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MemoryBaseline", DefaultParameterSetName = LatestSet)]
    [OutputType(typeof(MemoryBaselineEntry), ParameterSetName = new[] { LatestSet, HistorySet })]
    [OutputType(typeof(MemoryBaselineStatistic), ParameterSetName = new[] { StatisticsSet })]
    public sealed class GetMemoryBaselineCommand : MemoryOpsCmdlet
    {
        private const string LatestSet = "Latest";
        private const string HistorySet = "History";
        private const string StatisticsSet = "Statistics";

        /// <summary>Baseline names; wildcards; all baselines in the store when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(BaselineNameCompleter))]
        public string[]? Name { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? Store { get; set; }

        /// <summary>Only the entries (and statistics) of these hosts; wildcards. All hosts when omitted.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [Alias("Host")]
        public string[]? HostName { get; set; }

        /// <summary>Every entry, oldest first.</summary>
        [Parameter(Mandatory = true, ParameterSetName = HistorySet)]
        public SwitchParameter History { get; set; }

        /// <summary>Mean, standard deviation, minimum and maximum of every metric and heap type over the history.</summary>
        [Parameter(Mandatory = true, ParameterSetName = StatisticsSet)]
        public SwitchParameter Statistics { get; set; }

        /// <summary>The most bytes one baseline file may hold once decompressed (256 MB by default); the limits on JSON values and name length grow with it.</summary>
        [Parameter]
        [ValidateRange(InputLimits.SmallestMaximumInputSize, InputLimits.LargestMaximumInputSize)]
        public long MaximumInputSize { get; set; } = InputLimits.DefaultBaselineMaximumInputSize;

        protected override void ProcessRecord()
        {
            BaselineStore store;
            try { store = OpenBaselineStore(Store, MaximumInputSize); }
            catch (MemoryOpsException e) { WriteFailure(e, Store); return; }
            WriteVerbose($"Baseline store: {store.Path}");
            var ofHosts = HostFilter(HostName);
            foreach (var name in SelectBaselines(store.List(), Name ?? new[] { "*" }))
            {
                try
                {
                    var all = store.Read(name);
                    var history = ofHosts == null ? all : all.Where(ofHosts).ToList();
                    WriteVerbose($"Baseline '{name}': {all.Count} entries in {store.FileOf(name)}" +
                        (ofHosts == null ? "." : $", {history.Count} of them from host {string.Join(", ", HostName!)}."));
                    if (ofHosts != null && history.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(string.Join("", HostName!)))
                    {
                        WriteFailure(new MemoryOpsException(FailureKind.BaselineNotFound,
                            $"Baseline '{name}' has no entries from host {string.Join(", ", HostName!)} (it has entries from {string.Join(", ", all.Select(e => e.Host).Distinct(StringComparer.OrdinalIgnoreCase))}).", name));
                        continue;
                    }
                    if (Statistics) WriteObject(BaselineStatistics.Compute(name, history), enumerateCollection: true);
                    else if (History) WriteObject(history, enumerateCollection: true);
                    else
                        foreach (var host in history.GroupBy(e => e.Host, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
                            WriteObject(host.OrderBy(e => e.Timestamp).Last());
                }
                catch (Exception e) when (e is MemoryOpsException || e is System.IO.IOException || e is UnauthorizedAccessException) { WriteFailure(e, name); }
            }
        }
    }
}
