using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.Processes;
using MemoryOps.Engine.Retention;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Why objects are alive: the shortest paths from GC roots to the instances of the given types, grouped by
    /// shape with counts and bytes (HeapRetentionPath), or with -RetainedSize what each type's instances keep
    /// alive (HeapRetainedSize, dominator tree). From a live process (EventPipe; forces a full blocking GC) or a dump.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "HeapRetention", DefaultParameterSetName = ByIdSet)]
    [OutputType(typeof(HeapRetentionPath))]
    [OutputType(typeof(HeapRetainedSize))]
    public sealed class GetHeapRetentionCommand : HeapSourceCmdlet
    {
        /// <summary>Types whose instances to explain (canonical names; * and ? are wildcards, [ ] are literal). Also TypeName from Compare-HeapSnapshot.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] TypeName { get; set; } = { "*" };

        /// <summary>How many types: the largest matching ones by bytes (paths) or by retained bytes (-RetainedSize).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Top { get; set; } = 10;

        /// <summary>Path shapes per type, shortest first.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxPaths { get; set; } = 5;

        /// <summary>Return what each type's instances keep alive (HeapRetainedSize) instead of paths.</summary>
        [Parameter]
        public SwitchParameter RetainedSize { get; set; }

        // The last graph taken, reused while the same source comes again (e.g. one delta per record from
        // Compare-HeapSnapshot with -DumpPath given once): one walk, not one per type.
        private string? cachedKey;
        private HeapSnapshot? cachedSnapshot;
        private RetentionAnalyzer? cachedAnalyzer;

        // A process already walked in this pipeline (the same -ProcessId with one TypeName per record from
        // Compare-HeapSnapshot) is analysed again from its graph, not walked again.
        protected override void FromProcesses()
        {
            int? cachedPid = cachedSnapshot?.Source == SnapshotSource.Process ? cachedSnapshot.ProcessId : (int?)null;
            var fresh = ResolveTargets();
            if (cachedPid != null && !fresh.Any(t => t.ProcessId == cachedPid)
                && (ParameterSetName == ByIdSet ? ProcessId.Contains(cachedPid.Value) : Targets.Any(t => t.ProcessId == cachedPid)))
                Analyze(cachedPid.Value);
            foreach (var target in fresh)
                FromProcess(target);
        }

        protected override void EndProcessing() => Forget();

        private void Forget()
        {
            cachedKey = null;
            cachedSnapshot = null;
            cachedAnalyzer = null;
        }

        protected override void FromDump(string path, MemoryDumpInfo? info)
        {
            string key = "dump:" + path;
            if (cachedKey == key) { Analyze(path); return; }
            Forget();
            var progress = new ProgressRecord(5, "Get-HeapRetention", $"Reading the object graph of {path}");
            WriteVerbose($"Reading the object graph of {path}.");
            ReadSource(path, progress, () =>
            {
                var options = DumpOptions(info);
                var clock = Stopwatch.StartNew();
                // The graph is read in a child process (a dump that crashes the runtime's DAC ends that process, not
                // pwsh); the analysis runs here, on the arrays it sends back, and is kept for the next record.
                var (snapshot, graph) = RunWithProgress(() => DumpWorkerClient.ReadGraph(path, options, null, StopToken), () =>
                {
                    progress.StatusDescription = $"{clock.Elapsed.TotalSeconds:0} s";
                    WriteProgress(progress);
                });
                Keep(key, snapshot, graph, clock);
                Analyze(path);
            });
        }

        protected override void FromProcess(DotNetProcessInfo target)
        {
            string key = "pid:" + target.ProcessId;
            if (cachedKey == key) { Analyze(target.ProcessId); return; }
            Forget();
            var progress = new ProgressRecord(5, "Get-HeapRetention", $"Reading the object graph of {target} (a full blocking GC runs in it)");
            WriteVerbose($"Starting a heap walk with references in {target}: the runtime runs a full blocking GC and streams every live object and reference.");
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            long objects = 0;
            ReadSource(target.ProcessId, progress, () =>
            {
                var clock = Stopwatch.StartNew();
                var (snapshot, graph) = RunWithProgress(
                    () => HeapGraphCollector.FromProcess(target, Timeout, messages.Enqueue, n => System.Threading.Interlocked.Exchange(ref objects, n), StopToken),
                    () =>
                    {
                        progress.StatusDescription = $"{System.Threading.Interlocked.Read(ref objects):N0} objects so far";
                        WriteProgress(progress);
                    });
                while (messages.TryDequeue(out var m)) WriteVerbose(m);
                Keep(key, snapshot, graph, clock);
                Analyze(target.ProcessId);
            });
        }

        private void Keep(string key, HeapSnapshot snapshot, HeapGraph graph, Stopwatch clock)
        {
            WriteVerbose($"Graph of {graph.NodeCount:N0} objects, {graph.EdgeCount:N0} references, {graph.Roots.Count:N0} roots " +
                $"({graph.Roots.Count(r => r.Name != null):N0} named statics) in {clock.Elapsed.TotalSeconds:0.00} s; the graph takes {graph.MemoryBytes / 1048576.0:0.0} MB.");
            cachedKey = key;
            cachedSnapshot = snapshot;
            cachedAnalyzer = new RetentionAnalyzer(graph) { AllObjectsLive = snapshot.LiveOnly };
        }

        private void Analyze(object target)
        {
            var analyzer = cachedAnalyzer!;
            var snapshot = cachedSnapshot!;
            var patterns = TypeName.Select(t => WildcardPattern.Get(t.Replace("[", "`[").Replace("]", "`]"), WildcardOptions.IgnoreCase)).ToArray();
            bool Matches(string name) => patterns.Any(p => p.IsMatch(name));
            var progress = new ProgressRecord(6, "Get-HeapRetention", RetainedSize ? "Computing the dominator tree" : "Finding the shortest paths from the roots");
            try
            {
                var clock = Stopwatch.StartNew();
                if (RetainedSize)
                {
                    var verbose = new System.Collections.Concurrent.ConcurrentQueue<string>();
                    var sizes = RunWithProgress(() => analyzer.RetainedSizes(Matches, Top, StopToken, verbose.Enqueue), () => WriteProgress(progress));
                    while (verbose.TryDequeue(out var m)) WriteVerbose(m);
                    WriteVerbose($"Retained sizes of {analyzer.ReachableCount:N0} reachable objects in {clock.Elapsed.TotalSeconds:0.00} s.");
                    foreach (var s in sizes)
                    {
                        s.Source = snapshot.Source.ToString();
                        s.ProcessId = snapshot.ProcessId;
                        WriteObject(s);
                    }
                }
                else
                {
                    var paths = RunWithProgress(() => analyzer.Paths(Matches, Top, MaxPaths, StopToken), () => WriteProgress(progress));
                    WriteVerbose($"Shortest paths over {analyzer.ReachableCount:N0} reachable objects in {clock.Elapsed.TotalSeconds:0.00} s.");
                    if (paths.Count == 0)
                    {
                        WriteFailure(new MemoryOpsException(FailureKind.TypeNotFound,
                            $"No instances of a type matching '{string.Join("', '", TypeName)}' in the heap of {target}.", string.Join(", ", TypeName)));
                        return;
                    }
                    foreach (var p in paths)
                    {
                        p.Source = snapshot.Source.ToString();
                        p.ProcessId = snapshot.ProcessId;
                        WriteObject(p);
                    }
                }
            }
            catch (OperationCanceledException) { }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }
    }
}
