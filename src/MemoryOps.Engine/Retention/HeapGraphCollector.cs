using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;
using MemoryOps.Engine.Processes;
using Microsoft.Diagnostics.Runtime;

namespace MemoryOps.Engine.Retention
{
    /// <summary>Takes a heap snapshot together with its object graph, from a dump (ClrMD) or a live process (EventPipe).</summary>
    internal static class HeapGraphCollector
    {
        public static (HeapSnapshot Snapshot, HeapGraph Graph) FromDump(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel)
        {
            var builder = new HeapGraphBuilder();
            var snapshot = DumpHeapReader.Read(dumpPath, options, progress, cancel, builder);
            var graph = builder.Build();
            // A running .NET process always holds roots (handles, statics, its threads' stacks): none means the
            // dump's runtime data is damaged, and every object would be reported as unreachable.
            if (graph.Roots.Count == 0)
                throw new MemoryOpsException(FailureKind.InvalidData,
                    $"'{Path.GetFullPath(dumpPath)}' is damaged: its runtime lists no GC roots (no handles, statics or stacks), so nothing can be said about what holds its objects.", dumpPath);
            return (snapshot, NameStatics(graph, ModuleFiles(dumpPath)));
        }

        public static (HeapSnapshot Snapshot, HeapGraph Graph) FromProcess(DotNetProcessInfo target, TimeSpan timeout, Action<string>? verbose, Action<long>? progress, CancellationToken cancel)
        {
            var builder = new HeapGraphBuilder();
            var snapshot = LiveHeapWalker.Take(target, timeout, verbose, progress, cancel, builder);
            return (snapshot, builder.Build());
        }

        /// <summary>The managed assemblies the dump's process had loaded, where they exist on this machine.</summary>
        private static List<string> ModuleFiles(string dumpPath)
        {
            try
            {
                string full = Path.GetFullPath(dumpPath);
                using var target = DumpTarget.Open(full, dumpPath);
                // The dump names these files: only regular files this process may read are opened (no FIFO, no device).
                return target.EnumerateModules().Select(m => m.FileName)
                    .Where(f => !string.IsNullOrEmpty(f) && f.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && LocalFile.IsReadableRegularFile(f))
                    .Distinct(StringComparer.Ordinal).ToList();
            }
            catch (Exception) { return new List<string>(); } // names are a bonus: the paths stand without them
        }

        private static bool IsRegularFile(string path)
        {
            try { return IO.UnixFile.Status(path, followLinks: true) is { Kind: IO.UnixFileKind.Regular }; }
            catch (Exception) { return false; }
        }

        /// <summary>
        /// Adds a named static-field root for each object in a handle-held Object[] (the runtime's statics storage)
        /// whose exact type is declared by one static field only; see <see cref="StaticFieldsByType"/>.
        /// </summary>
        internal static HeapGraph NameStatics(HeapGraph graph, IEnumerable<string> moduleFiles)
        {
            var fields = new StaticFieldsByType(moduleFiles);
            var extra = new List<HeapGraphRoot>();
            var seen = new HashSet<int>();
            foreach (var root in graph.Roots)
            {
                if (root.Kind != HeapRootKind.StrongHandle && root.Kind != HeapRootKind.PinnedHandle) continue;
                if (graph.TypeNames[graph.TypeOf(root.Node)] != "System.Object[]" || !seen.Add(root.Node)) continue;
                for (int e = graph.EdgeStart(root.Node), end = graph.EdgeEnd(root.Node); e < end; e++)
                {
                    int held = graph.Target(e);
                    string? name = fields.Unique(graph.TypeNames[graph.TypeOf(held)]);
                    if (name != null) extra.Add(new HeapGraphRoot(held, HeapRootKind.StaticField, name));
                }
            }
            return extra.Count == 0 ? graph : graph.WithRoots(extra);
        }
    }
}
