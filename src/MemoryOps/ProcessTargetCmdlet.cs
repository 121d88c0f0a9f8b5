using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Processes;

namespace MemoryOps
{
    /// <summary>
    /// A cmdlet that works on .NET processes: -ProcessId (also "Id" from Get-Process and
    /// "ProcessId" from Get-DotNetProcess, by property name) or -Name with wildcards. Each bad
    /// target is a non-terminating error; the good ones are gathered in <see cref="Targets"/>.
    /// </summary>
    public abstract class ProcessTargetCmdlet : MemoryOpsCmdlet
    {
        protected const string ByIdSet = "ProcessId";
        protected const string ByNameSet = "Name";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByIdSet, ValueFromPipelineByPropertyName = true)]
        [Alias("Id", "PID")]
        [ArgumentCompleter(typeof(DotNetProcessIdCompleter))]
        [ValidateRange(1, int.MaxValue)]
        public int[] ProcessId { get; set; } = Array.Empty<int>();

        [Parameter(Mandatory = true, ParameterSetName = ByNameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(DotNetProcessNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>The processes to work on, in the order they came, without duplicates.</summary>
        protected List<DotNetProcessInfo> Targets { get; } = new List<DotNetProcessInfo>();

        private IReadOnlyList<DotNetProcessInfo>? listed;

        /// <summary>-Name matching shared with Get-DotNetProcess: app or process name, wildcards, an error for a plain name that matches nothing.</summary>
        internal static List<DotNetProcessInfo> MatchNames(Cmdlet cmdlet, IReadOnlyList<DotNetProcessInfo> all, IEnumerable<string> patterns) =>
            ProcessDiscovery.MatchNames(all, patterns,
                pattern => WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase).IsMatch,
                WildcardPattern.ContainsWildcardCharacters,
                pattern => cmdlet.WriteError(MemoryOpsCmdlet.ToErrorRecord(
                    new MemoryOpsException(FailureKind.ProcessNotFound, $"No diagnosable .NET process is named '{pattern}'. Get-DotNetProcess lists the ones that are.", pattern))));

        private List<DotNetProcessInfo> MatchNames(IReadOnlyList<DotNetProcessInfo> all, IEnumerable<string> patterns) => MatchNames(this, all, patterns);

        /// <summary>Resolves this record's -ProcessId / -Name into <see cref="Targets"/>, writing an error for each one that cannot be used.</summary>
        protected IReadOnlyList<DotNetProcessInfo> ResolveTargets()
        {
            var resolved = new List<DotNetProcessInfo>();
            if (ParameterSetName == ByNameSet)
            {
                listed ??= ProcessDiscovery.List(WriteVerbose, WriteWarning);
                resolved.AddRange(MatchNames(listed, Name));
            }
            else
            {
                foreach (var pid in ProcessId)
                {
                    try
                    {
                        WriteVerbose($"Connecting to the diagnostic socket of process {pid}.");
                        resolved.Add(ProcessDiscovery.Describe(pid, WriteWarning));
                    }
                    catch (MemoryOpsException e)
                    {
                        WriteFailure(e, pid);
                    }
                }
            }

            var fresh = new List<DotNetProcessInfo>();
            foreach (var p in resolved)
            {
                if (Targets.Any(t => t.ProcessId == p.ProcessId)) continue;
                Targets.Add(p);
                fresh.Add(p);
            }
            return fresh;
        }
    }
}
