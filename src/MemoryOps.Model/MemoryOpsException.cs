using System;

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
        /// <summary>A path holds something that must not be read or replaced: a FIFO, a device, a socket, a link where none is followed, a lock file of another user.</summary>
        UnsafeFile,
        /// <summary>An input file crosses a size limit (decompressed bytes, JSON values, name length); -MaximumInputSize raises it.</summary>
        InputTooLarge,
    }

    /// <summary>
    /// The engine's one exception type: carries a <see cref="FailureKind"/> and the target (a PID, a path)
    /// so the cmdlet layer can build a specific ErrorRecord without parsing messages.
    /// </summary>
    public sealed class MemoryOpsException : Exception
    {
        public FailureKind Kind { get; }
        public object? Target { get; }

        public MemoryOpsException(FailureKind kind, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            Kind = kind;
            Target = target;
        }
    }
}
