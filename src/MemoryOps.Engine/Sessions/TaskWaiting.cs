using System;
using System.Threading.Tasks;

namespace MemoryOps.Engine.Sessions
{
    internal static class TaskWaiting
    {
        /// <summary>
        /// Waits for a task to end, however it ends: true when it ended within the timeout. Task.Wait throws an
        /// AggregateException for a faulted task, which would skip the caller's own, more specific handling of
        /// <see cref="Task.IsFaulted"/> (a target that exited, a stale socket).
        /// </summary>
        public static bool WaitToEnd(this Task task, TimeSpan timeout)
        {
            try { return task.Wait(timeout); }
            catch (AggregateException) { return true; }
        }
    }
}
