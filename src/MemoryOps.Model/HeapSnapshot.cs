using System;
using System.Collections.Generic;

namespace MemoryOps
{
    /// <summary>Where a snapshot's numbers came from.</summary>
    public enum SnapshotSource
    {
        /// <summary>A live process, over EventPipe (an induced full GC streams the live heap): live objects only.</summary>
        Process,
        /// <summary>A dump file, read with ClrMD: every object in the heap, dead ones included, unless LiveOnly.</summary>
        Dump,
    }

    /// <summary>All instances of one type in a heap.</summary>
    public sealed class HeapTypeStat
    {
        /// <summary>Canonical name, the same whatever the source: Namespace.Outer&lt;Arg, Arg&gt;+Nested[].</summary>
        public string TypeName { get; set; } = "";
        public long Count { get; set; }
        /// <summary>Sum of the instances' own sizes in bytes (shallow size, as dumpheap -stat reports).</summary>
        public long TotalBytes { get; set; }
        /// <summary>True for the "Free" pseudo-type of a dump: free space between objects, not objects.</summary>
        public bool IsFree { get; set; }

        public override string ToString() => $"{TypeName}: {Count} objects, {TotalBytes} bytes";
    }

    /// <summary>Per-type statistics of one managed heap at one moment.</summary>
    public sealed class HeapSnapshot
    {
        public SnapshotSource Source { get; set; }
        /// <summary>The machine the process ran on: this machine's name when made here, the remote computer's name
        /// (PSComputerName) when the object came home from remoting or a job.</summary>
        public string Host { get; set; } = Environment.MachineName;
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public DateTime Timestamp { get; set; }
        public string RuntimeVersion { get; set; } = "";
        /// <summary>Bytes of all objects counted (Free excluded).</summary>
        public long TotalBytes { get; set; }
        /// <summary>Objects counted (Free excluded).</summary>
        public long ObjectCount { get; set; }
        /// <summary>True when only objects reachable from roots are counted (a live snapshot always; a dump with -LiveOnly).</summary>
        public bool LiveOnly { get; set; }
        /// <summary>Bytes of Free space between objects (dumps only; 0 otherwise).</summary>
        public long FreeBytes { get; set; }
        /// <summary>
        /// Generation sizes as the GC accounts them (objects and the free space between them, the gen-N-size
        /// counters' meaning), whatever the route: a live snapshot reads them from GCHeapStats after its induced GC,
        /// a dump snapshot sums the dump's regions (DumpHeapReader.GenerationSizes).
        /// </summary>
        public long? Gen0Bytes { get; set; }
        public long? Gen1Bytes { get; set; }
        public long? Gen2Bytes { get; set; }
        public long? LohBytes { get; set; }
        public long? PohBytes { get; set; }
        /// <summary>The dump a Dump snapshot was read from.</summary>
        public string? DumpPath { get; set; }
        /// <summary>How long taking the snapshot took, in seconds.</summary>
        public double Duration { get; set; }
        /// <summary>Per-type rows, largest TotalBytes first.</summary>
        public List<HeapTypeStat> Types { get; set; } = new List<HeapTypeStat>();

        public override string ToString() => $"{Source} snapshot of {ProcessName} ({ProcessId}): {ObjectCount} objects, {TotalBytes} bytes, {Types.Count} types";
    }
}
