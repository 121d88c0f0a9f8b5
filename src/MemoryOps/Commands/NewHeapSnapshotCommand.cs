using System;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Per-type statistics of a managed heap, from a live process (EventPipe; forces a full blocking GC)
    /// or from a dump (ClrMD, in a child process: <see cref="DumpWorkerClient"/>).
    /// </summary>
    [Cmdlet(VerbsCommon.New, "HeapSnapshot", DefaultParameterSetName = ByIdSet)]
    [OutputType(typeof(HeapSnapshot))]
    public sealed class NewHeapSnapshotCommand : ProcessTargetCmdlet
    {
        private const string DumpPathSet = "DumpPath";
        private const string DumpInfoSet = "DumpInfo";
        private const string LiteralPathSet = "LiteralPath";

        /// <summary>Dump files; wildcards.</summary>
        [Parameter(Mandatory = true, ParameterSetName = DumpPathSet, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] DumpPath { get; set; } = Array.Empty<string>();

        /// <summary>Dump files, taken as written (no wildcards); Get-ChildItem output binds here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        [Parameter(Mandatory = true, ParameterSetName = DumpInfoSet, ValueFromPipeline = true)]
        public MemoryDumpInfo[] Dump { get; set; } = Array.Empty<MemoryDumpInfo>();

        /// <summary>Folder of the runtime the dump was taken with (or its libmscordaccore.so), for a dump from another machine.</summary>
        [Parameter(ParameterSetName = DumpPathSet)]
        [Parameter(ParameterSetName = LiteralPathSet)]
        [Parameter(ParameterSetName = DumpInfoSet)]
        [ValidateNotNullOrEmpty]
        public string? RuntimePath { get; set; }

        /// <summary>Count only objects reachable from roots (a dump also holds dead objects).</summary>
        [Parameter(ParameterSetName = DumpPathSet)]
        [Parameter(ParameterSetName = LiteralPathSet)]
        [Parameter(ParameterSetName = DumpInfoSet)]
        public SwitchParameter LiveOnly { get; set; }

        /// <summary>How long to wait for a live heap walk, in seconds.</summary>
        [Parameter(ParameterSetName = ByIdSet)]
        [Parameter(ParameterSetName = ByNameSet)]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(1, 86400, TooShort = "The walk forces a full GC in the target, which a shorter wait would waste.")]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case DumpPathSet:
                case LiteralPathSet:
                    bool literal = ParameterSetName == LiteralPathSet;
                    foreach (var path in ResolveInputPaths(literal ? LiteralPath : DumpPath, literal))
                        FromDump(path, null);
                    break;
                case DumpInfoSet:
                    foreach (var dump in Dump)
                        FromDump(dump.Path, dump);
                    break;
                default:
                    foreach (var target in ResolveTargets())
                        FromProcess(target);
                    break;
            }
        }

        private void FromDump(string path, MemoryDumpInfo? info)
        {
            var progress = new ProgressRecord(4, "New-HeapSnapshot", $"Walking the heap in {path}");
            WriteVerbose($"Reading the managed heap of {path}{(LiveOnly ? " (objects reachable from roots only)" : "")}.");
            try
            {
                double fraction = 0;
                var options = new DumpReadOptions
                {
                    RuntimePath = RuntimePath == null ? null : GetUnresolvedProviderPathFromPSPath(RuntimePath),
                    LiveOnly = LiveOnly,
                    ProcessId = info?.ProcessId,
                    ProcessName = info?.ProcessName,
                };
                // In a child process: a dump that crashes the runtime's DAC ends that process, not pwsh.
                var snapshot = RunWithProgress(() => DumpWorkerClient.ReadSnapshot(path, options, f => fraction = f, StopToken), () =>
                {
                    progress.PercentComplete = fraction >= 0 ? (int)(fraction * 100) : -1;
                    WriteProgress(progress);
                });
                // The dump knows where its process ran; a bare path is taken to be a dump of this machine.
                if (info != null && info.Host.Length > 0) snapshot.Host = info.Host;
                WriteVerbose($"{snapshot.ObjectCount:N0} objects of {snapshot.Types.Count:N0} types in {snapshot.Duration:0.00} s.");
                WriteObject(snapshot);
            }
            catch (OperationCanceledException) { }
            catch (MemoryOpsException e) { WriteFailure(e, path); }
            catch (Exception e) when (!(e is PipelineStoppedException) && !(e is OutOfMemoryException))
            {
                // A ClrMD failure on one dump must not stop the others.
                WriteFailure(new MemoryOpsException(FailureKind.InvalidData, $"'{path}' could not be read as a dump: {e.Message}", path, e));
            }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }

        private void FromProcess(DotNetProcessInfo target)
        {
            var progress = new ProgressRecord(4, "New-HeapSnapshot", $"Walking the live heap of {target} (a full blocking GC runs in it)");
            WriteVerbose($"Starting a heap walk in {target}: the runtime runs a full blocking GC and streams every live object.");
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            long objects = 0;
            try
            {
                var snapshot = RunWithProgress(
                    () => LiveHeapWalker.Take(target, Timeout, messages.Enqueue, n => System.Threading.Interlocked.Exchange(ref objects, n), StopToken),
                    () =>
                    {
                        progress.StatusDescription = $"{System.Threading.Interlocked.Read(ref objects):N0} objects so far";
                        WriteProgress(progress);
                    });
                while (messages.TryDequeue(out var m)) WriteVerbose(m);
                WriteObject(snapshot);
            }
            catch (OperationCanceledException) { }
            catch (MemoryOpsException e) { WriteFailure(e, target.ProcessId); }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }
    }
}
