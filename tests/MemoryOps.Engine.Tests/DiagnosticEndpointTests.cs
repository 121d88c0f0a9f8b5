using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MemoryOps.Engine.Processes;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>
    /// The socket checks against this test host (a real .NET process with a real diagnostic socket) and sockets
    /// planted under its PID by a real other process (tests/MemoryOps.Tests/HostileSocket.py). The checks that need
    /// another user (owner) are in HostileSocket.Tests.ps1.
    /// </summary>
    // One at a time: tests here plant sockets under this very process's PID, which the others look up.
    [Collection("This process's diagnostic sockets")]
    public sealed class DiagnosticEndpointTests : IDisposable
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
        private readonly List<string> cleanup = new List<string>();
        private readonly List<Process> listeners = new List<Process>();

        public void Dispose()
        {
            foreach (var p in listeners) { try { p.Kill(); p.WaitForExit(5000); } catch (Exception) { } p.Dispose(); }
            foreach (var f in cleanup) File.Delete(f);
        }

        // The test host's own socket: the one name under this PID that no test planted (they all use keys 9999999999x).
        private static string RealSocket() =>
            ProcessDiscovery.FindSockets(Environment.ProcessId).Single(p => !Path.GetFileName(p).Contains("-9999999999", StringComparison.Ordinal));

        /// <summary>Starts HostileSocket.py as this user, listening under <paramref name="pid"/>'s name with a newer time than any real socket.</summary>
        private (string Path, string Log) Plant(string mode, int pid)
        {
            string script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../MemoryOps.Tests/HostileSocket.py"));
            string log = Path.Combine(Path.GetTempPath(), $"memoryops-hostile-{Guid.NewGuid():N}.log");
            File.WriteAllText(log, "");
            cleanup.Add(log);
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { script, mode, pid.ToString(), "99999999999", log, "future" }) psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            listeners.Add(p);
            string line = p.StandardOutput.ReadLine() ?? "";
            Assert.StartsWith("READY ", line);
            string path = line.Split(' ', 3)[2];
            cleanup.Add(path);
            return (path, log);
        }

        [Fact]
        public void The_process_s_own_socket_passes_and_a_client_works_through_the_pin()
        {
            using var endpoint = DiagnosticEndpoint.Open(Environment.ProcessId, Timeout);
            Assert.Equal(RealSocket(), endpoint.SocketPath);
            Assert.Equal(Environment.ProcessId, endpoint.Info.ProcessId);
            Assert.StartsWith("/proc/self/fd/", endpoint.ConnectPath);
            // A real command through the library, over the pinned path: this process's own environment comes back.
            var environment = endpoint.CreateClient().GetProcessEnvironment();
            Assert.Equal(Environment.GetEnvironmentVariable("PATH"), environment["PATH"]);
        }

        [Fact]
        public void The_socket_status_reads_the_same_through_libc_and_the_bare_system_call()
        {
            // The system call is the fallback where libc has no statx wrapper (older glibc, musl): check it gives the same.
            using var handle = UnixSocketNative.OpenPathNoFollow(RealSocket());
            var viaLibc = UnixSocketNative.Status(handle);
            var viaSyscall = UnixSocketNative.Status(handle, systemCall: true);
            Assert.True(viaLibc.IsSocket);
            Assert.Equal((viaLibc.Mode, viaLibc.Uid, viaLibc.Inode), (viaSyscall.Mode, viaSyscall.Uid, viaSyscall.Inode));
            Assert.Equal(new FileInfo(RealSocket()).UnixFileMode, (UnixFileMode)(viaLibc.Mode & 0xFFF));
            Assert.NotEqual(0UL, viaLibc.Inode);
        }

        [Fact]
        public void A_newer_socket_that_another_process_holds_under_this_PID_is_never_connected_and_is_named_in_a_warning()
        {
            var (planted, log) = Plant("fake", Environment.ProcessId);
            // The hazard is real: by name and time, the planted socket is the one a by-name lookup takes.
            Assert.Equal(planted, ProcessDiscovery.FindSockets(Environment.ProcessId)[0]);

            var warnings = new List<string>();
            using var endpoint = DiagnosticEndpoint.Open(Environment.ProcessId, Timeout, warnings.Add);
            Assert.Equal(RealSocket(), endpoint.SocketPath);
            Assert.NotEqual("FakeService", endpoint.Info.EntryAssemblyName);
            var warning = Assert.Single(warnings);
            Assert.Contains(planted, warning);
            Assert.Contains("the held check failed", warning);
            Assert.Equal("", File.ReadAllText(log)); // the planted listener saw no connection at all
        }

        [Fact]
        public void A_symbolic_link_to_the_real_socket_fails_the_type_check()
        {
            // Its target is a file an hour ahead: the name lookup sorts by the target's time, so the link comes first.
            string decoy = Path.Combine(Path.GetTempPath(), $"memoryops-decoy-{Guid.NewGuid():N}");
            File.WriteAllText(decoy, "");
            File.SetLastWriteTimeUtc(decoy, DateTime.UtcNow.AddHours(1));
            cleanup.Add(decoy);
            string link = Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-99999999998-socket");
            File.CreateSymbolicLink(link, decoy);
            cleanup.Add(link);
            Assert.Equal(link, ProcessDiscovery.FindSockets(Environment.ProcessId)[0]);

            var warnings = new List<string>();
            using var endpoint = DiagnosticEndpoint.Open(Environment.ProcessId, Timeout, warnings.Add);
            Assert.Equal(RealSocket(), endpoint.SocketPath);
            Assert.Contains(warnings, w => w.Contains(link) && w.Contains("the type check failed: it is a symbolic link, not a socket"));
        }

        [Fact]
        public void A_regular_file_under_the_name_fails_the_type_check()
        {
            string file = Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-99999999997-socket");
            File.WriteAllText(file, "not a socket");
            cleanup.Add(file);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(1));

            var warnings = new List<string>();
            using var endpoint = DiagnosticEndpoint.Open(Environment.ProcessId, Timeout, warnings.Add);
            Assert.Equal(RealSocket(), endpoint.SocketPath);
            Assert.Contains(warnings, w => w.Contains(file) && w.Contains("the type check failed: it is a regular file"));
        }

        [Fact]
        public void A_process_whose_only_socket_is_held_by_another_process_is_UntrustedSocket_naming_the_check()
        {
            using var sleep = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
            try
            {
                var (planted, log) = Plant("fake", sleep.Id);
                var e = Assert.Throws<MemoryOpsException>(() => DiagnosticEndpoint.Open(sleep.Id, Timeout));
                Assert.Equal(FailureKind.UntrustedSocket, e.Kind);
                Assert.Contains(planted, e.Message);
                Assert.Contains("the held check failed", e.Message);
                Assert.Equal("", File.ReadAllText(log));

                // The listing leaves it out with a warning and still lists this process.
                var warnings = new List<string>();
                var listed = ProcessDiscovery.List(null, warnings.Add);
                Assert.DoesNotContain(listed, p => p.ProcessId == sleep.Id);
                Assert.Contains(listed, p => p.ProcessId == Environment.ProcessId);
                Assert.Contains(warnings, w => w.Contains($"PID {sleep.Id}") && w.Contains("the held check failed"));
            }
            finally { sleep.Kill(); }
        }

        [Fact]
        public void A_malformed_answer_from_a_process_s_own_socket_skips_only_that_PID()
        {
            // HostileSocket.py listening under its own PID passes every trust check (it is its own process): only the
            // bounded parser stands between its answer and the listing.
            foreach (var mode in new[] { "empty", "huge-string", "bad-magic", "short-size", "truncated" })
            {
                string script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../MemoryOps.Tests/HostileSocket.py"));
                string log = Path.Combine(Path.GetTempPath(), $"memoryops-hostile-{Guid.NewGuid():N}.log");
                File.WriteAllText(log, "");
                cleanup.Add(log);
                var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
                foreach (var a in new[] { script, mode, "self", "1", log }) psi.ArgumentList.Add(a);
                var p = Process.Start(psi)!;
                listeners.Add(p);
                string path = (p.StandardOutput.ReadLine() ?? "").Split(' ', 3)[2];
                cleanup.Add(path);

                var e = Assert.Throws<MemoryOpsException>(() => ProcessDiscovery.Describe(p.Id));
                Assert.Equal(FailureKind.InvalidData, e.Kind);
                Assert.Equal(p.Id, e.Target);
                var warnings = new List<string>();
                var listed = ProcessDiscovery.List(null, warnings.Add);
                Assert.Contains(listed, x => x.ProcessId == Environment.ProcessId);
                Assert.DoesNotContain(listed, x => x.ProcessId == p.Id);
                Assert.Contains(warnings, w => w.Contains($"Skipping PID {p.Id}") && w.Contains("malformed"));
                Assert.NotEqual("", File.ReadAllText(log)); // it was asked: the parser, not a trust check, refused it
            }
        }
    }
}
