using System;
using System.Collections.Generic;

namespace MemoryOps
{
    /// <summary>Which runtime event an allocation profile was estimated from.</summary>
    public enum AllocationSamplingMethod
    {
        /// <summary>
        /// The runtime's randomized allocation sampling (AllocationSampled, .NET 10+): every allocated byte is a
        /// Bernoulli trial with p = 1/102,400, so the per-type estimate is unbiased and has a computable error.
        /// </summary>
        Randomized,
        /// <summary>
        /// GCAllocationTick (every ~100 KB per heap): the bytes since the last tick are charged to the type of the object
        /// that crossed the threshold. Biased (a fixed stride, so periodic patterns alias); no error is given.
        /// </summary>
        AllocationTick,
    }

    /// <summary>The file formats Export-AllocationProfile writes: pprof (gzipped protobuf, for go tool pprof) and speedscope (JSON).</summary>
    public enum AllocationExportFormat { Pprof, Speedscope }

    /// <summary>The estimated allocations of one type (or one type from one call stack) in a window.</summary>
    public sealed class AllocationTypeStat
    {
        /// <summary>Canonical type name (the same spelling as heap snapshots).</summary>
        public string TypeName { get; set; } = "";
        /// <summary>Estimated bytes allocated in the window (object sizes as the GC counts them).</summary>
        public double EstimatedBytes { get; set; }
        /// <summary>Estimated number of objects allocated in the window.</summary>
        public double EstimatedCount { get; set; }
        /// <summary>EstimatedBytes per second of the window.</summary>
        public double BytesPerSecond { get; set; }
        /// <summary>EstimatedCount per second of the window.</summary>
        public double CountPerSecond { get; set; }
        /// <summary>How many events the estimate rests on.</summary>
        public long SampleCount { get; set; }
        /// <summary>
        /// Standard error of EstimatedBytes divided by it (0.05 = 5 %): the estimate is within ±1.96 times this of the
        /// truth 95 % of the time once SampleCount is not tiny. Null for AllocationTick, whose error cannot be known.
        /// </summary>
        public double? RelativeError { get; set; }
        /// <summary>The allocating managed call stack, innermost frame (the allocating method) first; empty without -Stack.</summary>
        public string[] Stack { get; set; } = Array.Empty<string>();

        public override string ToString() => $"{TypeName}: ~{EstimatedBytes:0} bytes, ~{EstimatedCount:0} objects ({SampleCount} samples)";
    }

    /// <summary>What a process allocated during a window, per type (and per call stack with -Stack), estimated from samples.</summary>
    public sealed class AllocationProfile
    {
        /// <summary>The machine the process ran on (PSComputerName when it came home from remoting).</summary>
        public string Host { get; set; } = Environment.MachineName;
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public string RuntimeVersion { get; set; } = "";
        public AllocationSamplingMethod Method { get; set; }
        /// <summary>The mean sampling distance in bytes: 102,400 for Randomized (the runtime's constant), ~100 KB per heap for AllocationTick.</summary>
        public long SamplingDistance { get; set; }
        /// <summary>The window's start and end (UTC) and length in seconds.</summary>
        public DateTime Start { get; set; }
        public DateTime End { get; set; }
        public double Duration { get; set; }
        /// <summary>Estimated bytes and objects allocated by all types in the window.</summary>
        public double TotalBytes { get; set; }
        public double TotalCount { get; set; }
        public double BytesPerSecond { get; set; }
        /// <summary>Relative standard error of TotalBytes; null for AllocationTick.</summary>
        public double? RelativeError { get; set; }
        public long SampleCount { get; set; }
        /// <summary>Events the runtime dropped (a full session buffer): the estimate is low by about that many samples.</summary>
        public long EventsLost { get; set; }
        /// <summary>How many types the window saw (Types may hold fewer with -Top).</summary>
        public int TypeCount { get; set; }
        /// <summary>Per-type rows, largest EstimatedBytes first.</summary>
        public List<AllocationTypeStat> Types { get; set; } = new List<AllocationTypeStat>();
        /// <summary>With -Stack: one row per type and allocating call stack, largest first; empty otherwise.</summary>
        public List<AllocationTypeStat> Stacks { get; set; } = new List<AllocationTypeStat>();

        /// <summary>The name a profile's whole allocation rate has as a metric (rules, baselines): "AllocationRate", in bytes/s.</summary>
        public const string RateMetric = "AllocationRate";

        /// <summary>
        /// The profile as the counter samples a baseline keeps: its whole allocation rate (AllocationRate, bytes/s) at
        /// the window's end, the same metric Test-MemoryThreshold reads from a profile, so a baseline rule on
        /// AllocationRate holds a window to the windows saved before it.
        /// </summary>
        public CounterSample[] ToSamples() => new[]
        {
            new CounterSample
            {
                Timestamp = End, ProcessId = ProcessId, ProcessName = ProcessName, Host = Host, Provider = "MemoryOps.Allocations",
                Name = RateMetric, DisplayName = "Bytes allocated per second (estimated)", Value = BytesPerSecond, Unit = "bytes/s",
                Kind = CounterKind.Rate, Source = Method.ToString(),
            },
        };

        public override string ToString() => $"Allocations of {ProcessName} ({ProcessId}) over {Duration:0.#} s: ~{TotalBytes:0} bytes, {TypeCount} types ({Method})";
    }

    /// <summary>How one type's allocation changed from a reference window to a difference window (Compare-AllocationProfile).</summary>
    public sealed class AllocationTypeDelta
    {
        public string TypeName { get; set; } = "";
        public double ReferenceBytesPerSecond { get; set; }
        public double DifferenceBytesPerSecond { get; set; }
        public double BytesPerSecondDelta { get; set; }
        public double ReferenceBytes { get; set; }
        public double DifferenceBytes { get; set; }
        public double ReferenceCount { get; set; }
        public double DifferenceCount { get; set; }
        /// <summary>BytesPerSecondDelta as a percentage of the reference rate; null for a type the reference did not have.</summary>
        public double? GrowthPercent { get; set; }
        public DeltaStatus Status { get; set; }
        /// <summary>
        /// True when the change is larger than the two estimates' combined sampling error (1.96 standard errors): a
        /// change that is not significant may be noise of the sampling. Null for AllocationTick profiles.
        /// </summary>
        public bool? Significant { get; set; }
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        public string Host { get; set; } = "";

        public override string ToString() => $"{Status} {TypeName}: {BytesPerSecondDelta:+0;-0;0} bytes/s";
    }
}
