using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Compare
{
    /// <summary>Per-type differences between two heap snapshots, largest growth first.</summary>
    internal static class HeapComparer
    {
        /// <summary>
        /// Every type in either snapshot, sorted by BytesDelta descending (then name). The Free pseudo-type of a
        /// dump is left out: free space is not an object and must never read as growth.
        /// </summary>
        public static List<HeapTypeDelta> Compare(HeapSnapshot reference, HeapSnapshot difference)
        {
            var before = Index(reference);
            var after = Index(difference);
            var deltas = new List<HeapTypeDelta>(Math.Max(before.Count, after.Count));
            foreach (var name in before.Keys.Union(after.Keys, StringComparer.Ordinal))
            {
                before.TryGetValue(name, out var b);
                after.TryGetValue(name, out var a);
                var d = new HeapTypeDelta
                {
                    TypeName = name,
                    ProcessId = difference.ProcessId, ProcessName = difference.ProcessName, Host = difference.Host,
                    ReferenceCount = b?.Count ?? 0,
                    ReferenceBytes = b?.TotalBytes ?? 0,
                    DifferenceCount = a?.Count ?? 0,
                    DifferenceBytes = a?.TotalBytes ?? 0,
                };
                d.CountDelta = d.DifferenceCount - d.ReferenceCount;
                d.BytesDelta = d.DifferenceBytes - d.ReferenceBytes;
                d.GrowthPercent = d.ReferenceBytes > 0 ? d.BytesDelta * 100.0 / d.ReferenceBytes : (double?)null;
                d.Status = b == null ? DeltaStatus.Added
                    : a == null ? DeltaStatus.Removed
                    : d.BytesDelta > 0 || (d.BytesDelta == 0 && d.CountDelta > 0) ? DeltaStatus.Grown
                    : d.BytesDelta < 0 || d.CountDelta < 0 ? DeltaStatus.Shrunk
                    : DeltaStatus.Unchanged;
                deltas.Add(d);
            }
            deltas.Sort((x, y) =>
            {
                int c = y.BytesDelta.CompareTo(x.BytesDelta);
                return c != 0 ? c : string.CompareOrdinal(x.TypeName, y.TypeName);
            });
            return deltas;
        }

        public static HeapComparison Summarize(HeapSnapshot reference, HeapSnapshot difference, IReadOnlyList<HeapTypeDelta> deltas)
        {
            var top = deltas.FirstOrDefault(d => d.BytesDelta > 0);
            return new HeapComparison
            {
                ProcessId = difference.ProcessId, ProcessName = difference.ProcessName, Host = difference.Host,
                ReferenceBytes = reference.TotalBytes,
                DifferenceBytes = difference.TotalBytes,
                BytesDelta = difference.TotalBytes - reference.TotalBytes,
                GrowthPercent = reference.TotalBytes > 0 ? (difference.TotalBytes - reference.TotalBytes) * 100.0 / reference.TotalBytes : (double?)null,
                ReferenceObjectCount = reference.ObjectCount,
                DifferenceObjectCount = difference.ObjectCount,
                CountDelta = difference.ObjectCount - reference.ObjectCount,
                TypesAdded = deltas.Count(d => d.Status == DeltaStatus.Added),
                TypesRemoved = deltas.Count(d => d.Status == DeltaStatus.Removed),
                TypesGrown = deltas.Count(d => d.Status == DeltaStatus.Grown),
                TypesShrunk = deltas.Count(d => d.Status == DeltaStatus.Shrunk),
                TopGrowthType = top?.TypeName ?? "",
                TopGrowthBytes = top?.BytesDelta ?? 0,
                ReferenceTimestamp = reference.Timestamp,
                DifferenceTimestamp = difference.Timestamp,
            };
        }

        private static Dictionary<string, HeapTypeStat> Index(HeapSnapshot s)
        {
            var index = new Dictionary<string, HeapTypeStat>(StringComparer.Ordinal);
            foreach (var t in s.Types)
            {
                if (t.IsFree) continue;
                if (index.TryGetValue(t.TypeName, out var existing))
                    index[t.TypeName] = new HeapTypeStat { TypeName = t.TypeName, Count = existing.Count + t.Count, TotalBytes = existing.TotalBytes + t.TotalBytes };
                else index[t.TypeName] = t;
            }
            return index;
        }
    }
}
