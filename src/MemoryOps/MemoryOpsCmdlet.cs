using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MemoryOps.Engine;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.IO;

namespace MemoryOps
{
    /// <summary>
    /// Base of every MemoryOps cmdlet: a cancellation token that Ctrl+C (StopProcessing) fires, and
    /// one mapping from engine failures to ErrorRecords with a stable ErrorId, a category and the target.
    /// </summary>
    public abstract class MemoryOpsCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource stopping = new CancellationTokenSource();

        /// <summary>Fires when the user presses Ctrl+C or the pipeline is stopped.</summary>
        protected CancellationToken StopToken => stopping.Token;

        protected override void StopProcessing() => stopping.Cancel();

        public void Dispose()
        {
            stopping.Dispose();
            GC.SuppressFinalize(this);
        }

        internal static ErrorCategory CategoryOf(FailureKind kind) => kind switch
        {
            FailureKind.ProcessNotFound => ErrorCategory.ObjectNotFound,
            FailureKind.NotDotNetProcess => ErrorCategory.InvalidArgument,
            FailureKind.TargetExited => ErrorCategory.ResourceUnavailable,
            FailureKind.AccessDenied => ErrorCategory.PermissionDenied,
            FailureKind.SessionFailed => ErrorCategory.ProtocolError,
            FailureKind.InvalidInput => ErrorCategory.InvalidArgument,
            FailureKind.Timeout => ErrorCategory.OperationTimeout,
            FailureKind.DataLost => ErrorCategory.InvalidResult,
            FailureKind.FileExists => ErrorCategory.ResourceExists,
            FailureKind.InvalidData => ErrorCategory.InvalidData,
            FailureKind.UnsupportedVersion => ErrorCategory.InvalidData,
            FailureKind.InsufficientSpace => ErrorCategory.WriteError,
            FailureKind.BaselineNotFound => ErrorCategory.ObjectNotFound,
            FailureKind.UnsupportedInput => ErrorCategory.InvalidType,
            FailureKind.PathNotFound => ErrorCategory.ObjectNotFound,
            FailureKind.UntrustedSocket => ErrorCategory.SecurityError,
            FailureKind.NoObservations => ErrorCategory.ObjectNotFound,
            FailureKind.UnsafeFile => ErrorCategory.SecurityError,
            FailureKind.InputTooLarge => ErrorCategory.LimitsExceeded,
            FailureKind.ReadFailed => ErrorCategory.ReadError,
            FailureKind.WriteFailed => ErrorCategory.WriteError,
            FailureKind.InvalidRule => ErrorCategory.InvalidArgument,
            FailureKind.ThresholdViolated => ErrorCategory.LimitsExceeded,
            FailureKind.TypeNotFound => ErrorCategory.ObjectNotFound,
            _ => ErrorCategory.NotSpecified,
        };

        /// <summary>
        /// The one mapping from a failure to an ErrorRecord: the ErrorId is always a FailureKind's name (the table in
        /// about_MemoryOps), the category comes from <see cref="CategoryOf"/>, the target is what failed. An exception
        /// that is not the engine's own is classified here: access denied, an I/O error (<paramref name="ioKind"/>:
        /// ReadFailed or WriteFailed; a full disk is InsufficientSpace), a bad argument, or Unexpected.
        /// </summary>
        /// <param name="asKind">What the failure means where it happened, whatever its exception says (a rule's invalid field is InvalidRule).</param>
        internal static ErrorRecord ToErrorRecord(Exception e, object? fallbackTarget = null, FailureKind ioKind = FailureKind.ReadFailed, FailureKind? asKind = null)
        {
            FailureKind kind = asKind ?? e switch
            {
                MemoryOpsException m => m.Kind,
                UnauthorizedAccessException _ => FailureKind.AccessDenied,
                IOException io when Engine.IO.AtomicFile.IsDiskFull(io) => FailureKind.InsufficientSpace,
                IOException _ => ioKind,
                ArgumentException _ => FailureKind.InvalidInput,
                _ => FailureKind.Unexpected,
            };
            object? target = (e as MemoryOpsException)?.Target ?? fallbackTarget;
            return Escaped(new ErrorRecord(e, kind.ToString(), CategoryOf(kind), target));
        }

        /// <summary>
        /// Runs engine work on a worker thread and calls <paramref name="tick"/> on this (the pipeline) thread
        /// every quarter second, so progress can be written while it runs. Rethrows the work's own exception.
        /// </summary>
        protected T RunWithProgress<T>(Func<T> work, Action tick)
        {
            var task = System.Threading.Tasks.Task.Run(work);
            var done = ((IAsyncResult)task).AsyncWaitHandle;
            try
            {
                // Once stopping, no more ticks: WriteProgress throws PipelineStoppedException then.
                while (!done.WaitOne(250)) if (!StopToken.IsCancellationRequested) tick();
            }
            catch (PipelineStoppedException)
            {
                // The stop landed inside a tick. The work must not be abandoned: it owns what it made (a dump's
                // temporary file that createdump is still writing, a session in the target) and cleans that up
                // when it sees the token, which StopProcessing has fired. Leave only once it has.
                done.WaitOne();
                throw;
            }
            return task.GetAwaiter().GetResult();
        }

        /// <summary>
        /// The baseline store for -Store (or a rule's Store), else MEMORYOPS_BASELINE_STORE, else the per-user folder.
        /// A relative path resolves against PowerShell's current location, as every other path parameter does (the
        /// process's working folder is not changed by Set-Location).
        /// </summary>
        private protected BaselineStore OpenBaselineStore(string? store, long? maximumInputSize = null)
        {
            string? given = string.IsNullOrEmpty(store) ? BaselineStore.PathFromEnvironment() : store;
            return new BaselineStore(given == null ? null : GetUnresolvedProviderPathFromPSPath(given))
            {
                Limits = InputLimits.For(maximumInputSize, InputLimits.Baseline),
            };
        }

        /// <summary>A non-terminating error: this input failed, the pipeline goes on with the others.</summary>
        /// <summary>
        /// The baselines -Name patterns select, as Get-ChildItem selects files: a pattern gives the store's names it
        /// matches (none is no error), a plain name gives itself (so a missing one is reported as BaselineNotFound).
        /// </summary>
        internal static IEnumerable<string> SelectBaselines(IReadOnlyList<string> inStore, IEnumerable<string> patterns)
        {
            foreach (var pattern in patterns)
            {
                if (!WildcardPattern.ContainsWildcardCharacters(pattern)) { yield return pattern; continue; }
                var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
                foreach (var name in inStore) if (wildcard.IsMatch(name)) yield return name;
            }
        }

        /// <summary>A -HostName filter (wildcards, any case); null when no host was given, so every entry passes.</summary>
        internal static Func<MemoryBaselineEntry, bool>? HostFilter(string[]? hostNames)
        {
            if (hostNames == null) return null;
            var patterns = hostNames.Select(h => WildcardPattern.Get(h, WildcardOptions.IgnoreCase)).ToArray();
            return entry => patterns.Any(p => p.IsMatch(entry.Host));
        }

        protected void WriteFailure(Exception e, object? target = null, FailureKind ioKind = FailureKind.ReadFailed) => WriteError(ToErrorRecord(e, target, ioKind));

        /// <summary>
        /// Input files the way PowerShell's own cmdlets take them: -Path expands wildcards (a pattern that matches
        /// nothing gives nothing, as Get-Item does), -LiteralPath takes each path as written. A path that is not
        /// there is a non-terminating PathNotFound error (ObjectNotFound) and the other paths go on; a path on
        /// another provider than the file system is refused.
        /// </summary>
        protected IEnumerable<string> ResolveInputPaths(IEnumerable<string> paths, bool literal)
        {
            foreach (var path in paths)
            {
                var resolved = new List<string>();
                try
                {
                    // A path that names an existing file is that file, even with wildcard characters in its name: a
                    // snapshot's DumpPath property (bound to -DumpPath) must find "orders[1].dmp".
                    string? asWritten = null;
                    try { asWritten = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var p, out _); if (p.Name != "FileSystem") asWritten = null; }
                    catch (Exception e) when (e is ProviderNotFoundException || e is System.Management.Automation.DriveNotFoundException || e is NotSupportedException) { }
                    if (literal || !WildcardPattern.ContainsWildcardCharacters(path) || (asWritten != null && (File.Exists(asWritten) || IsLink(asWritten))))
                    {
                        string full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
                        if (provider.Name != "FileSystem") throw new MemoryOpsException(FailureKind.InvalidInput, $"'{path}' is not a file-system path.", path);
                        WriteDebug($"'{path}' is taken as written: {full}" + (literal ? " (-LiteralPath)." : WildcardPattern.ContainsWildcardCharacters(path) ? " (a file of that very name exists)." : "."));
                        if (Directory.Exists(full))
                            throw new MemoryOpsException(FailureKind.InvalidInput, $"'{full}' is a folder; give the path of a file.", full);
                        if (!File.Exists(full) && !IsLink(full))
                            throw new MemoryOpsException(FailureKind.PathNotFound, $"Cannot find path '{full}' because it does not exist.", full);
                        resolved.Add(full);
                    }
                    else
                    {
                        resolved.AddRange(GetResolvedProviderPathFromPSPath(path, out var provider));
                        WriteDebug($"'{path}' expands to {resolved.Count} path(s).");
                        if (provider.Name != "FileSystem") throw new MemoryOpsException(FailureKind.InvalidInput, $"'{path}' is not a file-system path.", path);
                        if (resolved.Count == 0) WriteVerbose($"No file matches '{path}'.");
                    }
                }
                catch (MemoryOpsException e) { WriteFailure(e, path); continue; }
                catch (ItemNotFoundException) { WriteVerbose($"No file matches '{path}'."); continue; }
                catch (Exception e) when (e is ProviderNotFoundException || e is System.Management.Automation.DriveNotFoundException || e is NotSupportedException)
                {
                    WriteFailure(new MemoryOpsException(FailureKind.InvalidInput, $"'{path}' is not a file-system path: {e.Message}", path, e), path);
                    continue;
                }
                foreach (var r in resolved) yield return r;
            }
        }

        // A link (even a dangling one) is there: the engine says what is wrong with it, more precisely than "not found".
        private static bool IsLink(string path)
        {
            try { return new FileInfo(path).LinkTarget != null; }
            catch (IOException) { return false; }
        }

        // Every message a MemoryOps cmdlet writes passes through the four methods below, which hide Cmdlet's own: the
        // names in messages come from processes, heaps and files that another user may control, and an escape
        // sequence or CR/LF in one must reach the terminal escaped (Display.Escape). Hiding, rather than a second
        // set of names, means a cmdlet cannot write an unescaped message by calling the familiar method.
        public new void WriteWarning(string text) => base.WriteWarning(Display.Escape(text));

        public new void WriteVerbose(string text) => base.WriteVerbose(Display.Escape(text));

        public new void WriteDebug(string text) => base.WriteDebug(Display.Escape(text));

        /// <summary>
        /// The MemoryOps object an input stands for (itself, or rebuilt from its deserialized form), saying with -Debug
        /// when it was rebuilt and which host it is taken to come from: the decision a fleet check's user debugs.
        /// </summary>
        protected object? ModelOf(PSObject input)
        {
            object? model = Rehydrator.ToModel(input);
            if (model != null && !ReferenceEquals(model, input.BaseObject))
                WriteDebug($"Rebuilt a deserialized {model.GetType().Name}" +
                    (model.GetType().GetProperty("Host")?.GetValue(model) is string host ? $" from host '{host}'" : "") + ".");
            return model;
        }

        public new void WriteError(ErrorRecord record) => base.WriteError(Escaped(record));

        public new void ThrowTerminatingError(ErrorRecord record) => base.ThrowTerminatingError(Escaped(record));

        public new bool ShouldProcess(string target, string action) => base.ShouldProcess(Display.Escape(target), Display.Escape(action));

        /// <summary>
        /// Shows an error's message escaped. MemoryOpsException escapes its own message; others (an IOException naming a
        /// planted file, an ArgumentException) get ErrorDetails, which the error view shows instead of the raw message.
        /// A record that already has ErrorDetails made its message itself (a multi-line list whose parts are escaped).
        /// </summary>
        internal static ErrorRecord Escaped(ErrorRecord record)
        {
            string? message = record.Exception?.Message;
            if (record.ErrorDetails == null && Display.HasControlCharacters(message))
                record.ErrorDetails = new ErrorDetails(Display.Escape(message));
            return record;
        }
    }
}
