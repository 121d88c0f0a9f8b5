using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MemoryOps.Engine.ProcessMemory
{
    /// <summary>One line of /proc/PID/cgroup: "hierarchy-ID:controller-list:cgroup-path".</summary>
    internal sealed class CgroupMembership
    {
        public int HierarchyId { get; init; }
        /// <summary>The controllers of a v1 hierarchy ("memory", "cpu,cpuacct", "name=systemd"); empty for the v2 line.</summary>
        public string[] Controllers { get; init; } = Array.Empty<string>();
        /// <summary>The cgroup's path, from the root of the reader's cgroup namespace ("/", "/system.slice/orders.service").</summary>
        public string Path { get; init; } = "";
        /// <summary>The unified (v2) hierarchy's line is "0::PATH".</summary>
        public bool IsUnified => HierarchyId == 0 && Controllers.Length == 0;
    }

    /// <summary>One line of /proc/self/mountinfo, the fields the cgroup lookup needs (paths unescaped).</summary>
    internal sealed class MountEntry
    {
        /// <summary>The folder of the mounted file system that appears at <see cref="MountPoint"/> ("/" for a cgroup mount on the host).</summary>
        public string Root { get; init; } = "";
        public string MountPoint { get; init; } = "";
        public string FileSystemType { get; init; } = "";
        /// <summary>The super-block options: for a v1 cgroup mount, its controllers ("rw,memory").</summary>
        public string[] SuperOptions { get; init; } = Array.Empty<string>();
    }

    /// <summary>
    /// Parsers for the kernel's text files the process-memory reader reads. Pure functions of the text, so they are
    /// tested on captured contents. Every parser skips what it does not understand (a newer kernel adds fields) and
    /// never trusts a number it cannot parse: a field that does not parse is absent, not 0.
    /// </summary>
    internal static class KernelFormats
    {
        /// <summary>
        /// "Key:   1234 kB" lines (smaps_rollup, status) as bytes. Lines without a kB unit are left out (status's
        /// "Pid:" or "State:"), so only sizes come back; a value too large for a long is left out too.
        /// </summary>
        public static Dictionary<string, long> KilobyteFields(string text)
        {
            var result = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var raw in text.Split('\n'))
            {
                int colon = raw.IndexOf(':');
                if (colon <= 0) continue;
                string key = raw.Substring(0, colon).Trim();
                string rest = raw.Substring(colon + 1).Trim();
                if (!rest.EndsWith(" kB", StringComparison.Ordinal)) continue;
                string number = rest.Substring(0, rest.Length - 3).Trim();
                if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long kb) && kb <= long.MaxValue / 1024)
                    result[key] = kb * 1024;
            }
            return result;
        }

        /// <summary>"key value" lines (memory.stat, memory.events, memory.oom_control) as numbers.</summary>
        public static Dictionary<string, long> FlatKeyed(string text)
        {
            var result = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var raw in text.Split('\n'))
            {
                var parts = raw.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2) continue;
                if (long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long value)) result[parts[0]] = value;
            }
            return result;
        }

        /// <summary>
        /// Values from this size up mean "no limit". cgroup v1 writes "unlimited" as the largest page-aligned long
        /// (9223372036854771712 with 4 KB pages, 9223372036854710272 with 64 KB pages); no machine has 4 EiB of memory.
        /// </summary>
        public const long UnlimitedFrom = 1L << 62;

        /// <summary>
        /// A limit file (memory.max, memory.high, memory.limit_in_bytes): bytes, or null for "no limit" ("max" on v2,
        /// the huge page-aligned number on v1). Throws FormatException for anything else, so a corrupt value is never
        /// taken for "no limit".
        /// </summary>
        public static long? Limit(string text)
        {
            string t = text.Trim();
            if (t == "max") return null;
            if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                throw new FormatException($"'{Shorten(t)}' is neither a number of bytes nor \"max\".");
            return value >= UnlimitedFrom ? (long?)null : value;
        }

        /// <summary>A file that holds one number of bytes (memory.current, memory.usage_in_bytes).</summary>
        public static long Number(string text)
        {
            string t = text.Trim();
            if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                throw new FormatException($"'{Shorten(t)}' is not a number.");
            return value;
        }

        /// <summary>
        /// /proc/PID/cgroup. A line that does not have the three fields is skipped; the path is kept as the kernel
        /// wrote it (a cgroup's name may hold any character but '/' and NUL, even a colon, so only the first two
        /// colons separate fields).
        /// </summary>
        public static List<CgroupMembership> CgroupFile(string text)
        {
            var result = new List<CgroupMembership>();
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0) continue;
                int first = line.IndexOf(':');
                int second = first < 0 ? -1 : line.IndexOf(':', first + 1);
                if (second < 0) continue;
                if (!int.TryParse(line.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out int id)) continue;
                string controllers = line.Substring(first + 1, second - first - 1);
                result.Add(new CgroupMembership
                {
                    HierarchyId = id,
                    Controllers = controllers.Length == 0 ? Array.Empty<string>() : controllers.Split(','),
                    Path = line.Substring(second + 1),
                });
            }
            return result;
        }

        /// <summary>
        /// /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS".
        /// Paths are unescaped (the kernel writes space, tab, newline and backslash as \040, \011, \012 and \134).
        /// </summary>
        public static List<MountEntry> MountInfo(string text)
        {
            var result = new List<MountEntry>();
            foreach (var line in text.Split('\n'))
            {
                var fields = line.Split(' ');
                int dash = Array.IndexOf(fields, "-");
                if (dash < 6 || fields.Length < dash + 4) continue;
                result.Add(new MountEntry
                {
                    Root = Unescape(fields[3]),
                    MountPoint = Unescape(fields[4]),
                    FileSystemType = fields[dash + 1],
                    SuperOptions = fields[dash + 3].Split(','),
                });
            }
            return result;
        }

        /// <summary>Undoes mountinfo's octal escapes (\040 → space); anything else is kept as written.</summary>
        public static string Unescape(string field)
        {
            if (field.IndexOf('\\') < 0) return field;
            var sb = new StringBuilder(field.Length);
            for (int i = 0; i < field.Length; i++)
            {
                if (field[i] == '\\' && IsOctal(field, i + 1))
                {
                    sb.Append((char)((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
                    i += 3;
                }
                else sb.Append(field[i]);
            }
            return sb.ToString();
        }

        private static bool IsOctal(string s, int at) =>
            at + 2 < s.Length && s[at] >= '0' && s[at] <= '3' && s[at + 1] >= '0' && s[at + 1] <= '7' && s[at + 2] >= '0' && s[at + 2] <= '7';

        /// <summary>
        /// The start time of a process (field 22 of /proc/PID/stat, in clock ticks since boot): with the PID, what
        /// tells one process from a later one that reuses its PID. The name field (2) may hold spaces and parentheses:
        /// the fields are counted from the last ')'.
        /// </summary>
        public static ulong? StartTicks(string stat)
        {
            int close = stat.LastIndexOf(')');
            if (close < 0) return null;
            var rest = stat.Substring(close + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // rest[0] is field 3 (state): field 22 is rest[19].
            return rest.Length > 19 && ulong.TryParse(rest[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks) ? ticks : (ulong?)null;
        }

        /// <summary>The kernel's flags of a process (field 9 of /proc/PID/stat); null when they cannot be read.</summary>
        public static ulong? Flags(string stat)
        {
            int close = stat.LastIndexOf(')');
            if (close < 0) return null;
            var rest = stat.Substring(close + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return rest.Length > 6 && ulong.TryParse(rest[6], NumberStyles.None, CultureInfo.InvariantCulture, out ulong flags) ? flags : (ulong?)null;
        }

        /// <summary>PF_KTHREAD: a kernel thread, which has no user memory (its smaps_rollup cannot be opened).</summary>
        public const ulong KernelThreadFlag = 0x00200000;

        /// <summary>The state letter of /proc/PID/stat (field 3): Z for a zombie, X for dead.</summary>
        public static char? State(string stat)
        {
            int close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : (char?)null;
        }

        private static string Shorten(string s) => s.Length <= 40 ? s : s.Substring(0, 40) + "…";
    }
}
