using System;
using System.IO;

namespace MemoryOps.Engine.IO
{
    /// <summary>
    /// Writes a file so that a crash or a full disk never leaves a half-written file at the path, an existing
    /// file is replaced only when asked, and a symbolic link planted at the path is replaced, never written
    /// through: the bytes go to a new owner-only (0600) temporary file beside the target, which is then renamed
    /// over it (rename is atomic within a file system). Only a regular file or a link is ever replaced: a FIFO or
    /// a device at the path is refused even with -Force. Each write first removes the temporary files that killed
    /// writers left in that folder (see <see cref="TemporaryFiles"/>).
    /// </summary>
    internal static class AtomicFile
    {
        public static void Write(string path, bool overwrite, Action<Stream> write) =>
            Write(path, overwrite, write, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        /// <param name="mode">The new file's permissions (0600 unless a reader under another user must read it, as a metrics collector does).</param>
        public static void Write(string path, bool overwrite, Action<Stream> write, UnixFileMode mode)
        {
            string full = Path.GetFullPath(path);
            string dir = Path.GetDirectoryName(full) ?? ".";
            if (!Directory.Exists(dir))
                throw new MemoryOpsException(FailureKind.InvalidInput, $"The folder '{dir}' does not exist.", path);
            SafeFile.CheckReplaceable(full, overwrite, path);
            TemporaryFiles.RemoveStale(dir);

            string temp = TempPathFor(full);
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
                using (var stream = new FileStream(temp, options))
                {
                    write(stream);
                    stream.Flush(flushToDisk: true);
                    // The umask may have taken bits away: a collector's read permission is what was asked for. Set on the
                    // open handle (fchmod), never by path: in a folder others can write, the temporary name could be
                    // swapped for a link meanwhile, and a chmod by path, run as root, would follow it to any file.
                    if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stream.SafeFileHandle, mode);
                }
                // Again at the last moment: what is at the path may have changed while the bytes were written.
                SafeFile.CheckReplaceable(full, overwrite, path);
                File.Move(temp, full, overwrite);
            }
            catch (IOException e) when (IsDiskFull(e))
            {
                TryDelete(temp);
                throw new MemoryOpsException(FailureKind.InsufficientSpace, $"The disk is full: '{full}' was not written (nothing at that path was changed).", path, e);
            }
            catch (IOException e) when (!overwrite && Exists(full))
            {
                TryDelete(temp);
                throw new MemoryOpsException(FailureKind.FileExists, $"'{full}' already exists. Use -Force to replace it.", path, e);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        /// <summary>True for a file, a directory or a symbolic link (even a dangling one) at the path.</summary>
        public static bool Exists(string path) => SafeFile.Exists(path);

        public static bool IsDiskFull(IOException e) =>
            e.HResult == 28 || (e.HResult & 0xFFFF) == 0x70 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

        /// <summary>A hidden, unique name beside the target that names its writer (see <see cref="TemporaryFiles"/>).</summary>
        public static string TempPathFor(string fullPath) => TemporaryFiles.PathFor(fullPath);

        /// <summary>Removes a temporary file of ours; never follows a link, never removes anything but a regular file.</summary>
        public static void TryDelete(string path)
        {
            try { if (SafeFile.StatusOf(path) is { Kind: UnixFileKind.Regular }) File.Delete(path); } catch (Exception) { }
        }
    }
}
