# A hostile "diagnostic socket" for HostileSocket.Tests.ps1 and the engine tests: run as any user, it listens on
# $TMPDIR/dotnet-diagnostic-<pid>-<key>-socket and answers every connection the way <mode> says.
# Usage: python3 HostileSocket.py <mode> <pid|self> <key> <log file> [future]
#   Every accepted connection appends a line to <log file>, so a test can tell whether anyone connected.
#   "future" sets the socket file's time an hour ahead: it is then the newest, the one a by-name lookup picks.
# Modes:
#   empty        OK header, no payload (ProcessInfo2 needs at least 24 bytes)
#   huge-string  OK header, PID + cookie, then a string length of 0x7FFFFFFF UTF-16 units
#   bad-magic    a header that does not start with DOTNET_IPC_V1
#   short-size   a header that declares a 12-byte message (less than the 20-byte header)
#   truncated    a header that declares 1000 bytes, 10 of them sent, then the connection closes
#   silent       accepts and never answers
#   drip         a header that declares 65535 bytes, then one byte every half second
#   fake         a well-formed ProcessInfo2 answer that claims to be <pid> (a tempting fake runtime)
import os, socket, struct, sys, tempfile, time, threading

mode, pid_arg, key, log = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
future = len(sys.argv) > 5 and sys.argv[5] == "future"
pid = os.getpid() if pid_arg == "self" else int(pid_arg)
path = os.path.join(tempfile.gettempdir(), "dotnet-diagnostic-%d-%s-socket" % (pid, key))
MAGIC = b"DOTNET_IPC_V1\0"

def header(size, command_set=0xFF, command_id=0x00, magic=MAGIC):
    return magic + struct.pack("<HBBH", size, command_set, command_id, 0)

def ipc_string(s):
    data = (s + "\0").encode("utf-16-le")
    return struct.pack("<I", len(data) // 2) + data

def answer(conn):
    conn.recv(4096)  # the request
    if mode == "empty":
        conn.sendall(header(20))
    elif mode == "huge-string":
        payload = struct.pack("<Q", pid) + b"\x11" * 16 + struct.pack("<I", 0x7FFFFFFF)
        conn.sendall(header(20 + len(payload)) + payload)
    elif mode == "bad-magic":
        conn.sendall(header(20, magic=b"NOT_DOTNET_IPC"))
    elif mode == "short-size":
        conn.sendall(header(12))
    elif mode == "truncated":
        conn.sendall(header(1000) + b"\0" * 10)
    elif mode == "silent":
        time.sleep(3600)
    elif mode == "drip":
        conn.sendall(header(0xFFFF))
        for _ in range(0xFFFF - 20):
            conn.sendall(b"\0")
            time.sleep(0.5)
    elif mode == "fake":
        payload = (struct.pack("<Q", pid) + b"\x22" * 16 + ipc_string("/fake/FakeService") + ipc_string("Linux")
                   + ipc_string("x64") + ipc_string("FakeService") + ipc_string("10.0.99+fake"))
        conn.sendall(header(20 + len(payload)) + payload)
    conn.close()

def serve(conn):
    try:
        answer(conn)
    except OSError:
        pass

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(64)
if future:
    t = time.time() + 3600
    os.utime(path, (t, t))
print("READY %d %s" % (os.getpid(), path), flush=True)
while True:
    conn, _ = server.accept()
    with open(log, "a") as f:
        f.write("connection\n")
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
