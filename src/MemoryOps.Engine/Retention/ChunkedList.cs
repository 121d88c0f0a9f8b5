using System;
using System.Collections.Generic;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// An append-only list in fixed 1 Mi-element chunks: growing never copies, so a list of n items costs
    /// n items plus one partly filled chunk (a List&lt;T&gt; costs up to 3n while it doubles).
    /// </summary>
    internal sealed class ChunkedList<T> where T : struct
    {
        internal const int Shift = 20;
        internal const int ChunkSize = 1 << Shift;
        internal const int Mask = ChunkSize - 1;
        private readonly List<T[]> chunks = new List<T[]>();
        private long count;

        public long Count => count;

        public void Add(T item)
        {
            int c = (int)(count >> Shift);
            if (c == chunks.Count) chunks.Add(new T[ChunkSize]);
            chunks[c][count & Mask] = item;
            count++;
        }

        public T this[long index]
        {
            get => chunks[(int)(index >> Shift)][index & Mask];
            set => chunks[(int)(index >> Shift)][index & Mask] = value;
        }

        /// <summary>Hands the chunks over (no copy); the list is empty afterwards.</summary>
        public T[][] TakeChunks()
        {
            var all = new T[chunks.Count][];
            for (int c = 0; c < all.Length; c++) all[c] = chunks[c];
            chunks.Clear();
            count = 0;
            return all;
        }
    }
}
