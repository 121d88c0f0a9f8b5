using System;
using System.Globalization;

namespace MemoryOps.Engine.Sessions
{
    /// <summary>
    /// Notices when one process's event stream goes silent. A stopped (SIGSTOP, docker pause, a debugger) or starved
    /// target keeps its diagnostic session open but sends nothing, so the reader blocks without error: without this,
    /// a -Continuous watch stalls silently for as long as the target is frozen, and a summary over the window reads as
    /// a quiet, healthy process. The stream has something due every <see cref="Interval"/> (a counter round, or the
    /// heartbeat a GC event session asks for), so a silence of <see cref="LateAfter"/> is a gap: the caller warns when
    /// it begins and when it ends, and, while it is waiting for a count rather than watching, gives up after
    /// <see cref="Timeout"/>. Times are the caller's clock (UTC), passed in, so the logic is testable without waiting.
    /// </summary>
    internal sealed class StreamGapDetector
    {
        private readonly int pid;
        private readonly string what;
        private DateTime lastArrival;
        private DateTime? gapWarnedAt;

        /// <param name="what">What is due every interval, for messages: "sample", "event".</param>
        /// <param name="timeout">How long a silence may last before <see cref="Check"/> says to give up; null: never (a watch, a window).</param>
        public StreamGapDetector(int pid, TimeSpan interval, string what, TimeSpan? timeout)
        {
            if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval));
            this.pid = pid;
            this.what = what;
            Interval = interval;
            LateAfter = LateAfterFor(interval);
            Timeout = timeout;
        }

        /// <summary>
        /// Three intervals without anything, plus 3 s for delivery: EventPipe hands events over in blocks, and on a busy
        /// machine a round can come a second or two late (the soak measured gaps under 1.9 s at a 1 s interval), which must
        /// not read as a frozen target.
        /// </summary>
        public static TimeSpan LateAfterFor(TimeSpan interval) => TimeSpan.FromTicks(interval.Ticks * 3) + TimeSpan.FromSeconds(3);

        public TimeSpan Interval { get; }
        public TimeSpan LateAfter { get; }
        public TimeSpan? Timeout { get; }

        /// <summary>True once watching: from <see cref="Start"/> or the first arrival, whichever came first.</summary>
        public bool Watching { get; private set; }

        /// <summary>True while the current silence has been reported as a gap.</summary>
        public bool InGap => gapWarnedAt.HasValue;

        /// <summary>How many gaps there were, and their total and longest length in seconds (a gap runs from the last arrival before it to the first after it, or to <see cref="Close"/>).</summary>
        public int GapCount { get; private set; }
        public double GapSeconds { get; private set; }
        public double LongestGapSeconds { get; private set; }

        /// <summary>Starts watching at <paramref name="now"/> (the session is open: something is due from now on).</summary>
        public void Start(DateTime now)
        {
            if (Watching) return;
            Watching = true;
            lastArrival = now;
        }

        /// <summary>Something arrived at <paramref name="at"/>. Returns the warning that a gap has ended, when one had begun.</summary>
        public string? Arrived(DateTime at)
        {
            if (!Watching) { Start(at); return null; }
            if (at < lastArrival) return null; // items are stamped on several threads; an older stamp proves nothing new
            string? notice = null;
            var silence = at - lastArrival;
            if (silence >= LateAfter)
            {
                Count(silence);
                notice = $"Process {pid} sent {Plural} again after {Seconds(silence)} without any (expected every {Seconds(Interval)}): " +
                         $"it was stopped, frozen or starved, and nothing was recorded in between.";
            }
            gapWarnedAt = null;
            lastArrival = at;
            return notice;
        }

        /// <summary>
        /// Looks at the silence so far, on the caller's timer. Returns the warning that a gap has begun (once per gap), and
        /// sets <paramref name="timedOut"/> when the silence has lasted <see cref="Timeout"/> (the caller ends the session
        /// with <see cref="TimeoutError"/>).
        /// </summary>
        public string? Check(DateTime now, out bool timedOut)
        {
            timedOut = false;
            if (!Watching) return null;
            var silence = now - lastArrival;
            if (Timeout.HasValue && silence >= Timeout.Value) { timedOut = true; return null; }
            if (silence < LateAfter || gapWarnedAt.HasValue) return null;
            gapWarnedAt = now;
            return $"No {what} from process {pid} for {Seconds(silence)} (expected every {Seconds(Interval)}): is it stopped or frozen? " +
                   (Timeout.HasValue ? $"Giving up after {Seconds(Timeout.Value)}." : "Still waiting for it.");
        }

        /// <summary>The error for a silence that reached <see cref="Timeout"/> at <paramref name="now"/>.</summary>
        public MemoryOpsException TimeoutError(DateTime now) =>
            new MemoryOpsException(FailureKind.Timeout,
                $"No {what} from process {pid} for {Seconds(now - lastArrival)} (expected every {Seconds(Interval)}): is it stopped or frozen? " +
                "Its session was ended; the values before the silence stand.", pid);

        /// <summary>The window ended at <paramref name="end"/>: counts a gap still open, and returns its warning.</summary>
        public string? Close(DateTime end)
        {
            if (!Watching) return null;
            var silence = end - lastArrival;
            if (silence < LateAfter) return null;
            Count(silence);
            lastArrival = end;
            gapWarnedAt = null;
            return $"No {what} from process {pid} in the last {Seconds(silence)} of the window (expected every {Seconds(Interval)}): " +
                   "it was stopped, frozen or starved, and nothing was recorded then.";
        }

        private void Count(TimeSpan gap)
        {
            GapCount++;
            GapSeconds += gap.TotalSeconds;
            LongestGapSeconds = Math.Max(LongestGapSeconds, gap.TotalSeconds);
        }

        private string Plural => what.EndsWith("s", StringComparison.Ordinal) ? what : what + "s";

        private static string Seconds(TimeSpan t) =>
            (t.TotalSeconds < 10 ? t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) : t.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)) + " s";
    }
}
