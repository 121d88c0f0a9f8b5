using System;
using MemoryOps;

namespace MemoryOps.Engine
{
    /// <summary>What went wrong, in terms a cmdlet can turn into an ErrorId and an ErrorCategory.</summary>
    public enum FailureKind
    {
        ProcessNotFound,
        NotDotNetProcess,
        TargetExited,
        AccessDenied,
        SessionFailed,
        InvalidInput,
        Timeout,
        DataLost,
        FileExists,
        InvalidData,
        UnsupportedVersion,
        InsufficientSpace,
        BaselineNotFound,
        UnsupportedInput,
        /// <summary>A file or folder given by path is not there (ObjectNotFound, like PowerShell's own PathNotFound).</summary>
        PathNotFound,
        /// <summary>A diagnostic socket failed a trust check (type, owner, held by the process, peer): it may have been planted.</summary>
        UntrustedSocket,
        /// <summary>An unattended check received nothing to judge (e.g. -Name matched no process upstream).</summary>
        NoObservations,
        /// <summary>A path holds something that must not be read or replaced: a FIFO, a device, a socket, a link where none is followed, a lock file of another user.</summary>
        UnsafeFile,
        /// <summary>An input file crosses a size limit (decompressed bytes, JSON values, name length); -MaximumInputSize raises it.</summary>
        InputTooLarge,
        /// <summary>A file could not be read for a reason of the system's (an I/O error), not of its content.</summary>
        ReadFailed,
        /// <summary>A file could not be written for a reason of the system's (an I/O error other than a full disk).</summary>
        WriteFailed,
        /// <summary>A rule cannot be evaluated (a limit missing, fields of different kinds of rule mixed).</summary>
        InvalidRule,
        /// <summary>Test-MemoryThreshold -Assert: at least one Error or Critical rule failed.</summary>
        ThresholdViolated,
        /// <summary>No type of the heap matches the type names given.</summary>
        TypeNotFound,
        /// <summary>Anything not foreseen: a bug to report, with the exception it carries.</summary>
        Unexpected,
    }

    /// <summary>
    /// The engine's one exception type: carries a <see cref="FailureKind"/> and the target (a PID, a path)
    /// so the cmdlet layer can build a specific ErrorRecord without parsing messages.
    /// </summary>
    public sealed class MemoryOpsException : Exception
    {
        public FailureKind Kind { get; }
        public object? Target { get; }

        /// <param name="message">One line; control characters in it (from a process, type or file name) are escaped
        /// here, once for every engine error, so no message can recolour the terminal or forge a line of output.</param>
        public MemoryOpsException(FailureKind kind, string message, object? target = null, Exception? inner = null)
            : base(Display.Escape(message), inner)
        {
            Kind = kind;
            Target = target;
        }
    }
}
