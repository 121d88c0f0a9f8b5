using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;

namespace MemoryOps.Engine.Baselines
{
    /// <summary>
    /// A folder of baselines, one gzip-compressed JSON file each (&lt;name&gt;.baseline.json.gz) holding the history.
    /// Saving takes an exclusive lock on &lt;name&gt;.baseline.lock, reads the history, appends, trims to the
    /// maximum and replaces the file atomically, so two scheduled jobs saving at the same moment both land and a
    /// reader never sees half a file. A file that cannot be read is reported and never overwritten.
    /// </summary>
    internal sealed class BaselineStore
    {
        public const string EnvironmentVariable = "MEMORYOPS_BASELINE_STORE";
        public const string FormatName = "MemoryOps.Baseline";
        public const int CurrentVersion = 1;
        private const string Extension = ".baseline.json.gz";
        private static readonly Regex ValidName = new Regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant);

        public string Path { get; }

        /// <summary>How long a save waits for another writer before giving up.</summary>
        public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>How much one baseline file may hold (decompressed bytes, JSON values, name length).</summary>
        public InputLimits Limits { get; set; } = InputLimits.Baseline;

        /// <summary>
        /// A store at <paramref name="path"/>, else at <see cref="DefaultPath"/>. A relative path resolves against the
        /// process's working folder: cmdlets resolve it against PowerShell's current location first (a script's
        /// Set-Location does not change the process's working folder).
        /// </summary>
        public BaselineStore(string? path)
        {
            Path = System.IO.Path.GetFullPath(string.IsNullOrEmpty(path) ? DefaultPath() : path!);
        }

        /// <summary>MEMORYOPS_BASELINE_STORE as set (maybe relative), or null when it is not set.</summary>
        public static string? PathFromEnvironment()
        {
            string? fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(fromEnv) ? null : fromEnv;
        }

        /// <summary>The store named by MEMORYOPS_BASELINE_STORE, else the per-user data folder (~/.local/share/MemoryOps/baselines on Linux).</summary>
        public static string DefaultPath()
        {
            string? fromEnv = PathFromEnvironment();
            if (fromEnv != null) return fromEnv;
            string data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            if (string.IsNullOrEmpty(data))
                throw new MemoryOpsException(FailureKind.InvalidInput,
                    $"There is no per-user data folder (is HOME set?). Give -Store or set {EnvironmentVariable}.");
            return System.IO.Path.Combine(data, "MemoryOps", "baselines");
        }

        public static void ValidateName(string name)
        {
            if (name == null || !ValidName.IsMatch(name))
                throw new MemoryOpsException(FailureKind.InvalidInput,
                    $"'{name}' is not a valid baseline name: use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit).", name);
        }

        public string FileOf(string name) => System.IO.Path.Combine(Path, name + Extension);

        /// <summary>The names of the baselines in the store, sorted.</summary>
        public List<string> List()
        {
            if (!Directory.Exists(Path)) return new List<string>();
            return Directory.EnumerateFiles(Path, "*" + Extension)
                .Select(f => System.IO.Path.GetFileName(f))
                .Select(f => f.Substring(0, f.Length - Extension.Length))
                .Where(n => ValidName.IsMatch(n))
                .OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();
        }

        /// <summary>True when anything is at the baseline's path, even a link or a FIFO (which reading then refuses).</summary>
        public bool Exists(string name) => SafeFile.Exists(FileOf(name));

        /// <summary>The history of a baseline, oldest first. Throws InvalidInput when it does not exist, InvalidData when it cannot be read.</summary>
        public List<MemoryBaselineEntry> Read(string name)
        {
            ValidateName(name);
            string file = FileOf(name);
            if (!SafeFile.Exists(file))
                throw new MemoryOpsException(FailureKind.BaselineNotFound, $"There is no baseline '{name}' in the store {Path} (no file {file}).", name);
            return ReadFile(file, name);
        }

        /// <summary>
        /// Appends entries to a baseline's history (creating it), keeps the newest <paramref name="maxHistory"/> of
        /// each host (one busy host must not push a quiet one's history out of a shared store), and returns the
        /// history as saved.
        /// </summary>
        public List<MemoryBaselineEntry> Append(string name, IReadOnlyList<MemoryBaselineEntry> entries, int maxHistory, CancellationToken cancel = default)
        {
            ValidateName(name);
            if (maxHistory < 1) throw new MemoryOpsException(FailureKind.InvalidInput, "The maximum history must be at least 1.", maxHistory);
            foreach (var e in entries)
            {
                var problem = BaselineValues.FirstProblem(e);
                if (problem != null)
                    throw new MemoryOpsException(FailureKind.InvalidInput,
                        $"Nothing was saved to baseline '{name}': in the entry from {Describe(e)}, {problem}. A baseline averages its history, so one such value would skew every later check.", name);
            }
            CreateStoreFolder();
            string file = FileOf(name);
            using (AcquireLock(System.IO.Path.Combine(Path, name + ".baseline.lock"), name, cancel))
            {
                var history = SafeFile.Exists(file) ? ReadFile(file, name) : new List<MemoryBaselineEntry>();
                foreach (var e in entries) { e.Name = name; history.Add(e); }
                history = history.GroupBy(e => e.Host, StringComparer.OrdinalIgnoreCase)
                                 .SelectMany(host => host.OrderBy(e => e.Timestamp).TakeLast(maxHistory))
                                 .OrderBy(e => e.Timestamp).ToList();
                WriteHistory(file, name, history);
                return history;
            }
        }

        /// <summary>
        /// Removes the entries of a baseline that <paramref name="remove"/> selects, under the same lock as a save,
        /// and returns them. When none is left the file itself is deleted (the lock file stays: see AcquireLock).
        /// </summary>
        public List<MemoryBaselineEntry> RemoveEntries(string name, Func<MemoryBaselineEntry, bool> remove, CancellationToken cancel = default)
        {
            ValidateName(name);
            string file = FileOf(name);
            if (!File.Exists(file))
                throw new MemoryOpsException(FailureKind.BaselineNotFound, $"There is no baseline '{name}' in the store {Path} (no file {file}).", name);
            using (AcquireLock(System.IO.Path.Combine(Path, name + ".baseline.lock"), name, cancel))
            {
                var history = ReadFile(file, name);
                var removed = history.Where(remove).ToList();
                if (removed.Count == 0) return removed;
                var kept = history.Where(e => !removed.Contains(e)).ToList();
                if (kept.Count == 0) File.Delete(file);
                else WriteHistory(file, name, kept);
                return removed;
            }
        }

        private static void WriteHistory(string file, string name, IReadOnlyList<MemoryBaselineEntry> history) =>
            AtomicFile.Write(file, overwrite: true, stream =>
            {
                using var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
                using var json = new Utf8JsonWriter(gzip, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                WriteJson(json, name, history);
            });

        private void CreateStoreFolder()
        {
            if (Directory.Exists(Path)) return;
            try
            {
                SafeFile.CreatePrivateDirectory(Path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new MemoryOpsException(FailureKind.InvalidInput, $"The baseline store folder '{Path}' cannot be created: {e.Message}", Path, e);
            }
        }

        /// <summary>
        /// An exclusive lock between processes: flock(LOCK_EX) on &lt;name&gt;.baseline.lock, the lock .NET takes for
        /// FileShare.None, so it also excludes older versions of the module. The file is opened without following a
        /// link and must be a regular file of ours (see <see cref="SafeFile.TryLock"/>). It stays in place; deleting it
        /// would let a third writer lock a different file of the same name.
        /// </summary>
        private FileStream AcquireLock(string lockPath, string name, CancellationToken cancel)
        {
            var waited = Stopwatch.StartNew();
            var random = new Random();
            while (true)
            {
                var held = SafeFile.TryLock(lockPath, name);
                if (held != null) return held;
                if (waited.Elapsed > LockTimeout)
                    throw new MemoryOpsException(FailureKind.Timeout,
                        $"Another writer has held the lock on baseline '{name}' ({lockPath}) for {LockTimeout.TotalSeconds:0} s; nothing was changed.", name);
                cancel.ThrowIfCancellationRequested();
                Thread.Sleep(random.Next(5, 40));
            }
        }

        private static void WriteJson(Utf8JsonWriter w, string name, IReadOnlyList<MemoryBaselineEntry> history)
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", CurrentVersion);
            w.WriteString("name", name);
            w.WriteStartArray("entries");
            foreach (var e in history)
            {
                w.WriteStartObject();
                w.WriteString("timestamp", e.Timestamp.ToUniversalTime());
                w.WriteString("kind", e.Kind.ToString());
                w.WriteNumber("processId", e.ProcessId);
                w.WriteString("processName", e.ProcessName);
                w.WriteString("host", e.Host);
                w.WriteStartObject("metrics");
                foreach (var kv in e.Metrics) w.WriteNumber(kv.Key, kv.Value);
                w.WriteEndObject();
                w.WriteStartObject("units");
                foreach (var kv in e.Units) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
                if (e.Snapshot != null)
                {
                    w.WritePropertyName("snapshot");
                    HeapSnapshotFile.WriteJson(w, e.Snapshot);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.Flush();
        }

        private List<MemoryBaselineEntry> ReadFile(string file, string name)
        {
            MemoryOpsException Bad(string what, Exception? inner = null) =>
                new MemoryOpsException(FailureKind.InvalidData, $"The baseline file '{file}' cannot be read: {what}. It was left as it is; move it away to start a new history.", file, inner);
            const string What = "baseline file";
            ReadOnlyMemory<byte> bytes;
            // Never through a link: the store may be a folder others can write, and the docs promise a planted link is refused.
            using (var stream = SafeFile.OpenRead(file, What, file, followLinks: false))
            {
                try { bytes = BoundedInput.ReadAll(stream, Limits, file, What, file, new JsonReaderOptions()); }
                catch (Exception e) when (e is InvalidDataException || e is EndOfStreamException || e is IOException && !(e is FileNotFoundException))
                {
                    throw Bad($"the gzip stream is truncated or corrupt ({e.Message.TrimEnd('.')})", e);
                }
            }
            if (bytes.Length == 0) throw Bad("it is empty");
            try
            {
                using var doc = JsonDocument.Parse(bytes);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var f) || f.ValueKind != JsonValueKind.String || f.GetString() != FormatName)
                    throw Bad($"it has no \"format\": \"{FormatName}\" marker");
                if (!root.TryGetProperty("version", out var v) || !v.TryGetInt32(out int version) || version < 1)
                    throw Bad("it has no valid \"version\"");
                if (version > CurrentVersion)
                    throw new MemoryOpsException(FailureKind.UnsupportedVersion,
                        $"The baseline file '{file}' is version {version}; this MemoryOps reads up to version {CurrentVersion}. Update MemoryOps; the file was left as it is.", file);
                if (!root.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array) throw Bad("it has no \"entries\" array");
                var list = new List<MemoryBaselineEntry>();
                int i = 0;
                foreach (var e in entries.EnumerateArray())
                {
                    MemoryBaselineEntry entry;
                    try { entry = ReadEntry(e, name, file); }
                    catch (Exception ex) when (ex is InvalidOperationException || ex is FormatException || ex is KeyNotFoundException || ex is ArgumentException)
                    {
                        throw Bad($"entry {i} is malformed ({ex.Message.TrimEnd('.')})", ex);
                    }
                    var problem = BaselineValues.FirstProblem(entry);
                    if (problem != null) throw Bad($"in entry {i} (from {Describe(entry)}), {problem}");
                    list.Add(entry);
                    i++;
                }
                return list;
            }
            catch (JsonException e)
            {
                throw Bad($"its JSON is truncated or corrupt at line {e.LineNumber + 1}", e);
            }
        }

        private static MemoryBaselineEntry ReadEntry(JsonElement e, string name, string file)
        {
            var entry = new MemoryBaselineEntry
            {
                Name = name,
                Timestamp = e.GetProperty("timestamp").GetDateTime().ToUniversalTime(),
                Kind = Enum.Parse<BaselineEntryKind>(e.GetProperty("kind").GetString()!, ignoreCase: true),
                ProcessId = e.TryGetProperty("processId", out var p) ? p.GetInt32() : 0,
                ProcessName = e.TryGetProperty("processName", out var pn) ? pn.GetString() ?? "" : "",
                Host = e.TryGetProperty("host", out var h) ? h.GetString() ?? "" : "",
            };
            // A number beyond a double's range (1e400) reads as infinity, which the value check then names (GetDouble would throw).
            foreach (var m in e.GetProperty("metrics").EnumerateObject())
                entry.Metrics[m.Name] = m.Value.ValueKind == JsonValueKind.Number
                    ? double.Parse(m.Value.GetRawText(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
                    : throw new FormatException($"metric '{m.Name}' is not a number");
            if (e.TryGetProperty("units", out var units))
                foreach (var u in units.EnumerateObject()) entry.Units[u.Name] = u.Value.GetString() ?? "";
            if (e.TryGetProperty("snapshot", out var s) && s.ValueKind == JsonValueKind.Object)
                entry.Snapshot = HeapSnapshotFile.FromJson(s, file, file);
            return entry;
        }

        private static string Describe(MemoryBaselineEntry e) =>
            $"{e.Timestamp.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z" + (e.ProcessId != 0 ? $", process {e.ProcessName} ({e.ProcessId})" : "");

        /// <summary>A new entry from a heap snapshot: its totals as metrics and its per-type stats.</summary>
        public static MemoryBaselineEntry FromSnapshot(HeapSnapshot snapshot)
        {
            var entry = new MemoryBaselineEntry
            {
                Timestamp = snapshot.Timestamp == default ? DateTime.UtcNow : snapshot.Timestamp.ToUniversalTime(),
                Kind = BaselineEntryKind.Snapshot, ProcessId = snapshot.ProcessId, ProcessName = snapshot.ProcessName,
                Host = snapshot.Host, Snapshot = snapshot,
            };
            foreach (var (metric, value) in Rules.ObservationReader.SnapshotMetrics(snapshot))
            {
                entry.Metrics[metric] = value;
                entry.Units[metric] = metric == "ObjectCount" ? "count" : "bytes";
            }
            return entry;
        }

        /// <summary>A new entry from counter samples: each series' mean over the samples given.</summary>
        public static MemoryBaselineEntry FromCounterSamples(IReadOnlyList<CounterSample> samples)
        {
            var last = samples.OrderBy(s => s.Timestamp).Last();
            var entry = new MemoryBaselineEntry
            {
                Timestamp = last.Timestamp == default ? DateTime.UtcNow : last.Timestamp.ToUniversalTime(),
                Kind = BaselineEntryKind.Counters, ProcessId = last.ProcessId, ProcessName = last.ProcessName, Host = last.Host,
            };
            foreach (var series in samples.GroupBy(Rules.ObservationReader.MetricName, StringComparer.OrdinalIgnoreCase))
            {
                entry.Metrics[series.Key] = series.Average(s => s.Value);
                entry.Units[series.Key] = series.First().Unit;
            }
            return entry;
        }
    }
}
