using System;
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
        protected CancellationToken Stopping => stopping.Token;

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
            FailureKind.UnsafeFile => ErrorCategory.SecurityError,
            FailureKind.InputTooLarge => ErrorCategory.LimitsExceeded,
            _ => ErrorCategory.NotSpecified,
        };

        internal static ErrorRecord ToErrorRecord(Exception e, object? fallbackTarget = null)
        {
            if (e is MemoryOpsException m)
                return new ErrorRecord(m, m.Kind.ToString(), CategoryOf(m.Kind), m.Target ?? fallbackTarget);
            if (e is UnauthorizedAccessException)
                return new ErrorRecord(e, FailureKind.AccessDenied.ToString(), ErrorCategory.PermissionDenied, fallbackTarget);
            return new ErrorRecord(e, "UnexpectedError", ErrorCategory.NotSpecified, fallbackTarget);
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
                while (!done.WaitOne(250)) if (!Stopping.IsCancellationRequested) tick();
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
        protected BaselineStore OpenBaselineStore(string? store, long? maximumInputSize = null)
        {
            string? given = string.IsNullOrEmpty(store) ? BaselineStore.PathFromEnvironment() : store;
            return new BaselineStore(given == null ? null : GetUnresolvedProviderPathFromPSPath(given))
            {
                Limits = InputLimits.For(maximumInputSize, InputLimits.Baseline),
            };
        }

        /// <summary>A non-terminating error: this input failed, the pipeline goes on with the others.</summary>
        protected void WriteFailure(Exception e, object? target = null) => WriteError(ToErrorRecord(e, target));
    }
}
