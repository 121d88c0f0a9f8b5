using System;
using System.Collections.Immutable;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;
using Microsoft.Diagnostics.Runtime;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    /// <summary>The guards around ClrMD for dumps someone else wrote: the local-file checks, the file locator, build ids.</summary>
    public sealed class DumpTargetTests : IDisposable
    {
        private readonly string dir = Directory.CreateTempSubdirectory("memoryops-dumptarget-").FullName;
        private static readonly string RuntimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

        public void Dispose() => Directory.Delete(dir, recursive: true);

        private static string Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({p.ExitCode})");
            return output;
        }

        private string MakeFifo(string name)
        {
            string path = Path.Combine(dir, name);
            Run("mkfifo", path);
            return path;
        }

        [Fact]
        public void A_regular_file_is_readable_and_a_FIFO_a_device_a_folder_or_a_link_to_a_FIFO_are_not()
        {
            string file = Path.Combine(dir, "a.dll");
            File.WriteAllText(file, "x");
            string fifo = MakeFifo("pipe.dll");
            string link = Path.Combine(dir, "link.dll");
            File.CreateSymbolicLink(link, fifo);
            string fileLink = Path.Combine(dir, "filelink.dll");
            File.CreateSymbolicLink(fileLink, file);

            Assert.True(LocalFile.IsReadableRegularFile(file));
            Assert.True(LocalFile.IsReadableRegularFile(fileLink)); // what open would reach is what counts
            Assert.False(LocalFile.IsReadableRegularFile(fifo));
            Assert.False(LocalFile.IsReadableRegularFile(link));
            Assert.False(LocalFile.IsReadableRegularFile("/dev/zero"));
            Assert.False(LocalFile.IsReadableRegularFile(dir));
            Assert.False(LocalFile.IsReadableRegularFile("a.dll"));
            Assert.False(LocalFile.IsReadableRegularFile(Path.Combine(dir, "missing.dll")));
            Assert.False(LocalFile.IsReadableRegularFile(file + "\0/etc/passwd"));
            Assert.True(LocalFile.Exists(fifo));
            Assert.False(LocalFile.Exists(Path.Combine(dir, "missing.dll")));
        }

        [Fact]
        public void The_locator_returns_only_a_local_regular_file_whose_PE_header_matches()
        {
            string dll = typeof(DumpHeapReader).Assembly.Location;
            int stamp, size;
            using (var pe = new PEReader(File.OpenRead(dll)))
                (stamp, size) = (pe.PEHeaders.CoffHeader.TimeDateStamp, pe.PEHeaders.PEHeader!.SizeOfImage);
            var locator = LocalFileLocator.Instance;

            Assert.Equal(dll, locator.FindPEImage(dll, stamp, size, checkProperties: true));
            Assert.Null(locator.FindPEImage(dll, stamp + 1, size, checkProperties: true));
            Assert.Null(locator.FindPEImage(dll, stamp, size + 4096, checkProperties: true));
            Assert.Equal(dll, locator.FindPEImage(dll, 0, 0, checkProperties: false));
            Assert.Null(locator.FindPEImage(Path.GetFileName(dll), stamp, size, checkProperties: true)); // no search path, no server
            Assert.Null(locator.FindPEImage(MakeFifo("x.dll"), stamp, size, checkProperties: false));
            string text = Path.Combine(dir, "text.dll");
            File.WriteAllText(text, "not a PE file");
            Assert.Null(locator.FindPEImage(text, stamp, size, checkProperties: true));
            Assert.Null(locator.FindPEImage(dll, SymbolProperties.Self, ImmutableArray.Create<byte>(1, 2, 3), OSPlatform.Linux, checkProperties: false));
        }

        [Fact]
        public void The_build_id_of_libcoreclr_is_the_one_readelf_shows_and_a_damaged_ELF_has_none()
        {
            string coreclr = Path.Combine(RuntimeDir, "libcoreclr.so");
            string dac = Path.Combine(RuntimeDir, "libmscordaccore.so");
            string expected = Regex.Match(Run("readelf", "-n", coreclr), @"Build ID: ([0-9a-f]+)").Groups[1].Value;
            Assert.Equal(40, expected.Length);
            Assert.Equal(expected, Convert.ToHexString(ElfBuildId.Read(coreclr)!).ToLowerInvariant());
            Assert.NotEqual(expected, Convert.ToHexString(ElfBuildId.Read(dac)!).ToLowerInvariant());

            string cut = Path.Combine(dir, "cut.so");
            using (var from = File.OpenRead(coreclr)) using (var to = File.Create(cut)) { var b = new byte[100]; from.ReadExactly(b); to.Write(b); }
            Assert.Null(ElfBuildId.Read(cut));
            string text = Path.Combine(dir, "text.so");
            File.WriteAllText(text, new string('x', 4096));
            Assert.Null(ElfBuildId.Read(text));
            // Program headers pointing far past the end of the file.
            var bytes = File.ReadAllBytes(coreclr).Take(64 * 1024).ToArray();
            BitConverter.GetBytes(ulong.MaxValue - 8).CopyTo(bytes, 0x20);
            File.WriteAllBytes(cut, bytes);
            Assert.Null(ElfBuildId.Read(cut));
        }

        [Fact]
        public void A_file_that_is_not_a_dump_and_a_cut_ELF_file_are_InvalidData_naming_the_file()
        {
            string text = Path.Combine(dir, "notes.dmp");
            File.WriteAllText(text, "not a dump at all");
            var e = Assert.Throws<MemoryOpsException>(() => DumpTarget.Open(text, text));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains(text, e.Message);

            string cut = Path.Combine(dir, "cut.dmp");
            File.WriteAllBytes(cut, File.ReadAllBytes(Path.Combine(RuntimeDir, "libcoreclr.so")).Take(64 * 1024).ToArray());
            e = Assert.Throws<MemoryOpsException>(() => DumpTarget.Open(cut, cut));
            Assert.Equal(FailureKind.InvalidData, e.Kind);
            Assert.Contains($"'{cut}' is truncated", e.Message);
            Assert.Contains("65,536 bytes long", e.Message);
        }

        [Fact]
        public void Names_read_from_a_dump_are_shown_with_control_characters_escaped()
        {
            Assert.Equal("10.0.12", DumpHeapReader.Shown("10.0.12"));
            Assert.Equal("app\\x1b[31mred\\x07", DumpHeapReader.Shown("app\u001b[31mred\u0007"));
        }
    }
}
