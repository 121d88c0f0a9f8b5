using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MemoryOps.Engine.IO;
using MemoryOps.Engine.Processes;
using Microsoft.Diagnostics.NETCore.Client;

namespace MemoryOps.Engine.Dumps
{
    /// <summary>
    /// Writes a dump of a live process through the runtime's own createdump (diagnostics IPC WriteDump).
    /// The runtime writes to a temporary name beside the target path, which is renamed over the path only
    /// when complete, so a failed or cancelled dump never leaves a partial file and never replaces a good one.
    /// </summary>
    internal static class DumpWriter
    {
        // Checking the socket asks the runtime for ProcessInfo2 first; a live runtime answers in milliseconds.
        private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

        /// <summary>Resolves -Path: a folder (existing, or ending in a separator) gets a name like OrderService_4242_20261125-101500.dmp.</summary>
        public static string ResolvePath(string? path, string processName, int pid, DateTime now)
        {
            string name = $"{Sanitize(processName)}_{pid}_{now:yyyyMMdd-HHmmss}.dmp";
            if (string.IsNullOrEmpty(path)) return Path.GetFullPath(name);
            string full = Path.GetFullPath(path);
            if (Directory.Exists(full) || path.EndsWith("/", StringComparison.Ordinal) || path.EndsWith(Path.DirectorySeparatorChar))
                return Path.Combine(full, name);
            return full;
        }

        private static string Sanitize(string s)
        {
            var chars = s.ToCharArray();
            for (int i = 0; i < chars.Length; i++)
                if (!char.IsLetterOrDigit(chars[i]) && chars[i] != '-' && chars[i] != '.') chars[i] = '_';
            return chars.Length == 0 ? "process" : new string(chars);
        }

        /// <summary>What the dump will need on disk, from the process's resident memory (measured here: a Heap dump of a
        /// 467 MB heap was 646 MB, a Full one 725 MB, Mini and Triage under 10 MB).</summary>
        public static long EstimateSize(int pid, MemoryDumpType type)
        {
            long rss = 0;
            try { using var p = Process.GetProcessById(pid); rss = p.WorkingSet64; } catch (Exception) { }
            return type switch
            {
                // Measured here: the runtime's images and bookkeeping add a fixed ~50 MB over the resident set.
                MemoryDumpType.Full => rss + rss / 4 + 64L * 1024 * 1024,
                MemoryDumpType.Heap => rss + rss / 10 + 64L * 1024 * 1024,
                _ => 64L * 1024 * 1024,
            };
        }

        public static MemoryDumpInfo Write(DotNetProcessInfo target, string path, MemoryDumpType type, bool overwrite, bool ignoreFreeSpace,
            Action<long>? progress, CancellationToken cancel)
        {
            string dir = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(dir))
                throw new MemoryOpsException(FailureKind.InvalidInput, $"The folder '{dir}' does not exist.", path);
            SafeFile.CheckReplaceable(path, overwrite, path);
            long expected = EstimateSize(target.ProcessId, type);
            long free = new DriveInfo(dir).AvailableFreeSpace;
            if (!ignoreFreeSpace && free < expected)
                throw new MemoryOpsException(FailureKind.InsufficientSpace,
                    $"'{dir}' has {free / 1048576} MB free, but a {type} dump of process {target.ProcessId} needs about {expected / 1048576} MB. Free space, choose another -Path, or use -Force.", path);

            TemporaryFiles.RemoveStale(dir);
            string temp = AtomicFile.TempPathFor(path);
            var clock = Stopwatch.StartNew();
            var created = DateTime.Now;
            // Through the process's checked, pinned socket, never new DiagnosticsClient(pid), which picks a socket by name
            // alone: a socket planted under root's PID would otherwise be told where root writes its dump (and could
            // answer "done"). The pin stays open until the dump is finished (see DiagnosticEndpoint).
            DiagnosticEndpoint endpoint;
            try { endpoint = DiagnosticEndpoint.Open(target.ProcessId, ProbeTimeout); }
            catch (MemoryOpsException e) when (e.Kind == FailureKind.ProcessNotFound)
            {
                throw new MemoryOpsException(FailureKind.TargetExited, $"Process {target.ProcessId} exited before its dump could start; no file was left.", target.ProcessId, e);
            }
            using var pinned = endpoint;
            try
            {
                var client = endpoint.CreateClient();
                // Not cancellable on purpose: createdump in the target goes on regardless, so on Ctrl+C we wait for it
                // to finish and then delete its file, instead of leaving a full-size file behind.
                var write = client.WriteDumpAsync(ToClientType(type), temp, WriteDumpFlags.None, CancellationToken.None);
                while (!((IAsyncResult)write).AsyncWaitHandle.WaitOne(250))
                {
                    progress?.Invoke(SafeLength(temp));
                    if (cancel.IsCancellationRequested) break;
                }
                if (cancel.IsCancellationRequested)
                {
                    ((IAsyncResult)write).AsyncWaitHandle.WaitOne(TimeSpan.FromMinutes(5));
                    throw new OperationCanceledException(cancel);
                }
                write.GetAwaiter().GetResult();
                if (!File.Exists(temp))
                    throw new MemoryOpsException(FailureKind.SessionFailed, $"Process {target.ProcessId} reported success but wrote no dump at '{temp}'.", path);
                SafeFile.RestrictToOwner(temp, path);
                SafeFile.CheckReplaceable(path, overwrite, path); // what is at the path may have changed during the dump
                File.Move(temp, path, overwrite);
            }
            catch (Exception e)
            {
                AtomicFile.TryDelete(temp);
                if (e is MemoryOpsException || e is OperationCanceledException) throw;
                if (!ProcessDiscovery.ProcessExists(target.ProcessId))
                    throw new MemoryOpsException(FailureKind.TargetExited, $"Process {target.ProcessId} exited while its dump was written; no file was left.", target.ProcessId, e);
                if (e is IOException io && AtomicFile.IsDiskFull(io) || e.Message.Contains("No space", StringComparison.OrdinalIgnoreCase))
                    throw new MemoryOpsException(FailureKind.InsufficientSpace, $"The disk filled while the dump was written to '{dir}'; the partial file was removed.", path, e);
                if (e is ServerErrorException)
                    throw new MemoryOpsException(FailureKind.SessionFailed, $"Process {target.ProcessId} could not write the dump: {e.Message}", target.ProcessId, e);
                throw;
            }
            return new MemoryDumpInfo
            {
                Path = path,
                Type = type,
                SizeBytes = new FileInfo(path).Length,
                ProcessId = target.ProcessId,
                ProcessName = target.Name,
                Created = created,
                Duration = clock.Elapsed.TotalSeconds,
            };
        }

        private static DumpType ToClientType(MemoryDumpType type) => type switch
        {
            MemoryDumpType.Full => DumpType.Full,
            MemoryDumpType.Heap => DumpType.WithHeap,
            MemoryDumpType.Mini => DumpType.Normal,
            MemoryDumpType.Triage => DumpType.Triage,
            _ => DumpType.WithHeap,
        };

        private static long SafeLength(string path)
        {
            try { return new FileInfo(path).Length; } catch (Exception) { return 0; }
        }
    }
}
