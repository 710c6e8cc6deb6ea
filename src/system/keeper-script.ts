/**
 * The socket keeper, a small python3 program (Node cannot pass file descriptors): it holds copies of the active
 * generation's listening sockets so that the kernel keeps completing handshakes into their accept queues while no
 * haproxy runs (a crash, a hung process), and hands them to the next generation over haproxy's own `-x` exchange.
 *
 * One unix socket, <run-dir>/keeper.sock (0600, in the private run dir). A connection's first line says what it is:
 * - `_getsocks`: haproxy's `-x` client (src/sock.c sock_get_old_sockets). The answer is haproxy's own
 *   (src/cli.c _getsocks, 2.6 to 3.5): the count as a native int on its own, then batches of at most 252 fds
 *   (SCM_RIGHTS), each with one record per fd (u8 netns length, netns, u8 interface length, interface, u32 0, as
 *   fetched), a 4-byte ack read after every batch (3.2 waits for the last one too; older clients send it anyway).
 * - `take <path>`: fetch the listening sockets of the haproxy whose admin socket (`expose-fd listeners`) is at
 *   <path>, as haproxy's -x client does, and keep exactly those from now on: every socket held before and not in
 *   the new set is closed at once (a removed bind line must not stay open in a SO_REUSEPORT group where nobody
 *   accepts). Unix sockets of <run-dir>/gen/ (the generations' own admin sockets) are never kept.
 * - `release`: close every socket held. `status`: what it holds. `quit`: exit.
 * Replies to the supervisor are one line: `ok <status JSON>` or `error <why>`.
 */
export const KEEPER_SCRIPT = String.raw`import os, socket, struct, sys

RUN_DIR = sys.argv[1]
GEN_DIR = os.path.join(RUN_DIR, "gen") + "/"
PATH = os.path.join(RUN_DIR, "keeper.sock")
MAX_SEND_FD = 252
TIMEOUT = 2.0

try:
    with open("/proc/self/comm", "w") as comm:
        comm.write("haproxy-keeper")
except OSError:
    pass

held = []  # (fd, record bytes)


def to_json(value):
    """JSON for dicts, lists, strings and ints: Debian's python3-minimal (the container's) has no json module."""
    if isinstance(value, dict):
        return "{" + ", ".join(to_json(str(key)) + ": " + to_json(item) for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(item) for item in value) + "]"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    out = '"'
    for char in text:
        if char in '"\\':
            out += "\\" + char
        elif ord(char) < 32:
            out += "\\u%04x" % ord(char)
        else:
            out += char
    return out + '"'


def describe(fd):
    s = socket.socket(fileno=os.dup(fd))
    try:
        kind = {socket.SOCK_STREAM: "tcp", socket.SOCK_DGRAM: "udp"}.get(s.type, str(int(s.type)))
        name = s.getsockname()
        if s.family == socket.AF_UNIX:
            return {"family": "unix", "address": name if isinstance(name, str) else repr(name), "type": kind}
        return {"family": "ipv6" if s.family == socket.AF_INET6 else "ipv4", "address": name[0], "port": name[1], "type": kind}
    finally:
        s.close()


def inode(fd):
    return os.fstat(fd).st_ino


def recv_exact(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed after %d of %d bytes" % (len(data), size))
        data += chunk
    return data


def fetch(path):
    """haproxy's -x client: the listening sockets of the haproxy whose admin socket is at path, with their records."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(TIMEOUT)
    fds = []
    try:
        conn.connect(path)
        conn.sendall(b"_getsocks\n")
        count = struct.unpack("=i", recv_exact(conn, 4))[0]
        data = b""
        while len(fds) < count:
            msg, got, _flags, _addr = socket.recv_fds(conn, 65536, MAX_SEND_FD)
            if not msg and not got:
                raise OSError("closed after %d of %d sockets" % (len(fds), count))
            data += msg
            fds.extend(got)
            try:
                conn.sendall(struct.pack("=i", len(got)))
            except OSError:
                # haproxy before 3.2 closes after its last batch without reading this ack.
                if len(fds) < count:
                    raise
        records = []
        pos = 0
        for _ in fds:
            start = pos
            pos += 1 + data[pos]
            pos += 1 + data[pos]
            pos += 4
            records.append(data[start:pos])
        if pos > len(data):
            raise OSError("short records")
        return list(zip(fds, records))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    finally:
        conn.close()


def keep(fetched):
    """Keeps the fetched sockets (but the generations' own admin sockets) and closes every other one held before."""
    global held
    kept = []
    for fd, record in fetched:
        info = describe(fd)
        if info["family"] == "unix" and str(info["address"]).startswith(GEN_DIR):
            os.close(fd)
        else:
            kept.append((fd, record))
    for fd, _record in held:
        os.close(fd)
    held = kept


def serve_getsocks(conn):
    """haproxy's _getsocks server side, as src/cli.c sends it."""
    conn.sendall(struct.pack("=i", len(held)))
    for start in range(0, len(held), MAX_SEND_FD):
        batch = held[start:start + MAX_SEND_FD]
        socket.send_fds(conn, [b"".join(record for _fd, record in batch)], [fd for fd, _record in batch])
        try:
            recv_exact(conn, 4)
        except OSError:
            if len(batch) == MAX_SEND_FD:
                raise


def status():
    sockets = []
    for fd, _record in held:
        try:
            info = describe(fd)
            info["inode"] = inode(fd)
            sockets.append(info)
        except OSError:
            pass
    return to_json({"pid": os.getpid(), "sockets": sockets})


def handle(conn):
    conn.settimeout(TIMEOUT)
    line = b""
    while not line.endswith(b"\n") and len(line) < 4096:
        chunk = conn.recv(1)
        if not chunk:
            return True
        line += chunk
    words = line.decode("utf-8", "replace").strip().split(" ", 1)
    if words[0] == "_getsocks":
        serve_getsocks(conn)
        return True
    if words[0] == "take" and len(words) == 2:
        try:
            keep(fetch(words[1]))
            conn.sendall(("ok " + status() + "\n").encode())
        except Exception as error:
            conn.sendall(("error %s\n" % error).encode())
    elif words[0] == "release":
        keep([])
        conn.sendall(("ok " + status() + "\n").encode())
    elif words[0] == "status":
        conn.sendall(("ok " + status() + "\n").encode())
    elif words[0] == "quit":
        keep([])
        conn.sendall(("ok " + status() + "\n").encode())
        return False
    else:
        conn.sendall(b"error unknown request\n")
    return True


def main():
    temp = "%s.%d.tmp" % (PATH, os.getpid())
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.umask(0o077)
    server.bind(temp)
    os.chmod(temp, 0o600)
    server.listen(64)
    os.rename(temp, PATH)
    print("ready", flush=True)
    os.close(1)
    running = True
    while running:
        conn, _addr = server.accept()
        try:
            running = handle(conn)
        except Exception:
            pass
        finally:
            conn.close()
    try:
        os.unlink(PATH)
    except OSError:
        pass


main()
`;
