using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MemoryOps.Engine.Processes;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace MemoryOps.Engine.Sessions
{
    /// <summary>
    /// One EventPipe session in one target process, read with TraceEvent. It owns the only two
    /// things that must never leak: the session inside the target (stopped on cancel, on dispose and
    /// on error) and the reading thread (Run returns once the stream is closed).
    /// </summary>
    internal sealed class EventPipeRunner : IDisposable
    {
        /// <summary>How long a target may take to answer the request to end a session before we close our end of it.</summary>
        public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);
        /// <summary>How long a target may take to answer: the request for a session, and (see StreamGapDetector) the next value once one is due.</summary>
        public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
        // Checking the socket asks the runtime for ProcessInfo2 first; a live runtime answers in milliseconds.
        private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
        private readonly DiagnosticSession session;
        private int stopRequested;

        public int ProcessId { get; }
        public EventPipeEventSource Source { get; }

        /// <summary>True once we asked the session to stop; a stream that ends without it means the target went away.</summary>
        public bool StopRequested => Volatile.Read(ref stopRequested) != 0;

        private EventPipeRunner(int pid, DiagnosticSession session)
        {
            ProcessId = pid;
            this.session = session;
            Source = new EventPipeEventSource(session.EventStream);
        }

        // No stack walks: counters and GC events never use the stacks, and walking them costs the target CPU on every event.
        public static EventPipeRunner Start(int pid, IReadOnlyList<EventPipeProvider> providers, int circularBufferMB, CancellationToken cancel = default) =>
            new EventPipeRunner(pid, OpenSession(pid, new EventPipeSessionConfiguration(providers, circularBufferMB, requestRundown: false, requestStackwalk: false), cancel));

        /// <summary>
        /// Starts a session through the process's checked diagnostic socket (<see cref="DiagnosticEndpoint"/>: never
        /// <c>new DiagnosticsClient(pid)</c>, which picks a socket by name alone), turning the client's failures into
        /// <see cref="MemoryOpsException"/>s that say what to do.
        /// </summary>
        public static DiagnosticSession OpenSession(int pid, EventPipeSessionConfiguration configuration, CancellationToken cancel = default)
        {
            // A frozen target (SIGSTOP, docker pause, a debugger) never answers: bound the wait, and let Ctrl+C end it.
            using var start = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            start.CancelAfter(StartTimeout);
            DiagnosticEndpoint endpoint;
            try { endpoint = DiagnosticEndpoint.Open(pid, ProbeTimeout); }
            catch (MemoryOpsException e) when (e.Kind == FailureKind.ProcessNotFound)
            {
                throw new MemoryOpsException(FailureKind.TargetExited, $"Process {pid} exited before the diagnostic session could start.", pid, e);
            }
            bool started = false;
            try
            {
                var session = endpoint.CreateClient().StartEventPipeSessionAsync(configuration, start.Token).GetAwaiter().GetResult();
                started = true;
                return new DiagnosticSession(session, endpoint);
            }
            catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
            {
                throw new MemoryOpsException(FailureKind.Timeout,
                    $"Process {pid} did not answer the request for a diagnostic session within {StartTimeout.TotalSeconds:0} s (is it stopped or frozen?).", pid, e);
            }
            catch (Exception e) when (e is ServerNotAvailableException || e is EndOfStreamException || e is IOException)
            {
                if (!ProcessDiscovery.ProcessExists(pid))
                    throw new MemoryOpsException(FailureKind.TargetExited, $"Process {pid} exited before the diagnostic session could start.", pid, e);
                throw new MemoryOpsException(FailureKind.NotDotNetProcess, $"Process {pid} did not accept a diagnostic session: {e.Message}", pid, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new MemoryOpsException(FailureKind.AccessDenied,
                    $"Access to process {pid}'s diagnostic socket was denied. Run as the user that owns the process ({ProcessDiscovery.OwnerName(pid)}) or as root.", pid, e);
            }
            catch (ServerErrorException e)
            {
                throw new MemoryOpsException(FailureKind.SessionFailed, $"Process {pid} refused the diagnostic session: {e.Message}", pid, e);
            }
            finally
            {
                // Kept open by the session when it started; closed here when it did not.
                if (!started) endpoint.Dispose();
            }
        }

        /// <summary>
        /// Reads events until the session is stopped (by <paramref name="cancel"/> or <see cref="Stop"/>)
        /// or the target exits; the latter throws <see cref="FailureKind.TargetExited"/>.
        /// </summary>
        public void Run(CancellationToken cancel)
        {
            using var registration = cancel.Register(Stop);
            Exception? readError = null;
            try
            {
                Source.Process();
            }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                readError = e;
            }

            if (StopRequested) return;
            // The stream ended and we did not ask for it: the target went away (or closed the session).
            bool alive = !ProcessDiscovery.ExitedAfterStreamEnd(ProcessId);
            throw new MemoryOpsException(FailureKind.TargetExited,
                alive ? $"Process {ProcessId} ended the diagnostic session unexpectedly." : $"Process {ProcessId} exited during the collection.",
                ProcessId, readError);
        }

        /// <summary>Asks the target to end the session; the stream then closes and Run returns. Safe to call many times, from any thread.</summary>
        public void Stop()
        {
            if (Interlocked.Exchange(ref stopRequested, 1) != 0) return;
            StopOrClose(session);
        }

        /// <summary>
        /// Asks the target to end <paramref name="session"/>; when it does not answer within <see cref="StopTimeout"/>
        /// (stopped, frozen or gone), closes our end instead, which ends a read of the stream that would otherwise block
        /// for as long as the target is frozen. Returns false when it had to close it.
        /// </summary>
        public static bool StopOrClose(DiagnosticSession session)
        {
            // Stop() talks to the target over a new connection; a hung or dead target must not hang us.
            var stop = Task.Run(() =>
            {
                try { session.Stop(); } catch (Exception) { /* target gone: nothing left to stop */ }
            });
            if (stop.Wait(StopTimeout)) return true;
            try { session.Dispose(); } catch (Exception) { }
            return false;
        }

        public void Dispose()
        {
            Stop();
            try { Source.Dispose(); } catch (Exception) { }
            try { session.Dispose(); } catch (Exception) { }
        }
    }
}
