using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;

namespace MemoryOps.Engine.IO
{
    /// <summary>
    /// The hidden temporary files that atomic writes (dumps, snapshots, baselines) go through, named so that a later
    /// write can tell a file whose writer died (kill -9, a crash, a reboot) from one still being written:
    /// <c>.&lt;name&gt;.memoryops-&lt;pid&gt;-&lt;start&gt;-&lt;random&gt;.tmp</c>, where pid and start (the process's start
    /// time in clock ticks since boot, field 22 of /proc/&lt;pid&gt;/stat) name the writer. The PID alone is not
    /// enough: it is reused, and a live stranger holding it must not keep the file (nor the file's owner think it
    /// is still being written). A dump of hundreds of MB left by a killed writer is removed by the next write to
    /// that folder.
    /// </summary>
    internal static class TemporaryFiles
    {
        private const string Marker = "memoryops";
        private const int MaxFileNameBytes = 255;
        private static readonly Regex Ours = new Regex(
            @"^\..+\." + Marker + @"-(?<pid>[0-9]{1,10})-(?<start>[0-9]{1,20})-[0-9a-f]{8}\.tmp$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        private static readonly Lazy<ulong> OwnStartTime = new Lazy<ulong>(() => StartTimeOf(Environment.ProcessId) ?? 0);

        /// <summary>A new temporary path beside <paramref name="fullPath"/> (same folder, so the final rename is atomic).</summary>
        public static string PathFor(string fullPath)
        {
            string dir = Path.GetDirectoryName(fullPath) ?? ".";
            string suffix = $".{Marker}-{Environment.ProcessId}-{OwnStartTime.Value}-{Guid.NewGuid().ToString("N").Substring(0, 8)}.tmp";
            string name = Path.GetFileName(fullPath);
            // Stay within NAME_MAX: the target's name is only there to help a person; the suffix identifies the file.
            int room = MaxFileNameBytes - 1 - suffix.Length;
            while (name.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(name) > room)
                name = name.Substring(0, name.Length - (name.Length > 1 && char.IsLowSurrogate(name[name.Length - 1]) ? 2 : 1));
            return Path.Combine(dir, "." + name + suffix);
        }

        /// <summary>The writer named by a temporary file's name, or null when the name is not of our making.</summary>
        public static (int ProcessId, ulong StartTime)? WriterOf(string fileName)
        {
            var m = Ours.Match(fileName);
            if (!m.Success) return null;
            if (!int.TryParse(m.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0) return null;
            if (!ulong.TryParse(m.Groups["start"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)) return null;
            return (pid, start);
        }

        /// <summary>True while the process that wrote the file runs: same PID and same start time, and not a zombie.</summary>
        public static bool IsWriterAlive(int pid, ulong startTime)
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                var (state, start) = ParseStat(stat);
                return state != 'Z' && state != 'X' && start == startTime;
            }
            catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException) { return false; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException)
            {
                return true; // cannot tell: keep the file
            }
        }

        /// <summary>
        /// Removes, from one folder, the temporary files of our naming whose writer no longer runs. Only regular files
        /// owned by this user are removed (never a link, a FIFO or another user's file); anything that cannot be
        /// checked is left. Returns the paths removed.
        /// </summary>
        public static List<string> RemoveStale(string folder)
        {
            var removed = new List<string>();
            IEnumerable<string> candidates;
            try { candidates = Directory.EnumerateFileSystemEntries(folder, ".*." + Marker + "-*.tmp"); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return removed; }
            try
            {
                foreach (string path in candidates)
                {
                    var writer = WriterOf(Path.GetFileName(path));
                    if (writer == null || IsWriterAlive(writer.Value.ProcessId, writer.Value.StartTime)) continue;
                    try
                    {
                        var status = SafeFile.StatusOf(path);
                        if (status == null || status.Value.Kind != UnixFileKind.Regular || status.Value.OwnerId != UnixFile.EffectiveUserId) continue;
                        // unlink removes this name only: were the file swapped for a link meanwhile, the link goes, not its target.
                        File.Delete(path);
                        removed.Add(path);
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
            return removed;
        }

        /// <summary>(state, starttime) from the text of /proc/&lt;pid&gt;/stat; the name in parentheses may hold spaces and ')'.</summary>
        internal static (char State, ulong StartTime) ParseStat(string stat)
        {
            int close = stat.LastIndexOf(')');
            if (close < 0) throw new FormatException("no ')' in /proc/<pid>/stat");
            var fields = stat.Substring(close + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // fields[0] is field 3 (state); starttime is field 22.
            if (fields.Length < 20 || fields[0].Length != 1) throw new FormatException("too few fields in /proc/<pid>/stat");
            if (!ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)) throw new FormatException("the start time in /proc/<pid>/stat is not a number");
            return (fields[0][0], start);
        }

        private static ulong? StartTimeOf(int pid)
        {
            try { return ParseStat(File.ReadAllText($"/proc/{pid}/stat")).StartTime; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException) { return null; }
        }
    }
}
