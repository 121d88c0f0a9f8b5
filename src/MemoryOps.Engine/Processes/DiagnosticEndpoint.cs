using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Win32.SafeHandles;

namespace MemoryOps.Engine.Processes
{
    /// <summary>
    /// The diagnostic socket of one process, checked and held open, through which every connection of the module
    /// goes (Get-DotNetProcess's ProcessInfo, counter/GC-event/heap sessions, dumps).
    /// <para>
    /// Why: the runtime's socket is found by name (<c>$TMPDIR/dotnet-diagnostic-&lt;pid&gt;-&lt;key&gt;-socket</c>), and
    /// <c>/tmp</c> is writable by every user. Anyone can plant a newer socket under the PID of root's process; the
    /// client library's <c>new DiagnosticsClient(pid)</c> takes the newest name, so root's sessions would go to the
    /// planter (a well-formed fake trace feeds false numbers into root's verdicts; a dump request tells it where
    /// root writes). So a socket is used only when, in this order:
    /// <list type="number">
    /// <item>type: opened with O_PATH|O_NOFOLLOW (nothing is connected or read), it is a socket, not a link or a file;</item>
    /// <item>owner: it belongs to the user the process runs as (another user can plant a file, not chown it);</item>
    /// <item>held: the socket inode that <c>/proc/&lt;pid&gt;/net/unix</c> lists as listening under that name is one the
    /// process itself holds open (<c>/proc/&lt;pid&gt;/fd/* -> socket:[inode]</c>);</item>
    /// <item>peer: once connected, SO_PEERCRED names the process as the listener (same PID and user);</item>
    /// </list>
    /// and the ProcessInfo2 answer passes <see cref="DiagnosticIpc"/>'s bounds checks. The first three never connect,
    /// so a planted listener never even sees a connection.
    /// </para>
    /// <para>
    /// No race between check and use: the socket file stays open (O_PATH) for the endpoint's life, and every connection,
    /// ours and the client library's, goes to <c>/proc/self/fd/N</c>, which the kernel resolves to that very inode, not
    /// to whatever the path names by then. A socket inode belongs to one listening socket for good (a new bind makes a
    /// new inode), so once the peer check has seen the process behind it, later connections reach the same listener.
    /// The library's public <see cref="DiagnosticsClientConnector.FromDiagnosticPort"/> takes such a path
    /// ("path,connect"); its <c>DiagnosticsClient(pid)</c> constructor would pick its own socket by name, so it is never used.
    /// What stays: the process's own user can hand its listening socket to another of its processes, which is no
    /// more than that user can do to its own process anyway.
    /// </para>
    /// </summary>
    internal sealed class DiagnosticEndpoint : IDisposable
    {
        private const int MaxNamedRejections = 3;
        private readonly SafeFileHandle pin;

        public int ProcessId { get; }
        /// <summary>The socket's path in the temp folder (for messages and for <see cref="DotNetProcessInfo.DiagnosticSocket"/>).</summary>
        public string SocketPath { get; }
        /// <summary>The ProcessInfo2 answer the process gave through the checked socket.</summary>
        public RuntimeProcessInfo Info { get; }
        /// <summary>The path every connection uses: the pinned inode, whatever <see cref="SocketPath"/> names now.</summary>
        public string ConnectPath => UnixSocketNative.ProcSelfPath(pin);

        private DiagnosticEndpoint(int pid, string socketPath, SafeFileHandle pin, RuntimeProcessInfo info)
        {
            ProcessId = pid;
            SocketPath = socketPath;
            this.pin = pin;
            Info = info;
        }

        /// <summary>A client bound to the checked socket. It must not outlive this endpoint (its connections go through the pin).</summary>
        public DiagnosticsClient CreateClient()
        {
            // A "connect" port never waits for anything: the connector is complete when it returns and owns no server to dispose.
            var connector = DiagnosticsClientConnector.FromDiagnosticPort(ConnectPath + ",connect", CancellationToken.None).GetAwaiter().GetResult();
            return connector.Instance;
        }

        public void Dispose() => pin.Dispose();

        /// <summary>
        /// Finds, checks and opens the diagnostic socket of <paramref name="pid"/>; the newest one that passes wins.
        /// Sockets that fail a trust check are told to <paramref name="warning"/> (when another one passes) or make up
        /// the <see cref="FailureKind.UntrustedSocket"/> error (when none does). Throws a <see cref="MemoryOpsException"/>
        /// that says why the process cannot be diagnosed.
        /// </summary>
        public static DiagnosticEndpoint Open(int pid, TimeSpan timeout, Action<string>? warning = null)
        {
            if (!ProcessDiscovery.ProcessExists(pid))
                throw new MemoryOpsException(FailureKind.ProcessNotFound, $"No process with ID {pid} is running.", pid);

            var candidates = ProcessDiscovery.FindSockets(pid);
            if (candidates.Count == 0)
                throw new MemoryOpsException(FailureKind.NotDotNetProcess,
                    $"Process {pid} ({ProcessDiscovery.SafeProcessName(pid)}) has no .NET diagnostic socket in {Path.GetTempPath().TrimEnd('/')}: it is not a .NET process, " +
                    "it runs with DOTNET_EnableDiagnostics=0, or it uses another TMPDIR (in a container, share /tmp with the target).", pid);

            uint processUid = ProcessUid(pid);
            ProcessSocketTable? table = null;
            var rejected = new List<string>();
            Exception? stale = null;
            foreach (var path in candidates)
            {
                SafeFileHandle handle;
                try { handle = UnixSocketNative.OpenPathNoFollow(path); }
                catch (Win32Exception e) when (e.NativeErrorCode == UnixSocketNative.ENOENT) { continue; } // removed meanwhile
                catch (Win32Exception e) { rejected.Add(Rejection(pid, path, "open", e.Message)); continue; }

                bool kept = false;
                try
                {
                    var status = UnixSocketNative.Status(handle);
                    if (!status.IsSocket)
                    {
                        rejected.Add(Rejection(pid, path, "type", $"it is {status.TypeName}, not a socket"));
                        continue;
                    }
                    if (status.Uid != processUid)
                    {
                        rejected.Add(Rejection(pid, path, "owner",
                            $"it belongs to {UserLabel(status.Uid)}, but the process runs as {UserLabel(processUid)}; another user may have planted it"));
                        continue;
                    }

                    table ??= ProcessSocketTable.Read(pid);
                    switch (table.StateOf(path))
                    {
                        case ListenState.NotListening:
                            stale = new IOException($"Nobody listens on {path}: it was left by a process that exited.");
                            continue;
                        case ListenState.HeldByOther:
                            rejected.Add(Rejection(pid, path, "held",
                                "the process does not hold it open, another process listens on it (planted under this PID's name, or a process with the same PID in another namespace)"));
                            continue;
                    }

                    RuntimeProcessInfo info;
                    using (var socket = DiagnosticIpc.Connect(UnixSocketNative.ProcSelfPath(handle), timeout))
                    {
                        var (peerPid, peerUid) = PeerCredentials(socket);
                        if (peerPid != pid || peerUid != processUid)
                        {
                            rejected.Add(Rejection(pid, path, "peer", $"the listener is process {peerPid} of {UserLabel(peerUid)}, not process {pid} of {UserLabel(processUid)}"));
                            continue;
                        }
                        info = DiagnosticIpc.GetProcessInfo(socket, path, timeout);
                    }
                    kept = true;
                    if (rejected.Count > 0) Tell(warning, rejected);
                    return new DiagnosticEndpoint(pid, path, handle, info);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
                {
                    throw AccessDenied(pid, $"connecting to {path} was refused", e);
                }
                catch (TimeoutException e)
                {
                    // The socket accepted but nobody answered: the runtime is there but not running (SIGSTOP, docker pause, a debugger).
                    throw new MemoryOpsException(FailureKind.Timeout,
                        $"Process {pid} ({ProcessDiscovery.SafeProcessName(pid)}) did not answer on its diagnostic socket within {timeout.TotalSeconds:0} s: is it stopped or frozen?", pid, e);
                }
                catch (InvalidDataException e)
                {
                    throw new MemoryOpsException(FailureKind.InvalidData,
                        $"Process {pid} ({ProcessDiscovery.SafeProcessName(pid)}) sent a malformed answer on its diagnostic socket {path}: {e.Message} " +
                        "It is not a working .NET runtime, so it is left alone.", pid, e);
                }
                catch (Win32Exception e)
                {
                    rejected.Add(Rejection(pid, path, "type", $"its status cannot be read ({e.Message})"));
                }
                catch (NotSupportedException e)
                {
                    throw new MemoryOpsException(FailureKind.UnsupportedVersion, $"Process {pid} ({ProcessDiscovery.SafeProcessName(pid)}): {e.Message}", pid, e);
                }
                catch (Exception e) when (e is SocketException || e is IOException)
                {
                    stale = e; // refused or closed at once: a socket left by a process that exited; try an older one
                }
                finally
                {
                    if (!kept) handle.Dispose();
                }
            }

            // A process that is exiting closes its socket before its name leaves the temp folder: its own fd table no longer
            // holds the socket while the kernel still lists it, which reads as "held by another". Gone by now, it was
            // that race, not a planted socket: a listing skips it quietly instead of warning about a process that ended.
            if (rejected.Count > 0 && !ProcessDiscovery.ProcessExists(pid))
                throw new MemoryOpsException(FailureKind.ProcessNotFound, $"Process {pid} exited while its diagnostic socket was being checked.", pid);
            if (rejected.Count > 0)
                throw new MemoryOpsException(FailureKind.UntrustedSocket,
                    $"Process {pid} ({ProcessDiscovery.SafeProcessName(pid)}) has no diagnostic socket that passes the checks. " + Summary(rejected) +
                    " Remove sockets you did not expect (as root), then try again.", pid);
            throw new MemoryOpsException(FailureKind.NotDotNetProcess,
                $"Process {pid} ({ProcessDiscovery.SafeProcessName(pid)}) does not answer on its diagnostic socket: the socket was left by a process that exited, " +
                "and the PID now belongs to a process that is not .NET.", pid, stale);
        }

        private static string Rejection(int pid, string path, string check, string detail) =>
            $"Ignoring {path} for process {pid}: the {check} check failed: {detail}.";

        // Hundreds of planted names must not bury the output: name a few, count the rest.
        private static void Tell(Action<string>? warning, List<string> rejected)
        {
            if (warning == null) return;
            foreach (var r in rejected.Take(MaxNamedRejections)) warning(r);
            if (rejected.Count > MaxNamedRejections) warning($"... and {rejected.Count - MaxNamedRejections} more diagnostic sockets were ignored for the same process.");
        }

        private static string Summary(List<string> rejected) =>
            string.Join(" ", rejected.Take(MaxNamedRejections)) +
            (rejected.Count > MaxNamedRejections ? $" ... and {rejected.Count - MaxNamedRejections} more." : "");

        internal static MemoryOpsException AccessDenied(int pid, string what, Exception? inner) =>
            new MemoryOpsException(FailureKind.AccessDenied,
                $"Access to the diagnostic socket of process {pid} was denied ({what}). Run as the user that owns the process ({ProcessDiscovery.OwnerName(pid)}) or as root.", pid, inner);

        /// <summary>The listener's PID and user, as the kernel recorded them when it called listen() (SO_PEERCRED).</summary>
        private static (int Pid, uint Uid) PeerCredentials(Socket socket)
        {
            const int SOL_SOCKET = 1, SO_PEERCRED = 17; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            Span<byte> credentials = stackalloc byte[12];
            int length = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, credentials);
            if (length < 8) throw new IOException("The kernel gave no peer credentials for the diagnostic socket.");
            return (BinaryPrimitives.ReadInt32LittleEndian(credentials), BinaryPrimitives.ReadUInt32LittleEndian(credentials.Slice(4)));
        }

        /// <summary>The effective user the process runs as (/proc/{pid}/status, "Uid:" real effective saved fs).</summary>
        internal static uint ProcessUid(int pid)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (!line.StartsWith("Uid:", StringComparison.Ordinal)) continue;
                    var fields = line.Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries);
                    if (fields.Length > 2 && uint.TryParse(fields[2], out uint uid)) return uid;
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new MemoryOpsException(FailureKind.ProcessNotFound, $"Process {pid} exited (its /proc entry is gone).", pid, e);
            }
            throw new MemoryOpsException(FailureKind.ProcessNotFound, $"Process {pid} has no user in /proc/{pid}/status.", pid);
        }

        internal static string UserLabel(uint uid)
        {
            string name = ProcessDiscovery.UserName(uid);
            return name.Length > 0 && name != uid.ToString() ? $"uid {uid} ({name})" : $"uid {uid}";
        }

        private enum ListenState { NotListening, Held, HeldByOther }

        /// <summary>The process's socket inodes and the listening Unix sockets of its network namespace, read once per lookup.</summary>
        private sealed class ProcessSocketTable
        {
            private readonly HashSet<ulong> heldInodes;
            private readonly List<(string Path, ulong Inode)> listeners;

            private ProcessSocketTable(HashSet<ulong> heldInodes, List<(string, ulong)> listeners)
            {
                this.heldInodes = heldInodes;
                this.listeners = listeners;
            }

            // By file name, not by the whole path: a sidecar may see the shared temp folder under another path than the
            // target bound it at. The name carries the PID and the runtime's start key, so it is the target's own socket;
            // that the file in our folder really is that socket is for the owner and peer checks to show.
            public ListenState StateOf(string path)
            {
                string name = Path.GetFileName(path);
                var inodes = listeners.Where(l => Path.GetFileName(l.Path) == name).Select(l => l.Inode).ToList();
                if (inodes.Count == 0) return ListenState.NotListening;
                return inodes.Any(heldInodes.Contains) ? ListenState.Held : ListenState.HeldByOther;
            }

            public static ProcessSocketTable Read(int pid)
            {
                var held = new HashSet<ulong>();
                try
                {
                    foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                    {
                        string? target;
                        try { target = new FileInfo(fd).LinkTarget; }
                        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { continue; } // closed meanwhile
                        // "socket:[12345]"
                        if (target != null && target.StartsWith("socket:[", StringComparison.Ordinal) && target.EndsWith("]", StringComparison.Ordinal)
                            && ulong.TryParse(target.AsSpan(8, target.Length - 9), out ulong inode))
                            held.Add(inode);
                    }
                }
                catch (UnauthorizedAccessException e)
                {
                    throw AccessDenied(pid, $"/proc/{pid}/fd is not readable, so it cannot be checked that the process holds its socket", e);
                }
                catch (DirectoryNotFoundException e)
                {
                    throw new MemoryOpsException(FailureKind.ProcessNotFound, $"Process {pid} exited.", pid, e);
                }

                // /proc/<pid>/net/unix is the table of the process's own network namespace:
                // "Num RefCount Protocol Flags Type St Inode Path"; Flags 00010000 (__SO_ACCEPTCON) marks a listener.
                var listeners = new List<(string, ulong)>();
                try
                {
                    foreach (var line in File.ReadLines($"/proc/{pid}/net/unix"))
                    {
                        if (!line.Contains("dotnet-diagnostic-", StringComparison.Ordinal)) continue;
                        var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
                        if (fields.Length < 8 || !uint.TryParse(fields[3], System.Globalization.NumberStyles.HexNumber, null, out uint flags)) continue;
                        if ((flags & 0x10000) == 0 || !ulong.TryParse(fields[6], out ulong inode)) continue;
                        string boundPath = fields[7];
                        if (boundPath.StartsWith("/", StringComparison.Ordinal)) listeners.Add((boundPath, inode));
                    }
                }
                catch (UnauthorizedAccessException e)
                {
                    throw AccessDenied(pid, $"/proc/{pid}/net/unix is not readable", e);
                }
                catch (IOException e)
                {
                    throw new MemoryOpsException(FailureKind.ProcessNotFound, $"Process {pid} exited.", pid, e);
                }
                return new ProcessSocketTable(held, listeners);
            }
        }
    }
}
