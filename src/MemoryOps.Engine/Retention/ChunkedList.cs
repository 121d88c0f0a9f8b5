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
        private readonly List<T[]?> chunks = new List<T[]?>();
        private long count;

        public long Count => count;

        public void Add(T item)
        {
            int c = (int)(count >> Shift);
            if (c == chunks.Count) chunks.Add(new T[ChunkSize]);
            chunks[c]![count & Mask] = item;
            count++;
        }

        public T this[long index]
        {
            get => chunks[(int)(index >> Shift)]![index & Mask];
            set => chunks[(int)(index >> Shift)]![index & Mask] = value;
        }

        /// <summary>Copies into one right-sized array, dropping each chunk once copied (peak: the array plus one chunk).</summary>
        public T[] MoveToArray()
        {
            var all = new T[count];
            for (int c = 0; c < chunks.Count; c++)
            {
                long start = (long)c << Shift;
                int n = (int)Math.Min(ChunkSize, count - start);
                if (n > 0) Array.Copy(chunks[c]!, 0, all, start, n);
                chunks[c] = null;
            }
            chunks.Clear();
            count = 0;
            return all;
        }

        /// <summary>The chunk holding <paramref name="index"/>, to release it after a sequential pass.</summary>
        public void Release(int chunk) => chunks[chunk] = null;
        public int ChunkCount => chunks.Count;

        /// <summary>Hands the chunks over (no copy); the list is empty afterwards.</summary>
        public T[][] TakeChunks()
        {
            var all = new T[chunks.Count][];
            for (int c = 0; c < all.Length; c++) all[c] = chunks[c] ?? Array.Empty<T>();
            chunks.Clear();
            count = 0;
            return all;
        }
    }
}
