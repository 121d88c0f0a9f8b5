using System;
using System.IO;
using MemoryOps.Engine.Processes;
using Microsoft.Diagnostics.NETCore.Client;

namespace MemoryOps.Engine.Sessions
{
    /// <summary>
    /// An EventPipe session together with the checked, pinned diagnostic socket it was opened through
    /// (<see cref="DiagnosticEndpoint"/>). Stopping a session opens a new connection to the target, through the
    /// pin's /proc/self/fd path, so the pin is closed only after the session is disposed and every Stop has
    /// returned: a descriptor number closed too early could be reused by another file of this process.
    /// </summary>
    internal sealed class DiagnosticSession : IDisposable
    {
        private readonly EventPipeSession session;
        private readonly DiagnosticEndpoint endpoint;
        private readonly object gate = new object();
        private int users = 1; // the session itself, plus one per Stop in flight
        private bool disposed;

        internal DiagnosticSession(EventPipeSession session, DiagnosticEndpoint endpoint)
        {
            this.session = session;
            this.endpoint = endpoint;
        }

        public int ProcessId => endpoint.ProcessId;
        public Stream EventStream => session.EventStream;

        /// <summary>Asks the target to end the session (the library sends it once; later calls do nothing).</summary>
        public void Stop()
        {
            lock (gate)
            {
                if (users == 0) return; // disposed and unpinned: the session was stopped by Dispose
                users++;
            }
            try { session.Stop(); }
            finally { Release(); }
        }

        public void Dispose()
        {
            lock (gate)
            {
                if (disposed) return;
                disposed = true;
            }
            try { session.Dispose(); } // stops the session first when nobody did
            finally { Release(); }
        }

        private void Release()
        {
            bool last;
            lock (gate) last = --users == 0;
            if (last) endpoint.Dispose();
        }
    }
}
