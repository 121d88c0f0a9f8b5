using System;
using System.Collections.Generic;
using System.Linq;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// Accumulates (type, size) pairs into per-type rows keyed by a cheap source id (a method table
    /// or a BulkType type id), resolving and canonicalizing names only once per type at the end: memory
    /// follows the number of types, not the number of objects.
    /// </summary>
    internal sealed class HeapStatsBuilder
    {
        private readonly Dictionary<ulong, (long Count, long Bytes)> byId = new Dictionary<ulong, (long, long)>();

        public void Add(ulong typeId, long size)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(byId, typeId, out _);
            entry.Count++;
            entry.Bytes += size;
        }

        public void Merge(HeapStatsBuilder other)
        {
            foreach (var kv in other.byId)
            {
                ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(byId, kv.Key, out _);
                entry.Count += kv.Value.Count;
                entry.Bytes += kv.Value.Bytes;
            }
        }

        public IEnumerable<ulong> TypeIds => byId.Keys;

        /// <summary>Fills the snapshot's Types, TotalBytes, ObjectCount and FreeBytes. Ids with the same canonical name are merged.</summary>
        public void Complete(HeapSnapshot snapshot, Func<ulong, string> nameOf, Func<string, bool> isFree)
        {
            var rows = new Dictionary<string, HeapTypeStat>(StringComparer.Ordinal);
            foreach (var kv in byId)
            {
                string name = TypeNameCanonicalizer.Canonicalize(nameOf(kv.Key));
                if (!rows.TryGetValue(name, out var row))
                {
                    row = new HeapTypeStat { TypeName = name, IsFree = isFree(name) };
                    rows[name] = row;
                }
                row.Count += kv.Value.Count;
                row.TotalBytes += kv.Value.Bytes;
            }
            snapshot.Types = rows.Values.OrderByDescending(r => r.TotalBytes).ThenBy(r => r.TypeName, StringComparer.Ordinal).ToList();
            snapshot.ObjectCount = snapshot.Types.Where(t => !t.IsFree).Sum(t => t.Count);
            snapshot.TotalBytes = snapshot.Types.Where(t => !t.IsFree).Sum(t => t.TotalBytes);
            snapshot.FreeBytes = snapshot.Types.Where(t => t.IsFree).Sum(t => t.TotalBytes);
        }
    }
}
