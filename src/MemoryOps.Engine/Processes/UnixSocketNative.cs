using System;
using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemoryOps.Engine.Processes
{
    /// <summary>What statx says about one file (not following a final symbolic link).</summary>
    internal readonly struct UnixFileStatus
    {
        public UnixFileStatus(uint mode, uint uid, ulong inode, uint deviceMajor, uint deviceMinor)
        {
            Mode = mode; Uid = uid; Inode = inode; DeviceMajor = deviceMajor; DeviceMinor = deviceMinor;
        }

        public uint Mode { get; }
        public uint Uid { get; }
        public ulong Inode { get; }
        public uint DeviceMajor { get; }
        public uint DeviceMinor { get; }

        private const uint TypeMask = 0xF000; // S_IFMT
        public bool IsSocket => (Mode & TypeMask) == 0xC000;

        /// <summary>"a symbolic link", "a regular file", ... for messages.</summary>
        public string TypeName => (Mode & TypeMask) switch
        {
            0xC000 => "a socket",
            0xA000 => "a symbolic link",
            0x8000 => "a regular file",
            0x6000 => "a block device",
            0x4000 => "a directory",
            0x2000 => "a character device",
            0x1000 => "a FIFO",
            _ => $"a file of type 0{Mode & TypeMask:o}",
        };
    }

    /// <summary>
    /// The few libc calls the diagnostic-socket checks need and the BCL does not offer: .NET can neither
    /// open a path without following a link nor hold a socket file open without connecting to it (O_PATH),
    /// and it never tells a file's owner. statx is used rather than fstat/lstat because its buffer has one
    /// layout on every architecture (struct stat differs between x64 and arm64).
    /// </summary>
    internal static class UnixSocketNative
    {
        private const int O_PATH = 0x200000;      // the same value on x64 and arm64 Linux
        private const int O_NOFOLLOW = 0x20000;
        private const int O_CLOEXEC = 0x80000;
        private const int AT_EMPTY_PATH = 0x1000;
        private const uint STATX_BASIC_STATS = 0x7FF;
        private const int StatxBufferSize = 256;   // sizeof(struct statx)
        public const int ENOENT = 2;

        [DllImport("libc", SetLastError = true, EntryPoint = "open")]
        private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
        private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

        // glibc before 2.28 and musl before 1.2.5 have no statx wrapper; the system call itself is there since Linux 4.11.
        [DllImport("libc", SetLastError = true, EntryPoint = "syscall")]
        private static extern long Syscall(long number, int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

        private static int StatxCall(int fd, byte[] buffer, bool systemCall)
        {
            if (!systemCall)
            {
                try { return Statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buffer); }
                catch (EntryPointNotFoundException) { }
            }
            long number = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => 332,
                Architecture.Arm64 => 291,
                Architecture.Arm => 397,
                _ => throw new PlatformNotSupportedException("statx is needed to check a diagnostic socket's owner on this architecture."),
            };
            return (int)Syscall(number, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buffer);
        }

        /// <summary>
        /// Opens <paramref name="path"/> with O_PATH | O_NOFOLLOW: nothing is read or connected, a final symbolic link
        /// is opened as the link itself (so its type shows), and the descriptor names this very inode from now on,
        /// whatever later happens to the path. Throws <see cref="Win32Exception"/> (NativeErrorCode = errno).
        /// </summary>
        public static SafeFileHandle OpenPathNoFollow(string path)
        {
            int fd = Open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) throw new Win32Exception(Marshal.GetLastPInvokeError());
            return new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        }

        /// <summary>The status of the inode a descriptor names (statx with AT_EMPTY_PATH; <paramref name="systemCall"/> skips libc's wrapper, for tests).</summary>
        public static UnixFileStatus Status(SafeFileHandle handle, bool systemCall = false)
        {
            var buffer = new byte[StatxBufferSize];
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                if (StatxCall((int)handle.DangerousGetHandle(), buffer, systemCall) != 0)
                    throw new Win32Exception(Marshal.GetLastPInvokeError());
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
            // struct statx, in the machine's byte order (little-endian on every .NET Linux target: x64, arm64):
            // stx_uid at 20, stx_mode (u16) at 28, stx_ino at 32, stx_dev_major/minor at 136/140.
            return new UnixFileStatus(
                BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28)),
                BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20)),
                BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(32)),
                BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(136)),
                BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(140)));
        }

        /// <summary>
        /// A path through which connect() reaches exactly the inode <paramref name="handle"/> names: the kernel
        /// resolves /proc/self/fd/N to the open file, not to whatever the original path names now.
        /// </summary>
        public static string ProcSelfPath(SafeFileHandle handle) => $"/proc/self/fd/{handle.DangerousGetHandle().ToInt64()}";
    }
}
