using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using MemoryOps.Engine.Retention;

namespace MemoryOps.Engine.Heap
{
    /// <summary>What the dump reader process reads: per-type statistics only, or those and the object graph.</summary>
    internal enum DumpWorkerMode { Snapshot, Graph }

    /// <summary>One request to the dump reader process, as its command line carries it.</summary>
    internal sealed class DumpWorkerRequest
    {
        public DumpWorkerMode Mode { get; set; }
        public string DumpPath { get; set; } = "";
        public DumpReadOptions Options { get; set; } = new DumpReadOptions();
    }

    /// <summary>
    /// What the module and its dump reader process (MemoryOps.DumpWorker, see <see cref="DumpWorkerClient"/>) say
    /// to each other; both ends use this one class, so they cannot disagree.
    /// <list type="bullet">
    /// <item>Command line: <c>snapshot|graph --dump PATH [--runtime PATH] [--live-only] [--pid N] [--name NAME]</c>,
    /// each value its own argument (no shell ever parses it).</item>
    /// <item>stdout (binary): magic "MODW", version; the snapshot as length + the JSON of a snapshot file
    /// (<see cref="HeapSnapshotFile"/>); in graph mode the graph (<see cref="HeapGraphSerializer"/>); magic "WDOM".</item>
    /// <item>stderr (text lines): <c>progress 0.4213</c> (a fraction, or -1 when the end is not known);
    /// <c>error {"kind":…,"message":…,"target":…}</c> once, before the exit code <see cref="ExitReported"/>.
    /// Anything else there (the runtime's own last words) is kept only to quote in a crash message.</item>
    /// </list>
    /// </summary>
    internal static class DumpWorkerProtocol
    {
        public const int Version = 1;
        public const int ExitOk = 0;
        /// <summary>The reader refused the dump and said why on stderr (an "error" line).</summary>
        public const int ExitReported = 3;
        public const int ExitUsage = 4;
        /// <summary>The module's end of stdin closed: the module (pwsh) is gone, so nobody waits for the result.</summary>
        public const int ExitParentGone = 5;
        /// <summary>The JSON of a snapshot: a row per type (~100 bytes); no real heap has a million types.</summary>
        public const int MaxSnapshotBytes = 256 << 20;
        public const string ProgressPrefix = "progress ";
        public const string ErrorPrefix = "error ";
        private const uint Magic = 0x57444F4D;    // "MODW"
        private const uint EndMagic = 0x4D4F4457; // "WDOM"

        public static List<string> Arguments(DumpWorkerMode mode, string dumpPath, DumpReadOptions options)
        {
            var args = new List<string> { mode == DumpWorkerMode.Graph ? "graph" : "snapshot", "--dump", dumpPath };
            if (!string.IsNullOrEmpty(options.RuntimePath)) args.AddRange(new[] { "--runtime", options.RuntimePath! });
            if (options.LiveOnly) args.Add("--live-only");
            if (options.ProcessId.HasValue) args.AddRange(new[] { "--pid", options.ProcessId.Value.ToString(CultureInfo.InvariantCulture) });
            if (options.ProcessName != null) args.AddRange(new[] { "--name", options.ProcessName });
            return args;
        }

        /// <summary>The request on the worker's command line, or null and what is wrong with it.</summary>
        public static DumpWorkerRequest? Parse(IReadOnlyList<string> args, out string problem)
        {
            problem = "";
            var request = new DumpWorkerRequest();
            if (args.Count == 0 || (args[0] != "snapshot" && args[0] != "graph"))
            {
                problem = "usage: MemoryOps.DumpWorker snapshot|graph --dump PATH [--runtime PATH] [--live-only] [--pid N] [--name NAME]";
                return null;
            }
            request.Mode = args[0] == "graph" ? DumpWorkerMode.Graph : DumpWorkerMode.Snapshot;
            bool haveDump = false;
            for (int i = 1; i < args.Count; i++)
            {
                string flag = args[i];
                if (flag == "--live-only") { request.Options.LiveOnly = true; continue; }
                if (i + 1 >= args.Count) { problem = $"{flag} needs a value"; return null; }
                string value = args[++i];
                switch (flag)
                {
                    case "--dump": request.DumpPath = value; haveDump = true; break;
                    case "--runtime": request.Options.RuntimePath = value; break;
                    case "--name": request.Options.ProcessName = value; break;
                    case "--pid":
                        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) { problem = $"--pid {value} is not a process id"; return null; }
                        request.Options.ProcessId = pid;
                        break;
                    default: problem = $"unknown argument {flag}"; return null;
                }
            }
            if (!haveDump) { problem = "--dump is missing"; return null; }
            return request;
        }

        public static void WriteResult(Stream output, HeapSnapshot snapshot, HeapGraph? graph)
        {
            var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            w.Write(Version);
            var json = new MemoryStream();
            using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                HeapSnapshotFile.WriteJson(writer, snapshot);
            w.Write((int)json.Length);
            w.Write(json.GetBuffer(), 0, (int)json.Length);
            w.Flush();
            if (graph != null) HeapGraphSerializer.Write(graph, output);
            w.Write(EndMagic);
            w.Flush();
        }

        /// <summary>
        /// Reads what <see cref="WriteResult"/> wrote; anything cut short or malformed is InvalidDataException.
        /// <paramref name="maxGraphBytes"/> bounds the graph (see <see cref="HeapGraphSerializer.Read"/>).
        /// </summary>
        public static (HeapSnapshot Snapshot, HeapGraph? Graph) ReadResult(Stream input, bool withGraph, long maxGraphBytes, string dumpFullPath)
        {
            var head = new byte[12];
            ReadExactly(input, head, "its header");
            if (BitConverter.ToUInt32(head, 0) != Magic) throw new InvalidDataException("its output does not start with the reader's marker");
            int version = BitConverter.ToInt32(head, 4);
            if (version != Version) throw new InvalidDataException($"it speaks version {version} of the reader protocol, this module version {Version} (is lib/ from another MemoryOps?)");
            int length = BitConverter.ToInt32(head, 8);
            if (length <= 0 || length > MaxSnapshotBytes) throw new InvalidDataException($"it announces a snapshot of {length:N0} bytes (at most {MaxSnapshotBytes:N0})");
            var json = new byte[length];
            ReadExactly(input, json, "the snapshot");
            HeapSnapshot snapshot;
            try
            {
                using var doc = JsonDocument.Parse(json);
                snapshot = HeapSnapshotFile.FromJson(doc.RootElement, dumpFullPath, dumpFullPath);
            }
            catch (Exception e) when (e is JsonException || e is MemoryOpsException)
            {
                throw new InvalidDataException($"its snapshot is not valid: {e.Message}", e);
            }
            var graph = withGraph ? HeapGraphSerializer.Read(input, maxGraphBytes) : null;
            var end = new byte[4];
            ReadExactly(input, end, "its end marker");
            if (BitConverter.ToUInt32(end, 0) != EndMagic) throw new InvalidDataException("its output does not end with the reader's end marker");
            if (input.ReadByte() != -1) throw new InvalidDataException("it wrote more than its result");
            return (snapshot, graph);
        }

        private static void ReadExactly(Stream input, byte[] buffer, string what)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                int k = input.Read(buffer, done, buffer.Length - done);
                if (k <= 0) throw new InvalidDataException($"its output ends in the middle of {what}");
                done += k;
            }
        }

        public static string ProgressLine(double fraction) => ProgressPrefix + fraction.ToString("0.####", CultureInfo.InvariantCulture);

        public static bool TryParseProgress(string line, out double fraction)
        {
            fraction = 0;
            return line.StartsWith(ProgressPrefix, StringComparison.Ordinal)
                && double.TryParse(line.AsSpan(ProgressPrefix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out fraction)
                && (fraction == -1 || (fraction >= 0 && fraction <= 1));
        }

        /// <summary>One line (JSON escapes line breaks), whatever the message holds.</summary>
        public static string ErrorLine(FailureKind kind, string message, object? target)
        {
            var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("kind", kind.ToString());
                w.WriteString("message", message);
                if (target != null) w.WriteString("target", Convert.ToString(target, CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            return ErrorPrefix + Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        /// <summary>The error an "error" line reports, or null when the line is not a well-formed one.</summary>
        public static MemoryOpsException? ParseError(string line)
        {
            if (!line.StartsWith(ErrorPrefix, StringComparison.Ordinal)) return null;
            try
            {
                using var doc = JsonDocument.Parse(line.Substring(ErrorPrefix.Length));
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object
                    || !root.TryGetProperty("kind", out var kindEl) || kindEl.ValueKind != JsonValueKind.String
                    || !root.TryGetProperty("message", out var messageEl) || messageEl.ValueKind != JsonValueKind.String)
                    return null;
                // Names only: Enum.TryParse would also take "7" or "1,2".
                string kindName = kindEl.GetString()!;
                if (!Enum.TryParse(kindName, out FailureKind kind) || kind.ToString() != kindName) return null;
                string? target = root.TryGetProperty("target", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                return new MemoryOpsException(kind, messageEl.GetString()!, target);
            }
            catch (JsonException) { return null; }
        }
    }
}
