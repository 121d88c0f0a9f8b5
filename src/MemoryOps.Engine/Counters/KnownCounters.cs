using System;
using System.Linq;

namespace MemoryOps.Engine.Counters
{
    /// <summary>
    /// The counters .NET 10's System.Runtime publishes (read off a live process with
    /// Get-GcCounter -ListAvailable), for tab completion without connecting to anything.
    /// </summary>
    internal static class KnownCounters
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

        /// <summary>
        /// The known System.Runtime counter a name is a likely misspelling of: not one of them, and at most two
        /// edits away from exactly one nearest (gc-heap-sizee → gc-heap-size). Null when the name is known, has
        /// wildcards, or is far from every known name (a counter a newer runtime may add: wait for it).
        /// </summary>
        public static string? MisspellingOf(string name)
        {
            if (name.IndexOfAny(new[] { '*', '?', '[' }) >= 0) return null;
            var all = SystemRuntimeEventCounters.Concat(SystemRuntimeMeterInstruments).ToArray();
            if (all.Any(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))) return null;
            var nearest = all.Select(k => (Name: k, Distance: Distance(k.ToLowerInvariant(), name.ToLowerInvariant())))
                             .Where(k => k.Distance <= 2).OrderBy(k => k.Distance).ToList();
            return nearest.Count > 0 && (nearest.Count == 1 || nearest[0].Distance < nearest[1].Distance) ? nearest[0].Name : null;
        }

        // Levenshtein distance: a few dozen short names, so the plain dynamic programme is enough.
        private static int Distance(string a, string b)
        {
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++) previous[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                    current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                (previous, current) = (current, previous);
            }
            return previous[b.Length];
        }
    }
}
