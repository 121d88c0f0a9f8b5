using System;
using System.IO;
using System.Runtime.InteropServices;

namespace MemoryOps.Engine.IO
{
    /// <summary>
    /// Answers "may this path, named by a dump or a process, be opened and read?" without opening it. A dump
    /// names the files its process had mapped, and whoever wrote the dump chose those names: one could be a FIFO
    /// (opening it for reading blocks until someone writes), a device, or a file the caller may not read (and
    /// ClrMD's own fallback catches only IOException when it opens one, so UnauthorizedAccessException inside a
    /// DAC callback ends the process). The BCL tells a folder or a link from a file but not a FIFO, socket or
    /// device from a regular file, so the type comes from statx(2) (whose buffer layout, unlike struct stat's, is
    /// the same on every architecture).
    /// </summary>
    internal static class LocalFile
    {
        /// <summary>Modules and images past this size are not read from the local disk (libcoreclr.so is ~7 MB).</summary>
        public const long MaxImageBytes = 1L << 30;

        private const int AtFdCwd = -100;
        private const uint StatxType = 0x1, StatxMode = 0x2, StatxSize = 0x200;
        private const int ModeOffset = 0x1C, SizeOffset = 0x28, BufferSize = 256;
        private const int TypeMask = 0xF000, RegularFile = 0x8000;

        [DllImport("libc", SetLastError = true)]
        private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

        /// <summary>
        /// True when <paramref name="path"/> is an absolute path to a regular file (after following links, as
        /// open does) of at most <see cref="MaxImageBytes"/> that this process can open for reading.
        /// </summary>
        public static bool IsReadableRegularFile(string? path)
        {
            if (string.IsNullOrEmpty(path) || path!.IndexOf('\0') >= 0 || !Path.IsPathFullyQualified(path)) return false;
            if (OperatingSystem.IsWindows()) return File.Exists(path);
            var buffer = new byte[BufferSize];
            try
            {
                if (statx(AtFdCwd, path, 0, StatxType | StatxMode | StatxSize, buffer) != 0) return false;
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return false; // no statx (glibc < 2.28): nothing named by a dump is opened rather than risk a FIFO
            }
            int mode = BitConverter.ToUInt16(buffer, ModeOffset);
            long size = BitConverter.ToInt64(buffer, SizeOffset);
            if ((mode & TypeMask) != RegularFile || size > MaxImageBytes) return false;
            try
            {
                // Opening a regular file does not block; this is how "can read" is known (ACLs, capabilities, root).
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>True when something exists at <paramref name="path"/> (a link is followed), whatever its type.</summary>
        public static bool Exists(string? path)
        {
            if (string.IsNullOrEmpty(path) || path!.IndexOf('\0') >= 0 || !Path.IsPathFullyQualified(path)) return false;
            if (OperatingSystem.IsWindows()) return File.Exists(path) || Directory.Exists(path);
            try { return statx(AtFdCwd, path, 0, StatxType, new byte[BufferSize]) == 0; }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException) { return File.Exists(path); }
        }
    }
}
