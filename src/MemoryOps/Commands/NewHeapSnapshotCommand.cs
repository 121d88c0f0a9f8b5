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
    public sealed class NewHeapSnapshotCommand : HeapSourceCmdlet
    {
        /// <summary>Count only objects reachable from roots (a dump also holds dead objects).</summary>
        [Parameter(ParameterSetName = DumpPathSet)]
        [Parameter(ParameterSetName = LiteralPathSet)]
        [Parameter(ParameterSetName = DumpInfoSet)]
        public SwitchParameter LiveOnly { get; set; }

        protected override void FromDump(string path, MemoryDumpInfo? info)
        {
            var progress = new ProgressRecord(4, "New-HeapSnapshot", $"Walking the heap in {path}");
            WriteVerbose($"Reading the managed heap of {path}{(LiveOnly ? " (objects reachable from roots only)" : "")}.");
            ReadSource(path, progress, () =>
            {
                double fraction = 0;
                var options = DumpOptions(info, LiveOnly);
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
            });
        }

        protected override void FromProcess(DotNetProcessInfo target)
        {
            var progress = new ProgressRecord(4, "New-HeapSnapshot", $"Walking the live heap of {target} (a full blocking GC runs in it)");
            WriteVerbose($"Starting a heap walk in {target}: the runtime runs a full blocking GC and streams every live object.");
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            long objects = 0;
            ReadSource(target.ProcessId, progress, () =>
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
            });
        }
    }
}
