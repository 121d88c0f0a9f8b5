using System;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Heap;

namespace MemoryOps
{
    /// <summary>
    /// A cmdlet that reads a managed heap from one of two kinds of source: a live .NET process (-ProcessId/-Name;
    /// EventPipe, which forces a full blocking GC, bounded by -Timeout) or dump files (-DumpPath with wildcards,
    /// -LiteralPath, MemoryDumpInfo from New-MemoryDump; read by ClrMD in a child process, -RuntimePath for a dump of
    /// another machine). New-HeapSnapshot and Get-HeapRetention share these parameter sets, the dispatch, the progress
    /// bar's life and the mapping of a failed read to an error that names the source.
    /// </summary>
    public abstract class HeapSourceCmdlet : ProcessTargetCmdlet
    {
        protected const string DumpPathSet = "DumpPath";
        protected const string DumpInfoSet = "DumpInfo";
        protected const string LiteralPathSet = "LiteralPath";

        /// <summary>Dump files; wildcards.</summary>
        [Parameter(Mandatory = true, ParameterSetName = DumpPathSet, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] DumpPath { get; set; } = Array.Empty<string>();

        /// <summary>Dump files, taken as written (no wildcards); Get-ChildItem output binds here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        [Parameter(Mandatory = true, ParameterSetName = DumpInfoSet, ValueFromPipeline = true)]
        public MemoryDumpInfo[] Dump { get; set; } = Array.Empty<MemoryDumpInfo>();

        /// <summary>Folder of the runtime the dump was taken with (or its libmscordaccore.so), for a dump from another machine.</summary>
        [Parameter(ParameterSetName = DumpPathSet)]
        [Parameter(ParameterSetName = LiteralPathSet)]
        [Parameter(ParameterSetName = DumpInfoSet)]
        [ValidateNotNullOrEmpty]
        public string? RuntimePath { get; set; }

        /// <summary>How long to wait for a live heap walk, in seconds.</summary>
        [Parameter(ParameterSetName = ByIdSet)]
        [Parameter(ParameterSetName = ByNameSet)]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(1, 86400, TooShort = "The walk forces a full GC in the target, which a shorter wait would waste.")]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case DumpPathSet:
                case LiteralPathSet:
                    bool literal = ParameterSetName == LiteralPathSet;
                    foreach (var path in ResolveInputPaths(literal ? LiteralPath : DumpPath, literal))
                        FromDump(path, null);
                    break;
                case DumpInfoSet:
                    foreach (var dump in Dump)
                        FromDump(dump.Path, dump);
                    break;
                default:
                    FromProcesses();
                    break;
            }
        }

        /// <summary>Reads one dump file; <paramref name="info"/> is set when it came from New-MemoryDump.</summary>
        protected abstract void FromDump(string path, MemoryDumpInfo? info);

        /// <summary>Reads one live process.</summary>
        protected abstract void FromProcess(DotNetProcessInfo target);

        /// <summary>The processes of this record, each read once per pipeline.</summary>
        protected virtual void FromProcesses()
        {
            foreach (var target in ResolveTargets())
                FromProcess(target);
        }

        /// <summary>How the dump reader is to read <paramref name="info"/>'s dump: -RuntimePath resolved against the PowerShell location.</summary>
        private protected DumpReadOptions DumpOptions(MemoryDumpInfo? info, bool liveOnly = false) => new DumpReadOptions
        {
            RuntimePath = RuntimePath == null ? null : GetUnresolvedProviderPathFromPSPath(RuntimePath),
            LiveOnly = liveOnly,
            ProcessId = info?.ProcessId,
            ProcessName = info?.ProcessName,
        };

        /// <summary>
        /// Runs one read of <paramref name="source"/> (a dump path or a process id) under <paramref name="progress"/>:
        /// Ctrl+C ends it quietly, an engine failure is an error naming the source and the pipeline goes on, and the bar
        /// is closed whatever happened. From a dump, any other exception (ClrMD's own) is InvalidData naming the file:
        /// one unreadable dump must not stop the others.
        /// </summary>
        protected void ReadSource(object source, ProgressRecord progress, Action read)
        {
            try
            {
                read();
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested) { } // Ctrl+C: quiet
            catch (MemoryOpsException e) { WriteFailure(e, source); }
            catch (Exception e) when (source is string path && !(e is PipelineStoppedException) && !(e is OutOfMemoryException))
            {
                WriteFailure(new MemoryOpsException(FailureKind.InvalidData, $"'{path}' could not be read as a dump: {e.Message}", path, e));
            }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }
    }
}
