namespace MemoryOps.Engine.Heap
{
    /// <summary>How a root keeps an object alive.</summary>
    public enum HeapRootKind { Other, StaticField, Stack, StrongHandle, PinnedHandle, WeakHandle, FinalizerQueue }

    /// <summary>
    /// Receives the object graph while a heap is walked, for analyses that need more than per-type sums
    /// (retention paths, retained size). Both snapshot routes call it only when one is given, so the plain
    /// per-type snapshot stays as fast and small as without it. Calls come from one thread at a time.
    /// </summary>
    public interface IHeapGraphSink
    {
        /// <summary>An object: its address, its type (an id resolved later by <see cref="OnTypeName"/>), its size.</summary>
        void OnNode(ulong address, ulong typeId, long size);

        /// <summary>A reference from one object to another.</summary>
        void OnEdge(ulong from, ulong to);

        /// <summary>A root holding an object; <paramref name="name"/> is the static field ("Type.field") where the source says.</summary>
        void OnRoot(ulong address, HeapRootKind kind, string? name);

        /// <summary>The canonical name of a type id used in <see cref="OnNode"/>, once per id, after the walk.</summary>
        void OnTypeName(ulong typeId, string name);
    }
}
