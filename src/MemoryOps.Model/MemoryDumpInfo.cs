using System;

namespace MemoryOps
{
    /// <summary>What kind of dump to write (the createdump types).</summary>
    public enum MemoryDumpType
    {
        /// <summary>Everything the process has mapped, including native modules' images.</summary>
        Full,
        /// <summary>The managed heap and what a heap analysis needs (createdump --withheap). The default.</summary>
        Heap,
        /// <summary>Threads, stacks and modules, no heap (createdump --normal). Cannot be read as a heap snapshot.</summary>
        Mini,
        /// <summary>Like Mini with personal data removed (createdump --triage).</summary>
        Triage,
    }

    /// <summary>A dump file that was written.</summary>
    public sealed class MemoryDumpInfo
    {
        public string Path { get; set; } = "";
        /// <summary>The machine the dump was written on (its Path is a path there): this machine's name when made here, the remote computer's name
        /// (PSComputerName) when the object came home from remoting or a job.</summary>
        public string Host { get; set; } = Environment.MachineName;
        public MemoryDumpType Type { get; set; }
        public long SizeBytes { get; set; }
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public DateTime Created { get; set; }
        /// <summary>Seconds the dump took to write (the target is frozen for most of it).</summary>
        public double Duration { get; set; }

        public override string ToString() => Path;
    }
}
