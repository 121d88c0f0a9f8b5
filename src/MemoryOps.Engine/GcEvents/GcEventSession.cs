using System;
using System.Diagnostics.Tracing;
using System.Threading;
using MemoryOps.Engine.Counters;
using MemoryOps.Engine.Sessions;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Analysis;
using Microsoft.Diagnostics.Tracing.Analysis.GC;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace MemoryOps.Engine.GcEvents
{
    /// <summary>
    /// Streams one <see cref="GcEventRecord"/> per completed GC. The GC event sequence
    /// (GCStart, SuspendEE, GCEnd, GCHeapStats, RestartEE; background GCs with several pauses)
    /// is stitched together by TraceEvent's own GC analysis (the code behind PerfView's GCStats),
    /// rather than by hand.
    /// </summary>
    internal sealed class GcEventSession
    {
        private readonly int pid;
        private readonly string processName;

        public GcEventSession(int pid, string processName)
        {
            this.pid = pid;
            this.processName = processName;
        }

        public static EventPipeProvider Provider => new EventPipeProvider(
            ClrTraceEventParser.ProviderName, EventLevel.Informational, (long)ClrTraceEventParser.Keywords.GC);

        /// <summary>How often the session asks the target for a heartbeat.</summary>
        public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

        // GCs come when they come: an idle process sends no GC event for minutes, and so does a frozen one. The runtime's
        // EventCounters, asked for once a second, are a heartbeat that tells the two apart (its values are not used); they
        // cost the target one small payload a second.
        private static EventPipeProvider HeartbeatProvider => new EventPipeProvider(
            CounterSessionOptions.RuntimeProvider, EventLevel.Informational, 0,
            new System.Collections.Generic.Dictionary<string, string> { ["EventCounterIntervalSec"] = HeartbeatInterval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        /// <param name="onStarted">Told once the session is open in the target.</param>
        /// <param name="onHeartbeat">Told of each heartbeat: proof the target is running and its events are flowing.</param>
        public void Run(Action<GcEventRecord> onRecord, CancellationToken cancel, Action? onStarted = null, Action? onHeartbeat = null)
        {
            var providers = onHeartbeat != null ? new[] { Provider, HeartbeatProvider } : new[] { Provider };
            using var runner = EventPipeRunner.Start(pid, providers, circularBufferMB: 16, cancel: cancel);
            onStarted?.Invoke();
            var source = runner.Source;
            if (onHeartbeat != null)
                source.Dynamic.AddCallbackForProviderEvent(CounterSessionOptions.RuntimeProvider, "EventCounters", _ => onHeartbeat());
            source.NeedLoadedDotNetRuntimes();
            source.AddCallbackOnProcessStart(process =>
            {
                process.AddCallbackOnDotNetRuntimeLoad(runtime =>
                {
                    runtime.GCEnd += (p, gc) => onRecord(ToRecord(gc, source));
                });
            });
            runner.Run(cancel);
        }

        private GcEventRecord ToRecord(TraceGC gc, TraceEventSource source)
        {
            var stats = gc.HeapStats;
            var record = new GcEventRecord
            {
                ProcessId = pid,
                ProcessName = processName,
                Number = gc.Number,
                Generation = gc.Generation,
                Reason = gc.Reason.ToString(),
                Type = gc.Type switch
                {
                    GCType.NonConcurrentGC => "Blocking",
                    GCType.BackgroundGC => "Background",
                    GCType.ForegroundGC => "Foreground",
                    _ => gc.Type.ToString(),
                },
                Start = source.SessionStartTime.AddMilliseconds(gc.StartRelativeMSec).ToUniversalTime(),
                PauseDuration = gc.PauseDurationMSec / 1000.0,
                Duration = gc.DurationMSec / 1000.0,
                HeapSizeBefore = (long)(gc.HeapSizeBeforeMB * 1_000_000),
                HeapSizeAfter = (long)(gc.HeapSizeAfterMB * 1_000_000),
                PromotedBytes = (long)(gc.PromotedMB * 1_000_000),
            };
            if (stats != null)
            {
                record.Gen0SizeAfter = stats.GenerationSize0;
                record.Gen1SizeAfter = stats.GenerationSize1;
                record.Gen2SizeAfter = stats.GenerationSize2;
                record.LohSizeAfter = stats.GenerationSize3;
                record.PohSizeAfter = stats.GenerationSize4;
                record.PromotedBytes = stats.TotalPromotedSize0 + stats.TotalPromotedSize1 + stats.TotalPromotedSize2 + stats.TotalPromotedSize3 + stats.TotalPromotedSize4;
                record.PinnedObjectCount = stats.PinnedObjectCount;
                record.GCHandleCount = stats.GCHandleCount;
                record.HeapSizeAfter = stats.GenerationSize0 + stats.GenerationSize1 + stats.GenerationSize2 + stats.GenerationSize3 + stats.GenerationSize4;
            }
            double fragMB = 0;
            for (int g = 0; g <= 4; g++)
            {
                try { fragMB += gc.GenFragmentationMB((Gens)g); } catch (Exception) { }
            }
            record.FragmentationBytes = (long)(fragMB * 1_000_000);
            return record;
        }
    }
}
