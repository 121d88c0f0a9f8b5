using System;
using System.Linq;
using System.Threading;
using MemoryOps.Engine.Sessions;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class ParallelCollectorTests
    {
        [Fact]
        public void Funnels_values_and_errors_from_all_workers_and_completes()
        {
            using var c = new ParallelCollector<string>(CancellationToken.None);
            c.Start(1, (emit, warn, token) => { emit("a"); emit("b"); });
            c.Start(2, (emit, warn, token) => { warn("careful"); throw new InvalidOperationException("boom"); });
            var items = c.Consume(TimeSpan.FromMilliseconds(50)).Where(i => !i.IsTick).ToList();
            Assert.Equal(new[] { "a", "b" }, items.Where(i => i.Value != null).Select(i => i.Value));
            Assert.Equal("careful", items.Single(i => i.Warning != null).Warning);
            var error = items.Single(i => i.Error != null);
            Assert.Equal(2, error.WorkerKey);
            Assert.IsType<InvalidOperationException>(error.Error);
        }

        [Fact]
        public void Outer_cancellation_stops_blocked_workers()
        {
            using var outer = new CancellationTokenSource();
            var c = new ParallelCollector<string>(outer.Token);
            c.Start(1, (emit, warn, token) => token.WaitHandle.WaitOne());
            c.Start(2, (emit, warn, token) => token.WaitHandle.WaitOne());
            outer.CancelAfter(200);
            var items = c.Consume(TimeSpan.FromMilliseconds(50)).ToList();
            Assert.All(items, i => Assert.True(i.IsTick));
            c.Dispose();
        }

        [Fact]
        public void StopWorker_stops_only_that_worker()
        {
            using var c = new ParallelCollector<string>(CancellationToken.None);
            var stopped2 = new ManualResetEventSlim();
            c.Start(1, (emit, warn, token) => { token.WaitHandle.WaitOne(); emit("1 stopped"); });
            c.Start(2, (emit, warn, token) => { stopped2.Wait(TimeSpan.FromSeconds(5)); emit("2 done"); });
            c.StopWorker(1);
            var first = c.Consume(TimeSpan.FromMilliseconds(50)).First(i => !i.IsTick);
            Assert.Equal("1 stopped", first.Value);
            stopped2.Set();
        }
    }
}
