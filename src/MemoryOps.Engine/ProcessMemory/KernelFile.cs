using System;
using System.IO;
using System.Text;
using MemoryOps.Engine.IO;

namespace MemoryOps.Engine.ProcessMemory
{
    /// <summary>
    /// Reads one small kernel-made text file (/proc, cgroupfs) through <see cref="SafeFile"/>: a regular file only,
    /// no link followed, and never more than a bound, so a path that is not what it should be (a cgroup folder
    /// mounted over by something else) cannot make the reader wait or read without end.
    /// </summary>
    internal static class KernelFile
    {
        private const int ESRCH = 3;

        /// <summary>The file's text; null when it does not exist (the process or cgroup went away, or an older kernel lacks it).</summary>
        /// <exception cref="MemoryOpsException">InvalidData when the file is larger than <paramref name="maxBytes"/>; UnsafeFile when it is not a regular file.</exception>
        /// <exception cref="IOException">A read error (ESRCH when the process ended mid-read).</exception>
        public static string? TryRead(string path, int maxBytes, object? target)
        {
            FileStream stream;
            try { stream = SafeFile.OpenRead(path, "kernel file", target, followLinks: false); }
            catch (MemoryOpsException e) when (e.Kind == FailureKind.PathNotFound) { return null; }
            // Opening /proc/PID/smaps_rollup of a process that is being torn down (an OOM kill) fails with ESRCH while
            // its /proc folder is still there: it is as gone as a file that is not there.
            catch (IOException e) when (e.HResult == ESRCH) { return null; }
            using (stream)
            {
                var buffer = new byte[Math.Min(maxBytes + 1, 4096)];
                int total = 0;
                while (true)
                {
                    if (total == buffer.Length)
                    {
                        if (buffer.Length > maxBytes)
                            throw new MemoryOpsException(FailureKind.InvalidData, $"'{path}' holds more than {maxBytes} bytes, more than this kernel file can hold: it was not read.", target);
                        Array.Resize(ref buffer, Math.Min(buffer.Length * 2, maxBytes + 1));
                    }
                    int n;
                    try { n = stream.Read(buffer, total, buffer.Length - total); }
                    // A /proc file of a process that has just ended reads as ESRCH; a cgroup just removed as ENODEV.
                    catch (IOException e) when (e.HResult == ESRCH || !File.Exists(path)) { return null; }
                    if (n == 0) break;
                    total += n;
                }
                return Encoding.UTF8.GetString(buffer, 0, total);
            }
        }
    }
}
