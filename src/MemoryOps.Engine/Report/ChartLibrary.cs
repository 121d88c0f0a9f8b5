using System;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Text;

namespace MemoryOps.Engine.Report
{
    /// <summary>
    /// Chart.js as the npm registry serves it: the build downloads the pinned tarball, checks it against the pinned
    /// sha512 integrity and embeds it unchanged (MemoryOps.Engine.csproj, target RestoreChartJs). The report inlines
    /// the minified UMD script and keeps the package's licence beside it.
    /// </summary>
    internal static class ChartLibrary
    {
        private const string TarballResource = "MemoryOps.Engine.Report.chart.js.tgz";
        private const string ScriptEntry = "package/dist/chart.umd.min.js";
        private const string LicenceEntry = "package/LICENSE.md";

        private static readonly Lazy<(string Script, string Licence)> Content = new Lazy<(string, string)>(Read);

        /// <summary>The pinned version (from the build).</summary>
        public static string Version { get; } =
            typeof(ChartLibrary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "ChartJsVersion")?.Value ?? "";

        /// <summary>The minified script, its source-map comment removed (a viewer offline has no map to fetch).</summary>
        public static string Script => Content.Value.Script;

        /// <summary>The package's LICENSE.md.</summary>
        public static string Licence => Content.Value.Licence;

        private static (string, string) Read()
        {
            using var resource = typeof(ChartLibrary).Assembly.GetManifestResourceStream(TarballResource)
                ?? throw new InvalidOperationException($"The assembly holds no {TarballResource}: the build did not restore Chart.js.");
            using var gzip = new GZipStream(resource, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            string? script = null, licence = null;
            TarEntry? entry;
            while ((entry = tar.GetNextEntry()) != null && (script == null || licence == null))
            {
                if (entry.DataStream == null) continue;
                if (entry.Name == ScriptEntry) script = ReadAll(entry.DataStream);
                else if (entry.Name == LicenceEntry) licence = ReadAll(entry.DataStream);
            }
            if (script == null || licence == null) throw new InvalidOperationException($"The Chart.js tarball lacks {(script == null ? ScriptEntry : LicenceEntry)}.");
            int map = script.LastIndexOf("//# sourceMappingURL=", StringComparison.Ordinal);
            if (map >= 0) script = script.Substring(0, map).TrimEnd();
            return (script, licence);
        }

        private static string ReadAll(Stream s)
        {
            using var reader = new StreamReader(s, new UTF8Encoding(false));
            return reader.ReadToEnd();
        }
    }
}
