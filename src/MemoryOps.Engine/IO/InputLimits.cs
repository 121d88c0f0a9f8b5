using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace MemoryOps.Engine.IO
{
    /// <summary>
    /// How much one input file (a snapshot, a baseline, a policy) may hold, so a small hostile file cannot make the
    /// module use gigabytes: a 3 MB gzip bomb decompresses to gigabytes, a 1 MB one can carry a name of a billion
    /// characters. One number, set by -MaximumInputSize, bounds the bytes once decompressed; the limits on JSON
    /// values and on the length of one name grow with it, so raising it raises all three.
    /// Sized for real heaps: up to ~100,000 types (about 4 JSON values each), names of up to a few thousand
    /// characters, snapshot files of a few MB (15 MB of JSON for 100,000 types).
    /// </summary>
    internal sealed class InputLimits
    {
        /// <summary>Snapshot files: 64 MB of JSON (a real heap of 100,000 types is about 15 MB), 2 M values, names of 16,384 characters.</summary>
        public const long DefaultSnapshotMaximumInputSize = 64L * 1024 * 1024;
        /// <summary>Baseline files hold a history of snapshots (30 by default): 256 MB, 8 M values, names of 65,536 characters.</summary>
        public const long DefaultBaselineMaximumInputSize = 256L * 1024 * 1024;
        /// <summary>Policy files: PowerShell's parser needs far more memory per byte than JSON does, and a policy is a few KB.</summary>
        public const long DefaultPolicyMaximumInputSize = 4L * 1024 * 1024;
        public const long SmallestMaximumInputSize = 1024;
        /// <summary>The largest array .NET allocates (Array.MaxLength): the decompressed bytes are held in one.</summary>
        public const long LargestMaximumInputSize = 2_147_483_591;
        /// <summary>Real snapshot JSON spends 20 to 40 bytes per value; a flood of "0," spends 2.</summary>
        public const int BytesPerValue = 32;
        public const int BytesPerNameCharacter = 4096;

        public static InputLimits Snapshot { get; } = new InputLimits(DefaultSnapshotMaximumInputSize);
        public static InputLimits Baseline { get; } = new InputLimits(DefaultBaselineMaximumInputSize);
        public static InputLimits Policy { get; } = new InputLimits(DefaultPolicyMaximumInputSize);

        public InputLimits(long maximumInputSize)
        {
            if (maximumInputSize < SmallestMaximumInputSize || maximumInputSize > LargestMaximumInputSize)
                throw new MemoryOpsException(FailureKind.InvalidInput,
                    $"The maximum input size must be between {SmallestMaximumInputSize} bytes and {LargestMaximumInputSize} bytes (2 GB); {maximumInputSize} was given.", maximumInputSize);
            MaxBytes = maximumInputSize;
        }

        /// <summary>The most bytes a file may hold once decompressed.</summary>
        public long MaxBytes { get; }

        /// <summary>The most JSON values (numbers, strings, objects, arrays, ...) in one file: one per 32 bytes of <see cref="MaxBytes"/>.</summary>
        public long MaxValues => Math.Max(1024, MaxBytes / BytesPerValue);

        /// <summary>The longest name (any JSON string or property name), in characters: one per 4 KB of <see cref="MaxBytes"/>, at least 4096.</summary>
        public int MaxNameLength => (int)Math.Max(4096, MaxBytes / BytesPerNameCharacter);

        /// <summary>The limits for a cmdlet's -MaximumInputSize: <paramref name="fallback"/> when it was not given.</summary>
        public static InputLimits For(long? maximumInputSize, InputLimits fallback) =>
            maximumInputSize.HasValue ? new InputLimits(maximumInputSize.Value) : fallback;

        internal static string Size(long bytes) => bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30} GB"
            : bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{bytes >> 20} MB"
            : bytes >= 1L << 10 && bytes % (1L << 10) == 0 ? $"{bytes >> 10} KB" : $"{bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes";

        /// <summary>"256MB", as PowerShell writes it, so the hint can be pasted.</summary>
        internal static string Literal(long bytes) => bytes % 1024 == 0 && bytes >= 1024 ? Size(bytes).Replace(" ", "") : bytes.ToString(CultureInfo.InvariantCulture);

        internal string RaiseHint =>
            $"If the file is genuine, raise the limit with -MaximumInputSize (now {Literal(MaxBytes)}; e.g. -MaximumInputSize {Literal(Math.Min(LargestMaximumInputSize, MaxBytes * 4))}), which raises the limits on size, JSON values and name length together.";
    }

    /// <summary>Reads a whole input file, decompressing gzip, and stops at the first limit it crosses.</summary>
    internal static class BoundedInput
    {
        /// <summary>
        /// The file's bytes (gunzipped when they start with the gzip magic: a renamed file still reads), never more
        /// than <see cref="InputLimits.MaxBytes"/>: a plain file larger than that (a 100 GB sparse file) is refused
        /// from its size without reading it; a gzip stream is refused as soon as it has produced that many bytes.
        /// With <paramref name="json"/>, the JSON is checked as it arrives, so a name of a billion characters or a
        /// flood of values is refused after the first few MB, not after the whole file is in memory (JSON that does
        /// not parse is left for the real parser to report, with its line and byte).
        /// </summary>
        public static ReadOnlyMemory<byte> ReadAll(FileStream file, InputLimits limits, string full, string what, object? target, JsonReaderOptions? json)
        {
            long size = file.Length;
            int b1 = file.ReadByte(), b2 = file.ReadByte();
            file.Position = 0;
            bool gzip = b1 == 0x1f && b2 == 0x8b;
            if (!gzip && size > limits.MaxBytes) throw TooLarge(full, what, target, limits, $"it holds {InputLimits.Size(size)}, more than the limit of {InputLimits.Size(limits.MaxBytes)}");
            var guard = json.HasValue ? new JsonGuard(limits, full, what, target, json.Value) : null;
            using var input = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : (Stream)file;

            // Read into 1 MB segments rather than one doubling buffer: a hostile stream refused at the limit has cost
            // the limit, not 1.75 times it; the one contiguous copy JsonDocument needs is made only for accepted input.
            var first = new Segment(new byte[(int)Math.Min(limits.MaxBytes, gzip ? 64 * 1024 : Math.Max(1, size))], 0);
            var last = first;
            long total = 0;
            while (true)
            {
                if (last.Length == last.Buffer.Length)
                {
                    if (total >= limits.MaxBytes && input.ReadByte() < 0) break; // exactly at the limit and done
                    if (total >= limits.MaxBytes) throw Past(gzip, full, what, target, limits);
                    // A plain file read to its size needs only a small segment to see its end (or that it grew).
                    last = last.Append(new byte[(int)Math.Min(gzip || total < size ? SegmentBytes : 4096, limits.MaxBytes - total + 1)]);
                }
                int n = input.Read(last.Buffer, last.Length, last.Buffer.Length - last.Length);
                if (n == 0) break;
                last.Commit(n);
                total += n;
                if (total > limits.MaxBytes) throw Past(gzip, full, what, target, limits);
                guard?.Advance(new ReadOnlySequence<byte>(first, 0, last, last.Length), isFinalBlock: false);
            }
            guard?.Advance(new ReadOnlySequence<byte>(first, 0, last, last.Length), isFinalBlock: true);
            if (ReferenceEquals(first, last)) return new ReadOnlyMemory<byte>(first.Buffer, 0, first.Length);
            var whole = new byte[total];
            new ReadOnlySequence<byte>(first, 0, last, last.Length).CopyTo(whole);
            return whole;
        }

        private const int SegmentBytes = 1024 * 1024;

        private static MemoryOpsException Past(bool gzip, string full, string what, object? target, InputLimits limits) =>
            TooLarge(full, what, target, limits, gzip ? $"it decompresses to more than the limit of {InputLimits.Size(limits.MaxBytes)}"
                                                      : $"it grew past the limit of {InputLimits.Size(limits.MaxBytes)} while it was read");

        private sealed class Segment : ReadOnlySequenceSegment<byte>
        {
            public Segment(byte[] buffer, long runningIndex)
            {
                Buffer = buffer;
                RunningIndex = runningIndex;
                Memory = ReadOnlyMemory<byte>.Empty;
            }

            public byte[] Buffer { get; }
            public int Length { get; private set; }

            public void Commit(int n)
            {
                Length += n;
                Memory = new ReadOnlyMemory<byte>(Buffer, 0, Length);
            }

            public Segment Append(byte[] buffer)
            {
                var next = new Segment(buffer, RunningIndex + Length);
                Next = next;
                return next;
            }
        }

        /// <summary>
        /// Walks the JSON read so far without building anything, resuming where the last complete token ended, and
        /// refuses it at the first value past the limits: too many values, or a string, property name or number too
        /// long. A token still incomplete after more bytes than the longest allowed one is refused at once, so a
        /// billion-character name costs a few hundred KB of reading, not a gigabyte.
        /// </summary>
        private sealed class JsonGuard
        {
            private readonly InputLimits limits;
            private readonly string full, what;
            private readonly object? target;
            private readonly long maxTokenBytes;
            private JsonReaderState state;
            private long consumed, values;
            private bool done;

            public JsonGuard(InputLimits limits, string full, string what, object? target, JsonReaderOptions options)
            {
                (this.limits, this.full, this.what, this.target) = (limits, full, what, target);
                state = new JsonReaderState(options);
                // An escaped character (\uXXXX) is 6 bytes: no allowed token is longer than this.
                maxTokenBytes = 6L * limits.MaxNameLength + 64;
            }

            public void Advance(ReadOnlySequence<byte> all, bool isFinalBlock)
            {
                if (done) return;
                var reader = new Utf8JsonReader(all.Slice(consumed), isFinalBlock, state);
                try
                {
                    while (reader.Read())
                    {
                        switch (reader.TokenType)
                        {
                            case JsonTokenType.PropertyName:
                            case JsonTokenType.String:
                            case JsonTokenType.Number:
                                if (reader.TokenType != JsonTokenType.PropertyName) values++;
                                long raw = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
                                if (raw > limits.MaxNameLength)
                                {
                                    long chars = CharacterCount(ref reader, raw, limits.MaxNameLength);
                                    if (chars > limits.MaxNameLength)
                                        throw TooLong(consumed + reader.TokenStartIndex, chars == long.MaxValue ? null : chars);
                                }
                                break;
                            case JsonTokenType.StartObject:
                            case JsonTokenType.StartArray:
                            case JsonTokenType.True:
                            case JsonTokenType.False:
                            case JsonTokenType.Null:
                                values++;
                                break;
                        }
                        if (values > limits.MaxValues)
                            throw TooLarge(full, what, target, limits,
                                $"it holds more than {limits.MaxValues:N0} JSON values, the limit (a snapshot of a real heap holds about 4 per heap type: some 400,000 for 100,000 types)");
                    }
                }
                catch (JsonException) { done = true; return; } // not JSON: the real parser says where
                consumed += reader.BytesConsumed;
                state = reader.CurrentState;
                if (isFinalBlock) done = true;
                else if (all.Length - consumed > maxTokenBytes) throw TooLong(consumed, null);
            }

            private MemoryOpsException TooLong(long at, long? chars) =>
                TooLarge(full, what, target, limits,
                    $"it holds a string, name or number of {(chars.HasValue ? chars.Value.ToString("N0", CultureInfo.InvariantCulture) : $"more than {limits.MaxNameLength:N0}")} characters at byte {at:N0}, past the limit of {limits.MaxNameLength:N0} (real type names are at most a few thousand)");
        }

        /// <summary>The token's length in characters once unescaped; long.MaxValue when it is surely past <paramref name="limit"/>.</summary>
        private static long CharacterCount(ref Utf8JsonReader reader, long raw, int limit)
        {
            // An escape (\uXXXX) is at most 6 bytes for one character: past 6 × limit bytes it is surely too long.
            if (reader.ValueIsEscaped && raw / 6 > limit) return long.MaxValue;
            if (reader.TokenType == JsonTokenType.String || reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueIsEscaped)
                {
                    var chars = ArrayPool<char>.Shared.Rent((int)raw);
                    try { return reader.CopyString(chars); }
                    finally { ArrayPool<char>.Shared.Return(chars); }
                }
            }
            if (!reader.HasValueSequence) return Encoding.UTF8.GetCharCount(reader.ValueSpan);
            var bytes = ArrayPool<byte>.Shared.Rent((int)raw);
            try
            {
                reader.ValueSequence.CopyTo(bytes);
                return Encoding.UTF8.GetCharCount(bytes, 0, (int)raw);
            }
            finally { ArrayPool<byte>.Shared.Return(bytes); }
        }

        private static MemoryOpsException TooLarge(string full, string what, object? target, InputLimits limits, string which) =>
            new MemoryOpsException(FailureKind.InputTooLarge,
                $"The {what} '{full}' was not read: {which}. {limits.RaiseHint}", target);
    }
}
