using System;
using System.IO;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Dumps;

namespace MemoryOps.Commands
{
    /// <summary>Writes a dump of a .NET process (Heap by default) and returns a MemoryDumpInfo that pipes into New-HeapSnapshot.</summary>
    [Cmdlet(VerbsCommon.New, "MemoryDump", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(MemoryDumpInfo))]
    public sealed class NewMemoryDumpCommand : ProcessTargetCmdlet
    {
        [Parameter]
        public MemoryDumpType Type { get; set; } = MemoryDumpType.Heap;

        /// <summary>A file, or a folder in which a name like OrderService_4242_20261125-101500.dmp is made. Default: the current folder.</summary>
        [Parameter]
        [Alias("LiteralPath")]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var target in ResolveTargets())
            {
                string? requested = Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path);
                string file = DumpWriter.ResolvePath(requested ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath + System.IO.Path.DirectorySeparatorChar,
                    target.Name, target.ProcessId, DateTime.Now);
                if (!ShouldProcess($"{target} → {file}", $"Write a {Type} dump (the process is frozen while it is written)")) continue;

                long expected = DumpWriter.EstimateSize(target.ProcessId, Type);
                var progress = new ProgressRecord(3, $"New-MemoryDump {target}", $"Writing a {Type} dump to {file}");
                WriteVerbose($"Writing a {Type} dump of {target} to {file} (about {expected / 1048576} MB expected).");
                try
                {
                    // Progress comes from a worker callback; it is only stored there and written from this thread.
                    long written = 0;
                    var info = RunWithProgress(() => DumpWriter.Write(target, file, Type, Force, Force,
                        n => System.Threading.Interlocked.Exchange(ref written, n), StopToken), () =>
                    {
                        long n = System.Threading.Interlocked.Read(ref written);
                        progress.PercentComplete = expected > 0 ? (int)Math.Min(99, n * 100 / expected) : -1;
                        progress.StatusDescription = $"{n / 1048576} MB written";
                        WriteProgress(progress);
                    });
                    WriteVerbose($"Wrote {info.SizeBytes / 1048576.0:0.0} MB in {info.Duration:0.00} s.");
                    WriteObject(info);
                }
                catch (OperationCanceledException)
                {
                    WriteWarning($"Dump of {target} cancelled; no file was left.");
                    return;
                }
                catch (MemoryOpsException e)
                {
                    WriteFailure(e, e.Target ?? target.ProcessId);
                }
                finally
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
            }
        }
    }
}
