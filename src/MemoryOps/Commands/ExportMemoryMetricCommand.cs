using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Text;
using MemoryOps.Engine;
using MemoryOps.Engine.IO;
using MemoryOps.Engine.Metrics;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Hands MemoryOps metrics to Prometheus: a .prom file for node_exporter's textfile collector (replaced
    /// atomically, readable by the collector's user), or a push to a Pushgateway for short-lived jobs. A continuous
    /// input keeps the file (at most once a second) or the group (at most every 5 seconds) up to date; both are
    /// written once more when the input ends.
    /// </summary>
    [Cmdlet(VerbsData.Export, "MemoryMetric", DefaultParameterSetName = FileSet, SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo), ParameterSetName = new[] { FileSet })]
    public sealed class ExportMemoryMetricCommand : MetricsCmdlet
    {
        private const string FileSet = "File";
        private const string PushSet = "PushGateway";
        /// <summary>The first line of every file written: what lets a later run replace it without -Force.</summary>
        internal const string Header = "# MemoryOps metrics (Export-MemoryMetric): this file is replaced on every update.";
        private static readonly TimeSpan FileEvery = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan PushEvery = TimeSpan.FromSeconds(5);

        /// <summary>The .prom file to write, in the textfile collector's folder; taken as written.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = FileSet)]
        [Alias("LiteralPath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>Replace a file at -Path that this cmdlet did not write.</summary>
        [Parameter(ParameterSetName = FileSet)]
        public SwitchParameter Force { get; set; }

        /// <summary>Return the file once written.</summary>
        [Parameter(ParameterSetName = FileSet)]
        public SwitchParameter PassThru { get; set; }

        /// <summary>The Pushgateway's address, e.g. http://pushgateway:9091.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PushSet)]
        [ValidateNotNull]
        public Uri PushGateway { get; set; } = null!;

        /// <summary>The job label of the pushed group.</summary>
        [Parameter(ParameterSetName = PushSet)]
        [ValidateNotNullOrEmpty]
        public string Job { get; set; } = "memoryops";

        /// <summary>The instance label of the pushed group; this machine's name by default.</summary>
        [Parameter(ParameterSetName = PushSet)]
        [ValidateNotNull]
        public string Instance { get; set; } = Environment.MachineName;

        private readonly Stopwatch sinceWrite = new Stopwatch();
        private bool changed;
        private bool refused;
        private string full = "";

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (ParameterSetName == FileSet)
            {
                full = GetUnresolvedProviderPathFromPSPath(Path);
                if (!full.EndsWith(".prom", StringComparison.Ordinal))
                    WriteWarning($"node_exporter's textfile collector reads only files named *.prom; '{full}' will not be collected.");
            }
            else if (PushGateway.Scheme != Uri.UriSchemeHttp && PushGateway.Scheme != Uri.UriSchemeHttps)
            {
                ThrowTerminatingError(ToErrorRecord(new MemoryOpsException(FailureKind.InvalidInput, $"'{PushGateway}' is not an http or https address of a Pushgateway.", PushGateway)));
            }
        }

        protected override void ProcessRecord()
        {
            if (!AddInput()) return;
            changed = true;
            // A stream that never ends (Get-GcCounter -Continuous) keeps the file or the group current.
            if (sinceWrite.IsRunning && sinceWrite.Elapsed >= (ParameterSetName == FileSet ? FileEvery : PushEvery)) Flush();
            else if (!sinceWrite.IsRunning) sinceWrite.Start();
        }

        protected override void EndProcessing()
        {
            if (!changed && sinceWrite.IsRunning) return;
            if (Book.SeriesCount == 0) { WriteWarning("Nothing was exported: no input made a metric."); return; }
            Flush();
            if (PassThru && ParameterSetName == FileSet && !refused && File.Exists(full)) WriteObject(new FileInfo(full));
        }

        private void Flush()
        {
            if (refused) return;
            changed = false;
            sinceWrite.Restart();
            if (ParameterSetName == FileSet) WriteFile();
            else Push();
        }

        private void WriteFile()
        {
            if (!ShouldProcess(full, $"Write {Book.SeriesCount} metric series")) { refused = true; return; }
            try
            {
                // Only a regular file (or a link) is ever replaced, even with -Force (a FIFO or device is UnsafeFile).
                SafeFile.CheckReplaceable(full, overwrite: true, full);
                bool exists = SafeFile.Exists(full);
                bool ours = exists && StartsWithHeader(full);
                if (exists && !ours && !Force)
                    throw new MemoryOpsException(FailureKind.FileExists,
                        $"'{full}' exists and was not written by Export-MemoryMetric. Use -Force to replace it.", full);
                string text = Header + "\n" + Book.ToText(MetricsFormat.Prometheus);
                // 0644: node_exporter runs as its own user and must read the file.
                AtomicFile.Write(full, overwrite: true, s => { var b = new UTF8Encoding(false).GetBytes(text); s.Write(b, 0, b.Length); },
                    UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                WriteVerbose($"{Book.SeriesCount} series written to {full}.");
            }
            catch (MemoryOpsException e) { refused = true; WriteFailure(e, full); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                refused = true;
                WriteFailure(new MemoryOpsException(e is UnauthorizedAccessException ? FailureKind.AccessDenied : FailureKind.InvalidInput, $"'{full}' cannot be written: {e.Message}", full, e), full);
            }
        }

        private static bool StartsWithHeader(string path)
        {
            // Read no more than the header's length, and only from a regular file (SafeFile: a FIFO would block).
            var buffer = new byte[Header.Length];
            using var stream = SafeFile.TryOpenRead(path);
            if (stream == null) return false;
            int read = 0, n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0) read += n;
            return read == buffer.Length && Encoding.UTF8.GetString(buffer) == Header;
        }

        private void Push()
        {
            var group = Engine.Metrics.PushGateway.GroupUri(PushGateway, Job, new[] { ("instance", Instance) });
            if (!ShouldProcess(group.ToString(), $"Push {Book.SeriesCount} metric series")) { refused = true; return; }
            try
            {
                Engine.Metrics.PushGateway.Put(group, Book.ToText(MetricsFormat.Prometheus), StopToken);
                WriteVerbose($"{Book.SeriesCount} series pushed to {group}.");
            }
            catch (OperationCanceledException) { refused = true; }
            catch (MemoryOpsException e) { WriteFailure(e, PushGateway); }
        }
    }
}
