using System;
using System.Collections.Generic;
using System.Threading;
using MemoryOps.Engine;
using MemoryOps.Engine.Sessions;

namespace MemoryOps
{
    /// <summary>What a session's worker thread hands the pipeline thread: at least its time of arrival, or the session's start.</summary>
    public abstract class SessionStreamItem
    {
        /// <summary>The session is open (the target answered); nothing else in this item.</summary>
        public bool SessionStarted;

        /// <summary>When the worker thread received it, so a backlog on the pipeline thread is not mistaken for a silent target.</summary>
        public readonly DateTime Arrived = DateTime.UtcNow;
    }

    /// <summary>
    /// A cmdlet that streams from one diagnostic session per target (Get-GcCounter, Get-GcEvent): one worker thread a
    /// session, one consume loop on the pipeline thread. The loop owns what every stream needs: Ctrl+C leaves at once,
    /// a worker's failure is an error for that target while the others go on, a window (-Duration) closes every
    /// session on time, and a target that goes silent (stopped, frozen) is reported when the gap begins and ends, or
    /// ends with a Timeout error when the cmdlet waits for a count. The cmdlet adds what its items mean
    /// (<see cref="OnItem"/>) and its own stop conditions and progress (<see cref="OnTick"/>).
    /// </summary>
    public abstract class SessionStreamCmdlet<TItem> : ProcessTargetCmdlet where TItem : SessionStreamItem
    {
        /// <summary>Per target: the silence detector of its stream.</summary>
        private protected Dictionary<int, StreamGapDetector> Gaps { get; } = new Dictionary<int, StreamGapDetector>();

        /// <summary>Targets whose session failed (an error was written); their later items are dropped.</summary>
        protected HashSet<int> Failed { get; } = new HashSet<int>();

        /// <summary>Targets that had what was asked of them and whose session was ended early: their silence since is no gap.</summary>
        protected HashSet<int> Done { get; } = new HashSet<int>();

        /// <summary>Targets whose session opened.</summary>
        protected HashSet<int> SessionOpen { get; } = new HashSet<int>();

        /// <summary>When the sessions were started.</summary>
        protected DateTime Started { get; private set; }

        /// <summary>When the window (-Duration) closed, if it did.</summary>
        protected DateTime? StoppedAt { get; private set; }

        /// <summary>The window's length; zero when there is none.</summary>
        protected TimeSpan Window { get; private set; }

        /// <summary>
        /// Whether the silence detector starts when the session opens (a stream with a heartbeat), or with the first
        /// item (counters: a provider that publishes nothing is a misspelling, which the cmdlet names itself).
        /// </summary>
        protected virtual bool GapStartsWithSession => true;

        private ParallelCollector<TItem>? collector;

        /// <summary>An item of a target that has neither failed nor finished, after the gap detector has seen it.</summary>
        protected abstract void OnItem(int pid, TItem item, DateTime now);

        /// <summary>Called after every item and every tick: the cmdlet's own stop conditions and progress.</summary>
        protected virtual void OnTick(DateTime now) { }

        /// <summary>Ends one target's session because it had what was asked of it.</summary>
        protected void Finish(int pid)
        {
            Done.Add(pid);
            collector?.StopWorker(pid);
        }

        /// <summary>Ends one target's session with an error.</summary>
        protected void Fail(int pid, Exception error)
        {
            WriteFailure(error, pid);
            Failed.Add(pid);
            collector?.StopWorker(pid);
        }

        /// <summary>Items handed over but not yet consumed.</summary>
        protected int Pending => collector?.Pending ?? 0;

        /// <summary>
        /// Starts one session per target (<paramref name="open"/> gives its gap detector and its blocking run, which
        /// gets an item sink, a warning sink and a token) and consumes them all until every session has ended.
        /// </summary>
        private protected void Stream(TimeSpan tick, TimeSpan window,
            Func<DotNetProcessInfo, (StreamGapDetector Gap, Action<Action<TItem>, Action<string>, CancellationToken> Run)> open)
        {
            Started = DateTime.UtcNow;
            Window = window;
            DateTime? deadline = window > TimeSpan.Zero ? Started + window : (DateTime?)null;
            using var sessions = new ParallelCollector<TItem>(StopToken);
            collector = sessions;
            try
            {
                foreach (var target in Targets)
                {
                    var (gap, run) = open(target);
                    Gaps[target.ProcessId] = gap;
                    sessions.Start(target.ProcessId, run);
                }

                foreach (var item in sessions.Consume(tick))
                {
                    // Ctrl+C: leave even if a frozen target keeps a worker from finishing (Dispose abandons it after a grace period).
                    if (StopToken.IsCancellationRequested) break;
                    var now = DateTime.UtcNow;
                    int pid = item.WorkerKey;
                    if (item.Error != null)
                    {
                        WriteFailure(item.Error, pid);
                        Failed.Add(pid);
                    }
                    else if (item.Warning != null)
                    {
                        WriteWarning(item.Warning);
                    }
                    else if (item.Value != null && !Failed.Contains(pid) && !Done.Contains(pid))
                    {
                        if (item.Value.SessionStarted)
                        {
                            SessionOpen.Add(pid);
                            if (GapStartsWithSession) Gaps[pid].Start(item.Value.Arrived);
                        }
                        else
                        {
                            // Anything from the stream shows the target is running.
                            if (StoppedAt == null && Gaps[pid].Arrived(item.Value.Arrived) is string resumed) WriteWarning(resumed);
                            OnItem(pid, item.Value, now);
                        }
                    }

                    if (deadline.HasValue && now >= deadline.Value && StoppedAt == null)
                    {
                        WriteVerbose($"The {window.TotalSeconds:0.###} s window has passed; stopping the sessions.");
                        StoppedAt = now;
                        sessions.StopAll();
                    }
                    // Silence is judged only with the queue empty: items still queued (a slow consumer downstream) arrived
                    // on time, and the detector has not seen them yet.
                    if (StoppedAt == null && sessions.Pending == 0)
                    {
                        foreach (var kv in Gaps)
                        {
                            if (Failed.Contains(kv.Key) || Done.Contains(kv.Key)) continue;
                            string? begun = kv.Value.Check(now, out bool timedOut);
                            if (timedOut) Fail(kv.Key, kv.Value.TimeoutError(now));
                            else if (begun != null) WriteWarning(begun);
                        }
                    }
                    OnTick(now);
                }
            }
            finally
            {
                collector = null;
            }
        }

        /// <summary>
        /// After a window closed: a target that never opened its session within it is a Timeout error (returning
        /// nothing for it silently would read as a quiet, healthy process), and a gap still open at the end is said.
        /// </summary>
        protected void CloseWindow(string nothingObserved)
        {
            if (StoppedAt == null || StopToken.IsCancellationRequested) return;
            foreach (var target in Targets)
            {
                int pid = target.ProcessId;
                if (Failed.Contains(pid) || Done.Contains(pid)) continue;
                if (!SessionOpen.Contains(pid) && !Gaps[pid].Watching)
                {
                    WriteFailure(new MemoryOpsException(FailureKind.Timeout,
                        $"Process {pid} did not open a diagnostic session within the {Window.TotalSeconds:0.###} s window (is it stopped or frozen?): {nothingObserved}.", pid), pid);
                    Failed.Add(pid);
                }
                else if (Gaps[pid].Close(StoppedAt.Value) is string tail)
                {
                    WriteWarning(tail);
                }
            }
        }
    }
}
