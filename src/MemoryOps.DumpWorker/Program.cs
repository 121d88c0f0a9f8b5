using System;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Threading;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.Retention;

namespace MemoryOps.DumpWorker
{
    /// <summary>
    /// Reads one dump and writes the result to stdout, as <see cref="DumpWorkerProtocol"/> says; started by
    /// <see cref="DumpWorkerClient"/>, one process per dump. It does only the crash-prone part of a dump read
    /// (ClrMD and the native DAC over someone else's bytes); the module checks and analyses what it gets back.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            // MemoryOps.Model (HeapSnapshot, MemoryOpsException) sits one folder up, beside the module's manifest:
            // it loads into PowerShell's default context there, so lib/ must not hold a second copy.
            AssemblyLoadContext.Default.Resolving += FindModel;
            // Ctrl+C in a terminal reaches the whole foreground process group, this process too: the module decides
            // (pwsh's StopProcessing kills this process), so the signal is not allowed to end the read here first.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
            CoreFiles.Disable();
            WatchParent();
            return Run(args);
        }

        private static Assembly? FindModel(AssemblyLoadContext context, AssemblyName name)
        {
            if (name.Name != "MemoryOps.Model") return null;
            string path = Path.Combine(AppContext.BaseDirectory, "..", "MemoryOps.Model.dll");
            return File.Exists(path) ? context.LoadFromAssemblyPath(Path.GetFullPath(path)) : null;
        }

        /// <summary>
        /// The module holds our stdin open while it waits for us: end of input means pwsh has gone (killed, or
        /// ended), and a read nobody waits for is not worth finishing.
        /// </summary>
        private static void WatchParent()
        {
            var watcher = new Thread(() =>
            {
                try
                {
                    using var stdin = Console.OpenStandardInput();
                    var buffer = new byte[64];
                    while (stdin.Read(buffer, 0, buffer.Length) > 0) { }
                }
                catch (IOException) { }
                Environment.Exit(DumpWorkerProtocol.ExitParentGone);
            }) { IsBackground = true, Name = "parent watch" };
            watcher.Start();
        }

        // Not inlined into Main: compiling this method loads MemoryOps.Model, which FindModel must be ready for.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Run(string[] args)
        {
            var stderr = Console.Error;
            var request = DumpWorkerProtocol.Parse(args, out string problem);
            if (request == null)
            {
                stderr.WriteLine(problem);
                return DumpWorkerProtocol.ExitUsage;
            }
            var progress = new ProgressLines(stderr);
            try
            {
                HeapSnapshot snapshot;
                HeapGraph? graph = null;
                if (request.Mode == DumpWorkerMode.Graph)
                    (snapshot, graph) = HeapGraphCollector.FromDump(request.DumpPath, request.Options, progress.Report, CancellationToken.None);
                else
                    snapshot = DumpHeapReader.Read(request.DumpPath, request.Options, progress.Report, CancellationToken.None);
                using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
                DumpWorkerProtocol.WriteResult(stdout, snapshot, graph);
                return DumpWorkerProtocol.ExitOk;
            }
            catch (MemoryOpsException e)
            {
                stderr.WriteLine(DumpWorkerProtocol.ErrorLine(e.Kind, e.Message, e.Target));
            }
            catch (OutOfMemoryException)
            {
                stderr.WriteLine(DumpWorkerProtocol.ErrorLine(FailureKind.InvalidData,
                    $"Reading '{Path.GetFullPath(request.DumpPath)}' ran out of memory ({Environment.WorkingSet / 1048576:N0} MB in use): the dump may be corrupt (sizes that make no sense), or its heap too large for this machine's memory.", request.DumpPath));
            }
            catch (Exception e)
            {
                // DumpHeapReader turns ClrMD's failures into MemoryOpsException; what still arrives here is unforeseen.
                stderr.WriteLine(DumpWorkerProtocol.ErrorLine(FailureKind.InvalidData,
                    $"Reading '{Path.GetFullPath(request.DumpPath)}' failed: {e.GetType().Name}: {e.Message}", request.DumpPath));
            }
            return DumpWorkerProtocol.ExitReported;
        }

        /// <summary>Progress as stderr lines, at most one per percent (or per half second while the end is unknown); called from several threads.</summary>
        private sealed class ProgressLines
        {
            private readonly TextWriter stderr;
            private double last = -2;
            private long lastUnknown;

            public ProgressLines(TextWriter stderr) => this.stderr = stderr;

            public void Report(double fraction)
            {
                lock (this)
                {
                    if (fraction < 0)
                    {
                        long now = Environment.TickCount64;
                        if (now - lastUnknown < 500) return;
                        lastUnknown = now;
                        fraction = -1;
                    }
                    else if (Math.Abs(fraction - last) < 0.01) return;
                    last = fraction;
                    stderr.WriteLine(DumpWorkerProtocol.ProgressLine(Math.Min(1, fraction)));
                }
            }
        }
    }

    /// <summary>
    /// No core file when this process crashes: a crash on a corrupt dump is an expected outcome (the module reports
    /// it), and a core of a process that had a large dump mapped would be litter of that size in the current folder
    /// wherever the system enables core files. setrlimit(2) has no BCL equivalent.
    /// </summary>
    internal static class CoreFiles
    {
        private const int RlimitCore = 4;

        [StructLayout(LayoutKind.Sequential)]
        private struct RLimit { public ulong Current, Maximum; }

        [DllImport("libc", SetLastError = true)]
        private static extern int getrlimit(int resource, out RLimit limit);

        [DllImport("libc", SetLastError = true)]
        private static extern int setrlimit(int resource, ref RLimit limit);

        public static void Disable()
        {
            try
            {
                if (getrlimit(RlimitCore, out var limit) != 0) return;
                limit.Current = 0; // the soft limit only: lowering it needs no privilege
                setrlimit(RlimitCore, ref limit);
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException) { }
        }
    }
}
