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
    /// Per-type statistics of a dump's managed heap, read with ClrMD. Without a graph sink the heap's segments
    /// are walked in parallel from bulk reads (<see cref="SegmentWalker"/>), each worker filling its own
    /// <see cref="HeapStatsBuilder"/>, merged at the end; names are resolved once per method table.
    /// </summary>
    public static class DumpHeapReader
    {
        private const string DacFileName = "libmscordaccore.so";
        public const string FreeTypeName = "Free";

        public static HeapSnapshot Read(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel,
            IHeapGraphSink? graph = null)
        {
            string full = Path.GetFullPath(dumpPath);
            var clock = Stopwatch.StartNew();

            DataTarget target;
            // Opened by us (a regular file only: a FIFO would hang the read, a device never ends) and handed to ClrMD,
            // which reads it through this very handle, as LoadDump(path) would through its own.
            var dump = IO.SafeFile.OpenRead(full, "dump", dumpPath);
            try { target = DataTarget.LoadDump(full, dump, leaveOpen: false); }
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
                    var stats = graph != null ? WalkGraph(heap, graph, options.LiveOnly, cancel)
                        : options.LiveOnly ? WalkLive(heap, progress, cancel) : WalkAll(heap, progress, cancel);
                    var names = new Dictionary<ulong, string>();
                    foreach (var mt in stats.TypeIds)
                        names[mt] = mt == 0 ? FreeTypeName : heap.GetTypeByMethodTable(mt)?.Name ?? $"<unknown type 0x{mt:x}>";
                    stats.Complete(snapshot, mt => names[mt], n => n == FreeTypeName);
                    if (graph != null)
                        foreach (var kv in names) graph.OnTypeName(kv.Key, TypeNameCanonicalizer.Canonicalize(kv.Value));
                    if (snapshot.ObjectCount == 0)
                        throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no objects on its managed heap: it is not a Heap or Full dump.", dumpPath);
                    var gens = GenerationSizes(heap);
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
                IO.SafeFile.RequireRegularFile(dac, "DAC", runtimePath); // the runtime loads it by path: a FIFO would hang it
                return dac;
            }
            string? dir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
            dac = dir == null ? null : Path.Combine(dir, DacFileName);
            if (dac == null || !File.Exists(dac))
                throw new MemoryOpsException(FailureKind.InvalidInput,
                    $"'{full}' was taken with the runtime in '{dir}', which is not on this machine. Install that runtime version and give its folder to -RuntimePath.", dumpPath);
            IO.SafeFile.RequireRegularFile(dac, "DAC", dumpPath); // a path named by the dump
            return dac;
        }

        private static HeapStatsBuilder WalkAll(ClrHeap heap, Action<double>? progress, CancellationToken cancel)
        {
            var segments = heap.Segments.ToArray();
            long totalLength = Math.Max(1, segments.Sum(s => (long)s.Length));
            long done = 0;
            var partials = new ConcurrentBag<HeapStatsBuilder>();
            var walker = new SegmentWalker(heap);
            // Both cores when the dump reader may be used from several threads; one otherwise. Each segment is read
            // in bulk and parsed here (see SegmentWalker); ClrMD's own enumerator is only the fallback.
            Parallel.ForEach(segments, new ParallelOptions { CancellationToken = cancel, MaxDegreeOfParallelism = walker.ThreadSafe ? Environment.ProcessorCount : 1 },
                () => new HeapStatsBuilder(),
                (segment, state, local) =>
                {
                    var segmentStats = new HeapStatsBuilder();
                    if (!walker.TryWalk(segment, segmentStats, cancel))
                    {
                        // Something the fast walk does not understand (an unknown method table, unreadable memory):
                        // this segment again with ClrMD, which decides what SOS would.
                        segmentStats = new HeapStatsBuilder();
                        foreach (var obj in segment.EnumerateObjects())
                        {
                            if (!obj.IsValid) continue;
                            long size = (long)obj.Size;
                            if (obj.IsFree) { segmentStats.Add(0, size); continue; }
                            segmentStats.Add(obj.Type!.MethodTable, size);
                        }
                    }
                    local.Merge(segmentStats);
                    progress?.Invoke((double)Interlocked.Add(ref done, (long)segment.Length) / totalLength);
                    return local;
                },
                local => partials.Add(local));
            var all = new HeapStatsBuilder();
            foreach (var stats in partials) all.Merge(stats);
            return all;
        }

        /// <summary>
        /// The per-type walk of one segment without a ClrObject per object: the segment's memory is read in large
        /// blocks and each object's method table (and element count) is parsed from them, with base and component
        /// size looked up once per method table. Object sizes, alignment, the minimum object size and the skipping
        /// of allocation contexts follow ClrMD's own segment enumerator, so the numbers are ClrMD's (and SOS's).
        /// Profile on a 4 M-object dump: ClrMD's EnumerateObjects + Type + Size 1.06 s, this walk 0.25-0.4 s
        /// (two workers gain little: 0.26-0.30 s against 0.32-0.42 s with one; separate DataTargets per worker did not help further).
        /// </summary>
        private sealed class SegmentWalker
        {
            private const int BlockSize = 1 << 20;
            private const ulong Align = 7;          // 64-bit: objects are 8-byte aligned in every kind of segment
            private const uint MinObjectSize = 24;  // 3 pointers
            private readonly IDataReader reader;
            private readonly ClrHeap heap;
            private readonly Dictionary<ulong, ulong> allocationContexts = new Dictionary<ulong, ulong>();
            private readonly Dictionary<ulong, TypeShape?> shapes = new Dictionary<ulong, TypeShape?>();
            private readonly ulong stringMt, freeMt;

            private sealed class TypeShape
            {
                public uint BaseSize, ComponentSize;
                public bool IsString, IsFree;
            }

            public SegmentWalker(ClrHeap heap)
            {
                this.heap = heap;
                reader = heap.Runtime.DataTarget.DataReader;
                Usable = reader.PointerSize == 8;
                foreach (var range in heap.EnumerateAllocationContexts()) allocationContexts[range.Start] = range.End;
                stringMt = heap.StringType.MethodTable;
                freeMt = heap.FreeType.MethodTable;
            }

            public bool ThreadSafe => heap.Runtime.IsThreadSafe && reader.IsThreadSafe;
            private bool Usable { get; }

            private TypeShape? ShapeOf(ulong mt)
            {
                lock (shapes)
                {
                    if (shapes.TryGetValue(mt, out var shape)) return shape;
                    var type = heap.GetTypeByMethodTable(mt);
                    shape = type == null ? null : new TypeShape { BaseSize = (uint)type.StaticSize, ComponentSize = (uint)type.ComponentSize, IsString = mt == stringMt, IsFree = mt == freeMt };
                    shapes[mt] = shape;
                    return shape;
                }
            }

            public bool TryWalk(ClrSegment segment, HeapStatsBuilder stats, CancellationToken cancel)
            {
                if (!Usable) return false;
                bool skipContexts = segment.Kind != GCSegmentKind.Large && segment.Kind != GCSegmentKind.Frozen;
                // Large and pinned objects are far apart: read only each object's header there.
                var block = new byte[segment.Kind == GCSegmentKind.Large ? 64 : BlockSize];
                ulong blockStart = 0;
                int blockLength = 0;
                ulong start = segment.ObjectRange.Start, end = segment.ObjectRange.End;
                ulong obj = segment.FirstObjectAddress;
                long n = 0;
                // The shared table is locked; a segment's own copy keeps the two workers from contending per object.
                var localShapes = new Dictionary<ulong, TypeShape?>();
                while (obj >= start && obj < end)
                {
                    if ((++n & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                    if (obj < blockStart || obj + 16 > blockStart + (ulong)blockLength)
                    {
                        int want = (int)Math.Min((ulong)block.Length, Math.Max(16UL, end - obj + 16));
                        blockStart = obj;
                        blockLength = reader.Read(obj, block.AsSpan(0, want));
                        if (blockLength < 12) return false;
                    }
                    int offset = (int)(obj - blockStart);
                    ulong mt = BitConverter.ToUInt64(block, offset);
                    if (!localShapes.TryGetValue(mt, out var shape)) localShapes[mt] = shape = ShapeOf(mt);
                    if (shape == null) return false;
                    ulong size = shape.BaseSize;
                    if (shape.ComponentSize != 0)
                    {
                        uint count = BitConverter.ToUInt32(block, offset + 8);
                        if (shape.IsString) count++; // the terminating NUL is not in the length
                        size += count * (ulong)shape.ComponentSize;
                    }
                    if (size < MinObjectSize) size = MinObjectSize;
                    stats.Add(shape.IsFree ? 0 : mt, (long)size);
                    obj += (size + Align) & ~Align;
                    if (skipContexts)
                    {
                        while (allocationContexts.TryGetValue(obj, out ulong next))
                        {
                            next += (MinObjectSize + Align) & ~Align;
                            if (obj >= next) return false;
                            obj = next;
                        }
                    }
                }
                return true;
            }
        }

        /// <summary>The walk with a graph sink: single-threaded (the sink sees one call at a time), nodes, edges and roots.</summary>
        private static HeapStatsBuilder WalkGraph(ClrHeap heap, IHeapGraphSink graph, bool liveOnly, CancellationToken cancel)
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
            if (liveOnly) return WalkLive(heap, null, cancel, graph);
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
                }
            }
            return stats;
        }

        /// <summary>Marks from every root, like dumpheap -live: each reachable object once.</summary>
        private static HeapStatsBuilder WalkLive(ClrHeap heap, Action<double>? progress, CancellationToken cancel, IHeapGraphSink? graph = null)
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
                foreach (var child in obj.EnumerateReferences(carefully: false, considerDependantHandles: true))
                {
                    if (!child.IsValid) continue;
                    graph?.OnEdge(obj.Address, child.Address);
                    if (seen.Add(child.Address)) stack.Push(child);
                }
            }
            return stats;
        }

        /// <summary>
        /// Gen 0, 1, 2, LOH and POH sizes as the GC itself accounts them: the used part of each generation's regions
        /// (objects and the free space between them), as the runtime's GCHeapStats event and gen-N-size counters
        /// report them and SOS's eeheap -gc shows them. So a live snapshot (which takes them from GCHeapStats) and a
        /// dump of the same moment agree, whether or not the walk counted only live objects. Frozen segments
        /// (string literals in the runtime image) belong to no generation and are left out, as the GC does.
        /// </summary>
        internal static long[] GenerationSizes(ClrHeap heap)
        {
            var gens = new long[5];
            foreach (var segment in heap.Segments)
            {
                switch (segment.Kind)
                {
                    case GCSegmentKind.Generation0: gens[0] += (long)segment.ObjectRange.Length; break;
                    case GCSegmentKind.Generation1: gens[1] += (long)segment.ObjectRange.Length; break;
                    case GCSegmentKind.Generation2: gens[2] += (long)segment.ObjectRange.Length; break;
                    case GCSegmentKind.Large: gens[3] += (long)segment.ObjectRange.Length; break;
                    case GCSegmentKind.Pinned: gens[4] += (long)segment.ObjectRange.Length; break;
                    case GCSegmentKind.Ephemeral: // segments (not regions): one segment holds gen 0, 1 and part of 2
                        gens[0] += (long)segment.Generation0.Length;
                        gens[1] += (long)segment.Generation1.Length;
                        gens[2] += (long)segment.Generation2.Length;
                        break;
                }
            }
            return gens;
        }

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
