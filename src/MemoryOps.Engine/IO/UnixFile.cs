using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemoryOps.Engine.IO
{
    /// <summary>What is at a path, without opening it.</summary>
    internal enum UnixFileKind
    {
        Regular,
        Directory,
        SymbolicLink,
        NamedPipe,
        CharacterDevice,
        BlockDevice,
        Socket,
        Unknown,
    }

    /// <summary>The facts of one lstat/stat/fstat that the safety checks need.</summary>
    internal readonly struct UnixFileStatus
    {
        public UnixFileKind Kind { get; init; }
        public uint OwnerId { get; init; }
        public uint LinkCount { get; init; }
        public long Size { get; init; }
        /// <summary>The permission bits (mode &amp; 07777).</summary>
        public int Permissions { get; init; }
    }

    /// <summary>
    /// The few POSIX calls the BCL does not expose: lstat/fstat that tell a FIFO or a device from a regular file,
    /// open with O_NOFOLLOW|O_NONBLOCK (so a planted link is never followed and opening a FIFO never waits for a
    /// writer), flock on a handle we opened ourselves, and geteuid. Mono.Unix is not available to the module, and
    /// FileStream opens FIFOs blocking and follows links. statx is used rather than stat because its struct has the
    /// same layout on every Linux architecture (struct stat does not). Linux only: the module refuses other
    /// platforms at import.
    /// </summary>
    internal static class UnixFile
    {
        private const int AT_FDCWD = -100;
        private const int AT_SYMLINK_NOFOLLOW = 0x100;
        private const int AT_EMPTY_PATH = 0x1000;
        private const uint STATX_BASIC_STATS = 0x7ff;
        private const int StatxSize = 256;

        internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
        internal const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
        /// <summary>O_NOFOLLOW is one of the few flags whose value differs by architecture (asm-generic vs arm/powerpc).</summary>
        internal static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le => 0x8000,
            _ => 0x20000,
        };

        internal const int EPERM = 1, ENOENT = 2, ENXIO = 6, EAGAIN = 11, EACCES = 13, ENOTDIR = 20, ELOOP = 40;
        private const int LOCK_EX = 2, LOCK_NB = 4;

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int fstatx(SafeFileHandle fd, string emptyPath, int flags, uint mask, byte[] buffer);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int open(string path, int flags, int mode);

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        private static extern int flock(SafeFileHandle fd, int operation);

        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint geteuid();

        internal static uint EffectiveUserId => geteuid();

        /// <summary>lstat (<paramref name="followLinks"/> false) or stat; null when nothing is at the path.</summary>
        internal static UnixFileStatus? Status(string path, bool followLinks)
        {
            var buffer = new byte[StatxSize];
            if (statx(AT_FDCWD, path, followLinks ? 0 : AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buffer) != 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == ENOENT || errno == ENOTDIR) return null;
                throw ErrorOf(errno, path);
            }
            return Parse(buffer);
        }

        /// <summary>fstat of an open handle: what was really opened, whatever the path points at now.</summary>
        internal static UnixFileStatus Status(SafeFileHandle handle, string pathForErrors)
        {
            var buffer = new byte[StatxSize];
            if (fstatx(handle, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buffer) != 0)
                throw ErrorOf(Marshal.GetLastWin32Error(), pathForErrors);
            return Parse(buffer);
        }

        /// <summary>open(2); returns the handle, or the errno in <paramref name="errno"/> with an invalid handle.</summary>
        internal static SafeFileHandle Open(string path, int flags, int mode, out int errno)
        {
            int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, mode);
            errno = fd < 0 ? Marshal.GetLastWin32Error() : 0;
            return new SafeFileHandle((IntPtr)fd, ownsHandle: fd >= 0);
        }

        /// <summary>flock(LOCK_EX|LOCK_NB): false when another open file description holds the lock.</summary>
        internal static bool TryLockExclusive(SafeFileHandle handle, string pathForErrors)
        {
            if (flock(handle, LOCK_EX | LOCK_NB) == 0) return true;
            int errno = Marshal.GetLastWin32Error();
            if (errno == EAGAIN) return false;
            throw ErrorOf(errno, pathForErrors);
        }

        internal static Exception ErrorOf(int errno, string path) =>
            errno == EACCES || errno == EPERM
                ? new UnauthorizedAccessException($"Access to '{path}' was denied ({Marshal.GetPInvokeErrorMessage(errno)}).")
                : new IOException($"'{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

        private static UnixFileStatus Parse(byte[] b)
        {
            // struct statx (the same on every architecture, in native byte order): stx_nlink @16, stx_uid @20,
            // stx_mode (u16) @28, stx_size (u64) @40.
            uint nlink = BitConverter.ToUInt32(b, 16);
            uint uid = BitConverter.ToUInt32(b, 20);
            int mode = BitConverter.ToUInt16(b, 28);
            long size = (long)BitConverter.ToUInt64(b, 40);
            var kind = (mode & 0xF000) switch
            {
                0x8000 => UnixFileKind.Regular,
                0x4000 => UnixFileKind.Directory,
                0xA000 => UnixFileKind.SymbolicLink,
                0x1000 => UnixFileKind.NamedPipe,
                0x2000 => UnixFileKind.CharacterDevice,
                0x6000 => UnixFileKind.BlockDevice,
                0xC000 => UnixFileKind.Socket,
                _ => UnixFileKind.Unknown,
            };
            return new UnixFileStatus { Kind = kind, OwnerId = uid, LinkCount = nlink, Size = size, Permissions = mode & 0xFFF };
        }
    }
}
