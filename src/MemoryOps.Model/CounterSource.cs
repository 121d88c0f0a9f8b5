namespace MemoryOps
{
    /// <summary>Which counter mechanism Get-GcCounter reads: EventCounters, the Meter (System.Diagnostics.Metrics), or both.</summary>
    public enum CounterSource { All, EventCounters, Meter }
}
