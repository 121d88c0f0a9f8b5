using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;

namespace MemoryOps.Engine.Processes
{
    /// <summary>Finds the .NET processes that answer on a diagnostic socket.</summary>
    internal static class ProcessDiscovery
    {
        private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
        private const int MaxConcurrentProbes = 64;

        /// <summary>
        /// Every live, diagnosable .NET process. A PID whose socket is left over from a dead process
        /// (or whose PID now belongs to something else) does not answer ProcessInfo2 and is left out (told to
        /// <paramref name="verbose"/>). A PID whose socket fails a trust check or whose answer is malformed is left out
        /// too and told to <paramref name="warning"/>: it may be planted, and it never costs the user the others.
        /// </summary>
        public static IReadOnlyList<DotNetProcessInfo> List(Action<string>? verbose = null, Action<string>? warning = null)
        {
            var pids = PublishedProcessIds();
            var found = new DotNetProcessInfo?[pids.Count];
            var skipped = new string?[pids.Count];
            var warnings = new List<string>?[pids.Count];
            void Probe(int i)
            {
                var told = new List<string>();
                try { found[i] = Describe(pids[i], told.Add); }
                catch (MemoryOpsException e) when (e.Kind == FailureKind.UntrustedSocket || e.Kind == FailureKind.InvalidData)
                {
                    told.Add($"Skipping PID {pids[i]}: {e.Message}");
                }
                catch (MemoryOpsException e) { skipped[i] = e.Message; }
                // One odd socket in the temp folder must never cost the user the whole list, whatever it does.
                catch (Exception e) when (!(e is OutOfMemoryException))
                {
                    told.Add($"Skipping PID {pids[i]}: {e.GetType().Name}: {e.Message}");
                }
                if (told.Count > 0) warnings[i] = told;
            }
            // Each probe blocks on a socket for up to ProbeTimeout. On the thread pool (Parallel.For), which adds a thread
            // or two a second, 20 listeners that never answer (any user can run them) held a listing for 48 s; on threads
            // of their own they cost one timeout per MaxConcurrentProbes of them.
            int next = -1;
            var workers = new Thread[Math.Min(pids.Count, MaxConcurrentProbes)];
            for (int w = 0; w < workers.Length; w++)
            {
                workers[w] = new Thread(() => { int i; while ((i = Interlocked.Increment(ref next)) < pids.Count) Probe(i); })
                    { IsBackground = true, Name = "MemoryOps socket probe" };
                workers[w].Start();
            }
            foreach (var worker in workers) worker.Join();
            // Told here, on the caller's thread: a cmdlet may only write from its own pipeline thread.
            for (int i = 0; i < pids.Count; i++)
            {
                if (skipped[i] != null) verbose?.Invoke($"Skipping PID {pids[i]}: {skipped[i]}");
                if (warnings[i] != null) foreach (var w in warnings[i]!) warning?.Invoke(w);
            }
            return found.Where(p => p != null).Select(p => p!).OrderBy(p => p.ProcessId).ToList();
        }

        private static readonly Regex SocketName = new Regex(@"^dotnet-diagnostic-(\d{1,10})-(\d{1,20})-socket$", RegexOptions.CultureInvariant);

        /// <summary>
        /// The PIDs named by diagnostic sockets in the temp folder, by name only (the client library's
        /// GetPublishedProcesses does the same; ours keeps to names of the exact form, and every PID is then checked by
        /// <see cref="Describe"/> like any other).
        /// </summary>
        public static List<int> PublishedProcessIds()
        {
            var pids = new HashSet<int>();
            try
            {
                foreach (var path in Directory.EnumerateFiles(Path.GetTempPath(), "dotnet-diagnostic-*-socket"))
                {
                    var m = SocketName.Match(Path.GetFileName(path));
                    if (m.Success && int.TryParse(m.Groups[1].Value, out int pid) && pid > 0) pids.Add(pid);
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return pids.OrderBy(p => p).ToList();
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

        /// <summary>
        /// Describes one process through its checked diagnostic socket (<see cref="DiagnosticEndpoint"/>), or throws a
        /// <see cref="MemoryOpsException"/> that says why it cannot be diagnosed. Sockets of this PID that failed a trust
        /// check while a good one was found are told to <paramref name="warning"/>.
        /// </summary>
        public static DotNetProcessInfo Describe(int pid, Action<string>? warning = null)
        {
            using var endpoint = DiagnosticEndpoint.Open(pid, ProbeTimeout, warning);
            return Build(pid, endpoint.SocketPath, endpoint.Info);
        }

        /// <summary>
        /// Candidate diagnostic sockets for a PID by name (dotnet-diagnostic-{pid}-{start key}-socket), newest first.
        /// Names only: nothing here says who made them; <see cref="DiagnosticEndpoint.Open"/> checks them.
        /// </summary>
        public static List<string> FindSockets(int pid)
        {
            string dir = Path.GetTempPath();
            try
            {
                return Directory.GetFiles(dir, $"dotnet-diagnostic-{pid}-*-socket")
                    .Where(f => { var m = SocketName.Match(Path.GetFileName(f)); return m.Success && m.Groups[1].Value == pid.ToString(System.Globalization.CultureInfo.InvariantCulture); })
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

        // include/linux/sched.h: set by do_exit() before it frees the memory and closes the files of the task.
        private const ulong PF_EXITING = 0x4;

        /// <summary>
        /// True while <paramref name="pid"/> runs: not gone, not a zombie and not in the middle of exiting. The last matters
        /// after a kill: the kernel closes the process's sockets (our session's stream ends) before it turns it into a zombie,
        /// and tearing down a large heap takes a while on a busy machine; the task's PF_EXITING flag is set before either.
        /// </summary>
        public static bool ProcessExists(int pid)
        {
            if (pid <= 0) return false;
            if (OperatingSystem.IsLinux())
            {
                // A killed process stays in /proc as a zombie until its parent reaps it: it runs no more.
                try
                {
                    return StatSaysRunning(File.ReadAllText($"/proc/{pid}/stat"));
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return Directory.Exists($"/proc/{pid}"); }
            }
            try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
            catch (ArgumentException) { return false; }
        }

        /// <summary>Reads a /proc/&lt;pid&gt;/stat line: false for a zombie, a dead task or one whose exit has begun.</summary>
        internal static bool StatSaysRunning(string stat)
        {
            // The name may hold spaces and parentheses: the fields start after the last ')'.
            int close = stat.LastIndexOf(')');
            if (close < 0) return true; // not a stat line we understand: do not call a process gone on that
            var fields = stat.Substring(close + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && (fields[0] == "Z" || fields[0] == "X")) return false;
            // state ppid pgrp session tty_nr tpgid flags (proc(5)): flags is the 7th field after the name.
            return !(fields.Length > 6 && ulong.TryParse(fields[6], out var flags) && (flags & PF_EXITING) != 0);
        }

        /// <summary>
        /// True when <paramref name="pid"/> has ended or ends within <paramref name="grace"/>. For a stream that closed without
        /// being asked: a runtime that shuts down closes its diagnostic sessions a moment before the process is gone, so
        /// "exited" versus "ended the session while running" is decided after a short, bounded wait. (A kill needs no wait:
        /// <see cref="ProcessExists"/> sees PF_EXITING before the kernel closes the sockets.)
        /// </summary>
        public static bool ExitsWithin(int pid, TimeSpan grace)
        {
            var clock = Stopwatch.StartNew();
            while (ProcessExists(pid))
            {
                if (clock.Elapsed >= grace) return false;
                Thread.Sleep(20);
            }
            return true;
        }

        /// <summary>The grace <see cref="ExitsWithin"/> gets where a session's stream ended unasked.</summary>
        public static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(2);

        /// <summary>After a session's stream ended unasked: has the target exited (waiting at most <see cref="ExitGrace"/>)?</summary>
        public static bool ExitedAfterStreamEnd(int pid) => ExitsWithin(pid, ExitGrace);

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
            try { return UserName(DiagnosticEndpoint.ProcessUid(pid)); }
            catch (MemoryOpsException) { return ""; }
        }

        /// <summary>The name /etc/passwd gives a uid, or the number itself.</summary>
        public static string UserName(uint uid)
        {
            string id = uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                foreach (var line in File.ReadLines("/etc/passwd"))
                {
                    var f = line.Split(':');
                    if (f.Length > 2 && f[2] == id) return f[0];
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
            return id;
        }
    }
}
