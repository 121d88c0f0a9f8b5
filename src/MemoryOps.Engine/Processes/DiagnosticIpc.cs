using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Text;
using MemoryOps.Engine.Sessions;

namespace MemoryOps.Engine.Processes
{
    /// <summary>The fields of the diagnostics IPC "ProcessInfo2" answer.</summary>
    internal sealed class RuntimeProcessInfo
    {
        public long ProcessId { get; set; }
        public Guid RuntimeCookie { get; set; }
        public string CommandLine { get; set; } = "";
        public string OperatingSystem { get; set; } = "";
        public string Architecture { get; set; } = "";
        public string EntryAssemblyName { get; set; } = "";
        public string ClrProductVersion { get; set; } = "";
    }

    /// <summary>The three things a diagnostics IPC header says about the message behind it.</summary>
    internal readonly struct IpcHeader
    {
        public IpcHeader(byte commandSet, byte commandId, int payloadSize)
        {
            CommandSet = commandSet; CommandId = commandId; PayloadSize = payloadSize;
        }

        public byte CommandSet { get; }
        public byte CommandId { get; }
        public int PayloadSize { get; }
    }

    /// <summary>
    /// A minimal client for one command of the .NET diagnostics IPC protocol: Process/ProcessInfo2.
    /// Written here because Microsoft.Diagnostics.NETCore.Client 0.2.750501 keeps its GetProcessInfo
    /// internal, and the answer (runtime version, entry assembly, command line) is what
    /// Get-DotNetProcess needs. The same connection also proves the runtime behind a socket is alive,
    /// which is how stale sockets of dead processes (or a reused PID) are told apart.
    /// <para>
    /// Whoever listens on the socket writes the answer, so every byte of it is checked before it is used:
    /// the header's magic and size, each string's length prefix against the bytes that are left, the total
    /// size (the header's size field is 16 bits: no answer is read past 64 KiB, whatever it claims) and the
    /// total time (one deadline for the whole answer, so an answer dripped a byte at a time cannot hold a caller).
    /// Anything else is an <see cref="InvalidDataException"/> that says which check failed.
    /// </para>
    /// Protocol: https://github.com/dotnet/diagnostics/blob/main/documentation/design-docs/ipc-protocol.md
    /// </summary>
    internal static class DiagnosticIpc
    {
        private static readonly byte[] Magic = Encoding.ASCII.GetBytes("DOTNET_IPC_V1\0");
        public const int HeaderSize = 20;
        // ProcessInfo2's fixed part: uint64 PID, then the 16-byte runtime cookie.
        private const int ProcessInfoFixedSize = 8 + 16;
        private const byte ProcessCommandSet = 0x04;
        private const byte ProcessInfo2CommandId = 0x04;
        private const byte ServerCommandSet = 0xFF;
        private const byte ServerOk = 0x00;
        private const byte ServerError = 0xFF;

        /// <summary>Connects to <paramref name="socketPath"/> and asks ProcessInfo2. The path is not verified here: see <see cref="DiagnosticEndpoint"/>.</summary>
        public static RuntimeProcessInfo GetProcessInfo(string socketPath, TimeSpan timeout)
        {
            using var socket = Connect(socketPath, timeout);
            return GetProcessInfo(socket, socketPath, timeout);
        }

        /// <summary>A connected Unix stream socket, or the bare SocketException (callers tell a stale socket by ConnectionRefused).</summary>
        public static Socket Connect(string socketPath, TimeSpan timeout)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.SendTimeout = socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
                var connect = socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
                if (!connect.WaitToEnd(timeout)) throw new TimeoutException($"No answer from the diagnostic socket {socketPath} within {timeout.TotalSeconds:0.#} s.");
                if (connect.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(connect.Exception!.GetBaseException()).Throw();
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>Asks ProcessInfo2 over an open connection; <paramref name="socketName"/> is only for messages.</summary>
        public static RuntimeProcessInfo GetProcessInfo(Socket socket, string socketName, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            var request = new byte[HeaderSize];
            Magic.CopyTo(request, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(14), HeaderSize);
            request[16] = ProcessCommandSet;
            request[17] = ProcessInfo2CommandId;
            socket.Send(request);

            var header = ParseHeader(ReceiveExactly(socket, HeaderSize, deadline, timeout, socketName, "header"));
            var payload = ReceiveExactly(socket, header.PayloadSize, deadline, timeout, socketName, "payload");
            if (header.CommandSet == ServerCommandSet && header.CommandId == ServerError)
            {
                if (payload.Length < 4)
                    throw new InvalidDataException($"The error answer has {payload.Length} bytes of payload, fewer than the 4 of its error code.");
                uint hr = BinaryPrimitives.ReadUInt32LittleEndian(payload);
                // Runtimes before .NET 5 do not know ProcessInfo2.
                throw new NotSupportedException($"The runtime refused ProcessInfo2 (error 0x{hr:X8}): it is older than .NET 5.");
            }
            if (header.CommandSet != ServerCommandSet || header.CommandId != ServerOk)
                throw new InvalidDataException($"The answer's command set/id is 0x{header.CommandSet:X2}/0x{header.CommandId:X2}, not the server's OK (0xFF/0x00) or error (0xFF/0xFF).");
            return ParseProcessInfo2(payload);
        }

        /// <summary>Checks a 20-byte answer header: magic, and a size that covers the header and no more than the protocol allows.</summary>
        public static IpcHeader ParseHeader(ReadOnlySpan<byte> header)
        {
            if (header.Length < HeaderSize)
                throw new InvalidDataException($"The answer header has {header.Length} bytes, fewer than {HeaderSize}.");
            if (!header.Slice(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException($"The answer header does not start with the magic \"DOTNET_IPC_V1\" (it starts with 0x{Convert.ToHexString(header.Slice(0, 8))}).");
            int size = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(14));
            if (size < HeaderSize)
                throw new InvalidDataException($"The answer header declares a message of {size} bytes, less than the {HeaderSize}-byte header itself.");
            return new IpcHeader(header[16], header[17], size - HeaderSize);
        }

        /// <summary>Parses the ProcessInfo2 payload, checking every length against the bytes that are left; public for tests.</summary>
        public static RuntimeProcessInfo ParseProcessInfo2(ReadOnlySpan<byte> payload)
        {
            if (payload.Length < ProcessInfoFixedSize)
                throw new InvalidDataException($"The ProcessInfo2 answer has {payload.Length} bytes of payload, fewer than the {ProcessInfoFixedSize} of its fixed part (PID and runtime cookie).");
            int offset = 0;
            var info = new RuntimeProcessInfo
            {
                ProcessId = (long)BinaryPrimitives.ReadUInt64LittleEndian(payload.Slice(offset, 8)),
            };
            offset += 8;
            info.RuntimeCookie = new Guid(payload.Slice(offset, 16));
            offset += 16;
            info.CommandLine = ReadString(payload, ref offset, "command line");
            info.OperatingSystem = ReadString(payload, ref offset, "operating system");
            info.Architecture = ReadString(payload, ref offset, "architecture");
            info.EntryAssemblyName = ReadString(payload, ref offset, "entry assembly");
            info.ClrProductVersion = ReadString(payload, ref offset, "runtime version");
            return info;
        }

        // IPC strings: uint32 length in UTF-16 code units including the terminating NUL, then the units.
        // A payload that ends exactly before a string is an older runtime without that field: it reads as empty.
        private static string ReadString(ReadOnlySpan<byte> payload, ref int offset, string field)
        {
            int left = payload.Length - offset;
            if (left == 0) return "";
            if (left < 4)
                throw new InvalidDataException($"The {field} string's length prefix is cut off: {left} of its 4 bytes are left.");
            uint units = BinaryPrimitives.ReadUInt32LittleEndian(payload.Slice(offset, 4));
            offset += 4;
            left -= 4;
            long bytes = (long)units * 2; // long: 0x7FFFFFFF units must not overflow into a small number
            if (bytes > left)
                throw new InvalidDataException($"The {field} string claims {units} UTF-16 units ({bytes} bytes), but only {left} bytes of the answer are left.");
            if (units == 0) return "";
            var text = payload.Slice(offset, (int)bytes);
            offset += (int)bytes;
            if (text[^1] == 0 && text[^2] == 0) text = text.Slice(0, text.Length - 2); // the terminating NUL
            return Encoding.Unicode.GetString(text);
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes before the one deadline of the whole answer.</summary>
        private static byte[] ReceiveExactly(Socket socket, int count, Stopwatch clock, TimeSpan timeout, string socketName, string part)
        {
            var buffer = new byte[count];
            int read = 0;
            while (read < count)
            {
                var left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero) throw NoAnswer(socketName, timeout, null);
                socket.ReceiveTimeout = Math.Max(1, (int)Math.Ceiling(left.TotalMilliseconds));
                int n;
                try { n = socket.Receive(buffer, read, count - read, SocketFlags.None); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
                {
                    throw NoAnswer(socketName, timeout, e);
                }
                if (n == 0)
                {
                    if (part == "header" && read == 0) throw new EndOfStreamException($"{socketName} closed the connection without answering.");
                    throw new InvalidDataException($"The answer ended after {read} of the {count} {part} bytes" + (part == "payload" ? " its header declares." : "."));
                }
                read += n;
            }
            return buffer;
        }

        private static TimeoutException NoAnswer(string socketName, TimeSpan timeout, Exception? inner) =>
            new TimeoutException($"No complete answer from the diagnostic socket {socketName} within {timeout.TotalSeconds:0.#} s.", inner);
    }
}
