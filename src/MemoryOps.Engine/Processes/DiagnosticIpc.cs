using System;
using System.Buffers.Binary;
using System.IO;
using System.Net.Sockets;
using System.Text;
using MemoryOps.Engine.Sessions;

namespace MemoryOps.Engine.Processes
{
    /// <summary>The fields of the diagnostics IPC "ProcessInfo2" answer.</summary>
    public sealed class RuntimeProcessInfo
    {
        public long ProcessId { get; set; }
        public Guid RuntimeCookie { get; set; }
        public string CommandLine { get; set; } = "";
        public string OperatingSystem { get; set; } = "";
        public string Architecture { get; set; } = "";
        public string EntryAssemblyName { get; set; } = "";
        public string ClrProductVersion { get; set; } = "";
    }

    /// <summary>
    /// A minimal client for one command of the .NET diagnostics IPC protocol: Process/ProcessInfo2.
    /// Written here because Microsoft.Diagnostics.NETCore.Client 0.2.750501 keeps its GetProcessInfo
    /// internal, and the answer (runtime version, entry assembly, command line) is what
    /// Get-DotNetProcess needs. The same connection also proves the runtime behind a socket is alive,
    /// which is how stale sockets of dead processes (or a reused PID) are told apart.
    /// Protocol: https://github.com/dotnet/diagnostics/blob/main/documentation/design-docs/ipc-protocol.md
    /// </summary>
    public static class DiagnosticIpc
    {
        private static readonly byte[] Magic = Encoding.ASCII.GetBytes("DOTNET_IPC_V1\0");
        private const int HeaderSize = 20;
        private const byte ProcessCommandSet = 0x04;
        private const byte ProcessInfo2CommandId = 0x04;
        private const byte ServerCommandSet = 0xFF;
        private const byte ServerOk = 0x00;

        public static RuntimeProcessInfo GetProcessInfo(string socketPath, TimeSpan timeout)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.SendTimeout = socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            var connect = socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            // Callers tell a stale socket (connection refused) apart by the SocketException itself, so it is rethrown bare.
            if (!connect.WaitToEnd(timeout)) throw new TimeoutException($"No answer from the diagnostic socket {socketPath} within {timeout.TotalSeconds:0.#} s.");
            if (connect.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(connect.Exception!.GetBaseException()).Throw();

            var request = new byte[HeaderSize];
            Magic.CopyTo(request, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(14), HeaderSize);
            request[16] = ProcessCommandSet;
            request[17] = ProcessInfo2CommandId;
            socket.Send(request);

            byte[] header;
            try { header = ReceiveExactly(socket, HeaderSize); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
            {
                throw new TimeoutException($"No answer from the diagnostic socket {socketPath} within {timeout.TotalSeconds:0.#} s.", e);
            }
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14));
            if (size < HeaderSize) throw new InvalidDataException("Malformed diagnostics IPC header.");
            var payload = ReceiveExactly(socket, size - HeaderSize);
            if (header[16] != ServerCommandSet || header[17] != ServerOk)
            {
                uint hr = payload.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : 0;
                throw new InvalidDataException($"The runtime refused ProcessInfo2 (error 0x{hr:X8}).");
            }
            return ParseProcessInfo2(payload);
        }

        /// <summary>Parses the ProcessInfo2 payload; public for tests.</summary>
        public static RuntimeProcessInfo ParseProcessInfo2(ReadOnlySpan<byte> payload)
        {
            int offset = 0;
            var info = new RuntimeProcessInfo
            {
                ProcessId = (long)BinaryPrimitives.ReadUInt64LittleEndian(payload.Slice(offset, 8)),
            };
            offset += 8;
            info.RuntimeCookie = new Guid(payload.Slice(offset, 16));
            offset += 16;
            info.CommandLine = ReadString(payload, ref offset);
            info.OperatingSystem = ReadString(payload, ref offset);
            info.Architecture = ReadString(payload, ref offset);
            info.EntryAssemblyName = ReadString(payload, ref offset);
            info.ClrProductVersion = ReadString(payload, ref offset);
            return info;
        }

        // IPC strings: uint32 length in UTF-16 code units including the terminating NUL, then the units.
        private static string ReadString(ReadOnlySpan<byte> payload, ref int offset)
        {
            if (offset + 4 > payload.Length) return "";
            uint chars = BinaryPrimitives.ReadUInt32LittleEndian(payload.Slice(offset, 4));
            offset += 4;
            if (chars == 0) return "";
            int bytes = checked((int)chars * 2);
            if (offset + bytes > payload.Length) throw new InvalidDataException("Truncated string in diagnostics IPC payload.");
            string s = Encoding.Unicode.GetString(payload.Slice(offset, bytes - 2));
            offset += bytes;
            return s;
        }

        private static byte[] ReceiveExactly(Socket socket, int count)
        {
            var buffer = new byte[count];
            int read = 0;
            while (read < count)
            {
                int n = socket.Receive(buffer, read, count - read, SocketFlags.None);
                if (n == 0) throw new EndOfStreamException("The diagnostic socket closed before the answer was complete.");
                read += n;
            }
            return buffer;
        }
    }
}
