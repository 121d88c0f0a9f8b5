using System;

namespace MemoryOps
{
    /// <summary>One garbage collection, from the runtime's GC events. Sizes in bytes, times in seconds.</summary>
    public sealed class GcEventRecord
    {
        /// <summary>The machine the process ran on: this machine's name when made here, the remote computer's name
        /// (PSComputerName) when the object came home from remoting or a job.</summary>
        public string Host { get; set; } = Environment.MachineName;
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        /// <summary>The GC's sequence number in the process (GC.CollectionCount of its generation adds up to it).</summary>
        public int Number { get; set; }
        public int Generation { get; set; }
        /// <summary>Why it ran: AllocSmall, Induced, LowMemory, AllocLarge, ...</summary>
        public string Reason { get; set; } = "";
        /// <summary>Blocking, Background or Foreground.</summary>
        public string Type { get; set; } = "";
        public DateTime Start { get; set; }
        /// <summary>How long managed threads were stopped for this GC, in seconds.</summary>
        public double PauseDuration { get; set; }
        /// <summary>From GC start to GC end, in seconds (for a background GC, longer than its pause).</summary>
        public double Duration { get; set; }
        public long HeapSizeBefore { get; set; }
        public long HeapSizeAfter { get; set; }
        public long Gen0SizeAfter { get; set; }
        public long Gen1SizeAfter { get; set; }
        public long Gen2SizeAfter { get; set; }
        public long LohSizeAfter { get; set; }
        public long PohSizeAfter { get; set; }
        public long PromotedBytes { get; set; }
        public long FragmentationBytes { get; set; }
        public long PinnedObjectCount { get; set; }
        public long GCHandleCount { get; set; }

        public override string ToString() => $"GC#{Number} gen{Generation} {Reason} pause {PauseDuration * 1000:0.###} ms";
    }

    /// <summary>Collections and pauses over a window: what Go calls GCCPUFraction is <see cref="PauseFraction"/> here.</summary>
    public sealed class GcSummary
    {
        /// <summary>The machine the process ran on: this machine's name when made here, the remote computer's name
        /// (PSComputerName) when the object came home from remoting or a job.</summary>
        public string Host { get; set; } = Environment.MachineName;
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public DateTime WindowStart { get; set; }
        /// <summary>Length of the observed window, in seconds.</summary>
        public double WindowDuration { get; set; }
        public int Count { get; set; }
        public int Gen0Count { get; set; }
        public int Gen1Count { get; set; }
        public int Gen2Count { get; set; }
        public int BackgroundCount { get; set; }
        public int InducedCount { get; set; }
        /// <summary>Total pause in seconds.</summary>
        public double TotalPause { get; set; }
        public double MaxPause { get; set; }
        public double MeanPause { get; set; }
        /// <summary>Share of wall time the process spent paused by the GC, 0..1.</summary>
        public double PauseFraction { get; set; }
        public long PromotedBytes { get; set; }
        /// <summary>Heap size after the last GC in the window (0 if none).</summary>
        public long LastHeapSizeAfter { get; set; }
        public long MaxHeapSizeAfter { get; set; }
        /// <summary>
        /// Seconds of the window in which the target sent nothing, not even the once-a-second heartbeat: it was stopped,
        /// frozen or starved. 0 for a window watched throughout. The counts and PauseFraction cover only the rest.
        /// </summary>
        public double GapDuration { get; set; }
        /// <summary>How many such silences the window had.</summary>
        public int GapCount { get; set; }
    }
}
