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
    }
}
