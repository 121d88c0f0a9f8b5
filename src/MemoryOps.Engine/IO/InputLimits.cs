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
    public sealed class InputLimits
    {
        /// <summary>Snapshots and baselines: 256 MB of JSON, 16.7 M values, names of 65,536 characters.</summary>
        public const long DefaultMaximumInputSize = 256L * 1024 * 1024;
        /// <summary>Policy files: PowerShell's parser needs far more memory per byte than JSON does, and a policy is a few KB.</summary>
        public const long DefaultPolicyMaximumInputSize = 4L * 1024 * 1024;
        public const long SmallestMaximumInputSize = 1024;
        /// <summary>The largest array .NET allocates (Array.MaxLength): the decompressed bytes are held in one.</summary>
        public const long LargestMaximumInputSize = 2_147_483_591;
        public const int BytesPerValue = 16;
        public const int BytesPerNameCharacter = 4096;

        public static InputLimits Default { get; } = new InputLimits(DefaultMaximumInputSize);
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

        /// <summary>The most JSON values (numbers, strings, objects, arrays, ...) in one file: one per 16 bytes of <see cref="MaxBytes"/>.</summary>
        public long MaxValues => Math.Max(1024, MaxBytes / BytesPerValue);

        /// <summary>The longest name (any JSON string or property name), in characters: one per 4 KB of <see cref="MaxBytes"/>, at least 4096.</summary>
        public int MaxNameLength => (int)Math.Max(4096, MaxBytes / BytesPerNameCharacter);

        /// <summary>The limits for a cmdlet's -MaximumInputSize: <paramref name="fallback"/> when it was not given.</summary>
        public static InputLimits For(long? maximumInputSize, InputLimits fallback) =>
            maximumInputSize.HasValue ? new InputLimits(maximumInputSize.Value) : fallback;

        internal static string Size(long bytes) => bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30} GB"
            : bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{bytes >> 20} MB"
            : bytes >= 1L << 10 && bytes % (1L << 10) == 0 ? $"{bytes >> 10} KB" : $"{bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes";

        internal string RaiseHint => $"If the file is genuine, raise the limit with -MaximumInputSize (now {Size(MaxBytes)}; e.g. -MaximumInputSize {Size(Math.Min(LargestMaximumInputSize, MaxBytes * 4))}).";
    }

    /// <summary>Reads a whole input file, decompressing gzip, and stops at the first limit it crosses.</summary>
    public static class BoundedInput
    {
        /// <summary>
        /// The file's bytes (gunzipped when they start with the gzip magic: a renamed file still reads), never more
        /// than <see cref="InputLimits.MaxBytes"/>: a plain file larger than that (a 100 GB sparse file) is refused
        /// from its size without reading it; a gzip stream is refused as soon as it has produced that many bytes.
        /// </summary>
        public static ReadOnlyMemory<byte> ReadAll(FileStream file, InputLimits limits, string full, string what, object? target)
        {
            long size = file.Length;
            int b1 = file.ReadByte(), b2 = file.ReadByte();
            file.Position = 0;
            bool gzip = b1 == 0x1f && b2 == 0x8b;
            if (!gzip && size > limits.MaxBytes) throw TooLarge(full, what, target, limits, $"it holds {InputLimits.Size(size)}");
            long initial = gzip ? Math.Min(limits.MaxBytes, Math.Max(64 * 1024, size * 4)) : size;
            using var input = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : (Stream)file;
            var buffer = new MemoryStream((int)Math.Min(initial, limits.MaxBytes));
            var chunk = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                int n;
                while ((n = input.Read(chunk, 0, chunk.Length)) > 0)
                {
                    if (buffer.Length + n > limits.MaxBytes)
                        throw TooLarge(full, what, target, limits, gzip ? $"it decompresses to more than {InputLimits.Size(limits.MaxBytes)}" : $"it grew past {InputLimits.Size(limits.MaxBytes)} while it was read");
                    buffer.Write(chunk, 0, n);
                }
            }
            finally { ArrayPool<byte>.Shared.Return(chunk); }
            return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        /// <summary>
        /// Walks JSON once without building anything and refuses it at the first value past the limits: too many
        /// values, or a string or property name too long. JSON that does not parse is left for the real parser to
        /// report (with its line and byte).
        /// </summary>
        public static void CheckJson(ReadOnlySpan<byte> json, InputLimits limits, string full, string what, object? target, JsonReaderOptions options = default)
        {
            var reader = new Utf8JsonReader(json, options);
            long values = 0;
            char[]? scratch = null;
            try
            {
                while (reader.Read())
                {
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName:
                        case JsonTokenType.String:
                            if (reader.TokenType == JsonTokenType.String) values++;
                            if (reader.ValueSpan.Length > limits.MaxNameLength)
                            {
                                long chars = CharacterCount(ref reader, limits.MaxNameLength, ref scratch);
                                if (chars > limits.MaxNameLength)
                                    throw TooLarge(full, what, target, limits,
                                        $"it holds a name of {(chars == long.MaxValue ? $"more than {limits.MaxNameLength:N0}" : chars.ToString("N0", CultureInfo.InvariantCulture))} characters at byte {reader.TokenStartIndex:N0}, past the limit of {limits.MaxNameLength:N0} (real type names are at most a few thousand)");
                            }
                            break;
                        case JsonTokenType.StartObject:
                        case JsonTokenType.StartArray:
                        case JsonTokenType.Number:
                        case JsonTokenType.True:
                        case JsonTokenType.False:
                        case JsonTokenType.Null:
                            values++;
                            break;
                    }
                    if (values > limits.MaxValues)
                        throw TooLarge(full, what, target, limits,
                            $"it holds more than {limits.MaxValues:N0} JSON values (the limit; a snapshot of a real heap holds about 4 per heap type, some 400,000 for 100,000 types)");
                }
            }
            catch (JsonException) { } // the real parser reports it, with its position
        }

        /// <summary>The string's length in characters once unescaped; long.MaxValue when it is surely past <paramref name="limit"/>.</summary>
        private static long CharacterCount(ref Utf8JsonReader reader, int limit, ref char[]? scratch)
        {
            var raw = reader.ValueSpan;
            if (!reader.ValueIsEscaped) return Encoding.UTF8.GetCharCount(raw);
            // An escape (\uXXXX) is at most 6 bytes for one character: past 6 × limit bytes it is surely too long.
            if (raw.Length / 6 > limit) return long.MaxValue;
            if (scratch == null || scratch.Length < raw.Length) scratch = new char[raw.Length];
            return reader.CopyString(scratch);
        }

        private static MemoryOpsException TooLarge(string full, string what, object? target, InputLimits limits, string which) =>
            new MemoryOpsException(FailureKind.InputTooLarge,
                $"The {what} '{full}' was not read: {which}. {limits.RaiseHint}", target);
    }
}
