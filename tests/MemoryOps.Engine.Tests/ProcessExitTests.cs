using System;
using System.Diagnostics;
using System.IO;
using MemoryOps.Engine.Processes;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>
    /// "Has the target exited?" decides between TargetExited and SessionFailed when a session's stream ends. A killed process
    /// closes its sockets before it becomes a zombie, so a running-looking /proc entry is not proof that it still runs.
    /// </summary>
    public sealed class ProcessExitTests
    {
        [Fact]
        public void A_running_process_is_running_and_does_not_exit_within_a_short_grace()
        {
            using var sleep = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
            try
            {
                Assert.True(ProcessDiscovery.ProcessExists(sleep.Id));
                var clock = Stopwatch.StartNew();
                Assert.False(ProcessDiscovery.ExitsWithin(sleep.Id, TimeSpan.FromMilliseconds(300)));
                Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(300), "the grace is waited in full before saying 'still running'");
            }
            finally { sleep.Kill(); sleep.WaitForExit(); }
        }

        [Fact]
        public void A_process_that_ends_during_the_grace_is_seen_to_exit_even_unreaped()
        {
            // Not reaped by us until after the check: the kernel keeps it as a zombie, which runs no more.
            using var shortLived = Process.Start(new ProcessStartInfo("sleep", "0.3") { UseShellExecute = false })!;
            Assert.True(ProcessDiscovery.ExitsWithin(shortLived.Id, TimeSpan.FromSeconds(30)));
            shortLived.WaitForExit();
        }

        [Fact]
        public void The_stat_line_of_an_exiting_task_or_a_zombie_says_not_running()
        {
            // This process's own stat line, real, then the same line with the kernel's PF_EXITING flag and with state Z.
            string stat = File.ReadAllText("/proc/self/stat");
            Assert.True(ProcessDiscovery.StatSaysRunning(stat));
            int close = stat.LastIndexOf(')');
            var fields = stat.Substring(close + 2).Split(' ');
            ulong flags = ulong.Parse(fields[6]);
            Assert.Equal(0UL, flags & 0x4);

            fields[6] = (flags | 0x4).ToString();
            Assert.False(ProcessDiscovery.StatSaysRunning(stat.Substring(0, close + 2) + string.Join(' ', fields)));

            fields[6] = flags.ToString();
            fields[0] = "Z";
            Assert.False(ProcessDiscovery.StatSaysRunning(stat.Substring(0, close + 2) + string.Join(' ', fields)));
        }

        [Fact]
        public void A_name_with_spaces_and_parentheses_does_not_shift_the_fields()
        {
            string stat = File.ReadAllText("/proc/self/stat");
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            string hostile = stat.Substring(0, open + 1) + "a) Z 1 1 (b" + stat.Substring(close);
            Assert.True(ProcessDiscovery.StatSaysRunning(hostile));
        }
    }
}
