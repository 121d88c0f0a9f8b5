using System.Collections.Immutable;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// Finds module images on this machine only. When the DAC reads memory a Heap dump does not hold (code of a
    /// module, to unwind a stack for the stack roots), ClrMD asks its FileLocator for the image; the default one is a
    /// symbol-server client that needs Azure.Core and MSAL, which the module does not ship (and MemoryOps never
    /// downloads anything). Without this, that request fails inside a native DAC callback and takes the whole
    /// PowerShell process down (seen with the graph walk of Get-HeapRetention).
    /// </summary>
    internal sealed class LocalFileLocator : IFileLocator
    {
        public static readonly LocalFileLocator Instance = new LocalFileLocator();

        public string? FindPEImage(string fileName, int buildTimeStamp, int imageSize, bool checkProperties) =>
            File.Exists(fileName) ? fileName : null;

        public string? FindPEImage(string fileName, SymbolProperties archivedUnder, ImmutableArray<byte> buildIdOrUUID, OSPlatform originalPlatform, bool checkProperties) =>
            File.Exists(fileName) ? fileName : null;
    }
}
