using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text.Json;
using MemoryOps.Engine.IO;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// The heap snapshot file format (docs/heap-snapshot-format.md): UTF-8 JSON, gzip-compressed when the
    /// path ends in .gz, with a format name and a version so a reader can refuse what it does not understand.
    /// </summary>
    internal static class HeapSnapshotFile
    {
        public const string FormatName = "MemoryOps.HeapSnapshot";
        public const int CurrentVersion = 1;

        public static void Write(HeapSnapshot snapshot, string path, bool overwrite)
        {
            bool gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
            AtomicFile.Write(path, overwrite, stream =>
            {
                Stream target = gzip ? new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true) : stream;
                try
                {

                    // Relaxed escaping keeps type names readable (Dictionary<String, X>+Entry[] instead of \u003C...\u003E).
                using (var json = new Utf8JsonWriter(target, new JsonWriterOptions { Indented = !gzip, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                    WriteJson(json, snapshot);
                target.WriteByte((byte)'\n');
                }
                finally
                {
                    if (gzip) target.Dispose();
                }
            });
        }

        /// <summary>Writes the snapshot as one JSON object (the whole file, or one entry of a baseline).</summary>
        internal static void WriteJson(Utf8JsonWriter w, HeapSnapshot s)
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", CurrentVersion);
            w.WriteString("source", s.Source.ToString());
            w.WriteNumber("processId", s.ProcessId);
            w.WriteString("processName", s.ProcessName);
            w.WriteString("host", s.Host);
            w.WriteString("timestamp", s.Timestamp.ToUniversalTime());
            w.WriteString("runtimeVersion", s.RuntimeVersion);
            w.WriteBoolean("liveOnly", s.LiveOnly);
            w.WriteNumber("totalBytes", s.TotalBytes);
            w.WriteNumber("objectCount", s.ObjectCount);
            w.WriteNumber("freeBytes", s.FreeBytes);
            WriteOptional(w, "gen0Bytes", s.Gen0Bytes);
            WriteOptional(w, "gen1Bytes", s.Gen1Bytes);
            WriteOptional(w, "gen2Bytes", s.Gen2Bytes);
            WriteOptional(w, "lohBytes", s.LohBytes);
            WriteOptional(w, "pohBytes", s.PohBytes);
            if (s.DumpPath != null) w.WriteString("dumpPath", s.DumpPath);
            w.WriteNumber("duration", s.Duration);
            w.WriteStartArray("types");
            foreach (var t in s.Types)
            {
                w.WriteStartObject();
                w.WriteString("typeName", t.TypeName);
                w.WriteNumber("count", t.Count);
                w.WriteNumber("totalBytes", t.TotalBytes);
                if (t.IsFree) w.WriteBoolean("isFree", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static void WriteOptional(Utf8JsonWriter w, string name, long? value)
        {
            if (value.HasValue) w.WriteNumber(name, value.Value);
        }

        /// <summary>Reads a snapshot file, refusing anything but a regular file and stopping at the first of <paramref name="limits"/> it crosses.</summary>
        public static HeapSnapshot Read(string path, InputLimits? limits = null)
        {
            const string What = "snapshot file";
            string full = Path.GetFullPath(path);
            limits ??= InputLimits.Snapshot;
            ReadOnlyMemory<byte> bytes;
            using (var file = SafeFile.OpenRead(full, What, path))
            {
                try
                {
                    bytes = BoundedInput.ReadAll(file, limits, full, What, path, new JsonReaderOptions());
                }
                catch (Exception e) when (e is InvalidDataException || e is EndOfStreamException || e is IOException && !(e is FileNotFoundException))
                {
                    throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' is not a readable snapshot: the gzip stream is truncated or corrupt ({e.Message}).", path, e);
                }
            }
            if (bytes.Length == 0)
                throw new MemoryOpsException(FailureKind.InvalidData, $"'{full}' is empty: it is not a snapshot.", path);
            try
            {
                using var doc = JsonDocument.Parse(bytes);
                return FromJson(doc.RootElement, full, path);
            }
            catch (JsonException e)
            {
                throw new MemoryOpsException(FailureKind.InvalidData,
                    $"'{full}' is not a valid snapshot: its JSON is truncated or corrupt at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}.", path, e);
            }
        }

        /// <summary>Reads one snapshot JSON object; errors name <paramref name="full"/>.</summary>
        internal static HeapSnapshot FromJson(JsonElement root, string full, string path)
        {
            MemoryOpsException Bad(string what) => new MemoryOpsException(FailureKind.InvalidData, $"'{full}' is not a valid snapshot: {what}.", path);

            if (root.ValueKind != JsonValueKind.Object) throw Bad("the top level is not a JSON object");
            if (!root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != FormatName)
                throw Bad($"it has no \"format\": \"{FormatName}\" marker (is it a snapshot file?)");
            if (!root.TryGetProperty("version", out var versionEl) || versionEl.ValueKind != JsonValueKind.Number || !versionEl.TryGetInt32(out int version))
                throw Bad("it has no whole-number \"version\"");
            if (version > CurrentVersion)
                throw new MemoryOpsException(FailureKind.UnsupportedVersion,
                    $"'{full}' is a version {version} snapshot; this MemoryOps reads up to version {CurrentVersion}. Update MemoryOps to read it.", path);
            if (version < 1) throw Bad($"version {version} is not a valid version");

            try
            {
                var s = new HeapSnapshot
                {
                    Source = Enum.Parse<SnapshotSource>(Req(root, "source").GetString()!, ignoreCase: true),
                    ProcessId = Req(root, "processId").GetInt32(),
                    ProcessName = Req(root, "processName").GetString() ?? "",
                    // Files written before snapshots had a host say nothing about where they came from.
                    Host = root.TryGetProperty("host", out var host) && host.ValueKind == JsonValueKind.String ? host.GetString() ?? "" : "",
                    Timestamp = Req(root, "timestamp").GetDateTime().ToUniversalTime(),
                    RuntimeVersion = Req(root, "runtimeVersion").GetString() ?? "",
                    LiveOnly = Req(root, "liveOnly").GetBoolean(),
                    TotalBytes = Req(root, "totalBytes").GetInt64(),
                    ObjectCount = Req(root, "objectCount").GetInt64(),
                    FreeBytes = root.TryGetProperty("freeBytes", out var fb) ? fb.GetInt64() : 0,
                    Gen0Bytes = Opt(root, "gen0Bytes"),
                    Gen1Bytes = Opt(root, "gen1Bytes"),
                    Gen2Bytes = Opt(root, "gen2Bytes"),
                    LohBytes = Opt(root, "lohBytes"),
                    PohBytes = Opt(root, "pohBytes"),
                    DumpPath = root.TryGetProperty("dumpPath", out var dp) ? dp.GetString() : null,
                    Duration = root.TryGetProperty("duration", out var du) ? du.GetDouble() : 0,
                };
                var types = Req(root, "types");
                if (types.ValueKind != JsonValueKind.Array) throw Bad("\"types\" is not an array");
                var list = new List<HeapTypeStat>(types.GetArrayLength());
                // Every writer lists a type once; summing repeats would let a planted file inflate or split a type.
                var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
                int i = 0;
                foreach (var t in types.EnumerateArray())
                {
                    if (!t.TryGetProperty("typeName", out var n) || n.ValueKind != JsonValueKind.String) throw Bad($"type row {i} has no typeName");
                    if (!t.TryGetProperty("count", out var c) || !c.TryGetInt64(out long count) || count < 0) throw Bad($"type row {i} ({n.GetString()}) has no valid count");
                    if (!t.TryGetProperty("totalBytes", out var b) || !b.TryGetInt64(out long bytes) || bytes < 0) throw Bad($"type row {i} ({n.GetString()}) has no valid totalBytes");
                    if (rowOf.TryGetValue(n.GetString()!, out int first))
                        throw Bad($"type rows {first} and {i} are both '{n.GetString()}': a snapshot lists each type once, so the file was edited or forged and its figures cannot be trusted");
                    rowOf[n.GetString()!] = i;
                    list.Add(new HeapTypeStat { TypeName = n.GetString()!, Count = count, TotalBytes = bytes, IsFree = t.TryGetProperty("isFree", out var f) && f.ValueKind == JsonValueKind.True });
                    i++;
                }
                s.Types = list;
                return s;
            }
            catch (Exception e) when (e is InvalidOperationException || e is FormatException || e is ArgumentException || e is KeyNotFoundException)
            {
                throw Bad(e.Message.TrimEnd('.'));
            }

            JsonElement Req(JsonElement o, string name) =>
                o.TryGetProperty(name, out var v) ? v : throw Bad($"the field \"{name}\" is missing");
        }

        private static long? Opt(JsonElement o, string name) =>
            o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : (long?)null;
    }
}
