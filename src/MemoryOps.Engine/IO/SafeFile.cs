using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace MemoryOps.Engine.IO
{
    /// <summary>
    /// The checks every file the module reads or replaces goes through, because any of them may have been planted
    /// by another local user: reads open only regular files (a FIFO would block the read forever, a device such as
    /// /dev/zero never ends), look at the path before opening it (opening some devices has effects) and at the
    /// opened handle after (the path may have been swapped in between); writes replace only regular files (or a
    /// symbolic link, which is replaced as a link), never a device or a FIFO; folders are created owner-only.
    /// </summary>
    internal static class SafeFile
    {
        /// <summary>"a named pipe (FIFO)", "a character device", ... for messages.</summary>
        public static string Describe(UnixFileKind kind) => kind switch
        {
            UnixFileKind.Regular => "a regular file",
            UnixFileKind.Directory => "a folder",
            UnixFileKind.SymbolicLink => "a symbolic link",
            UnixFileKind.NamedPipe => "a named pipe (FIFO)",
            UnixFileKind.CharacterDevice => "a character device",
            UnixFileKind.BlockDevice => "a block device",
            UnixFileKind.Socket => "a socket",
            _ => "a special file",
        };

        /// <summary>What is at the path itself (a link is reported as a link); null when nothing is.</summary>
        public static UnixFileStatus? StatusOf(string path) => UnixFile.Status(path, followLinks: false);

        /// <summary>True for anything at the path, even a dangling symbolic link.</summary>
        public static bool Exists(string path) => StatusOf(path) != null;

        /// <summary>
        /// Opens a file to read, refusing anything but a regular file. With <paramref name="followLinks"/> (a path the
        /// user typed) a link to a regular file is read; without it (a file found in a folder others may write, such as
        /// a baseline store) a link is refused. Throws PathNotFound when nothing is there, UnsafeFile otherwise.
        /// </summary>
        /// <param name="what">What the file should be, for messages: "snapshot file", "dump", ...</param>
        public static FileStream OpenRead(string path, string what, object? target, bool followLinks = true)
        {
            var status = UnixFile.Status(path, followLinks);
            if (status == null) throw new MemoryOpsException(FailureKind.PathNotFound, $"The {what} '{path}' does not exist.", target);
            if (status.Value.Kind != UnixFileKind.Regular) throw NotRegular(path, what, status.Value.Kind, target);

            // O_NONBLOCK: if a FIFO was swapped in after the check, open returns at once instead of waiting for a writer.
            var handle = UnixFile.Open(path, UnixFile.O_RDONLY | UnixFile.O_NONBLOCK | (followLinks ? 0 : UnixFile.O_NOFOLLOW), 0, out int errno);
            if (handle.IsInvalid)
            {
                if (errno == UnixFile.ENOENT) throw new MemoryOpsException(FailureKind.PathNotFound, $"The {what} '{path}' does not exist.", target);
                if (errno == UnixFile.ELOOP && !followLinks) throw NotRegular(path, what, UnixFileKind.SymbolicLink, target);
                throw UnixFile.ErrorOf(errno, path);
            }
            try
            {
                var opened = UnixFile.Status(handle, path);
                if (opened.Kind != UnixFileKind.Regular) throw NotRegular(path, what, opened.Kind, target);
                return new FileStream(handle, FileAccess.Read, bufferSize: 0);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>Refuses (as <see cref="OpenRead"/> does) anything but a regular file, for files a library opens by path itself.</summary>
        public static void RequireRegularFile(string path, string what, object? target)
        {
            using (OpenRead(path, what, target)) { }
        }

        /// <summary>Like <see cref="OpenRead"/>, for files that are only a bonus (module files named by a dump): null instead of an error.</summary>
        public static FileStream? TryOpenRead(string path)
        {
            try { return OpenRead(path, "file", path); }
            catch (Exception e) when (e is MemoryOpsException || e is IOException || e is UnauthorizedAccessException) { return null; }
        }

        /// <summary>
        /// Makes a file we wrote owner-only (0600) through a handle opened without following a link: chmod by path
        /// would follow a link swapped in for the file and change the mode of whatever it points at.
        /// </summary>
        public static void RestrictToOwner(string path, object? target)
        {
            using var handle = UnixFile.Open(path, UnixFile.O_RDONLY | UnixFile.O_NONBLOCK | UnixFile.O_NOFOLLOW, 0, out int errno);
            if (handle.IsInvalid)
            {
                if (errno == UnixFile.ELOOP) throw NotRegular(path, "file", UnixFileKind.SymbolicLink, target);
                throw UnixFile.ErrorOf(errno, path);
            }
            var status = UnixFile.Status(handle, path);
            if (status.Kind != UnixFileKind.Regular) throw NotRegular(path, "file", status.Kind, target);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(handle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        /// <summary>
        /// Checks that an output path may be replaced: nothing there, a regular file (only with <paramref name="overwrite"/>),
        /// or a symbolic link (replaced as a link; its target is never written). A folder, a FIFO, a device or a socket
        /// is refused even with -Force: renaming over /dev/null as root would destroy it.
        /// </summary>
        public static void CheckReplaceable(string fullPath, bool overwrite, object? target)
        {
            var status = StatusOf(fullPath);
            if (status == null) return;
            switch (status.Value.Kind)
            {
                case UnixFileKind.Directory:
                    throw new MemoryOpsException(FailureKind.InvalidInput, $"'{fullPath}' is a folder; give the path of a file to write.", target);
                case UnixFileKind.Regular:
                case UnixFileKind.SymbolicLink:
                    if (!overwrite) throw new MemoryOpsException(FailureKind.FileExists, $"'{fullPath}' already exists. Use -Force to replace it.", target);
                    return;
                default:
                    throw new MemoryOpsException(FailureKind.UnsafeFile,
                        $"'{fullPath}' is {Describe(status.Value.Kind)}, not a regular file: MemoryOps replaces only regular files, even with -Force, so nothing was written. Choose another path.", target);
            }
        }

        /// <summary>
        /// Creates a folder and every missing parent owner-only (0700), whatever the umask: Directory.CreateDirectory
        /// applies its mode to the last folder only and creates the parents 0777 &amp; ~umask (0777 under umask 000).
        /// </summary>
        public static void CreatePrivateDirectory(string fullPath)
        {
            var missing = new Stack<string>();
            for (string? dir = Path.GetFullPath(fullPath); dir != null && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
                missing.Push(dir);
            const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            while (missing.Count > 0)
            {
                string dir = missing.Pop();
                try
                {
                    if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
                    else Directory.CreateDirectory(dir, OwnerOnly);
                }
                catch (IOException) when (Directory.Exists(dir)) { } // created by someone else meanwhile
            }
        }

        /// <summary>
        /// Opens (creating it 0600 when absent) a lock file and takes an exclusive flock on it. The path is never
        /// followed if it is a link, and what was opened must be a regular file that this user owns and that has no
        /// other name: a link or a hard link planted under the lock's name would otherwise make this process (maybe
        /// root) create or open a file elsewhere. Returns null while another writer holds the lock.
        /// </summary>
        public static FileStream? TryLock(string lockPath, object? target)
        {
            const int OwnerReadWrite = 0x180; // 0600
            var handle = UnixFile.Open(lockPath, UnixFile.O_RDWR | UnixFile.O_CREAT | UnixFile.O_NOFOLLOW | UnixFile.O_NONBLOCK, OwnerReadWrite, out int errno);
            if (handle.IsInvalid)
            {
                if (errno == UnixFile.ELOOP)
                    throw new MemoryOpsException(FailureKind.UnsafeFile,
                        $"The lock file '{lockPath}' is a symbolic link: it was not followed. Remove it (it may have been planted by another user).", target);
                if (errno == UnixFile.ENXIO) // a FIFO with no reader, opened for writing
                    throw NotRegular(lockPath, "lock file", UnixFileKind.NamedPipe, target);
                throw UnixFile.ErrorOf(errno, lockPath);
            }
            try
            {
                var status = UnixFile.Status(handle, lockPath);
                if (status.Kind != UnixFileKind.Regular) throw NotRegular(lockPath, "lock file", status.Kind, target);
                if (status.OwnerId != UnixFile.EffectiveUserId)
                    throw new MemoryOpsException(FailureKind.UnsafeFile,
                        $"The lock file '{lockPath}' belongs to another user (uid {status.OwnerId}): it was not used. Remove it, or use a store folder only you can write.", target);
                if (status.LinkCount != 1)
                    throw new MemoryOpsException(FailureKind.UnsafeFile,
                        $"The lock file '{lockPath}' has {status.LinkCount} names (a hard link to another file?): it was not used. Remove it.", target);
                if (!UnixFile.TryLockExclusive(handle, lockPath))
                {
                    handle.Dispose();
                    return null;
                }
                return new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        private static MemoryOpsException NotRegular(string path, string what, UnixFileKind kind, object? target) =>
            kind == UnixFileKind.SymbolicLink
                ? new MemoryOpsException(FailureKind.UnsafeFile,
                    $"The {what} '{path}' cannot be read: it is a symbolic link, and links are not followed here (one planted in the folder could make MemoryOps read or replace another file). It was left as it is; remove it.", target)
                : new MemoryOpsException(FailureKind.UnsafeFile,
                    $"The {what} '{path}' cannot be read: it is {Describe(kind)}, not a regular file (reading it could wait or run forever). It was not read; give the path of a regular file.", target);
    }
}
