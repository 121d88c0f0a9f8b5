namespace MemoryOps.Engine.Counters
{
    /// <summary>
    /// The counters .NET 10's System.Runtime publishes (read off a live process with
    /// Get-GcCounter -ListAvailable), for tab completion without connecting to anything.
    /// </summary>
    public static class KnownCounters
    {
        public static readonly string[] SystemRuntimeEventCounters =
        {
            "cpu-usage", "working-set", "gc-heap-size", "gen-0-gc-count", "gen-1-gc-count", "gen-2-gc-count",
            "threadpool-thread-count", "monitor-lock-contention-count", "threadpool-queue-length",
            "threadpool-completed-items-count", "alloc-rate", "active-timer-count", "gc-fragmentation",
            "gc-committed", "exception-count", "time-in-gc", "total-pause-time-by-gc", "gen-0-size", "gen-1-size",
            "gen-2-size", "loh-size", "poh-size", "assembly-count", "il-bytes-jitted", "methods-jitted-count",
            "time-in-jit", "gen-0-gc-budget",
        };

        public static readonly string[] SystemRuntimeMeterInstruments =
        {
            "dotnet.gc.collections", "dotnet.process.memory.working_set", "dotnet.gc.heap.total_allocated",
            "dotnet.gc.last_collection.memory.committed_size", "dotnet.gc.last_collection.heap.size",
            "dotnet.gc.last_collection.heap.fragmentation.size", "dotnet.gc.pause.time", "dotnet.jit.compiled_il.size",
            "dotnet.jit.compiled_methods", "dotnet.jit.compilation.time", "dotnet.monitor.lock_contentions",
            "dotnet.thread_pool.thread.count", "dotnet.thread_pool.work_item.count", "dotnet.thread_pool.queue.length",
            "dotnet.timer.count", "dotnet.assembly.count", "dotnet.exceptions", "dotnet.process.cpu.count",
            "dotnet.process.cpu.time",
        };
    }
}
