using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MemoryOps.Engine.IO;
using Microsoft.Diagnostics.Runtime;

namespace MemoryOps.Engine.Heap
{
    internal sealed class DumpReadOptions
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
    internal static class DumpHeapReader
    {
        private const string DacFileName = "libmscordaccore.so";
        private const string RuntimeFileName = "libcoreclr.so";
        public const string FreeTypeName = "Free";

        public static HeapSnapshot Read(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel,
            IHeapGraphSink? graph = null)
        {
            string full = Path.GetFullPath(dumpPath);
            if (!File.Exists(full)) throw new MemoryOpsException(FailureKind.PathNotFound, $"The dump '{full}' does not exist.", dumpPath);
            var clock = Stopwatch.StartNew();

            // Everything ClrMD does with the dump can fail on a corrupt or hostile file, in any of its types: each
            // such failure is InvalidData naming the file (the user's other inputs go on), never a crash.
            using var target = DumpTarget.Open(full, dumpPath);
            try
            {
                var snapshot = ReadHeap(target, full, dumpPath, options, progress, cancel, graph);
                snapshot.Duration = clock.Elapsed.TotalSeconds;
                return snapshot;
            }
            catch (Exception e) when (!(e is MemoryOpsException || e is OperationCanceledException || e is OutOfMemoryException))
            {
                if (e is AggregateException agg && agg.InnerExceptions.Count == 1 && agg.InnerExceptions[0] is MemoryOpsException known) throw known;
                throw DumpTarget.NotReadable(full, dumpPath, e);
            }
        }

        private static HeapSnapshot ReadHeap(DataTarget target, string full, string dumpPath, DumpReadOptions options, Action<double>? progress,
            CancellationToken cancel, IHeapGraphSink? graph)
        {
            var clr = target.ClrVersions.FirstOrDefault()
                ?? throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no .NET runtime (is it a dump of a .NET process?).", dumpPath);
            string dac = ResolveDac(clr, options.RuntimePath, full, dumpPath);
            CheckDacMatches(clr, dac, full, dumpPath);
            ClrRuntime runtime;
            try
            {
                // ClrMD reads .NET 10's runtime version as 0.0 and would refuse any DAC as a mismatch: then the
                // build ids were compared above instead (a wrong DAC on a version ClrMD can read is still refused here).
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
                    ProcessName = options.ProcessName ?? Shown(AppName(runtime, clr) ?? MainModuleName(target)),
                    Timestamp = File.GetLastWriteTimeUtc(full),
                    RuntimeVersion = Shown(VersionOf(clr)),
                };
                // A Mini or Triage dump lists the GC's segments but holds none of their memory: only objects
                // in frozen segments (string literals, inside the mapped runtime image) can be walked then.
                var gcSegments = heap.Segments.Where(seg => seg.Kind != GCSegmentKind.Frozen && seg.ObjectRange.Length > 0).ToArray();
                if (gcSegments.Length > 0 && !gcSegments.Any(seg => seg.EnumerateObjects().Take(16).Count(o => o.IsValid) >= 16))
                    throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no readable managed heap: it is a Mini or Triage dump (or a damaged one). Take a Heap or Full dump (New-MemoryDump -Type Heap).", dumpPath);
                var stats = graph != null ? WalkGraph(heap, graph, options.LiveOnly, cancel)
                    : options.LiveOnly ? WalkLive(heap, progress, cancel) : WalkAll(heap, progress, cancel);
                var names = new Dictionary<ulong, string>();
                var unknown = new List<ulong>();
                foreach (var mt in stats.TypeIds)
                {
                    string? name = mt == 0 ? FreeTypeName : heap.GetTypeByMethodTable(mt)?.Name;
                    if (name == null) unknown.Add(mt);
                    names[mt] = name ?? $"<unknown type 0x{mt:x}>";
                }
                // Every object of a sound heap points at a method table the runtime knows: one that names no type
                // means the walk followed damaged bytes, and its counts would be made up.
                if (unknown.Count > 0)
                    throw new MemoryOpsException(FailureKind.InvalidData,
                        $"'{full}' is damaged: {unknown.Count} method table(s) on its heap name no type (0x{unknown[0]:x}{(unknown.Count > 1 ? ", ..." : "")}), so its objects cannot be counted truthfully.", dumpPath);
                // A read that failed during the walk (the file shrank, an I/O error) left objects uncounted: no
                // snapshot rather than a wrong one.
                string? fault = DumpTarget.ReadFault(target);
                if (fault != null)
                    throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' could not be read completely ({fault}); the snapshot would be incomplete. Is the file truncated or on a failing disk?", dumpPath);
                stats.Complete(snapshot, mt => names[mt], n => n == FreeTypeName);
                if (graph != null)
                    foreach (var kv in names) graph.OnTypeName(kv.Key, TypeNameCanonicalizer.Canonicalize(kv.Value));
                if (snapshot.ObjectCount == 0)
                    throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' holds no objects on its managed heap: it is not a Heap or Full dump.", dumpPath);
                var gens = GenerationSizes(heap);
                (snapshot.Gen0Bytes, snapshot.Gen1Bytes, snapshot.Gen2Bytes, snapshot.LohBytes, snapshot.PohBytes) = (gens[0], gens[1], gens[2], gens[3], gens[4]);
                return snapshot;
            }
        }

        /// <summary>
        /// A DAC reads the runtime's data structures by the layout of its own build: given a dump of another build
        /// it misreads them without noticing. ClrMD would compare versions, but reads .NET 10's as 0.0, so the
        /// build ids are compared here: the dump records its libcoreclr.so's ELF build id, and the DAC must sit
        /// beside the libcoreclr.so with that same id (as it does in every runtime folder and runtime pack).
        /// </summary>
        private static void CheckDacMatches(ClrInfo clr, string dac, string full, string dumpPath)
        {
            if (clr.Version.Major > 0) return; // ClrMD checks it (CreateRuntime with ignoreMismatch: false)
            string dumpRuntime = DescribeDumpRuntime(clr);
            var dumpId = clr.ModuleInfo.BuildId;
            if (dumpId.IsDefaultOrEmpty)
                throw new MemoryOpsException(FailureKind.InvalidData,
                    $"'{full}' does not hold the build id of its runtime ({dumpRuntime}), which every dump createdump writes holds: it is damaged, and no DAC can be checked against it.", dumpPath);
            string runtimeDir = Path.GetDirectoryName(dac) ?? ".";
            string localRuntime = Path.Combine(runtimeDir, RuntimeFileName);
            var localId = LocalFile.IsReadableRegularFile(localRuntime) ? ElfBuildId.Read(localRuntime) : null;
            if (localId == null)
                throw new MemoryOpsException(FailureKind.UnsupportedVersion,
                    $"The DAC '{dac}' has no readable {RuntimeFileName} beside it, so it cannot be checked against the runtime '{full}' was taken with ({dumpRuntime}, build id {Hex(dumpId)}). Give -RuntimePath the whole runtime folder of that version (it holds both {RuntimeFileName} and {DacFileName}).", dumpPath);
            if (!localId.AsSpan().SequenceEqual(dumpId.AsSpan()))
                throw new MemoryOpsException(FailureKind.UnsupportedVersion,
                    $"'{full}' was taken with {dumpRuntime} (build id {Hex(dumpId)}), but the DAC '{dac}' belongs to another build ({DescribeFolder(runtimeDir)}, build id {Hex(localId)}): it would misread the heap. Give -RuntimePath the folder of the runtime the dump was taken with (e.g. .../shared/Microsoft.NETCore.App/<version>, or that version's Microsoft.NETCore.App.Runtime package).", dumpPath);
        }

        private static string DescribeDumpRuntime(ClrInfo clr)
        {
            string? dir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
            return dir == null ? "an unnamed runtime" : DescribeFolder(Shown(dir));
        }

        /// <summary>
        /// "runtime 10.0.12" when a folder on the path is named by a version (…/Microsoft.NETCore.App/10.0.12,
        /// …/microsoft.netcore.app.runtime.linux-x64/8.0.31/runtimes/linux-x64/native), else "the runtime in '/app'".
        /// </summary>
        private static string DescribeFolder(string dir)
        {
            var parts = dir.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (int i = parts.Length - 1; i >= 0; i--)
                if (parts[i].Count(c => c == '.') >= 2 && Version.TryParse(parts[i].Split('-')[0], out _)) return $"runtime {parts[i]} ('{dir}')";
            return $"the runtime in '{dir}'";
        }

        /// <summary>A name read from the dump (whoever wrote it chose it), with control characters shown as \xNN, never sent to a terminal raw.</summary>
        internal static string Shown(string text)
        {
            if (!text.Any(char.IsControl)) return text;
            var sb = new System.Text.StringBuilder(text.Length + 8);
            foreach (char c in text) sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
            return sb.ToString();
        }

        private static string Hex(IEnumerable<byte> bytes) => string.Concat(bytes.Select(b => b.ToString("x2")));

        private static string ResolveDac(ClrInfo clr, string? runtimePath, string full, string dumpPath)
        {
            string? dac;
            if (!string.IsNullOrEmpty(runtimePath))
            {
                dac = Directory.Exists(runtimePath) ? Path.Combine(runtimePath, DacFileName) : runtimePath;
                if (!LocalFile.IsReadableRegularFile(Path.GetFullPath(dac)))
                    throw new MemoryOpsException(FailureKind.InvalidInput, $"No readable {DacFileName} (a regular file) at '{dac}'. -RuntimePath must be the runtime folder (e.g. /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12) or the DAC file.", runtimePath);
                IO.SafeFile.RequireRegularFile(dac, "DAC", runtimePath); // the runtime loads it by path: a FIFO would hang it
                return dac;
            }
            string? dir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
            dac = dir == null ? null : Path.Combine(dir, DacFileName);
            // The folder comes from the dump: the DAC is loaded (dlopen) only if it is a regular file we may read.
            if (dac == null || !LocalFile.IsReadableRegularFile(dac))
                throw new MemoryOpsException(FailureKind.InvalidInput,
                    $"'{full}' was taken with the runtime in '{Shown(dir ?? "")}', which is not on this machine. Install that runtime version and give its folder to -RuntimePath.", dumpPath);
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
