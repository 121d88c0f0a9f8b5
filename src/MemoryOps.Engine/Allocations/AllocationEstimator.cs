using System;
using System.Collections.Generic;
using System.Linq;
using MemoryOps.Engine.Heap;

namespace MemoryOps.Engine.Allocations
{
    /// <summary>
    /// The statistics of the runtime's randomized allocation sampling (docs/design/features/RandomizedAllocationSampling.md
    /// in dotnet/runtime): every allocated byte is an independent Bernoulli trial with p = 1/102,400; the first success in
    /// an object emits one AllocationSampled event for it and ends the object's trials. So an object of s bytes is sampled
    /// with probability π(s) = 1 − q^s (q = 1 − p), independently of every other object, on whatever thread.
    /// <para>
    /// The estimate is the design's "weighted samples" one, a Horvitz–Thompson estimator: each sampled object stands for
    /// 1/π(s) objects and s/π(s) bytes. It is unbiased (E = Σ s over all objects allocated). Its variance, estimated
    /// from the samples alone, is Σ (1 − π)/π² · y² over the sampled objects (y = s for bytes, 1 for the count), that is
    /// Σ w²·q^s with w the sample's weight. Small objects (s ≪ 1/p) give a relative standard error of about 1/√n for n
    /// samples; large ones less (a 100,000-byte array is sampled with π ≈ 0.62, so each sample says much more).
    /// </para>
    /// </summary>
    internal static class RandomizedSampling
    {
        /// <summary>The runtime's mean sampling distance, 1/p, in bytes.</summary>
        public const long MeanDistance = 102_400;
        private static readonly double LogQ = Math.Log(1.0 - 1.0 / MeanDistance);

        /// <summary>q^s: the probability that an object of <paramref name="size"/> bytes is not sampled.</summary>
        public static double MissProbability(long size) => Math.Exp(Math.Max(1, size) * LogQ);

        /// <summary>π(s) = 1 − q^s. (Computed as 1 − e^x: for a 1-byte object the cancellation costs about 1e-11 of relative accuracy.)</summary>
        public static double SampleProbability(long size) => 1.0 - MissProbability(size);
    }

    /// <summary>
    /// Adds up sampled allocation events, per type (and per type and stack), into estimates of what was allocated.
    /// Not thread-safe: one window's events come from one reader thread.
    /// </summary>
    internal sealed class AllocationAccumulator
    {
        /// <summary>Distinct (type, stack) keys kept; a target with more types than this has the rest counted under <see cref="OtherTypes"/>.</summary>
        public const int MaxKeys = 50_000;
        public const string OtherTypes = "(other types)";

        private sealed class Totals
        {
            public long Samples;
            public double Bytes, Count, BytesVariance, CountVariance;
        }

        private readonly Dictionary<string, Totals> byType = new Dictionary<string, Totals>(StringComparer.Ordinal);
        private readonly Dictionary<(string Type, string Stack), (Totals Totals, string[] Frames)> byStack = new Dictionary<(string, string), (Totals, string[])>();
        private readonly Dictionary<string, string> canonical = new Dictionary<string, string>(StringComparer.Ordinal);

        public AllocationAccumulator(AllocationSamplingMethod method) { Method = method; }

        public AllocationSamplingMethod Method { get; }
        public long SampleCount { get; private set; }

        /// <summary>One AllocationSampled event: an object of <paramref name="objectSize"/> bytes of type <paramref name="typeName"/>.</summary>
        public void AddSampled(string typeName, long objectSize, string[]? stack = null)
        {
            if (Method != AllocationSamplingMethod.Randomized) throw new InvalidOperationException("This profile is estimated from AllocationTick events.");
            long size = Math.Max(1, objectSize);
            double pi = RandomizedSampling.SampleProbability(size);
            double miss = 1 - pi;
            double countWeight = 1 / pi;
            double bytesWeight = size / pi;
            Add(typeName, stack, bytesWeight, countWeight, bytesWeight * bytesWeight * miss, countWeight * countWeight * miss);
        }

        /// <summary>
        /// One GCAllocationTick event: <paramref name="amount"/> bytes were allocated (on that heap) since the last tick, and
        /// the object that crossed the threshold was a <paramref name="typeName"/> of <paramref name="objectSize"/> bytes.
        /// The whole amount is charged to that type, as PerfView does: biased, and no variance can be given.
        /// </summary>
        public void AddTick(string typeName, long amount, long objectSize, string[]? stack = null)
        {
            if (Method != AllocationSamplingMethod.AllocationTick) throw new InvalidOperationException("This profile is estimated from AllocationSampled events.");
            double bytes = Math.Max(0, amount);
            double count = objectSize > 0 ? bytes / objectSize : 0;
            Add(typeName, stack, bytes, count, 0, 0);
        }

        private void Add(string rawType, string[]? stack, double bytes, double count, double bytesVariance, double countVariance)
        {
            SampleCount++;
            string type = Canonical(rawType);
            if (!byType.TryGetValue(type, out var totals))
            {
                if (byType.Count >= MaxKeys) type = OtherTypes;
                if (!byType.TryGetValue(type, out totals)) byType[type] = totals = new Totals();
            }
            Accumulate(totals, bytes, count, bytesVariance, countVariance);
            if (stack == null) return;
            string key = string.Join("\n", stack);
            if (!byStack.TryGetValue((type, key), out var entry))
            {
                if (byStack.Count >= MaxKeys) { key = ""; stack = new[] { OtherTypes }; }
                if (!byStack.TryGetValue((type, key), out entry)) byStack[(type, key)] = entry = (new Totals(), stack);
            }
            Accumulate(entry.Totals, bytes, count, bytesVariance, countVariance);
        }

        private static void Accumulate(Totals t, double bytes, double count, double bytesVariance, double countVariance)
        {
            t.Samples++;
            t.Bytes += bytes;
            t.Count += count;
            t.BytesVariance += bytesVariance;
            t.CountVariance += countVariance;
        }

        private string Canonical(string raw)
        {
            raw ??= "";
            if (canonical.TryGetValue(raw, out var name)) return name;
            name = raw.Length == 0 ? "(unknown type)" : TypeNameCanonicalizer.Canonicalize(raw);
            if (canonical.Count < MaxKeys) canonical[raw] = name;
            return name;
        }

        /// <summary>The estimates for a window of <paramref name="seconds"/>, rows largest first; <paramref name="top"/> > 0 keeps that many rows.</summary>
        public AllocationProfile Build(int processId, string processName, string runtimeVersion, DateTime start, DateTime end, int top = 0)
        {
            double seconds = Math.Max((end - start).TotalSeconds, 1e-9);
            bool randomized = Method == AllocationSamplingMethod.Randomized;
            AllocationTypeStat Row(string type, Totals t, string[]? frames) => new AllocationTypeStat
            {
                TypeName = type,
                EstimatedBytes = t.Bytes,
                EstimatedCount = t.Count,
                BytesPerSecond = t.Bytes / seconds,
                CountPerSecond = t.Count / seconds,
                SampleCount = t.Samples,
                RelativeError = randomized && t.Bytes > 0 ? Math.Sqrt(t.BytesVariance) / t.Bytes : (double?)null,
                Stack = frames ?? Array.Empty<string>(),
            };
            var types = byType.Select(kv => Row(kv.Key, kv.Value, null)).OrderByDescending(r => r.EstimatedBytes).ThenBy(r => r.TypeName, StringComparer.Ordinal).ToList();
            var stacks = byStack.Select(kv => Row(kv.Key.Type, kv.Value.Totals, kv.Value.Frames)).OrderByDescending(r => r.EstimatedBytes).ThenBy(r => r.TypeName, StringComparer.Ordinal).ToList();
            double totalBytes = byType.Values.Sum(t => t.Bytes);
            double totalVariance = byType.Values.Sum(t => t.BytesVariance);
            var profile = new AllocationProfile
            {
                ProcessId = processId,
                ProcessName = processName,
                RuntimeVersion = runtimeVersion,
                Method = Method,
                SamplingDistance = RandomizedSampling.MeanDistance,
                Start = start,
                End = end,
                Duration = seconds,
                TotalBytes = totalBytes,
                TotalCount = byType.Values.Sum(t => t.Count),
                BytesPerSecond = totalBytes / seconds,
                RelativeError = randomized && totalBytes > 0 ? Math.Sqrt(totalVariance) / totalBytes : (double?)null,
                SampleCount = SampleCount,
                TypeCount = types.Count,
                Types = top > 0 ? types.Take(top).ToList() : types,
                Stacks = top > 0 ? stacks.Take(top).ToList() : stacks,
            };
            return profile;
        }
    }
}
