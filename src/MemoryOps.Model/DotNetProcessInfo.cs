using System;

namespace MemoryOps
{
    /// <summary>A running .NET process that accepts diagnostic connections.</summary>
    public sealed class DotNetProcessInfo
    {
        public int ProcessId { get; set; }
        /// <summary>The application's name: the managed entry assembly when known (so "dotnet App.dll" reads as App), else the OS process name.</summary>
        public string Name { get; set; } = "";
        /// <summary>The OS process name (e.g. "dotnet" for "dotnet App.dll").</summary>
        public string ProcessName { get; set; } = "";
        public string CommandLine { get; set; } = "";
        public string RuntimeVersion { get; set; } = "";
        public string OperatingSystem { get; set; } = "";
        public string Architecture { get; set; } = "";
        public DateTime? StartTime { get; set; }
        /// <summary>Resident set size in bytes at the time of listing.</summary>
        public long WorkingSet { get; set; }
        /// <summary>The user that owns the process.</summary>
        public string UserName { get; set; } = "";
        public string DiagnosticSocket { get; set; } = "";
        /// <summary>The machine the process runs on: this one, or PSComputerName for an object that came back from a remote host.</summary>
        public string Host { get; set; } = Environment.MachineName;

        public override string ToString() => $"{Name} ({ProcessId})";
    }
}
