using System;
using System.Threading;
using System.Threading.Tasks;
using MemoryOps.Engine.Counters;
using MemoryOps.Engine.Processes;

namespace MemoryOps.Engine.ProcessMemory
{
    /// <summary>
    /// The GC's view of a .NET process beside the kernel's: gc-committed (memory the GC has committed) and
    /// gc-heap-size from System.Runtime's EventCounters, kept current by one counter session that runs for as long
    /// as the view is open. That session is the only thing Get-ProcessMemory runs in a target, and only with
    /// -IncludeGc: the kernel's figures need nothing from the process. The GC's hard limit (GCHeapHardLimit, by
    /// default 75 % of a cgroup's limit) is published by no counter, so it is not shown.
    /// </summary>
    internal sealed class GcView : IDisposable
    {
        public const string CommittedCounter = "gc-committed";
        public const string HeapCounter = "gc-heap-size";

        private readonly CancellationTokenSource stop;
        private readonly Task session;
        private double committed = double.NaN, heap = double.NaN;
        private long lastValueTicks;
        private readonly TimeSpan staleAfter;

        private GcView(int pid, string name, TimeSpan interval, CancellationToken cancel)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            // A value older than a stream's "late" mark (three intervals and 3 s) is no longer the GC's view now.
            staleAfter = Sessions.StreamGapDetector.LateAfterFor(TimeSpan.FromSeconds(Math.Max(1, interval.TotalSeconds)));
            var options = new CounterSessionOptions
            {
                IntervalSeconds = Math.Max(1, interval.TotalSeconds),
                EventCounters = true,
                Meters = false,
                NameFilter = n => n == CommittedCounter || n == HeapCounter,
            };
            var counters = new CounterSession(pid, name, options);
            session = Task.Run(() => counters.Run(sample =>
            {
                if (sample.Name == CommittedCounter) Volatile.Write(ref committed, sample.Value);
                else if (sample.Name == HeapCounter) Volatile.Write(ref heap, sample.Value);
                Volatile.Write(ref lastValueTicks, DateTime.UtcNow.Ticks);
            }, null, null, stop.Token));
        }

        /// <summary>
        /// Opens the view on a .NET process; null (with the reason in <paramref name="why"/>) for a process that is
        /// not one, or whose diagnostic socket fails a trust check (it is never used then).
        /// </summary>
        public static GcView? TryOpen(int pid, string name, TimeSpan interval, CancellationToken cancel, out string why)
        {
            try { ProcessDiscovery.Describe(pid); }
            catch (MemoryOpsException e)
            {
                why = e.Message;
                return null;
            }
            why = "";
            return new GcView(pid, name, interval, cancel);
        }

        /// <summary>
        /// The latest gc-committed in bytes; null until the first value has come (about a second after opening), and
        /// null again once the session has ended or its values stopped coming: a reading stamped now must not carry a
        /// GC figure of long ago (it would make NonGcBytes wrong).
        /// </summary>
        public long? CommittedBytes => Current(ref committed);

        /// <summary>The latest gc-heap-size in bytes; null when not current (see <see cref="CommittedBytes"/>).</summary>
        public long? HeapBytes => Current(ref heap);

        private long? Current(ref double value)
        {
            if (session.IsCompleted) return null;
            if (DateTime.UtcNow.Ticks - Volatile.Read(ref lastValueTicks) > staleAfter.Ticks) return null;
            return ToBytes(Volatile.Read(ref value));
        }

        /// <summary>The session's failure, once it has ended with one (the process ended, or refused the session).</summary>
        public Exception? Failure => session.IsFaulted ? session.Exception?.GetBaseException() : null;

        /// <summary>
        /// Waits until both values have come, the session has failed, <paramref name="timeout"/> has passed or
        /// <paramref name="cancel"/> fires; true when both are there.
        /// </summary>
        public bool WaitForValues(TimeSpan timeout, CancellationToken cancel)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (CommittedBytes == null || HeapBytes == null)
            {
                if (session.IsCompleted || DateTime.UtcNow >= deadline || cancel.IsCancellationRequested) return false;
                cancel.WaitHandle.WaitOne(50);
            }
            return true;
        }

        private static long? ToBytes(double value) => double.IsNaN(value) ? (long?)null : (long)value;

        /// <summary>Ends the session in the target (waits a few seconds for it to close; a frozen target is left behind).</summary>
        public void Dispose()
        {
            stop.Cancel();
            try { session.Wait(TimeSpan.FromSeconds(5)); }
            catch (AggregateException) { } // its failure was the target's; the view is closed either way
            stop.Dispose();
        }
    }
}
