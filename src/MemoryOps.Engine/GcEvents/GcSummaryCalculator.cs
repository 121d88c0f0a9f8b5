using System;
using System.Collections.Generic;

namespace MemoryOps.Engine.GcEvents
{
    /// <summary>Folds GC records into a <see cref="GcSummary"/> for a known window.</summary>
    internal static class GcSummaryCalculator
    {
        public static GcSummary Summarize(int pid, string processName, DateTime windowStart, DateTime windowEnd, IEnumerable<GcEventRecord> records)
        {
            var s = new GcSummary
            {
                ProcessId = pid,
                ProcessName = processName,
                WindowStart = windowStart,
                WindowDuration = Math.Max(0, (windowEnd - windowStart).TotalSeconds),
            };
            foreach (var r in records)
            {
                s.Count++;
                switch (r.Generation)
                {
                    case 0: s.Gen0Count++; break;
                    case 1: s.Gen1Count++; break;
                    default: s.Gen2Count++; break;
                }
                if (r.Type == "Background") s.BackgroundCount++;
                if (r.Reason.StartsWith("Induced", StringComparison.Ordinal)) s.InducedCount++;
                s.TotalPause += r.PauseDuration;
                s.MaxPause = Math.Max(s.MaxPause, r.PauseDuration);
                s.PromotedBytes += r.PromotedBytes;
                s.LastHeapSizeAfter = r.HeapSizeAfter;
                s.MaxHeapSizeAfter = Math.Max(s.MaxHeapSizeAfter, r.HeapSizeAfter);
            }
            s.MeanPause = s.Count > 0 ? s.TotalPause / s.Count : 0;
            s.PauseFraction = s.WindowDuration > 0 ? Math.Min(1, s.TotalPause / s.WindowDuration) : 0;
            return s;
        }
    }
}
