using System;
using System.IO;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// The GNU build id (the NT_GNU_BUILD_ID note) of a 64-bit little-endian ELF file on disk: what identifies
    /// one build of libcoreclr.so, and what a dump records for the runtime it was taken with. Every offset and
    /// count read from the file is bounded; anything unexpected is "no build id" (null), never an exception.
    /// </summary>
    internal static class ElfBuildId
    {
        private const int MaxProgramHeaders = 256;
        private const int MaxNoteBytes = 64 * 1024;
        private const uint PtNote = 4, NtGnuBuildId = 3;

        public static byte[]? Read(string path)
        {
            try
            {
                // A path beside a DAC, or named by a dump: only a regular file is read (a FIFO would block).
                using var file = IO.SafeFile.TryOpenRead(path);
                return file == null ? null : Read(file);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        public static byte[]? Read(Stream file)
        {
            var header = new byte[64];
            if (!ReadAt(file, 0, header)) return null;
            if (header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F') return null;
            if (header[4] != 2 || header[5] != 1) return null; // ELFCLASS64, little-endian
            ulong phoff = BitConverter.ToUInt64(header, 0x20);
            int phentsize = BitConverter.ToUInt16(header, 0x36), phnum = BitConverter.ToUInt16(header, 0x38);
            if (phentsize < 56 || phnum > MaxProgramHeaders || phoff > (ulong)file.Length) return null;
            var ph = new byte[phentsize];
            for (int i = 0; i < phnum; i++)
            {
                if (!ReadAt(file, (long)phoff + (long)i * phentsize, ph)) return null;
                if (BitConverter.ToUInt32(ph, 0) != PtNote) continue;
                ulong offset = BitConverter.ToUInt64(ph, 8), size = BitConverter.ToUInt64(ph, 0x20);
                if (size > MaxNoteBytes || offset > (ulong)file.Length) continue;
                var notes = new byte[(int)size];
                if (!ReadAt(file, (long)offset, notes)) continue;
                var id = FindBuildId(notes);
                if (id != null) return id;
            }
            return null;
        }

        /// <summary>Walks one PT_NOTE segment: namesz, descsz, type, then name and desc, each padded to 4 bytes.</summary>
        private static byte[]? FindBuildId(byte[] notes)
        {
            int at = 0;
            while (at + 12 <= notes.Length)
            {
                uint namesz = BitConverter.ToUInt32(notes, at), descsz = BitConverter.ToUInt32(notes, at + 4), type = BitConverter.ToUInt32(notes, at + 8);
                if (namesz > MaxNoteBytes || descsz > MaxNoteBytes) return null;
                long name = at + 12, desc = name + Align4(namesz), next = desc + Align4(descsz);
                if (next > notes.Length) return null;
                if (type == NtGnuBuildId && namesz == 4 && notes[name] == 'G' && notes[name + 1] == 'N' && notes[name + 2] == 'U' && notes[name + 3] == 0 && descsz > 0)
                {
                    var id = new byte[descsz];
                    Array.Copy(notes, desc, id, 0, descsz);
                    return id;
                }
                at = (int)next;
            }
            return null;
        }

        private static long Align4(uint n) => (n + 3L) & ~3L;

        private static bool ReadAt(Stream file, long offset, byte[] buffer)
        {
            if (offset < 0 || offset + buffer.Length > file.Length) return false;
            file.Position = offset;
            int done = 0;
            while (done < buffer.Length)
            {
                int n = file.Read(buffer, done, buffer.Length - done);
                if (n <= 0) return false;
                done += n;
            }
            return true;
        }
    }
}
