using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace MemoryOps.Engine.ProcessMemory
{
    /// <summary>Where a process's memory cgroup is: its hierarchy's version, its path, and the folder that holds its files.</summary>
    internal sealed class CgroupLocation
    {
        /// <summary>1 (the memory controller's own v1 hierarchy) or 2 (the unified hierarchy).</summary>
        public int Version { get; init; }
        /// <summary>The path /proc/PID/cgroup names (raw: a cgroup's name may hold any character but '/').</summary>
        public string Path { get; init; } = "";
        /// <summary>The folder of the cgroup's files, under <see cref="MountPoint"/>.</summary>
        public string Directory { get; init; } = "";
        /// <summary>Where the hierarchy is mounted: the walk up to ancestors' limits stops here.</summary>
        public string MountPoint { get; init; } = "";
    }

    /// <summary>What a memory cgroup says, with the effective limit found walking up its ancestors.</summary>
    internal sealed class CgroupMemory
    {
        public CgroupLocation Location { get; init; } = new CgroupLocation();
        public long? Usage { get; set; }
        public long? Peak { get; set; }
        public long? High { get; set; }
        public long? Anonymous { get; set; }
        public long? File { get; set; }
        public long? LimitHits { get; set; }
        public long? OomEvents { get; set; }
        public long? OomKills { get; set; }
        /// <summary>The limit nearest to being reached on the way up; null when no level sets one.</summary>
        public long? Limit { get; set; }
        /// <summary>The cgroup path (as /proc/PID/cgroup would name it) whose limit that is.</summary>
        public string LimitPath { get; set; } = "";
        public long? LimitUsage { get; set; }
    }

    /// <summary>
    /// Finds a process's memory cgroup and reads its files, for cgroup v1 (memory.usage_in_bytes,
    /// memory.limit_in_bytes, memory.max_usage_in_bytes, memory.stat, memory.failcnt, memory.oom_control) and v2
    /// (memory.current, memory.max, memory.high, memory.peak, memory.stat, memory.events).
    /// The limit that counts may be set on an ancestor: every level up to the hierarchy's mount is read, and the
    /// level with the least headroom is the one reported (inside a container with its own cgroup namespace the
    /// mount is the container's cgroup, so the walk stops there: the host's levels above are not visible).
    /// </summary>
    internal static class CgroupMemoryReader
    {
        private const int SmallFile = 256;
        private const int StatFile = 64 * 1024;

        /// <summary>
        /// The memory cgroup of a process from its /proc/PID/cgroup lines and this process's mounts; null (with the
        /// reason in <paramref name="why"/>) when the memory controller is not mounted here or the cgroup is not
        /// visible under its mount. v1 is chosen when the memory controller has a v1 hierarchy (a controller is on
        /// one hierarchy only); otherwise the unified hierarchy, when the memory controller is enabled there.
        /// </summary>
        public static CgroupLocation? Locate(IReadOnlyList<CgroupMembership> memberships, IReadOnlyList<MountEntry> mounts, out string why)
        {
            var v1 = memberships.FirstOrDefault(m => m.Controllers.Contains("memory"));
            if (v1 != null)
            {
                var mount = MountHolding(mounts.Where(m => m.FileSystemType == "cgroup" && m.SuperOptions.Contains("memory")), v1.Path);
                if (mount == null) { why = "the memory controller (cgroup v1) is not mounted in this mount namespace"; return null; }
                return Resolve(1, v1.Path, mount, out why);
            }
            var unified = memberships.FirstOrDefault(m => m.IsUnified);
            if (unified != null)
            {
                var mount = MountHolding(mounts.Where(m => m.FileSystemType == "cgroup2"), unified.Path);
                if (mount == null) { why = "the unified cgroup hierarchy (cgroup v2) is not mounted in this mount namespace"; return null; }
                var location = Resolve(2, unified.Path, mount, out why);
                if (location == null) return null;
                // The memory controller may be off on v2 (a hybrid host keeps it on v1, or it is not enabled): its files tell.
                string controllers = KernelFile.TryRead(Path.Combine(location.MountPoint, "cgroup.controllers"), 4096, location.Path) ?? "";
                if (!controllers.Split(' ', '\n').Contains("memory"))
                {
                    why = $"the memory controller is not enabled on the unified hierarchy at '{location.MountPoint}'";
                    return null;
                }
                return location;
            }
            why = "/proc/PID/cgroup names no memory cgroup";
            return null;
        }

        /// <summary>
        /// Of several mounts of the same hierarchy (bind mounts of part of it, a container's view), the one whose root is
        /// the longest prefix of the cgroup's path: the first one listed may not hold the cgroup at all. With none that
        /// holds it, the first (Resolve then says why the cgroup is outside it).
        /// </summary>
        private static MountEntry? MountHolding(IEnumerable<MountEntry> candidates, string path)
        {
            var list = candidates.ToList();
            static bool Holds(MountEntry m, string p)
            {
                string root = m.Root.TrimEnd('/');
                return root.Length == 0 || p == root || p.StartsWith(root + "/", StringComparison.Ordinal);
            }
            return list.Where(m => Holds(m, path)).OrderByDescending(m => m.Root.TrimEnd('/').Length).FirstOrDefault() ?? list.FirstOrDefault();
        }

        private static CgroupLocation? Resolve(int version, string path, MountEntry mount, out string why)
        {
            why = "";
            // The kernel writes absolute paths made of cgroup names; ".." or "." cannot be a cgroup's name, so a path
            // holding one is not the kernel's and must not lead the reader out of the cgroup file system.
            var parts = path.Split('/');
            if (!path.StartsWith("/", StringComparison.Ordinal) || path.IndexOf('\0') >= 0 || parts.Skip(1).Any(p => p == "." || p == ".." || (p.Length == 0 && path != "/")))
            {
                why = $"the cgroup path '{path}' is not a cgroup path";
                return null;
            }
            string root = mount.Root.TrimEnd('/');
            string relative;
            if (root.Length == 0) relative = path;
            else if (path == root || path.StartsWith(root + "/", StringComparison.Ordinal)) relative = path.Substring(root.Length);
            else
            {
                why = $"the cgroup '{path}' is outside the part of the hierarchy mounted at '{mount.MountPoint}' ('{mount.Root}')";
                return null;
            }
            string dir = mount.MountPoint.TrimEnd('/') + (relative.Length == 0 || relative == "/" ? "" : relative);
            return new CgroupLocation { Version = version, Path = path, Directory = dir.Length == 0 ? "/" : dir, MountPoint = mount.MountPoint };
        }

        /// <summary>
        /// Reads the cgroup's files and walks up for the effective limit. Throws a MemoryOpsException (InvalidData)
        /// when a file holds something that is not a number: a value guessed from a corrupt file could say "no limit".
        /// Returns null when the cgroup's folder is gone (the cgroup was removed).
        /// </summary>
        public static CgroupMemory? Read(CgroupLocation location, object? target)
        {
            string dir = location.Directory;
            string? Text(string folder, string file, int max = SmallFile) => KernelFile.TryRead(Path.Combine(folder, file), max, target);
            long? Num(string folder, string file)
            {
                string? t = Text(folder, file);
                return t == null ? null : Parse(() => KernelFormats.Number(t), folder, file, target);
            }
            bool v2 = location.Version == 2;
            var result = new CgroupMemory { Location = location };
            result.Usage = Num(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
            if (result.Usage == null && !System.IO.Directory.Exists(dir)) return null;
            result.Peak = Num(dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
            if (v2 && Text(dir, "memory.high") is string high) result.High = Parse(() => KernelFormats.Limit(high), dir, "memory.high", target);

            if (Text(dir, "memory.stat", StatFile) is string statText)
            {
                var stat = KernelFormats.FlatKeyed(statText);
                // v1's rss/cache are this cgroup's own pages; total_* include its children, as usage_in_bytes does.
                result.Anonymous = Get(stat, v2 ? "anon" : "total_rss");
                result.File = Get(stat, v2 ? "file" : "total_cache");
            }
            if (v2)
            {
                if (Text(dir, "memory.events", 4096) is string eventsText)
                {
                    var events = KernelFormats.FlatKeyed(eventsText);
                    result.LimitHits = Get(events, "max");
                    result.OomEvents = Get(events, "oom");
                    result.OomKills = Get(events, "oom_kill");
                }
            }
            else
            {
                result.LimitHits = Num(dir, "memory.failcnt");
                // oom_kill is in memory.oom_control since Linux 4.13; older kernels give no count (null, not 0).
                if (Text(dir, "memory.oom_control", 4096) is string oomText) result.OomKills = Get(KernelFormats.FlatKeyed(oomText), "oom_kill");
            }

            // The effective limit: every level from the cgroup up to the mount, the one with the least headroom.
            string limitFile = v2 ? "memory.max" : "memory.limit_in_bytes";
            string usageFile = v2 ? "memory.current" : "memory.usage_in_bytes";
            string mount = location.MountPoint.TrimEnd('/');
            string levelPath = location.Path;
            for (string level = dir; ; )
            {
                if (Text(level, limitFile) is string limitText && Parse(() => KernelFormats.Limit(limitText), level, limitFile, target) is long limit)
                {
                    long? usage = level == dir ? result.Usage : Num(level, usageFile);
                    if (usage.HasValue && (result.Limit == null || limit - usage.Value < result.Limit.Value - result.LimitUsage!.Value))
                    {
                        result.Limit = limit;
                        result.LimitUsage = usage;
                        result.LimitPath = levelPath;
                    }
                }
                if (level.TrimEnd('/') == mount || level.Length <= mount.Length) break;
                string? parent = Path.GetDirectoryName(level.TrimEnd('/'));
                if (parent == null || parent.Length < mount.Length) break;
                level = parent.Length == 0 ? "/" : parent;
                int slash = levelPath.LastIndexOf('/');
                levelPath = slash <= 0 ? "/" : levelPath.Substring(0, slash);
            }
            return result;
        }

        private static long? Get(Dictionary<string, long> values, string key) => values.TryGetValue(key, out long v) ? v : (long?)null;

        private static T Parse<T>(Func<T> parse, string folder, string file, object? target)
        {
            try { return parse(); }
            catch (FormatException e)
            {
                throw new MemoryOpsException(FailureKind.InvalidData, $"'{Path.Combine(folder, file)}' cannot be read as a memory figure: {e.Message}", target, e);
            }
        }
    }
}
