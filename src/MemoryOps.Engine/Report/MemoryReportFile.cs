using System;
using System.IO;
using System.Text;
using MemoryOps.Engine.IO;

namespace MemoryOps.Engine.Report
{
    /// <summary>Writes a report atomically; replaces an existing file only when it is an earlier report or when forced.</summary>
    internal static class MemoryReportFile
    {
        /// <summary>The first bytes of every report written (<see cref="ReportHtml.Header"/>).</summary>
        public static string Header => ReportHtml.Header;

        /// <summary>
        /// Writes <paramref name="html"/> to <paramref name="fullPath"/>. Only a regular file (or a link, replaced as a
        /// link) is ever replaced, even with <paramref name="force"/>; a file that is not an earlier report needs it.
        /// The file is 0644: a report is made to be read by others (a web server's user, a ticket's attachment).
        /// </summary>
        public static void Write(string html, string fullPath, bool force)
        {
            CheckWritable(fullPath, force);
            var bytes = new UTF8Encoding(false).GetBytes(html);
            AtomicFile.Write(fullPath, overwrite: true, s => s.Write(bytes, 0, bytes.Length),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        /// <summary>
        /// Throws when a report could not be written at <paramref name="fullPath"/>: its folder is missing, something
        /// other than a regular file (or a link) is there, or a file that is not an earlier report is there without
        /// <paramref name="force"/>. Checked before the inputs are gathered, so an hour of collecting is not lost to a
        /// typo, and again when writing.
        /// </summary>
        public static void CheckWritable(string fullPath, bool force)
        {
            string folder = Path.GetDirectoryName(fullPath) ?? ".";
            if (!Directory.Exists(folder))
                throw new MemoryOpsException(FailureKind.PathNotFound, $"The folder '{folder}' does not exist: no report can be written to '{fullPath}'.", fullPath);
            SafeFile.CheckReplaceable(fullPath, overwrite: true, fullPath);
            if (SafeFile.Exists(fullPath) && !force && !IsReport(fullPath))
                throw new MemoryOpsException(FailureKind.FileExists, $"'{fullPath}' exists and is not a report written by Export-MemoryReport. Use -Force to replace it.", fullPath);
        }

        /// <summary>
        /// True when the path is a regular file that starts with a report's header (reads no more than that). A link is
        /// never taken for a report, whatever it points at: replacing it needs -Force.
        /// </summary>
        public static bool IsReport(string fullPath)
        {
            var expected = Encoding.UTF8.GetBytes(Header);
            FileStream stream;
            try { stream = SafeFile.OpenRead(fullPath, "report", fullPath, followLinks: false); }
            catch (Exception e) when (e is MemoryOpsException || e is IOException || e is UnauthorizedAccessException) { return false; }
            using var _ = stream;
            var buffer = new byte[expected.Length];
            int read = 0, n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0) read += n;
            return read == buffer.Length && buffer.AsSpan().SequenceEqual(expected);
        }
    }
}
