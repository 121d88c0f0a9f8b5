using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace MemoryOps.Engine.Sessions
{
    /// <summary>What a collector hands the consuming (pipeline) thread: a result, a warning, or a failure of one worker.</summary>
    internal readonly struct CollectorItem<T>
    {
        public T? Value { get; }
        public string? Warning { get; }
        public Exception? Error { get; }
        public int WorkerKey { get; }
        /// <summary>A timer tick with nothing in it: lets the consumer check its own stop conditions.</summary>
        public bool IsTick => Value == null && Warning == null && Error == null;

        public CollectorItem(int key, T? value, string? warning, Exception? error)
        {
            WorkerKey = key; Value = value; Warning = warning; Error = error;
        }
    }

    /// <summary>
    /// Runs one blocking collection per target (one EventPipe session each) on its own thread and
    /// funnels what they produce to a single consumer, because PowerShell allows WriteObject only on the
    /// pipeline thread. Cancelling (Ctrl+C, Select-Object -First, a duration) stops every session;
    /// Dispose waits for the worker threads, so none outlives the command.
    /// </summary>
    internal sealed class ParallelCollector<T> : IDisposable where T : class
    {
        private readonly BlockingCollection<CollectorItem<T>> queue = new BlockingCollection<CollectorItem<T>>();
        private readonly CancellationTokenSource cancel;
        private readonly List<Thread> threads = new List<Thread>();
        private readonly Dictionary<int, CancellationTokenSource> perWorker = new Dictionary<int, CancellationTokenSource>();
        // Starts at 1: the "still adding workers" hold, released by Consume. Without it a worker that
        // fails at once could complete the queue before the next worker has even started.
        private int running = 1;
        private int sealedFlag;

        public ParallelCollector(CancellationToken outer)
        {
            cancel = CancellationTokenSource.CreateLinkedTokenSource(outer);
        }

        /// <summary>Starts a worker. It gets a sink for values, one for warnings, and a token that fires on <see cref="StopWorker"/> or <see cref="StopAll"/>.</summary>
        public void Start(int key, Action<Action<T>, Action<string>, CancellationToken> work)
        {
            if (Volatile.Read(ref sealedFlag) != 0) throw new InvalidOperationException("Start every worker before consuming.");
            var workerCancel = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
            lock (perWorker) perWorker[key] = workerCancel;
            Interlocked.Increment(ref running);
            var thread = new Thread(() =>
            {
                try
                {
                    work(v => queue.Add(new CollectorItem<T>(key, v, null, null)),
                         w => queue.Add(new CollectorItem<T>(key, null, w, null)),
                         workerCancel.Token);
                }
                catch (Exception e)
                {
                    if (!workerCancel.IsCancellationRequested || !(e is OperationCanceledException))
                        queue.Add(new CollectorItem<T>(key, null, null, e));
                }
                finally
                {
                    Release();
                }
            })
            { IsBackground = true, Name = $"MemoryOps collector {key}" };
            threads.Add(thread);
            thread.Start();
        }

        /// <summary>Yields items until every worker has finished; yields a tick every <paramref name="tick"/> so the caller can stop on time.</summary>
        public IEnumerable<CollectorItem<T>> Consume(TimeSpan tick)
        {
            if (Interlocked.Exchange(ref sealedFlag, 1) == 0) Release();
            while (!queue.IsCompleted)
            {
                CollectorItem<T> item;
                bool got;
                try { got = queue.TryTake(out item, tick); }
                catch (InvalidOperationException) { yield break; } // completed while waiting
                yield return got ? item : default;
            }
        }

        private void Release()
        {
            if (Interlocked.Decrement(ref running) == 0) queue.CompleteAdding();
        }

        /// <summary>Items produced but not yet consumed.</summary>
        public int Pending => queue.Count;

        public void StopWorker(int key)
        {
            lock (perWorker)
                if (perWorker.TryGetValue(key, out var c)) c.Cancel();
        }

        public void StopAll() => cancel.Cancel();

        public void Dispose()
        {
            cancel.Cancel();
            foreach (var t in threads) t.Join(TimeSpan.FromSeconds(10));
            lock (perWorker)
                foreach (var c in perWorker.Values) c.Dispose();
            cancel.Dispose();
        }
    }
}
