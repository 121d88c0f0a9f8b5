using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using Microsoft.Diagnostics.NETCore.Client;

namespace MemoryOps.Engine.Processes
{
    /// <summary>Finds the .NET processes that answer on a diagnostic socket.</summary>
    public static class ProcessDiscovery
    {
        private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

        /// <summary>
        /// Every live, diagnosable .NET process. A PID whose socket is left over from a dead process
        /// (or whose PID now belongs to something else) does not answer ProcessInfo2 and is left out.
        /// </summary>
        public static IReadOnlyList<DotNetProcessInfo> List(Action<string>? verbose = null)
        {
            var pids = DiagnosticsClient.GetPublishedProcesses().Distinct().ToArray();
            var found = new DotNetProcessInfo?[pids.Length];
            var skipped = new string?[pids.Length];
            Parallel.For(0, pids.Length, i =>
            {
                try { found[i] = Describe(pids[i]); }
                catch (MemoryOpsException e) { skipped[i] = e.Message; }
                // One odd socket in the temp folder must never cost the user the whole list.
                catch (Exception e) when (e is SocketException || e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    skipped[i] = e.Message;
                }
            });
            // Told here, on the caller's thread: a cmdlet may only write from its own pipeline thread.
            for (int i = 0; i < pids.Length; i++)
                if (skipped[i] != null) verbose?.Invoke($"Skipping PID {pids[i]}: {skipped[i]}");
            return found.Where(p => p != null).Select(p => p!).OrderBy(p => p.ProcessId).ToList();
        }

        /// <summary>
        /// The processes whose app name or OS process name matches a pattern (<paramref name="isMatch"/> does the
        /// wildcard test); <paramref name="onNoMatch"/> is told each pattern without wildcards that matched nothing.
        /// </summary>
        public static List<DotNetProcessInfo> MatchNames(IReadOnlyList<DotNetProcessInfo> all, IEnumerable<string> patterns,
            Func<string, Func<string, bool>> isMatch, Func<string, bool> hasWildcards, Action<string> onNoMatch)
        {
            var result = new List<DotNetProcessInfo>();
            foreach (var pattern in patterns)
            {
                var match = isMatch(pattern);
                var found = all.Where(p => match(p.Name) || match(p.ProcessName)).ToList();
                if (found.Count == 0 && !hasWildcards(pattern)) onNoMatch(pattern);
                result.AddRange(found.Where(p => !result.Any(r => r.ProcessId == p.ProcessId)));
            }
            return result;
        }

        /// <summary>Describes one process, or throws a <see cref="MemoryOpsException"/> that says why it cannot be diagnosed.</summary>
        public static DotNetProcessInfo Describe(int pid)
        {
            if (!ProcessExists(pid))
                throw new MemoryOpsException(FailureKind.ProcessNotFound, $"No process with ID {pid} is running.", pid);

            var sockets = FindSockets(pid);
            if (sockets.Count == 0)
                throw new MemoryOpsException(FailureKind.NotDotNetProcess,
                    $"Process {pid} ({SafeProcessName(pid)}) has no .NET diagnostic socket in {Path.GetTempPath().TrimEnd('/')}: it is not a .NET process, " +
                    "it runs with DOTNET_EnableDiagnostics=0, or it uses another TMPDIR (in a container, share /tmp with the target).", pid);

            Exception? last = null;
            foreach (var socket in sockets)
            {
                try
                {
                    var info = DiagnosticIpc.GetProcessInfo(socket, ProbeTimeout);
                    if (info.ProcessId != 0 && info.ProcessId != pid) continue; // another namespace's PID
                    return Build(pid, socket, info);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
                {
                    throw new MemoryOpsException(FailureKind.AccessDenied,
                        $"Access to the diagnostic socket of process {pid} was denied. Run as the user that owns the process ({OwnerName(pid)}) or as root.", pid, e);
                }
                catch (TimeoutException e)
                {
                    // The socket accepted but nobody answered: the runtime is there but not running (SIGSTOP, docker pause, a debugger).
                    throw new MemoryOpsException(FailureKind.Timeout,
                        $"Process {pid} ({SafeProcessName(pid)}) did not answer on its diagnostic socket within {ProbeTimeout.TotalSeconds:0} s: is it stopped or frozen?", pid, e);
                }
                catch (Exception e) when (e is SocketException || e is IOException || e is InvalidDataException)
                {
                    last = e; // a stale socket (connection refused): try an older one, then give up
                }
            }
            throw new MemoryOpsException(FailureKind.NotDotNetProcess,
                $"Process {pid} ({SafeProcessName(pid)}) does not answer on its diagnostic socket: the socket was left by a process that exited, " +
                "and the PID now belongs to a process that is not .NET.", pid, last);
        }

        /// <summary>Diagnostic sockets for a PID, newest first. Their names are dotnet-diagnostic-{pid}-{start key}-socket.</summary>
        public static List<string> FindSockets(int pid)
        {
            string dir = Path.GetTempPath();
            try
            {
                return Directory.GetFiles(dir, $"dotnet-diagnostic-{pid}-*-socket")
                    .OrderByDescending(File.GetLastWriteTimeUtc)
                    .ToList();
            }
            catch (IOException) { return new List<string>(); }
            catch (UnauthorizedAccessException) { return new List<string>(); }
        }

        private static DotNetProcessInfo Build(int pid, string socket, RuntimeProcessInfo info)
        {
            string processName = SafeProcessName(pid);
            var result = new DotNetProcessInfo
            {
                ProcessId = pid,
                ProcessName = processName,
                Name = string.IsNullOrEmpty(info.EntryAssemblyName) ? processName : info.EntryAssemblyName,
                CommandLine = ReadCommandLine(pid) ?? info.CommandLine,
                RuntimeVersion = ShortVersion(info.ClrProductVersion),
                OperatingSystem = info.OperatingSystem,
                Architecture = info.Architecture,
                DiagnosticSocket = socket,
                UserName = OwnerName(pid),
            };
            try
            {
                using var p = Process.GetProcessById(pid);
                result.StartTime = p.StartTime.ToUniversalTime();
                result.WorkingSet = p.WorkingSet64;
            }
            catch (Exception e) when (e is ArgumentException || e is InvalidOperationException || e is System.ComponentModel.Win32Exception) { }
            return result;
        }

        /// <summary>"10.0.12+95017c711e..." → "10.0.12".</summary>
        public static string ShortVersion(string clrProductVersion)
        {
            if (string.IsNullOrEmpty(clrProductVersion)) return "";
            int plus = clrProductVersion.IndexOf('+');
            return plus > 0 ? clrProductVersion.Substring(0, plus) : clrProductVersion;
        }

        public static bool ProcessExists(int pid)
        {
            if (pid <= 0) return false;
            if (OperatingSystem.IsLinux())
            {
                // A killed process stays in /proc as a zombie until its parent reaps it: it runs no more.
                try
                {
                    string stat = File.ReadAllText($"/proc/{pid}/stat");
                    int close = stat.LastIndexOf(')');
                    char state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : 'R';
                    return state != 'Z' && state != 'X';
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return Directory.Exists($"/proc/{pid}"); }
            }
            try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
            catch (ArgumentException) { return false; }
        }

        public static string SafeProcessName(int pid)
        {
            try { using var p = Process.GetProcessById(pid); return p.ProcessName; }
            catch (Exception) { return "?"; }
        }

        private static string? ReadCommandLine(int pid)
        {
            try
            {
                var raw = File.ReadAllText($"/proc/{pid}/cmdline");
                return raw.TrimEnd('\0').Replace('\0', ' ');
            }
            catch (Exception) { return null; }
        }

        /// <summary>The owner's user name, from /proc/{pid}/status and /etc/passwd (no native calls needed).</summary>
        public static string OwnerName(int pid)
        {
            try
            {
                var uidLine = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                if (uidLine == null) return "";
                string uid = uidLine.Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries)[1];
                foreach (var line in File.ReadLines("/etc/passwd"))
                {
                    var f = line.Split(':');
                    if (f.Length > 2 && f[2] == uid) return f[0];
                }
                return uid;
            }
            catch (Exception) { return ""; }
        }
    }
}
