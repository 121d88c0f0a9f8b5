using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using MemoryOps.Engine.IO;
using MemoryOps.Engine.Retention;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// Reads a dump in a child process, MemoryOps.DumpWorker (lib/ beside the engine), run by the same dotnet host
    /// as pwsh. Reading a dump runs the runtime's native DAC over bytes someone else wrote, and a corrupt dump can
    /// make the DAC crash natively (SIGSEGV) where no exception handler reaches: in pwsh that ended the session
    /// (issue 11's fuzz test). In a child process a crash ends only the child, and this turns it into an
    /// InvalidData error naming the dump.
    /// <para>
    /// The child does only the crash-prone part (<see cref="DumpHeapReader.Read"/>, or
    /// <see cref="HeapGraphCollector.FromDump"/>) and writes the result to stdout (<see cref="DumpWorkerProtocol"/>);
    /// what it announces is bounded here before anything is allocated for it. Cancellation kills it (it holds
    /// nothing but the open dump) and waits for it. Its stdin stays open to it while this waits: when pwsh itself
    /// ends, the child sees stdin close and exits rather than read on for nobody.
    /// </para>
    /// </summary>
    internal static class DumpWorkerClient
    {
        public const string WorkerFileName = "MemoryOps.DumpWorker.dll";
        /// <summary>Longest stderr line taken from the worker; the rest of a longer one is skipped.</summary>
        private const int MaxLineChars = 1 << 20;
        /// <summary>How many of the worker's other stderr lines (the runtime's last words) are kept to quote, and how much of each.</summary>
        private const int KeptLines = 4, KeptLineChars = 300;

        public static HeapSnapshot ReadSnapshot(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel) =>
            Run(DumpWorkerMode.Snapshot, dumpPath, options, progress, cancel).Snapshot;

        public static (HeapSnapshot Snapshot, HeapGraph Graph) ReadGraph(string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel)
        {
            var (snapshot, graph) = Run(DumpWorkerMode.Graph, dumpPath, options, progress, cancel);
            return (snapshot, graph!);
        }

        private static (HeapSnapshot Snapshot, HeapGraph? Graph) Run(DumpWorkerMode mode, string dumpPath, DumpReadOptions options, Action<double>? progress, CancellationToken cancel)
        {
            cancel.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            string full = Path.GetFullPath(dumpPath);
            var args = DumpWorkerProtocol.Arguments(mode, dumpPath, options);
            // A NUL cannot be passed in a command line (and no file name holds one).
            foreach (var a in args)
                if (a.IndexOf('\0') >= 0) throw new MemoryOpsException(FailureKind.InvalidInput, $"'{DumpHeapReader.Shown(a)}' holds a NUL character: no file or name can.", a == dumpPath ? dumpPath : (object)a);

            var psi = new ProcessStartInfo(DotNetHost)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardErrorEncoding = Encoding.UTF8,
            };
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(WorkerPath);
            foreach (var a in args) psi.ArgumentList.Add(a);
            // A crash of the reader on a corrupt dump is an outcome, not a bug to investigate: no crash dump of it
            // (createdump would write hundreds of MB per case when the user's environment asks for them).
            foreach (var name in new[] { "DOTNET_DbgEnableMiniDump", "COMPlus_DbgEnableMiniDump", "DOTNET_EnableCrashReport", "COMPlus_EnableCrashReport" })
                psi.Environment.Remove(name);
            // No diagnostic socket, debugger or profiler in the reader: it is not a process anyone should attach
            // to, and Get-DotNetProcess must not list it.
            psi.Environment["DOTNET_EnableDiagnostics"] = "0";
            // A fresh process runs what is not ReadyToRun as quickly compiled code first. The graph walk spends seconds
            // in a few loops over millions of objects: compiled optimized from the start, the 4 M-object read took
            // 5.0 s instead of 5.9 s. The per-type read is short and parallel, and gains nothing from it but a slower start.
            if (mode == DumpWorkerMode.Graph) psi.Environment["DOTNET_TC_QuickJitForLoops"] = "0";
            // The per-type read is over before tiered compilation's profile pays back: the instrumented first-tier code
            // of ClrMD's object walk costs more than it saves. Without the instrumentation (reader alone, medians of 5 on
            // this 2-core machine): 2 M orders, 466 MB dump 0.66 -> 0.44 s; 200,000 orders 0.30 -> 0.30 s. Optimizing loops
            // from the start instead (as for the graph) gave 0.49 s and 0.39 s: a slower start on small dumps.
            else psi.Environment["DOTNET_TieredPGO"] = "0";

            using var process = new Process { StartInfo = psi };
            try { process.Start(); }
            catch (Exception e) when (e is Win32Exception || e is InvalidOperationException || e is IOException)
            {
                throw new MemoryOpsException(FailureKind.SessionFailed, $"Could not start the dump reader ('{psi.FileName}' exec '{WorkerPath}') for '{full}': {e.Message}", dumpPath, e);
            }

            MemoryOpsException? reported = null;
            var lastWords = new Queue<string>();
            var stderr = new Thread(() =>
            {
                foreach (var line in Lines(process.StandardError))
                {
                    if (DumpWorkerProtocol.TryParseProgress(line, out double fraction)) { progress?.Invoke(fraction); continue; }
                    var error = DumpWorkerProtocol.ParseError(line);
                    if (error != null && reported == null) { reported = error; continue; }
                    lock (lastWords)
                    {
                        if (lastWords.Count == KeptLines) lastWords.Dequeue();
                        lastWords.Enqueue(line.Length > KeptLineChars ? line.Substring(0, KeptLineChars) + "…" : line);
                    }
                }
            }) { IsBackground = true, Name = "MemoryOps dump reader stderr" };
            stderr.Start();

            HeapSnapshot? snapshot = null;
            HeapGraph? graph = null;
            Exception? outputFault = null;
            // A damaged dump can send ClrMD round a loop it never leaves (the fuzz found one: damaged program headers,
            // -LiveOnly, no output for 300 s). The reader is given a time that no real read comes near, and ended after it.
            var limit = TimeLimitFor(SafeSize(full));
            bool timedOut = false;
            using (var watchdog = new Timer(_ => { timedOut = true; Kill(process); }, null, limit, Timeout.InfiniteTimeSpan))
            using (cancel.Register(() => Kill(process)))
            {
                try
                {
                    long maxGraph = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
                    using var stdout = new BufferedStream(process.StandardOutput.BaseStream, 1 << 16);
                    (snapshot, graph) = DumpWorkerProtocol.ReadResult(stdout, mode == DumpWorkerMode.Graph, maxGraph, full);
                }
                catch (Exception e) when (e is InvalidDataException || e is IOException)
                {
                    // Decided once the exit status is known (a crash cuts the output short); a worker still writing
                    // would block on the full pipe for ever.
                    outputFault = e;
                    Kill(process);
                }
                catch (OutOfMemoryException)
                {
                    Kill(process);
                    process.WaitForExit();
                    throw;
                }
                process.WaitForExit();
                stderr.Join();
            }
            cancel.ThrowIfCancellationRequested();
            if (timedOut)
                throw new MemoryOpsException(FailureKind.Timeout,
                    $"The dump reader did not finish '{full}' within {limit.TotalSeconds:N0} s (a minute, plus a second for every {MinimumBytesPerSecond / 1048576} MB of the dump) and was ended: " +
                    "a damaged dump can make the heap walk go round without end. Nothing was read.", dumpPath);
            if (reported != null) throw reported;
            int exit = process.ExitCode;
            if (exit != DumpWorkerProtocol.ExitOk) throw Crashed(full, dumpPath, exit, LastWords(lastWords));
            if (outputFault != null || snapshot == null)
                throw new MemoryOpsException(FailureKind.InvalidData,
                    $"Reading '{full}' failed: the dump reader ended normally, but its result was not valid ({outputFault?.Message}). Is lib/{WorkerFileName} from another MemoryOps version?", dumpPath, outputFault);
            // What the user waited for, the reader's start included.
            snapshot.Duration = clock.Elapsed.TotalSeconds;
            return (snapshot, graph);
        }

        /// <summary>The slowest a real read goes, with room to spare: 5 MB/s (reads here run at 80–700 MB/s).</summary>
        internal const long MinimumBytesPerSecond = 5L * 1048576;

        /// <summary>How long the reader may take for a dump of <paramref name="bytes"/>: a minute, plus a second per 5 MB.</summary>
        internal static TimeSpan TimeLimitFor(long bytes) => TimeSpan.FromSeconds(60 + Math.Max(0, bytes) / (double)MinimumBytesPerSecond);

        private static long SafeSize(string path)
        {
            try { return SafeFile.StatusOf(path)?.Size ?? 0; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is MemoryOpsException) { return 0; }
        }

        private static void Kill(Process process)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (Exception e) when (e is InvalidOperationException || e is Win32Exception || e is NotSupportedException) { } // already gone
        }

        /// <summary>Lines of at most <see cref="MaxLineChars"/> characters (the rest of a longer line is dropped).</summary>
        private static IEnumerable<string> Lines(StreamReader reader)
        {
            var line = new StringBuilder();
            var buffer = new char[4096];
            bool skipping = false;
            int n;
            while ((n = ReadSome(reader, buffer)) > 0)
            {
                for (int i = 0; i < n; i++)
                {
                    char c = buffer[i];
                    if (c == '\n')
                    {
                        yield return line.ToString().TrimEnd('\r');
                        line.Clear();
                        skipping = false;
                    }
                    else if (!skipping)
                    {
                        if (line.Length < MaxLineChars) line.Append(c); else skipping = true;
                    }
                }
            }
            if (line.Length > 0) yield return line.ToString();
        }

        private static int ReadSome(StreamReader reader, char[] buffer)
        {
            try { return reader.Read(buffer, 0, buffer.Length); }
            catch (IOException) { return 0; }
        }

        private static string LastWords(Queue<string> lines)
        {
            lock (lines)
            {
                var text = string.Join(" | ", lines).Trim();
                return text.Length == 0 ? "" : $" Its last output: {DumpHeapReader.Shown(text)}";
            }
        }

        /// <summary>The worker ended without a result and without saying why: a signal (exit 128+N) or an unexpected exit code.</summary>
        internal static MemoryOpsException Crashed(string full, string dumpPath, int exitCode, string lastWords)
        {
            string message;
            if (exitCode > 128 && exitCode < 128 + 65)
            {
                int signal = exitCode - 128;
                string name = SignalName(signal);
                string which = name.Length == 0 ? $"signal {signal}" : $"signal {signal}, {name}";
                message = signal switch
                {
                    // The runtime's own crash signals: the DAC (native code) read the dump's damaged data.
                    4 or 5 or 6 or 7 or 8 or 11 or 31 =>
                        $"Reading '{full}' crashed the dump reader ({which}): the dump is corrupt (the runtime's DAC failed on its data). Only the reader's own process ended; take the dump again.",
                    9 => $"The dump reader was killed ({which}) while reading '{full}': the kernel's out-of-memory killer does this when memory runs out (the dump may be corrupt, or its heap too large for this machine's memory), or someone killed it. Nothing was read.",
                    _ => $"The dump reader was ended by {which} from outside while reading '{full}'. Nothing was read; try again.",
                };
            }
            else
            {
                message = $"Reading '{full}' failed: the dump reader ended with exit code {exitCode} without a result or an error. The dump may be corrupt.";
            }
            return new MemoryOpsException(FailureKind.InvalidData, message + lastWords, dumpPath);
        }

        private static string SignalName(int signal) => signal switch
        {
            1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
            9 => "SIGKILL", 11 => "SIGSEGV", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM", 31 => "SIGSYS",
            _ => "",
        };

        /// <summary>lib/MemoryOps.DumpWorker.dll, beside the engine (the build puts it there).</summary>
        private static string WorkerPath
        {
            get
            {
                string dir = Path.GetDirectoryName(typeof(DumpWorkerClient).Assembly.Location) ?? AppContext.BaseDirectory;
                string path = Path.Combine(dir, WorkerFileName);
                if (!LocalFile.IsReadableRegularFile(path) || !LocalFile.IsReadableRegularFile(Path.ChangeExtension(path, ".runtimeconfig.json")))
                    throw new MemoryOpsException(FailureKind.PathNotFound,
                        $"The dump reader '{path}' (and its .runtimeconfig.json) is missing: the module is incomplete. Reinstall MemoryOps.", path);
                return path;
            }
        }

        private static string? dotNetHost;

        /// <summary>
        /// The dotnet host (muxer) to run the worker with: the one running this process when it is one (pwsh run as a
        /// dotnet tool), else the one the SDK named (DOTNET_HOST_PATH), the one of the runtime this process runs on
        /// (…/dotnet/shared/Microsoft.NETCore.App/&lt;v&gt;/ → …/dotnet/dotnet), DOTNET_ROOT's, or the first on PATH.
        /// </summary>
        private static string DotNetHost
        {
            get
            {
                if (dotNetHost != null) return dotNetHost;
                var candidates = new List<string>();
                if (Environment.ProcessPath is string self && Path.GetFileName(self) == "dotnet") candidates.Add(self);
                if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is string hostPath && hostPath.Length > 0) candidates.Add(hostPath);
                candidates.Add(Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet")));
                if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is string root && root.Length > 0) candidates.Add(Path.Combine(root, "dotnet"));
                foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                    candidates.Add(Path.Combine(dir, "dotnet"));
                foreach (var candidate in candidates)
                {
                    if (!Path.IsPathFullyQualified(candidate) || !LocalFile.IsReadableRegularFile(candidate)) continue;
                    try
                    {
                        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0) continue;
                    }
                    catch (IOException) { continue; }
                    return dotNetHost = candidate;
                }
                throw new MemoryOpsException(FailureKind.PathNotFound,
                    "MemoryOps reads dumps in a child process run by the dotnet host, and found none (this process's own, DOTNET_HOST_PATH, beside the runtime, DOTNET_ROOT, PATH). Install the .NET runtime (reading a dump needs its DAC anyway) or set DOTNET_HOST_PATH to the dotnet executable.", "dotnet");
            }
        }
    }
}
