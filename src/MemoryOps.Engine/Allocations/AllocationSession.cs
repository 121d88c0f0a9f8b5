using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MemoryOps.Engine.Counters;
using MemoryOps.Engine.Processes;
using MemoryOps.Engine.Sessions;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace MemoryOps.Engine.Allocations
{
    /// <summary>One allocation event as the session hands it on.</summary>
    internal sealed class AllocationSample
    {
        public string TypeName = "";
        public long ObjectSize;
        /// <summary>GCAllocationTick only: bytes allocated on that heap since the previous tick.</summary>
        public long Amount;
        /// <summary>When the target allocated it (UTC).</summary>
        public DateTime Timestamp;
        /// <summary>With stacks: innermost frame first.</summary>
        public string[]? Stack;
    }

    /// <summary>
    /// Samples a process's allocations over EventPipe. Verified on .NET 10.0.12 with TraceEvent 4.0.0: the runtime provider's
    /// keyword 0x80000000000 (AllocationSampling) at Informational enables event 303, AllocationSampled, version 0, with the
    /// payload AllocationKind, ClrInstanceID, TypeID, TypeName, Address, ObjectSize, SampledByteOffset; TraceEvent parses it
    /// (ClrTraceEventParser.AllocationSampling, AllocationSampledTraceData). The fallback, GCAllocationTick (event 10,
    /// version 4: AllocationAmount64, TypeName, ObjectSize, HeapIndex), needs the GC keyword (0x1) at Verbose.
    /// </summary>
    internal sealed class AllocationSession
    {
        private readonly int pid;
        private readonly AllocationSamplingMethod method;

        public AllocationSession(int pid, AllocationSamplingMethod method)
        {
            this.pid = pid;
            this.method = method;
        }

        /// <summary>How often the session asks the target for a heartbeat (an idle process allocates nothing; a frozen one neither).</summary>
        public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

        public const long AllocationSamplingKeyword = 0x80000000000;
        // Jit | Loader: MethodLoadVerbose for the methods compiled during the session (tier-up included), so their frames resolve;
        // the rundown at the end (requestRundown) names the methods that were compiled before it began, as dotnet-trace does.
        private const long MethodKeywords = (long)(ClrTraceEventParser.Keywords.Jit | ClrTraceEventParser.Keywords.Loader);

        /// <summary>The first runtime version with AllocationSampled (.NET 10).</summary>
        public static bool HasRandomizedSampling(string runtimeVersion) =>
            Version.TryParse(runtimeVersion?.Split('-', '+')[0], out var v) && v.Major >= 10;

        private EventPipeProvider SamplingProvider(bool withStacks)
        {
            if (method == AllocationSamplingMethod.Randomized)
                return new EventPipeProvider(ClrTraceEventParser.ProviderName, withStacks ? EventLevel.Verbose : EventLevel.Informational,
                    AllocationSamplingKeyword | (withStacks ? MethodKeywords : 0));
            // GCAllocationTick is a Verbose event of the GC keyword; with it come the other verbose GC events (few).
            return new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Verbose,
                (long)ClrTraceEventParser.Keywords.GC | (withStacks ? MethodKeywords : 0));
        }

        private static EventPipeProvider HeartbeatProvider => new EventPipeProvider(
            CounterSessionOptions.RuntimeProvider, EventLevel.Informational, 0,
            new Dictionary<string, string> { ["EventCounterIntervalSec"] = HeartbeatInterval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        /// <summary>
        /// Reads samples in real time until <paramref name="cancel"/> (or the target exits: TargetExited). No stacks: the
        /// target walks no stack per event. Returns the number of events the runtime reported lost.
        /// </summary>
        /// <param name="onHeartbeat">Each heartbeat: its timestamp (UTC, the target's) and the events the runtime reported lost so far.</param>
        public long Run(Action<AllocationSample> onSample, CancellationToken cancel, Action? onStarted = null, Action<DateTime, long>? onHeartbeat = null)
        {
            var providers = onHeartbeat != null ? new[] { SamplingProvider(false), HeartbeatProvider } : new[] { SamplingProvider(false) };
            using var runner = EventPipeRunner.Start(pid, providers, circularBufferMB: 64, cancel: cancel);
            onStarted?.Invoke();
            var source = runner.Source;
            if (onHeartbeat != null)
                source.Dynamic.AddCallbackForProviderEvent(CounterSessionOptions.RuntimeProvider, "EventCounters", e => onHeartbeat(e.TimeStamp.ToUniversalTime(), source.EventsLost));
            Subscribe(source.Clr, onSample, null);
            runner.Run(cancel);
            return source.EventsLost;
        }

        private void Subscribe(ClrTraceEventParser clr, Action<AllocationSample> onSample, Func<TraceEvent, string[]>? stackOf)
        {
            if (method == AllocationSamplingMethod.Randomized)
                clr.AllocationSampling += e => onSample(new AllocationSample
                {
                    TypeName = e.TypeName, ObjectSize = (long)e.ObjectSize, Timestamp = e.TimeStamp.ToUniversalTime(), Stack = stackOf?.Invoke(e),
                });
            else
                clr.GCAllocationTick += e => onSample(new AllocationSample
                {
                    TypeName = e.TypeName, ObjectSize = e.ObjectSize, Amount = e.AllocationAmount64, Timestamp = e.TimeStamp.ToUniversalTime(), Stack = stackOf?.Invoke(e),
                });
        }

        /// <summary>The deepest stack kept per sample (innermost frames); deeper ones end in "…".</summary>
        public const int MaxFrames = 64;

        /// <summary>
        /// The most the session file may grow to (the samples, about 10,000 per GB allocated, and their stacks): past it the
        /// window ends early (<paramref name="onEndedEarly"/> of RunWithStacks), the rundown still written after it.
        /// </summary>
        public const long MaxTraceBytes = 512L * 1024 * 1024;

        /// <summary>
        /// Once the target has acknowledged the end of the session, how long its rundown may go silent before we stop
        /// waiting for it (a target frozen right after answering): the rundown streams without pause while it runs.
        /// </summary>
        public static readonly TimeSpan RundownSilenceTimeout = TimeSpan.FromSeconds(15);

        /// <summary>
        /// Samples with the allocating managed call stack until <paramref name="stop"/>, then resolves the stacks. The
        /// target walks its stack at each sampled allocation; the session is written to a private temporary folder (the
        /// runtime's rundown at the end names the methods, as dotnet-trace does) and read back with TraceLog, which maps
        /// each frame's address to its method. Samples are handed over only after the window closed.
        /// <paramref name="abort"/> (Ctrl+C) ends the collection without a result, at any point; the folder is removed
        /// in every case. A target that does not end the session (stopped or frozen) is a Timeout: without the rundown
        /// no frame has a name.
        /// </summary>
        public long RunWithStacks(Action<AllocationSample> onSample, CancellationToken stop, CancellationToken abort = default, Action? onStarted = null,
            Action<string>? onPhase = null, Action<DateTime>? onEndedEarly = null, long maxTraceBytes = MaxTraceBytes)
        {
            var config = new EventPipeSessionConfiguration(new[] { SamplingProvider(true) }, circularBufferSizeMB: 128, requestRundown: true, requestStackwalk: true);
            // Owner-only (0700) and new: nothing of anyone else's is in it, so the files below are created, not opened.
            var folder = Directory.CreateTempSubdirectory("memoryops-alloc-");
            try
            {
                string trace = Path.Combine(folder.FullName, "session.nettrace");
                Record(trace, config, stop, onStarted, onEndedEarly, maxTraceBytes);
                abort.ThrowIfCancellationRequested();
                onPhase?.Invoke("Resolving call stacks");
                return Resolve(trace, Path.Combine(folder.FullName, "session.etlx"), onSample, abort);
            }
            finally
            {
                try { folder.Delete(recursive: true); } catch (Exception) { /* best effort: a private folder in the temp dir */ }
            }
        }

        /// <summary>Writes the session to <paramref name="trace"/> until it has ended (asked by <paramref name="stop"/>, or the file reached its bound).</summary>
        private void Record(string trace, EventPipeSessionConfiguration config, CancellationToken stop, Action? onStarted, Action<DateTime>? onEndedEarly, long maxTraceBytes)
        {
            using var session = EventPipeRunner.OpenSession(pid, config, stop);
            onStarted?.Invoke();
            int stopRequested = 0, readingDone = 0;
            long lastRead = Environment.TickCount64;
            var ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            void Stop()
            {
                if (Interlocked.Exchange(ref stopRequested, 1) != 0) return;
                // Off the caller's thread (the pipeline's, through the token): a frozen target takes StopTimeout to give up on.
                Task.Run(() =>
                {
                    if (!EventPipeRunner.StopOrClose(session)) { ended.TrySetResult(false); return; }
                    // It answered; now its rundown must come. A target frozen in the middle of it sends nothing more.
                    while (Volatile.Read(ref readingDone) == 0)
                    {
                        if (Environment.TickCount64 - Interlocked.Read(ref lastRead) > (long)RundownSilenceTimeout.TotalMilliseconds)
                        {
                            try { session.Dispose(); } catch (Exception) { }
                            ended.TrySetResult(false);
                            return;
                        }
                        Thread.Sleep(250);
                    }
                    ended.TrySetResult(true);
                });
            }
            Exception? readError = null;
            using (stop.Register(Stop))
            using (var file = new FileStream(trace, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                try
                {
                    var buffer = new byte[1 << 16];
                    int read;
                    while ((read = session.EventStream.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        Interlocked.Exchange(ref lastRead, Environment.TickCount64);
                        file.Write(buffer, 0, read);
                        if (file.Length > maxTraceBytes && Volatile.Read(ref stopRequested) == 0)
                        {
                            onEndedEarly?.Invoke(DateTime.UtcNow);
                            Stop(); // the rundown that follows is still read: without it no frame has a name
                        }
                    }
                }
                catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is OperationCanceledException) { readError = e; }
                finally { Volatile.Write(ref readingDone, 1); }
            }
            if (Volatile.Read(ref stopRequested) == 0)
                throw new MemoryOpsException(FailureKind.TargetExited,
                    !ProcessDiscovery.ExitedAfterStreamEnd(pid) ? $"Process {pid} ended the diagnostic session unexpectedly." : $"Process {pid} exited during the collection.", pid, readError);
            // The stream ended after we asked: either the target ended the session (its rundown written), or we closed our
            // end because it did not answer. The closing task settles within StopTimeout of the request.
            if (!ended.Task.Wait(EventPipeRunner.StopTimeout + TimeSpan.FromSeconds(1)) || ended.Task.Result) return;
            if (!ProcessDiscovery.ProcessExists(pid))
                throw new MemoryOpsException(FailureKind.TargetExited, $"Process {pid} exited during the collection.", pid, readError);
            throw new MemoryOpsException(FailureKind.Timeout,
                $"Process {pid} did not end its diagnostic session (is it stopped or frozen?): without the runtime's rundown at the session's end the call stacks cannot be named, so no profile was made.", pid, readError);
        }

        /// <summary>Reads the recorded session back with its stacks. Cancellable: <paramref name="abort"/> is checked while converting and on every event.</summary>
        private long Resolve(string trace, string etlxPath, Action<AllocationSample> onSample, CancellationToken abort)
        {
            // TraceLog's conversion takes no token. On abort it is left to finish (or fail) on its own thread, bounded by the
            // file's size (MaxTraceBytes); the caller removes the folder meanwhile, so what it writes goes nowhere.
            var convert = Task.Run(() => TraceLog.CreateFromEventPipeDataFile(trace, etlxPath,
                new TraceLogOptions { ContinueOnError = true, ConversionLog = TextWriter.Null }));
            try { convert.Wait(abort); }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); }
            using var log = new TraceLog(convert.Result);
            var source = log.Events.GetSource();
            Subscribe(source.Clr, sample =>
            {
                if (abort.IsCancellationRequested) source.StopProcessing();
                else onSample(sample);
            }, StackOf);
            source.Process();
            abort.ThrowIfCancellationRequested();
            return log.EventsLost;
        }

        private static string[] StackOf(TraceEvent e)
        {
            var frames = new List<string>();
            for (var frame = e.CallStack(); frame != null; frame = frame.Caller)
            {
                if (frames.Count == MaxFrames) { frames.Add("…"); break; }
                var code = frame.CodeAddress;
                string method = code.FullMethodName;
                if (string.IsNullOrEmpty(method))
                {
                    string module = code.ModuleName;
                    method = (string.IsNullOrEmpty(module) ? "?" : module) + "!0x" + code.Address.ToString("x");
                }
                frames.Add(method);
            }
            return frames.ToArray();
        }
    }
}
