using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MemoryOps.Engine.Processes;
using MemoryOps.Engine.Sessions;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// A heap snapshot of a live process over EventPipe, the way dotnet-gcdump takes one: with the
    /// GCHeapCollect keyword the runtime induces a full blocking GC and, during its mark phase, streams
    /// every live object as GCBulkNode events (address, size, type id) and every type as BulkType events.
    /// Only per-type sums are kept, so collector memory follows the number of types, not of objects.
    /// <para>
    /// Type names: BulkType spells a nested type without its declaring type (<c>Entry[String,OrderStat][]</c>),
    /// so names are rebuilt from structure: array element types and generic arguments from the type ids,
    /// and the nesting chain from the module's own metadata (TypeDef token), with module paths taken from a
    /// loader-only rundown at the end of the session.
    /// </para>
    /// </summary>
    internal static class LiveHeapWalker
    {
        // GC | Type | GCHeapDump | GCHeapCollect | GCHeapAndTypeNames (verified on .NET 10 here).
        private const long HeapDumpKeywords = 0x1980001;
        // With 256 MB, 1,409 events were lost on a 467 MB heap; 1 GB lost none.
        private const int BufferMB = 1024;
        // Rundown: Loader (0x8) | EndEnumeration (0x80) gives ModuleDCStop with each module's IL path, nothing else.
        private const long LoaderRundownKeywords = 0x8 | 0x80;

        private sealed class TypeInfo
        {
            public string Name = "";
            public ulong ModuleId;
            public int Token;
            public TypeFlags Flags;
            public int CorElementType;
            public ulong[] Parameters = Array.Empty<ulong>();
        }

        public static HeapSnapshot Take(DotNetProcessInfo target, TimeSpan timeout, Action<string>? verbose, Action<long>? progress, CancellationToken cancel,
            IHeapGraphSink? graph = null)
        {
            var clock = Stopwatch.StartNew();
            var providers = new[] { new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Verbose, HeapDumpKeywords) };
            var config = new EventPipeSessionConfiguration(providers, BufferMB, LoaderRundownKeywords, requestStackwalk: false);
            var session = EventPipeRunner.OpenSession(target.ProcessId, config, cancel);

            var stats = new HeapStatsBuilder();
            // Graph bookkeeping, used only when a sink is given.
            var pendingEdges = new Queue<(ulong Address, long Remaining)>();
            (ulong Address, long Remaining) edgeOwner = default; // the node whose edges are being read
            // The runtime flushes its node and edge buffers independently, so either may run ahead: both wait
            // in queues and are paired in order (node i owns the next EdgeCount edges).
            var pendingTargets = new Queue<ulong>();
            void MatchEdges()
            {
                while (pendingTargets.Count > 0)
                {
                    while (edgeOwner.Remaining == 0 && pendingEdges.Count > 0) edgeOwner = pendingEdges.Dequeue();
                    if (edgeOwner.Remaining == 0) return; // the owners of these edges have not arrived yet
                    graph!.OnEdge(edgeOwner.Address, pendingTargets.Dequeue());
                    edgeOwner.Remaining--;
                }
            }
            var staticRoots = new List<(ulong Object, ulong TypeId, string Field)>();
            var types = new Dictionary<ulong, TypeInfo>();
            var modulePaths = new Dictionary<ulong, string>();
            int inducedGc = -1, lastGcStart = -1;
            bool heapComplete = false;
            long nodes = 0;
            GCHeapStatsTraceData? heapStats = null;
            int stopRequested = 0;
            void StopSession()
            {
                if (Interlocked.Exchange(ref stopRequested, 1) != 0) return;
                Task.Run(() => { try { session.Stop(); } catch (Exception) { } });
            }

            using (session)
            using (var source = new EventPipeEventSource(session.EventStream))
            using (cancel.Register(StopSession))
            {
                // The walk's GC is the one running when the first object streams in: an application's own
                // GC.Collect() before it must not be mistaken for it.
                source.Clr.GCStart += d => { if (inducedGc < 0) lastGcStart = d.Count; };
                // GCHeapStats ends the induced GC (it follows its GCStop): generation sizes after it, free space included,
                // which is what a dump of the same moment shows (checked to the byte for gen 1, 2, LOH and POH).
                source.Clr.GCHeapStats += d => { if (inducedGc >= 0 && heapStats == null) heapStats = (GCHeapStatsTraceData)d.Clone(); };
                source.Clr.GCStop += d =>
                {
                    if (d.Count == inducedGc && !heapComplete)
                    {
                        heapComplete = true;
                        StopSession(); // the rundown with module paths follows, then the stream ends
                    }
                };
                source.Clr.TypeBulkType += d =>
                {
                    for (int i = 0; i < d.Count; i++)
                    {
                        var v = d.Values(i);
                        var parameters = new ulong[v.TypeParameterCount];
                        for (int p = 0; p < parameters.Length; p++) parameters[p] = v.TypeParameterID(p);
                        types[v.TypeID] = new TypeInfo
                        {
                            Name = v.TypeName, ModuleId = v.ModuleID, Token = v.TypeNameID, Flags = v.Flags,
                            CorElementType = (int)v.CorElementType, Parameters = parameters,
                        };
                    }
                };
                source.Clr.GCBulkNode += d =>
                {
                    if (heapComplete) return;
                    if (inducedGc < 0) inducedGc = lastGcStart;
                    for (int i = 0; i < d.Count; i++)
                    {
                        var v = d.Values(i);
                        stats.Add(v.TypeID, (long)v.Size);
                        if (graph != null)
                        {
                            graph.OnNode(v.Address, v.TypeID, (long)v.Size);
                            if (v.EdgeCount > 0) pendingEdges.Enqueue((v.Address, v.EdgeCount));
                        }
                    }
                    if (graph != null) MatchEdges();
                    nodes += d.Count;
                    progress?.Invoke(nodes);
                };
                if (graph != null)
                {
                    // Edges come in their own stream, in node order: node i's EdgeCount edges follow node i-1's.
                    source.Clr.GCBulkEdge += d =>
                    {
                        if (heapComplete) return;
                        for (int i = 0; i < d.Count; i++) pendingTargets.Enqueue(d.Values(i).Target);
                        MatchEdges();
                    };
                    source.Clr.GCBulkRootEdge += d =>
                    {
                        if (heapComplete) return;
                        for (int i = 0; i < d.Count; i++)
                        {
                            var v = d.Values(i);
                            if (v.RootedNodeAddress == 0) continue; // a stack slot or handle that holds null
                            var kind = v.GCRootKind switch
                            {
                                GCRootKind.Stack => HeapRootKind.Stack,
                                GCRootKind.Finalizer => HeapRootKind.FinalizerQueue,
                                GCRootKind.Handle when (v.GCRootFlag & GCRootFlags.Pinning) != 0 => HeapRootKind.PinnedHandle,
                                GCRootKind.Handle when (v.GCRootFlag & GCRootFlags.WeakRef) != 0 => HeapRootKind.WeakHandle,
                                GCRootKind.Handle => HeapRootKind.StrongHandle,
                                _ => HeapRootKind.Other,
                            };
                            graph.OnRoot(v.RootedNodeAddress, kind, null);
                        }
                    };
                    source.Clr.GCBulkRootStaticVar += d =>
                    {
                        if (heapComplete) return;
                        for (int i = 0; i < d.Count; i++)
                        {
                            var v = d.Values(i);
                            if (v.ObjectID != 0) staticRoots.Add((v.ObjectID, v.TypeID, v.FieldName));
                        }
                    };
                }
                var rundown = new ClrRundownTraceEventParser(source);
                rundown.LoaderModuleDCStop += d => { if (!string.IsNullOrEmpty(d.ModuleILPath)) modulePaths[(ulong)d.ModuleID] = d.ModuleILPath; };

                var reader = Task.Run(() => source.Process());
                if (!reader.WaitToEnd(timeout))
                {
                    StopSession();
                    reader.WaitToEnd(TimeSpan.FromSeconds(10));
                    throw new MemoryOpsException(FailureKind.Timeout,
                        $"The heap walk of process {target.ProcessId} did not finish within {timeout.TotalSeconds:0} s ({nodes:N0} objects so far). Raise -Timeout for a large heap.", target.ProcessId);
                }
                if (reader.IsFaulted && !heapComplete)
                {
                    if (ProcessDiscovery.ExitedAfterStreamEnd(target.ProcessId))
                        throw new MemoryOpsException(FailureKind.TargetExited, $"Process {target.ProcessId} exited during the heap walk.", target.ProcessId, reader.Exception);
                    throw new MemoryOpsException(FailureKind.SessionFailed, $"Reading the heap of process {target.ProcessId} failed: {reader.Exception!.GetBaseException().Message}", target.ProcessId, reader.Exception);
                }
                cancel.ThrowIfCancellationRequested();
                if (!heapComplete)
                {
                    if (ProcessDiscovery.ExitedAfterStreamEnd(target.ProcessId))
                        throw new MemoryOpsException(FailureKind.TargetExited, $"Process {target.ProcessId} exited during the heap walk.", target.ProcessId);
                    throw new MemoryOpsException(FailureKind.SessionFailed, $"Process {target.ProcessId} ended the session before its heap walk completed.", target.ProcessId);
                }
                if (nodes == 0)
                    throw new MemoryOpsException(FailureKind.SessionFailed, $"Process {target.ProcessId} streamed no objects for its heap walk; no snapshot is returned.", target.ProcessId);
                if (source.EventsLost > 0)
                    throw new MemoryOpsException(FailureKind.DataLost,
                        $"{source.EventsLost:N0} events were lost while process {target.ProcessId} streamed its heap; the snapshot would be incomplete, so none is returned.", target.ProcessId);
                verbose?.Invoke($"Heap walk of GC #{inducedGc}: {nodes:N0} objects, {types.Count:N0} types, {modulePaths.Count} module paths" +
                    (graph != null ? $", {staticRoots.Count} named static roots" : "") + $" in {clock.Elapsed.TotalSeconds:0.00} s.");
            }

            var snapshot = new HeapSnapshot
            {
                Source = SnapshotSource.Process,
                ProcessId = target.ProcessId,
                ProcessName = target.Name,
                Timestamp = DateTime.UtcNow,
                RuntimeVersion = target.RuntimeVersion,
                LiveOnly = true,
            };
            if (heapStats != null)
            {
                snapshot.Gen0Bytes = heapStats.GenerationSize0;
                snapshot.Gen1Bytes = heapStats.GenerationSize1;
                snapshot.Gen2Bytes = heapStats.GenerationSize2;
                snapshot.LohBytes = heapStats.GenerationSize3;
                snapshot.PohBytes = heapStats.GenerationSize4;
            }
            var namer = new TypeNamer(types, modulePaths);
            stats.Complete(snapshot, namer.NameOf, _ => false);
            if (graph != null)
            {
                // The event's type id is the held object's type, not the declaring type: see StaticFieldNames.
                var fieldNames = new Retention.StaticFieldNames(modulePaths.Values, staticRoots.Select(r => r.Field).ToList());
                foreach (var (obj, typeId, field) in staticRoots)
                    graph.OnRoot(obj, HeapRootKind.StaticField, fieldNames.Name(field, namer.NameOf(typeId)));
                foreach (var id in types.Keys) graph.OnTypeName(id, TypeNameCanonicalizer.Canonicalize(namer.NameOf(id)));
            }
            snapshot.Duration = clock.Elapsed.TotalSeconds;
            return snapshot;
        }

        /// <summary>Builds reflection-style full names ("Ns.Outer`2+Inner[A,B][]") from BulkType structure and module metadata.</summary>
        private sealed class TypeNamer
        {
            private const int ElementTypeArray = 0x14;   // CorElementType.ARRAY (multi-dimensional)
            private const int ElementTypeSzArray = 0x1d; // CorElementType.SZARRAY
            private readonly Dictionary<ulong, TypeInfo> types;
            private readonly Dictionary<ulong, string> modulePaths;
            private readonly Dictionary<ulong, MetadataReader?> readers = new Dictionary<ulong, MetadataReader?>();
            private const long MaxModuleBytes = 512L * 1024 * 1024;
            private readonly Dictionary<ulong, string> cache = new Dictionary<ulong, string>();

            public TypeNamer(Dictionary<ulong, TypeInfo> types, Dictionary<ulong, string> modulePaths)
            {
                this.types = types;
                this.modulePaths = modulePaths;
            }

            public string NameOf(ulong typeId) => NameOf(typeId, 0);

            private string NameOf(ulong typeId, int depth)
            {
                if (cache.TryGetValue(typeId, out var cached)) return cached;
                if (!types.TryGetValue(typeId, out var t) || depth > 32) return $"<unknown type 0x{typeId:x}>";
                string name;
                if ((t.Flags & TypeFlags.Array) != 0 && t.Parameters.Length == 1)
                {
                    int rank = t.CorElementType == ElementTypeSzArray ? 1 : Math.Max(1, ArrayRank(t.Flags));
                    name = NameOf(t.Parameters[0], depth + 1) + "[" + new string(',', rank - 1) + "]";
                }
                else
                {
                    string baseName = MetadataName(t) ?? StripArguments(t.Name);
                    if (t.Parameters.Length > 0)
                        baseName += "[" + string.Join(",", t.Parameters.Select(p => NameOf(p, depth + 1))) + "]";
                    name = baseName;
                }
                cache[typeId] = name;
                return name;
            }

            private static int ArrayRank(TypeFlags flags) => (int)(((uint)flags >> 8) & 0x3F);

            /// <summary>"Entry[System.String,X]" → "Entry"; the arguments are rebuilt from the type ids.</summary>
            private static string StripArguments(string name)
            {
                int bracket = name.IndexOf('[');
                return bracket > 0 ? name.Substring(0, bracket) : name;
            }

            /// <summary>The full nested name with arities ("System.Collections.Generic.Dictionary`2+Entry") from the defining module's metadata.</summary>
            private string? MetadataName(TypeInfo t)
            {
                if (t.ModuleId == 0 || (t.Token >> 24) != 0x02) return null;
                var reader = Reader(t.ModuleId);
                if (reader == null) return null;
                try
                {
                    var handle = MetadataTokens.TypeDefinitionHandle(t.Token & 0xFFFFFF);
                    var parts = new List<string>();
                    string ns = "";
                    for (int guard = 0; !handle.IsNil && guard < 16; guard++)
                    {
                        var def = reader.GetTypeDefinition(handle);
                        parts.Add(reader.GetString(def.Name));
                        ns = reader.GetString(def.Namespace);
                        handle = def.GetDeclaringType();
                    }
                    parts.Reverse();
                    var sb = new StringBuilder();
                    if (ns.Length > 0) sb.Append(ns).Append('.');
                    sb.Append(string.Join("+", parts));
                    return sb.ToString();
                }
                catch (Exception) { return null; } // a token that does not fit: fall back to BulkType's name
            }

            private MetadataReader? Reader(ulong moduleId)
            {
                if (readers.TryGetValue(moduleId, out var r)) return r;
                r = null;
                if (modulePaths.TryGetValue(moduleId, out var path) && File.Exists(path))
                {
                    try
                    {
                        // Read once into memory: the PEReader must outlive the MetadataReader, and the file stays closed.
                        // The path comes from the target process: a regular file only (a FIFO would hang), of a size a
                        // module can have (a PE image is under 2 GB; an assembly's metadata a few MB).
                        using var file = IO.SafeFile.TryOpenRead(path);
                        if (file == null || file.Length > MaxModuleBytes) { readers[moduleId] = null; return null; }
                        var bytes = new byte[file.Length];
                        file.ReadExactly(bytes);
                        var pe = new PEReader(bytes.ToImmutableArrayUnsafe());
                        if (pe.HasMetadata) r = pe.GetMetadataReader();
                    }
                    catch (Exception) { r = null; }
                }
                readers[moduleId] = r;
                return r;
            }
        }
    }

    internal static class ImmutableArrayExtensions
    {
        public static System.Collections.Immutable.ImmutableArray<byte> ToImmutableArrayUnsafe(this byte[] bytes) =>
            System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(bytes);
    }
}
