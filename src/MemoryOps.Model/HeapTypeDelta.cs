namespace MemoryOps
{
    /// <summary>How a type changed between two snapshots.</summary>
    public enum DeltaStatus { Added, Removed, Grown, Shrunk, Unchanged }

    /// <summary>One type's change from a reference snapshot to a difference snapshot (Compare-HeapSnapshot).</summary>
    public sealed class HeapTypeDelta
    {
        public string TypeName { get; set; } = "";
        public long ReferenceCount { get; set; }
        public long DifferenceCount { get; set; }
        public long CountDelta { get; set; }
        public long ReferenceBytes { get; set; }
        public long DifferenceBytes { get; set; }
        public long BytesDelta { get; set; }
        /// <summary>BytesDelta as a percentage of ReferenceBytes; null for a type the reference did not have.</summary>
        public double? GrowthPercent { get; set; }
        public DeltaStatus Status { get; set; }
        /// <summary>The process and machine of the difference snapshot (see HeapSnapshot.Host), so a verdict on a delta says whose heap grew.</summary>
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public string Host { get; set; } = "";

        public override string ToString() => $"{Status} {TypeName}: {CountDelta:+#;-#;0} objects, {BytesDelta:+#;-#;0} bytes";
    }

    /// <summary>The whole heap's change (Compare-HeapSnapshot -Summary).</summary>
    public sealed class HeapComparison
    {
        public long ReferenceBytes { get; set; }
        public long DifferenceBytes { get; set; }
        public long BytesDelta { get; set; }
        public double? GrowthPercent { get; set; }
        public long ReferenceObjectCount { get; set; }
        public long DifferenceObjectCount { get; set; }
        public long CountDelta { get; set; }
        public int TypesAdded { get; set; }
        public int TypesRemoved { get; set; }
        public int TypesGrown { get; set; }
        public int TypesShrunk { get; set; }
        /// <summary>The type whose bytes grew most (empty when nothing grew).</summary>
        public string TopGrowthType { get; set; } = "";
        public long TopGrowthBytes { get; set; }
        public System.DateTime ReferenceTimestamp { get; set; }
        public System.DateTime DifferenceTimestamp { get; set; }
        /// <summary>The process and machine of the difference snapshot (see HeapSnapshot.Host), so a verdict on a delta says whose heap grew.</summary>
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public string Host { get; set; } = "";
    }
}
