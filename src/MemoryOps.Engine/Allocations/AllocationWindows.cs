using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Allocations
{
    /// <summary>One window's samples, closed: [Start, End).</summary>
    internal sealed class AllocationWindow
    {
        public AllocationWindow(DateTime start, DateTime end, AllocationAccumulator accumulator)
        {
            Start = start;
            End = end;
            Accumulator = accumulator;
        }

        public DateTime Start { get; }
        public DateTime End { get; }
        public AllocationAccumulator Accumulator { get; }
    }

    /// <summary>
    /// Assigns allocation samples to back-to-back windows [Start + k·Length, Start + (k+1)·Length) by when the target
    /// allocated them (the event's own timestamp), not by when they arrive: EventPipe delivers events a second or so after
    /// they happened, so counting a sample where it arrives would move allocations across the end of a window and bias
    /// each window's rate by how busy the reader was at its end. A window is closed by the caller once every event of it
    /// can be expected to have arrived (<see cref="CloseThrough"/>); a sample for a window already closed, before the
    /// first, or at or after <see cref="Limit"/> is not counted (<see cref="Outside"/>). Times are UTC, passed in.
    /// Not thread-safe: one pipeline thread.
    /// </summary>
    internal sealed class AllocationWindows
    {
        private readonly AllocationSamplingMethod method;
        private readonly SortedDictionary<long, AllocationAccumulator> open = new SortedDictionary<long, AllocationAccumulator>();
        private long nextToClose;

        public AllocationWindows(AllocationSamplingMethod method, DateTime start, TimeSpan length)
        {
            if (length <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(length));
            this.method = method;
            Start = start;
            Length = length;
        }

        public DateTime Start { get; }
        public TimeSpan Length { get; }

        /// <summary>The end of the collection, when it ended before the last window's end (a window that ended early); null: none.</summary>
        public DateTime? Limit { get; private set; }

        /// <summary>Samples counted in no window: before the first, at or after the limit, or after their window had closed.</summary>
        public long Outside { get; private set; }

        /// <summary>The samples in the windows still open.</summary>
        public long OpenSampleCount => open.Values.Sum(a => a.SampleCount);

        /// <summary>Nothing allocated at or after <paramref name="end"/> is counted (samples already counted stay: call it before they arrive).</summary>
        public void EndAt(DateTime end)
        {
            if (!Limit.HasValue || end < Limit.Value) Limit = end;
        }

        /// <summary>The window that holds <paramref name="timestamp"/>; -1 before the first.</summary>
        public long IndexOf(DateTime timestamp) =>
            timestamp < Start ? -1 : (timestamp - Start).Ticks / Length.Ticks;

        /// <summary>Counts <paramref name="sample"/> in its window. False when it is outside every open window.</summary>
        public bool Add(AllocationSample sample)
        {
            long index = IndexOf(sample.Timestamp);
            if (index < nextToClose || (Limit.HasValue && sample.Timestamp >= Limit.Value)) { Outside++; return false; }
            if (!open.TryGetValue(index, out var accumulator)) open[index] = accumulator = new AllocationAccumulator(method);
            if (method == AllocationSamplingMethod.Randomized) accumulator.AddSampled(sample.TypeName, sample.ObjectSize, sample.Stack);
            else accumulator.AddTick(sample.TypeName, sample.Amount, sample.ObjectSize, sample.Stack);
            return true;
        }

        /// <summary>
        /// Closes, in order, every window whose end is at or before <paramref name="upTo"/> (empty ones too: nothing was
        /// allocated in them), and the one <see cref="Limit"/> cuts short once the limit is reached; later samples for them do not count.
        /// </summary>
        public List<AllocationWindow> CloseThrough(DateTime upTo)
        {
            var closed = new List<AllocationWindow>();
            while (true)
            {
                var start = Start + TimeSpan.FromTicks(Length.Ticks * nextToClose);
                if (Limit.HasValue && start >= Limit.Value) break;
                var end = start + Length;
                if (Limit.HasValue && Limit.Value < end) end = Limit.Value;
                if (end > upTo) break;
                if (!open.TryGetValue(nextToClose, out var accumulator)) accumulator = new AllocationAccumulator(method);
                open.Remove(nextToClose);
                closed.Add(new AllocationWindow(start, end, accumulator));
                nextToClose++;
            }
            return closed;
        }
    }
}
