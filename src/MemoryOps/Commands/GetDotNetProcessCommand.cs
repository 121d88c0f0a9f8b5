using System;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Processes;

namespace MemoryOps.Commands
{
    /// <summary>Lists the .NET processes that can be diagnosed (they answer on their diagnostic socket).</summary>
    [Cmdlet(VerbsCommon.Get, "DotNetProcess", DefaultParameterSetName = NameSet)]
    [OutputType(typeof(DotNetProcessInfo))]
    public sealed class GetDotNetProcessCommand : MemoryOpsCmdlet
    {
        private const string NameSet = "Name";
        private const string IdSet = "Id";

        [Parameter(Position = 0, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(DotNetProcessNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
        [Alias("ProcessId", "PID")]
        [ArgumentCompleter(typeof(DotNetProcessIdCompleter))]
        [ValidateRange(1, int.MaxValue)]
        public int[] Id { get; set; } = Array.Empty<int>();

        protected override void ProcessRecord()
        {
            if (ParameterSetName == IdSet)
            {
                foreach (var pid in Id)
                {
                    try { WriteObject(ProcessDiscovery.Describe(pid, WriteWarning)); }
                    catch (MemoryOpsException e) when (MyInvocation.ExpectingInput && e.Kind == FailureKind.NotDotNetProcess)
                    {
                        // Get-Process | Get-DotNetProcess is a filter: the processes that are not .NET are simply not in its output.
                        WriteVerbose(e.Message);
                    }
                    catch (MemoryOpsException e) { WriteFailure(e, pid); }
                }
                return;
            }

            WriteVerbose("Listing diagnostic sockets and asking each runtime for its process information.");
            var all = ProcessDiscovery.List(WriteVerbose, WriteWarning);
            if (Name == null)
            {
                WriteObject(all, enumerateCollection: true);
                return;
            }
            WriteObject(ProcessTargetCmdlet.MatchNames(this, all, Name), enumerateCollection: true);
        }
    }
}
