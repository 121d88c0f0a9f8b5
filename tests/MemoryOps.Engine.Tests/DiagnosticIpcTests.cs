using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using MemoryOps.Engine.Processes;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class DiagnosticIpcTests
    {
        private static void WriteString(List<byte> b, string s)
        {
            if (s.Length == 0) { b.AddRange(BitConverter.GetBytes(0u)); return; }
            b.AddRange(BitConverter.GetBytes((uint)(s.Length + 1)));
            b.AddRange(Encoding.Unicode.GetBytes(s + "\0"));
        }

        [Fact]
        public void Parses_a_ProcessInfo2_payload()
        {
            var cookie = Guid.NewGuid();
            var b = new List<byte>();
            b.AddRange(BitConverter.GetBytes(4242UL));
            b.AddRange(cookie.ToByteArray());
            WriteString(b, "/app/OrderService --urls http://+:80");
            WriteString(b, "Linux");
            WriteString(b, "x64");
            WriteString(b, "OrderService");
            WriteString(b, "10.0.12+95017c711e");
            var info = DiagnosticIpc.ParseProcessInfo2(b.ToArray());
            Assert.Equal(4242, info.ProcessId);
            Assert.Equal(cookie, info.RuntimeCookie);
            Assert.Equal("/app/OrderService --urls http://+:80", info.CommandLine);
            Assert.Equal("Linux", info.OperatingSystem);
            Assert.Equal("x64", info.Architecture);
            Assert.Equal("OrderService", info.EntryAssemblyName);
            Assert.Equal("10.0.12", ProcessDiscovery.ShortVersion(info.ClrProductVersion));
        }

        [Fact]
        public void Rejects_a_truncated_string()
        {
            var b = new List<byte>();
            b.AddRange(BitConverter.GetBytes(1UL));
            b.AddRange(Guid.Empty.ToByteArray());
            b.AddRange(BitConverter.GetBytes(100u)); // claims 100 chars, has none
            Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseProcessInfo2(b.ToArray()));
        }

        [Fact]
        public void Missing_trailing_fields_of_an_older_runtime_read_as_empty()
        {
            var b = new List<byte>();
            b.AddRange(BitConverter.GetBytes(7UL));
            b.AddRange(Guid.Empty.ToByteArray());
            WriteString(b, "app");
            var info = DiagnosticIpc.ParseProcessInfo2(b.ToArray());
            Assert.Equal("app", info.CommandLine);
            Assert.Equal("", info.ClrProductVersion);
        }

        [Fact]
        public void A_real_process_answers_ProcessInfo2_about_itself()
        {
            // This test host is a .NET process with a diagnostic socket: ask it, and compare with what we know.
            int pid = Environment.ProcessId;
            var sockets = ProcessDiscovery.FindSockets(pid);
            Assert.NotEmpty(sockets);
            var info = DiagnosticIpc.GetProcessInfo(sockets[0], TimeSpan.FromSeconds(5));
            Assert.Equal(pid, info.ProcessId);
            Assert.Equal(Environment.Version.ToString(), ProcessDiscovery.ShortVersion(info.ClrProductVersion));
        }

        /// <summary>
        /// A socket file nobody listens on, as a process killed with SIGKILL leaves it. .NET unlinks a bound
        /// Unix socket's file on Dispose, so the file is renamed away from the bound path first.
        /// </summary>
        internal static string MakeStaleSocket(string path)
        {
            string bound = Path.Combine(Path.GetTempPath(), $"memoryops-bind-{Guid.NewGuid():N}");
            using (var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
            {
                listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(bound));
                File.Move(bound, path);
            }
            return path;
        }

        [Fact]
        public void A_stale_socket_fails_with_the_bare_SocketException_callers_filter_on()
        {
            string stale = MakeStaleSocket(Path.Combine(Path.GetTempPath(), $"memoryops-stale-{Guid.NewGuid():N}"));
            try
            {
                var e = Assert.Throws<System.Net.Sockets.SocketException>(() => DiagnosticIpc.GetProcessInfo(stale, TimeSpan.FromSeconds(3)));
                Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, e.SocketErrorCode);
            }
            finally { File.Delete(stale); }
        }

        [Fact]
        public void A_live_process_with_only_a_stale_socket_is_not_a_dotnet_process_and_does_not_break_the_list()
        {
            // PID reuse: a live non-.NET process now holds the PID in a socket name a dead .NET process left.
            using var sleep = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
            string stale = MakeStaleSocket(Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{sleep.Id}-12345-socket"));
            try
            {
                var e = Assert.Throws<MemoryOpsException>(() => ProcessDiscovery.Describe(sleep.Id));
                Assert.Equal(FailureKind.NotDotNetProcess, e.Kind);
                var listed = ProcessDiscovery.List();
                Assert.DoesNotContain(listed, p => p.ProcessId == sleep.Id);
                Assert.Contains(listed, p => p.ProcessId == Environment.ProcessId);
            }
            finally
            {
                File.Delete(stale);
                sleep.Kill();
            }
        }
    }
}
