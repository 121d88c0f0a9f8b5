using System;

namespace MemoryOps
{
    /// <summary>
    /// One way instances of a type are kept alive: the shortest path from a GC root to each instance, grouped by
    /// its shape (root kind and name, then the types along the way). Count and TotalBytes are the instances
    /// (of <see cref="TypeName"/>) whose shortest path has this shape.
    /// </summary>
    public sealed class HeapRetentionPath
    {
        /// <summary>The retained type (canonical name, as in HeapSnapshot).</summary>
        public string TypeName { get; set; } = "";
        /// <summary>The path in short type names: "[static] OrderService.Orders.byId → Dictionary&lt;String, OrderStat&gt; → Entry[] → OrderStat".</summary>
        public string Path { get; set; } = "";
        /// <summary>StaticField, StrongHandle, PinnedHandle, Stack, FinalizerQueue, Other; Unreachable for dead objects still in a dump;
        /// Unreported for live objects held only by roots the live route does not stream (dependent handles).</summary>
        public string RootKind { get; set; } = "";
        /// <summary>The static field ("Namespace.Type.field") when the source names it; empty otherwise.</summary>
        public string RootName { get; set; } = "";
        /// <summary>References from the root to the instance (1 = the root holds it directly).</summary>
        public int Depth { get; set; }
        /// <summary>Canonical names of the objects along the path, the root's object first and the instance's type last.</summary>
        public string[] Types { get; set; } = Array.Empty<string>();
        /// <summary>Instances held this way.</summary>
        public long Count { get; set; }
        /// <summary>Their own (shallow) bytes.</summary>
        public long TotalBytes { get; set; }
        /// <summary>Share of all instances of the type that this path holds (0..1).</summary>
        public double Fraction { get; set; }
        /// <summary>One instance held this way, for dotnet-dump (gcroot, dumpobj).</summary>
        public ulong SampleAddress { get; set; }
        /// <summary>The objects along that instance's path, root's object first, as "0x..." addresses.</summary>
        public string[] SamplePath { get; set; } = Array.Empty<string>();
        /// <summary>"Dump" or "Process".</summary>
        public string Source { get; set; } = "";
        public int ProcessId { get; set; }

        public override string ToString() => $"{Count} × {TypeName}: {Path}";
    }

    /// <summary>
    /// What all instances of a type keep alive: the bytes that would become garbage if they were gone
    /// (dominator-tree retained size, as PerfView and dotMemory compute it; an instance dominated by another
    /// instance of the same type is counted once, inside it).
    /// </summary>
    public sealed class HeapRetainedSize
    {
        public string TypeName { get; set; } = "";
        /// <summary>Reachable instances.</summary>
        public long Count { get; set; }
        /// <summary>Their own bytes.</summary>
        public long ShallowBytes { get; set; }
        /// <summary>Bytes kept alive by them, their own included.</summary>
        public long RetainedBytes { get; set; }
        /// <summary>RetainedBytes as a share of all reachable bytes (0..1).</summary>
        public double HeapFraction { get; set; }
        /// <summary>The instance that alone retains the most, for dotnet-dump.</summary>
        public ulong LargestAddress { get; set; }
        /// <summary>What that instance alone retains.</summary>
        public long LargestRetainedBytes { get; set; }
        public string Source { get; set; } = "";
        public int ProcessId { get; set; }

        public override string ToString() => $"{TypeName}: {Count} instances retain {RetainedBytes} bytes";
    }
}
