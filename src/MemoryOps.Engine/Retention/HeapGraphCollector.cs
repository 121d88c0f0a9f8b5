using System;
using System.Threading;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.Processes;

namespace MemoryOps.Engine.Retention
{
    /// <summary>Takes a heap snapshot together with its object graph, from a dump (ClrMD) or a live process (EventPipe).</summary>
    public static class HeapGraphCollector
    {
        public static (HeapSnapshot Snapshot, HeapGraph Graph) FromDump(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel)
        {
            var builder = new HeapGraphBuilder();
            var snapshot = DumpHeapReader.Read(dumpPath, options, progress, cancel, builder);
            return (snapshot, builder.Build());
        }

        public static (HeapSnapshot Snapshot, HeapGraph Graph) FromProcess(DotNetProcessInfo target, TimeSpan timeout, Action<string>? verbose, Action<long>? progress, CancellationToken cancel)
        {
            var builder = new HeapGraphBuilder();
            var snapshot = LiveHeapWalker.Take(target, timeout, verbose, progress, cancel, builder);
            return (snapshot, builder.Build());
        }
    }
}
