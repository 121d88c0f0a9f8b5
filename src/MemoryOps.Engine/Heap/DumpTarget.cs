using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Threading;
using MemoryOps.Engine.IO;
using Microsoft.Diagnostics.Runtime;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// The one way the engine opens a dump with ClrMD. A dump is input someone else wrote, and ClrMD reads parts
    /// of it from inside callbacks of the native DAC, where an exception cannot be caught by anyone and ends the
    /// process. So every DataTarget over a dump is built here:
    /// <list type="bullet">
    /// <item>with <see cref="LocalFileLocator"/>: ClrMD's default locator is a symbol-server client built on
    /// Azure.Core, which the module does not ship (creating it inside a DAC read ended pwsh with
    /// FileNotFoundException), and a dump must never make the module reach the network anyway;</item>
    /// <item>over a <see cref="GuardedDataReader"/>: the dump's modules are parsed once, here, where a corrupt
    /// list is an error the caller sees; memory reads never throw into the DAC (a failed read is remembered
    /// and reported afterwards, so a half-read heap is never shown as a snapshot); and modules naming a local
    /// FIFO, device or unreadable file are never opened.</item>
    /// </list>
    /// </summary>
    internal static class DumpTarget
    {
        /// <summary>Opens <paramref name="fullPath"/>; a file that is not a readable dump is InvalidData naming it.</summary>
        public static DataTarget Open(string fullPath, object target)
        {
            CheckNotTruncated(fullPath, target);
            var options = new DataTargetOptions { FileLocator = LocalFileLocator.Instance };
            DataTarget loaded;
            // Opened by us (a regular file only: a FIFO would hang the read, a device never ends) and read by ClrMD
            // through this very handle, as LoadDump(path) would through its own.
            var dump = IO.SafeFile.OpenRead(fullPath, "dump", target);
            try { loaded = DataTarget.LoadDump(fullPath, dump, leaveOpen: false, options); }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                throw NotReadable(fullPath, target, e);
            }
            try
            {
                return new DataTarget(new GuardedDataReader(loaded, fullPath), options);
            }
            catch (Exception e)
            {
                loaded.Dispose();
                if (e is OutOfMemoryException) throw;
                throw NotReadable(fullPath, target, e);
            }
        }

        /// <summary>
        /// An ELF core dump lists, in its program headers, where in the file each piece of memory lies. When the
        /// file ends before the last of them (a copy cut short, a full disk while writing), ClrMD would read what
        /// is there and fail somewhere deep in, with a message about whatever it happened to miss; this says what
        /// is wrong. Other formats (Windows minidumps) are left to ClrMD.
        /// </summary>
        private static void CheckNotTruncated(string fullPath, object target)
        {
            long length, end = 0;
            try
            {
                // Opened the checked way: a FIFO or a device at the path would block this read, or never end.
                using var file = IO.SafeFile.OpenRead(fullPath, "dump", target);
                length = file.Length;
                var header = new byte[64];
                if (file.Read(header, 0, header.Length) != header.Length) return; // too short to be anything: ClrMD says so
                if (header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2 || header[5] != 1) return;
                ulong phoff = BitConverter.ToUInt64(header, 0x20);
                int phentsize = BitConverter.ToUInt16(header, 0x36), phnum = BitConverter.ToUInt16(header, 0x38);
                if (phentsize < 56 || phoff > (ulong)length) return; // nonsense headers: ClrMD's own checks report them
                end = (long)phoff + (long)phentsize * phnum;
                var table = new byte[(long)phentsize * phnum];
                file.Position = (long)phoff;
                int read = 0;
                while (read < table.Length) { int n = file.Read(table, read, table.Length - read); if (n <= 0) break; read += n; }
                for (int i = 0; (i + 1) * phentsize <= read; i++)
                {
                    ulong offset = BitConverter.ToUInt64(table, i * phentsize + 8), size = BitConverter.ToUInt64(table, i * phentsize + 0x20);
                    if (offset <= long.MaxValue && size <= long.MaxValue && offset + size > offset) end = Math.Max(end, (long)Math.Min(offset + size, long.MaxValue));
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw NotReadable(fullPath, target, e);
            }
            if (end > length)
                throw new MemoryOpsException(FailureKind.InvalidData,
                    $"'{fullPath}' is truncated or its headers are damaged: it is {length:N0} bytes long, but its program headers place data up to byte {end:N0}. Copy or take the dump again.", target);
        }

        /// <summary>The first read of the dump that failed (or null): a snapshot read while one failed is incomplete.</summary>
        public static string? ReadFault(DataTarget target) => (target.DataReader as GuardedDataReader)?.Fault;

        internal static MemoryOpsException NotReadable(string fullPath, object target, Exception e)
        {
            var inner = e is AggregateException agg && agg.InnerExceptions.Count == 1 ? agg.InnerExceptions[0] : e;
            return new MemoryOpsException(FailureKind.InvalidData,
                $"'{fullPath}' is not a readable dump (truncated or corrupt?): {inner.GetType().Name}: {inner.Message}", target, inner);
        }
    }

    /// <summary>
    /// Finds the files ClrMD asks for (PE images whose memory the dump lacks) on this machine's disk only, at
    /// the path the dump gives, and only when that is a regular, readable file whose PE header matches what the
    /// dump recorded. Never a symbol server, never a download, never a FIFO or device.
    /// </summary>
    internal sealed class LocalFileLocator : IFileLocator
    {
        public static readonly LocalFileLocator Instance = new LocalFileLocator();

        public string? FindPEImage(string fileName, int buildTimeStamp, int imageSize, bool checkProperties)
        {
            try
            {
                if (!LocalFile.IsReadableRegularFile(fileName)) return null;
                if (!checkProperties) return fileName;
                using var stream = IO.SafeFile.TryOpenRead(fileName); // checked again on the handle: the path may have changed
                if (stream == null) return null;
                using var pe = new PEReader(stream);
                var header = pe.PEHeaders;
                bool matches = header.CoffHeader.TimeDateStamp == buildTimeStamp && header.PEHeader != null && header.PEHeader.SizeOfImage == imageSize;
                return matches ? fileName : null;
            }
            catch (Exception) // ClrMD calls this from DAC callbacks: nothing may escape
            {
                return null;
            }
        }

        /// <summary>A PE image archived under an ELF or Mach-O build id lives on a symbol server: not looked for.</summary>
        public string? FindPEImage(string fileName, SymbolProperties archivedUnder, ImmutableArray<byte> buildIdOrUUID, OSPlatform originalPlatform, bool checkProperties) => null;
    }

    /// <summary>See <see cref="DumpTarget"/>: the dump's reader, made safe to call from DAC callbacks.</summary>
    internal sealed class GuardedDataReader : IDataReader, IDumpInfoProvider, IDisposable
    {
        private readonly DataTarget loaded;
        private readonly IDataReader reader;
        private readonly ModuleInfo[] modules;
        private readonly bool isMiniOrTriage, isCreatedByDotNetRuntime;
        private string? fault;

        public GuardedDataReader(DataTarget loaded, string displayName)
        {
            this.loaded = loaded;
            reader = loaded.DataReader;
            DisplayName = displayName;
            // Each of these parses part of the dump (headers, the NT_FILE note, the thread notes): here, where a
            // corrupt part throws to a caller that reports it, rather than later inside a DAC callback.
            IsThreadSafe = reader.IsThreadSafe;
            TargetPlatform = reader.TargetPlatform;
            Architecture = reader.Architecture;
            PointerSize = reader.PointerSize;
            ProcessId = reader.ProcessId;
            modules = reader.EnumerateModules().Select(LocalSafe).ToArray();
            if (reader is IDumpInfoProvider info) (isMiniOrTriage, isCreatedByDotNetRuntime) = (info.IsMiniOrTriage, info.IsCreatedByDotNetRuntime);
            else isCreatedByDotNetRuntime = true;
        }

        /// <summary>The first read that failed, as "reading 0x… failed: …", or null.</summary>
        public string? Fault => Volatile.Read(ref fault);

        public string DisplayName { get; }
        public bool IsThreadSafe { get; }
        public OSPlatform TargetPlatform { get; }
        public Architecture Architecture { get; }
        public int ProcessId { get; }
        public int PointerSize { get; }
        bool IDumpInfoProvider.IsMiniOrTriage => isMiniOrTriage;
        bool IDumpInfoProvider.IsCreatedByDotNetRuntime => isCreatedByDotNetRuntime;

        public IEnumerable<ModuleInfo> EnumerateModules() => modules;

        public int Read(ulong address, Span<byte> buffer)
        {
            try { return reader.Read(address, buffer); }
            catch (Exception e)
            {
                Record($"reading {buffer.Length} bytes at 0x{address:x} failed: {e.GetType().Name}: {e.Message}");
                return 0;
            }
        }

        public bool Read<T>(ulong address, out T value) where T : unmanaged
        {
            value = default;
            var bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1));
            return Read(address, bytes) == bytes.Length;
        }

        public T Read<T>(ulong address) where T : unmanaged
        {
            Read(address, out T value);
            return value;
        }

        public bool ReadPointer(ulong address, out ulong value)
        {
            if (PointerSize == 8) return Read(address, out value);
            bool ok = Read(address, out uint small);
            value = small;
            return ok;
        }

        public ulong ReadPointer(ulong address)
        {
            ReadPointer(address, out ulong value);
            return value;
        }

        public bool GetThreadContext(uint threadID, uint contextFlags, Span<byte> context)
        {
            try { return reader.GetThreadContext(threadID, contextFlags, context); }
            catch (Exception e)
            {
                Record($"reading the registers of thread {threadID} failed: {e.GetType().Name}: {e.Message}");
                return false;
            }
        }

        public void FlushCachedData()
        {
            try { reader.FlushCachedData(); } catch (Exception) { } // a cache that cannot be flushed is read again as it is
        }

        public void Dispose() => loaded.Dispose();

        private void Record(string what) => Interlocked.CompareExchange(ref fault, what, null);

        /// <summary>
        /// Reads now what the DAC callbacks will ask of a module (its PE header's size and time stamp, parsed
        /// lazily from the dump otherwise), so a corrupt header throws here. A module whose path names something
        /// on this machine that is not a regular file this process may read keeps only its file name: ClrMD then
        /// never opens it (it opens only absolute paths), while the runtime is still recognised by name. A negative
        /// size (a hostile header) would make ClrMD's address arithmetic overflow inside a callback: it becomes 0.
        /// </summary>
        private static ModuleInfo LocalSafe(ModuleInfo module)
        {
            int size = module.IndexFileSize, stamp = module.IndexTimeStamp;
            string? name = module.FileName;
            bool unsafeFile = !string.IsNullOrEmpty(name) && LocalFile.Exists(name) && !LocalFile.IsReadableRegularFile(name);
            if (!unsafeFile && size >= 0) return module;
            return new RenamedModule(module, unsafeFile ? Path.GetFileName(name!) : name!, Math.Max(0, size), stamp);
        }

        private sealed class RenamedModule : ModuleInfo
        {
            private readonly ModuleInfo inner;
            private readonly int indexFileSize, indexTimeStamp;
            public RenamedModule(ModuleInfo inner, string fileName, int indexFileSize, int indexTimeStamp) : base(inner.ImageBase, fileName)
                => (this.inner, this.indexFileSize, this.indexTimeStamp) = (inner, indexFileSize, indexTimeStamp);
            public override ModuleKind Kind => inner.Kind;
            protected override long ImageSizeCore => inner.ImageSize;
            public override int IndexFileSize => indexFileSize;
            public override int IndexTimeStamp => indexTimeStamp;
            public override Version Version => inner.Version;
            public override ImmutableArray<byte> BuildId => inner.BuildId;
            public override PdbInfo? Pdb => inner.Pdb;
            public override bool IsManaged => inner.IsManaged;
            public override IResourceNode? ResourceRoot => inner.ResourceRoot;
            public override ulong GetExportSymbolAddress(string symbol) => inner.GetExportSymbolAddress(symbol);
        }
    }
}
