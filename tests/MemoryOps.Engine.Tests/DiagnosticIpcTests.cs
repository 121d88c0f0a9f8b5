using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using MemoryOps.Engine.Processes;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    // One at a time: tests here plant sockets under this very process's PID, which the others look up.
    [Collection("This process's diagnostic sockets")]
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
    
        // ---- The bounded parser: every length is checked against what is left, every failure says which check. ----

        private static byte[] Header(int size, byte commandSet = 0xFF, byte commandId = 0x00, string magic = "DOTNET_IPC_V1\0")
        {
            var b = new List<byte>(Encoding.ASCII.GetBytes(magic));
            b.AddRange(BitConverter.GetBytes((ushort)size));
            b.Add(commandSet);
            b.Add(commandId);
            b.AddRange(new byte[2]);
            return b.ToArray();
        }

        private static List<byte> FixedPart(ulong pid = 42)
        {
            var b = new List<byte>();
            b.AddRange(BitConverter.GetBytes(pid));
            b.AddRange(Guid.NewGuid().ToByteArray());
            return b;
        }

        [Fact]
        public void An_OK_answer_without_payload_is_InvalidData_that_names_the_fixed_part()
        {
            var e = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseProcessInfo2(ReadOnlySpan<byte>.Empty));
            Assert.Contains("0 bytes of payload, fewer than the 24", e.Message);
        }

        [Fact]
        public void A_string_length_of_0x7FFFFFFF_is_InvalidData_not_an_overflow()
        {
            var b = FixedPart();
            b.AddRange(BitConverter.GetBytes(0x7FFFFFFFu));
            var e = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseProcessInfo2(b.ToArray()));
            Assert.Contains("command line string claims 2147483647 UTF-16 units (4294967294 bytes), but only 0 bytes", e.Message);
        }

        [Fact]
        public void A_string_length_of_0xFFFFFFFF_in_a_later_field_is_InvalidData()
        {
            var b = FixedPart();
            WriteString(b, "app");
            b.AddRange(BitConverter.GetBytes(0xFFFFFFFFu));
            b.AddRange(new byte[6]);
            var e = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseProcessInfo2(b.ToArray()));
            Assert.Contains("operating system string claims 4294967295 UTF-16 units", e.Message);
        }

        [Fact]
        public void A_cut_off_length_prefix_is_InvalidData()
        {
            var b = FixedPart();
            b.AddRange(new byte[] { 5, 0 });
            var e = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseProcessInfo2(b.ToArray()));
            Assert.Contains("length prefix is cut off: 2 of its 4 bytes", e.Message);
        }

        [Fact]
        public void A_string_that_fills_the_payload_exactly_is_read_and_one_unit_more_is_refused()
        {
            var exact = FixedPart();
            WriteString(exact, "abc");
            Assert.Equal("abc", DiagnosticIpc.ParseProcessInfo2(exact.ToArray()).CommandLine);

            var over = FixedPart();
            over.AddRange(BitConverter.GetBytes(5u)); // "abc\0" is 4 units; 5 claims one more than is there
            over.AddRange(Encoding.Unicode.GetBytes("abc\0"));
            Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseProcessInfo2(over.ToArray()));
        }

        [Fact]
        public void Header_checks_magic_and_declared_size()
        {
            var magic = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseHeader(Header(20, magic: "NOT_DOTNET_IPC")));
            Assert.Contains("magic", magic.Message);
            var small = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseHeader(Header(12)));
            Assert.Contains("declares a message of 12 bytes, less than the 20-byte header", small.Message);
            var cut = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.ParseHeader(new byte[10]));
            Assert.Contains("10 bytes, fewer than 20", cut.Message);
            var ok = DiagnosticIpc.ParseHeader(Header(0xFFFF));
            Assert.Equal(0xFFFF - 20, ok.PayloadSize); // the largest answer the 16-bit size can declare: the read is capped there
        }

        /// <summary>A real listening socket that answers one connection with <paramref name="answer"/>.</summary>
        private static (string Path, System.Threading.Tasks.Task Served) Listen(Action<System.Net.Sockets.Socket> answer)
        {
            string path = Path.Combine(Path.GetTempPath(), $"memoryops-ipc-{Guid.NewGuid():N}");
            var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            var served = System.Threading.Tasks.Task.Run(() =>
            {
                using (listener)
                using (var connection = listener.Accept())
                {
                    connection.Receive(new byte[20]);
                    try { answer(connection); } catch (System.Net.Sockets.SocketException) { } // the client gave up: expected
                }
            });
            return (path, served);
        }

        [Fact]
        public async System.Threading.Tasks.Task Over_a_socket_an_OK_header_without_payload_is_InvalidData()
        {
            var (path, served) = Listen(c => c.Send(Header(20)));
            var e = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.GetProcessInfo(path, TimeSpan.FromSeconds(3)));
            Assert.Contains("fewer than the 24", e.Message);
            await served.WaitAsync(TimeSpan.FromSeconds(5));
        }

        [Fact]
        public async System.Threading.Tasks.Task Over_a_socket_an_answer_that_ends_early_is_InvalidData()
        {
            var (path, served) = Listen(c => { c.Send(Header(1000)); c.Send(new byte[10]); });
            var e = Assert.Throws<InvalidDataException>(() => DiagnosticIpc.GetProcessInfo(path, TimeSpan.FromSeconds(3)));
            Assert.Contains("ended after 10 of the 980 payload bytes", e.Message);
            await served.WaitAsync(TimeSpan.FromSeconds(5));
        }

        [Fact]
        public async System.Threading.Tasks.Task Over_a_socket_an_error_answer_is_an_unsupported_runtime()
        {
            var (path, served) = Listen(c => { c.Send(Header(24, 0xFF, 0xFF)); c.Send(BitConverter.GetBytes(0x80131384u)); });
            var e = Assert.Throws<NotSupportedException>(() => DiagnosticIpc.GetProcessInfo(path, TimeSpan.FromSeconds(3)));
            Assert.Contains("0x80131384", e.Message);
            await served.WaitAsync(TimeSpan.FromSeconds(5));
        }

        [Fact]
        public async System.Threading.Tasks.Task An_answer_dripped_a_byte_at_a_time_ends_at_the_one_deadline()
        {
            // Every byte arrives well within a per-read timeout; only a deadline for the whole answer stops it.
            var stop = new System.Threading.CancellationTokenSource();
            var (path, served) = Listen(c =>
            {
                c.Send(Header(0xFFFF));
                while (!stop.IsCancellationRequested) { c.Send(new byte[1]); System.Threading.Thread.Sleep(100); }
            });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Throws<TimeoutException>(() => DiagnosticIpc.GetProcessInfo(path, TimeSpan.FromSeconds(1)));
            clock.Stop();
            stop.Cancel();
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 2.5);
            await served.WaitAsync(TimeSpan.FromSeconds(5));
        }
}
}
