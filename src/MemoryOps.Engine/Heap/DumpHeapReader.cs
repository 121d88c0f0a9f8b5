using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Diagnostics.Runtime;

namespace MemoryOps.Engine.Heap
{
    public sealed class DumpReadOptions
    {
        /// <summary>Folder of the runtime the dump was taken with (holding libmscordaccore.so), or the DAC file itself. Default: the path recorded in the dump, which works for a dump of this machine.</summary>
        public string? RuntimePath { get; set; }
        /// <summary>Count only objects reachable from roots (like SOS dumpheap -live).</summary>
        public bool LiveOnly { get; set; }
        /// <summary>Known PID and name (when the dump came from New-MemoryDump), otherwise read from the dump.</summary>
        public int? ProcessId { get; set; }
        public string? ProcessName { get; set; }
    }

    /// <summary>
    /// Per-type statistics of a dump's managed heap, read with ClrMD. The heap's segments are walked in
    /// parallel, each worker filling its own <see cref="HeapStatsBuilder"/>, merged at the end; names are
    /// resolved once per method table.
    /// </summary>
    public static class DumpHeapReader
    {
        private const string DacFileName = "libmscordaccore.so";
        public const string FreeTypeName = "Free";

        public static HeapSnapshot Read(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel,
            IHeapGraphSink? graph = null)
        {
            string full = Path.GetFullPath(dumpPath);
            if (!File.Exists(full)) throw new MemoryOpsException(FailureKind.InvalidInput, $"The dump '{full}' does not exist.", dumpPath);
            var clock = Stopwatch.StartNew();

            DataTarget target;
            try { target = DataTarget.LoadDump(full); }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' is not a readable dump (truncated or corrupt?): {e.Message}", dumpPath, e);
            }
            using (target)
            {
                var clr = target.ClrVersions.FirstOrDefault()
                    ?? throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no .NET runtime (is it a dump of a .NET process?).", dumpPath);
                string dac = ResolveDac(clr, options.RuntimePath, full, dumpPath);
                ClrRuntime runtime;
                try
                {
                    // ClrMD reads .NET 10's runtime version as 0.0 and would refuse any DAC as a mismatch; only then is
                    // the check skipped (a wrong DAC on a version ClrMD can read must still be refused).
                    runtime = clr.CreateRuntime(dac, ignoreMismatch: clr.Version.Major == 0);
                }
                catch (Exception e) when (!(e is OutOfMemoryException))
                {
                    throw new MemoryOpsException(FailureKind.InvalidData,
                        $"Could not read the runtime in '{full}' with '{dac}': {e.Message}. Give -RuntimePath the folder of the exact runtime version the dump was taken with.", dumpPath, e);
                }
                using (runtime)
                {
                    var heap = runtime.Heap;
                    if (!heap.CanWalkHeap || !heap.Segments.Any())
                        throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no managed heap: it is a Mini or Triage dump. Take a Heap or Full dump (New-MemoryDump -Type Heap).", dumpPath);

                    var snapshot = new HeapSnapshot
                    {
                        Source = SnapshotSource.Dump,
                        DumpPath = full,
                        LiveOnly = options.LiveOnly,
                        ProcessId = options.ProcessId ?? SafePid(target),
                        ProcessName = options.ProcessName ?? AppName(runtime, clr) ?? MainModuleName(target),
                        Timestamp = File.GetLastWriteTimeUtc(full),
                        RuntimeVersion = VersionOf(clr),
                    };
                    // A Mini or Triage dump lists the GC's segments but holds none of their memory: only objects
                    // in frozen segments (string literals, inside the mapped runtime image) can be walked then.
                    var gcSegments = heap.Segments.Where(seg => seg.Kind != GCSegmentKind.Frozen && seg.ObjectRange.Length > 0).ToArray();
                    if (gcSegments.Length > 0 && !gcSegments.Any(seg => seg.EnumerateObjects().Take(16).Count(o => o.IsValid) >= 16))
                        throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no managed heap: it is a Mini or Triage dump. Take a Heap or Full dump (New-MemoryDump -Type Heap).", dumpPath);
                    var gens = new long[5];
                    var stats = graph != null ? WalkGraph(heap, gens, graph, options.LiveOnly, cancel)
                        : options.LiveOnly ? WalkLive(heap, gens, progress, cancel) : WalkAll(heap, gens, progress, cancel);
                    var names = new Dictionary<ulong, string>();
                    foreach (var mt in stats.TypeIds)
                        names[mt] = mt == 0 ? FreeTypeName : heap.GetTypeByMethodTable(mt)?.Name ?? $"<unknown type 0x{mt:x}>";
                    stats.Complete(snapshot, mt => names[mt], n => n == FreeTypeName);
                    if (graph != null)
                        foreach (var kv in names) graph.OnTypeName(kv.Key, TypeNameCanonicalizer.Canonicalize(kv.Value));
                    if (snapshot.ObjectCount == 0)
                        throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no objects on its managed heap: it is not a Heap or Full dump.", dumpPath);
                    (snapshot.Gen0Bytes, snapshot.Gen1Bytes, snapshot.Gen2Bytes, snapshot.LohBytes, snapshot.PohBytes) = (gens[0], gens[1], gens[2], gens[3], gens[4]);
                    snapshot.Duration = clock.Elapsed.TotalSeconds;
                    return snapshot;
                }
            }
        }

        private static string ResolveDac(ClrInfo clr, string? runtimePath, string full, string dumpPath)
        {
            string? dac;
            if (!string.IsNullOrEmpty(runtimePath))
            {
                dac = Directory.Exists(runtimePath) ? Path.Combine(runtimePath, DacFileName) : runtimePath;
                if (!File.Exists(dac))
                    throw new MemoryOpsException(FailureKind.InvalidInput, $"No {DacFileName} at '{dac}'. -RuntimePath must be the runtime folder (e.g. /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12) or the DAC file.", runtimePath);
                return dac;
            }
            string? dir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
            dac = dir == null ? null : Path.Combine(dir, DacFileName);
            if (dac == null || !File.Exists(dac))
                throw new MemoryOpsException(FailureKind.InvalidInput,
                    $"'{full}' was taken with the runtime in '{dir}', which is not on this machine. Install that runtime version and give its folder to -RuntimePath.", dumpPath);
            return dac;
        }

        private static HeapStatsBuilder WalkAll(ClrHeap heap, long[] gens, Action<double>? progress, CancellationToken cancel)
        {
            var segments = heap.Segments.ToArray();
            long totalLength = Math.Max(1, segments.Sum(s => (long)s.Length));
            long done = 0;
            var partials = new ConcurrentBag<(HeapStatsBuilder Stats, long[] Gens)>();
            // Both cores when ClrMD says the runtime may be used from several threads; one otherwise.
            Parallel.ForEach(segments, new ParallelOptions { CancellationToken = cancel, MaxDegreeOfParallelism = heap.Runtime.IsThreadSafe ? Environment.ProcessorCount : 1 },
                () => (Stats: new HeapStatsBuilder(), Gens: new long[5]),
                (segment, state, local) =>
                {
                    int fixedGen = GenerationIndex(segment.Kind);
                    foreach (var obj in segment.EnumerateObjects())
                    {
                        if (!obj.IsValid) continue;
                        long size = (long)obj.Size;
                        if (obj.IsFree) { local.Stats.Add(0, size); continue; }
                        local.Stats.Add(obj.Type!.MethodTable, size);
                        int g = fixedGen >= 0 ? fixedGen : GenerationIndex(segment.GetGeneration(obj.Address));
                        if (g >= 0) local.Gens[g] += size;
                    }
                    progress?.Invoke((double)Interlocked.Add(ref done, (long)segment.Length) / totalLength);
                    return local;
                },
                local => partials.Add(local));
            var all = new HeapStatsBuilder();
            foreach (var (stats, g) in partials)
            {
                all.Merge(stats);
                for (int i = 0; i < gens.Length; i++) gens[i] += g[i];
            }
            return all;
        }

        /// <summary>The walk with a graph sink: single-threaded (the sink sees one call at a time), nodes, edges and roots.</summary>
        private static HeapStatsBuilder WalkGraph(ClrHeap heap, long[] gens, IHeapGraphSink graph, bool liveOnly, CancellationToken cancel)
        {
            foreach (var root in heap.EnumerateRoots())
            {
                if (!root.Object.IsValid) continue;
                var kind = root.RootKind switch
                {
                    ClrRootKind.Stack => HeapRootKind.Stack,
                    ClrRootKind.FinalizerQueue => HeapRootKind.FinalizerQueue,
                    ClrRootKind.PinnedHandle or ClrRootKind.AsyncPinnedHandle => HeapRootKind.PinnedHandle,
                    ClrRootKind.StrongHandle or ClrRootKind.RefCountedHandle or ClrRootKind.SizedRefHandle => HeapRootKind.StrongHandle,
                    ClrRootKind.StaticVar or ClrRootKind.ThreadStaticVar => HeapRootKind.StaticField,
                    _ => HeapRootKind.Other,
                };
                graph.OnRoot(root.Object.Address, kind, null);
            }
            if (liveOnly) return WalkLive(heap, gens, null, cancel, graph);
            var stats = new HeapStatsBuilder();
            long n = 0;
            foreach (var segment in heap.Segments)
            {
                foreach (var obj in segment.EnumerateObjects())
                {
                    if (!obj.IsValid) continue;
                    if ((++n & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                    long size = (long)obj.Size;
                    if (obj.IsFree) { stats.Add(0, size); continue; }
                    stats.Add(obj.Type!.MethodTable, size);
                    graph.OnNode(obj.Address, obj.Type.MethodTable, size);
                    foreach (var to in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true)) graph.OnEdge(obj.Address, to);
                    int g = GenerationIndex(segment.Kind);
                    if (g < 0) g = GenerationIndex(segment.GetGeneration(obj.Address));
                    if (g >= 0) gens[g] += size;
                }
            }
            return stats;
        }

        /// <summary>Marks from every root, like dumpheap -live: each reachable object once.</summary>
        private static HeapStatsBuilder WalkLive(ClrHeap heap, long[] gens, Action<double>? progress, CancellationToken cancel, IHeapGraphSink? graph = null)
        {
            var stats = new HeapStatsBuilder();
            var seen = new HashSet<ulong>();
            var stack = new Stack<ClrObject>();
            foreach (var root in heap.EnumerateRoots())
            {
                if (root.Object.IsValid && seen.Add(root.Object.Address)) stack.Push(root.Object);
            }
            long visited = 0;
            while (stack.Count > 0)
            {
                var obj = stack.Pop();
                if ((++visited & 0xFFFF) == 0) { cancel.ThrowIfCancellationRequested(); progress?.Invoke(-1); }
                if (obj.Type == null || obj.IsFree) continue;
                long size = (long)obj.Size;
                stats.Add(obj.Type.MethodTable, size);
                graph?.OnNode(obj.Address, obj.Type.MethodTable, size);
                var segment = heap.GetSegmentByAddress(obj.Address);
                if (segment != null)
                {
                    int g = GenerationIndex(segment.Kind);
                    if (g < 0) g = GenerationIndex(segment.GetGeneration(obj.Address));
                    if (g >= 0) gens[g] += size;
                }
                foreach (var child in obj.EnumerateReferences(carefully: false, considerDependantHandles: true))
                {
                    if (!child.IsValid) continue;
                    graph?.OnEdge(obj.Address, child.Address);
                    if (seen.Add(child.Address)) stack.Push(child);
                }
            }
            return stats;
        }

        private static int GenerationIndex(GCSegmentKind kind) => kind switch
        {
            GCSegmentKind.Generation0 => 0,
            GCSegmentKind.Generation1 => 1,
            GCSegmentKind.Generation2 => 2,
            GCSegmentKind.Large => 3,
            GCSegmentKind.Pinned => 4,
            GCSegmentKind.Frozen => 2,
            _ => -1, // Ephemeral (segments mode): per object
        };

        private static int GenerationIndex(Generation g) => g switch
        {
            Generation.Generation0 => 0,
            Generation.Generation1 => 1,
            Generation.Generation2 => 2,
            Generation.Large => 3,
            Generation.Pinned => 4,
            Generation.Frozen => 2,
            _ => -1,
        };

        private static int SafePid(DataTarget target)
        {
            try { return target.DataReader.ProcessId; } catch (Exception) { return 0; }
        }

        /// <summary>The application's own assembly: the first managed module outside the runtime's folder ("dotnet app.dll" → app).</summary>
        private static string? AppName(ClrRuntime runtime, ClrInfo clr)
        {
            try
            {
                string? runtimeDir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
                var app = runtime.EnumerateModules().FirstOrDefault(m => !m.IsDynamic && !string.IsNullOrEmpty(m.Name)
                    && !string.Equals(Path.GetDirectoryName(m.Name), runtimeDir, StringComparison.Ordinal));
                return app == null ? null : Path.GetFileNameWithoutExtension(app.Name);
            }
            catch (Exception) { return null; }
        }

        private static string MainModuleName(DataTarget target)
        {
            try
            {
                var first = target.DataReader.EnumerateModules().FirstOrDefault();
                return first?.FileName == null ? "" : Path.GetFileNameWithoutExtension(first.FileName);
            }
            catch (Exception) { return ""; }
        }

        /// <summary>ClrMD reads .NET 10 as 0.0: fall back to the runtime folder's name (…/Microsoft.NETCore.App/10.0.12/libcoreclr.so).</summary>
        private static string VersionOf(ClrInfo clr)
        {
            if (clr.Version.Major > 0) return clr.Version.ToString();
            string? dir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
            return dir == null ? "" : Path.GetFileName(dir);
        }
    }
}
