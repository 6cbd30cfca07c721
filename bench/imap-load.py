#!/usr/bin/python3
"""bench/imap-load.py: the IMAP client of bench/imap.sh. Every command prints one line
"result key=value ..." for the script.

    imap-load.py big HOST PORT USER PASSWORD NEEDLE
        On a big mailbox: LOGIN, SELECT INBOX and UID FETCH 1:* (UID FLAGS), timed from connect
        to the last response, the first time (cold) and the median of 3 more; then
        SEARCH TEXT NEEDLE, the first time and the median of 3 more.
    imap-load.py mixed HOST PORT USER PASSWORD CLIENTS SECONDS
        CLIENTS sessions at once on one mailbox, each a loop of the everyday commands of a mail
        client, for SECONDS: SELECT INBOX; UID FETCH of 10 random messages (FLAGS and the
        header); UID STORE +FLAGS or -FLAGS \\Seen on one; SEARCH UNSEEN SUBJECT; APPEND of a
        4 KiB message, then STORE \\Deleted and UID EXPUNGE of it (so the mailbox keeps its
        size). Reports operations per second and latency percentiles over all of them.
    imap-load.py idle HOST PORT USER PASSWORD COUNT PIDFILE_OR_PIDS
        Opens COUNT sessions (LOGIN, SELECT INBOX, IDLE) and keeps them; reads the servers'
        memory (the sum of PSS over the given processes and their children) before and with
        them all idling, and reports the difference per connection.

A plain socket client (asyncio for the idle sessions), not imaplib: imaplib's parsing would
measure the client.
"""
import asyncio
import os
import random
import resource
import socket
import statistics
import sys
import threading
import time


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=300)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.tag = 0
        self.last = b""  # the last tagged response
        self.line()  # greeting

    def line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 2]
                return line
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk

    def skip(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        del self.buf[:n]

    def cmd(self, text, literal=None):
        """Sends a command (with a LITERAL+ literal when given); returns the untagged lines."""
        self.tag += 1
        tag = b"t%d" % self.tag
        if literal is None:
            self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        else:
            self.sock.sendall(tag + b" " + text.encode() + b" {%d+}\r\n" % len(literal) +
                              literal + b"\r\n")
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError("server said: " + line.decode("utf-8", "replace"))
                self.last = line
                return lines
            if line.endswith(b"}") and b"{" in line:  # a literal: its octets are not lines
                self.skip(int(line[line.rindex(b"{") + 1:-1]))
            lines.append(line)

    def login(self, user, password):
        self.cmd(f'LOGIN "{user}" "{password}"')


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def big(host, port, user, password, needle):
    def select_fetch():
        c = Client(host, port)
        c.login(user, password)
        c.cmd("SELECT INBOX")
        n = sum(1 for l in c.cmd("UID FETCH 1:* (UID FLAGS)") if b" FETCH " in l)
        c.cmd("LOGOUT")
        return n

    cold, count = timed(select_fetch)
    warm = statistics.median(timed(select_fetch)[0] for _ in range(3))
    c = Client(host, port)
    c.login(user, password)
    c.cmd("SELECT INBOX")

    def search():
        return c.cmd(f'SEARCH TEXT "{needle}"')[0].split()[2:]
    search_cold, found = timed(search)
    search_warm = statistics.median(timed(search)[0] for _ in range(3))
    c.cmd("LOGOUT")
    print("result messages=%d select_fetch_cold_ms=%.0f select_fetch_ms=%.0f search_cold_ms=%.1f "
          "search_ms=%.1f found=%d" % (count, cold * 1000, warm * 1000, search_cold * 1000,
                                        search_warm * 1000, len(found)))


MESSAGE = (b"From: Mixed Load <mix@bench.test>\r\nTo: mix@bench.test\r\n"
           b"Subject: appended by the mixed load\r\nMessage-ID: <%d@bench.test>\r\n\r\n"
           + b"A line of an appended message, long enough to look like mail.\r\n" * 64)


def mixed_client(host, port, user, password, seconds, latencies, errors):
    c = Client(host, port)
    c.login(user, password)
    count = int([l for l in c.cmd("SELECT INBOX") if l.endswith(b" EXISTS")][0].split()[1])
    rng = random.Random(os.getpid() ^ threading.get_ident())
    uids = [int(l.split(b"UID ")[1].split(b")")[0].split()[0])
            for l in c.cmd("UID FETCH 1:* (UID)") if b"UID " in l]
    ops = [
        lambda: c.cmd("SELECT INBOX"),
        lambda: c.cmd("UID FETCH %s (FLAGS BODY.PEEK[HEADER])" %
                      ",".join(str(rng.choice(uids)) for _ in range(10))),
        lambda: c.cmd("UID STORE %d %sFLAGS.SILENT (\\Seen)" % (rng.choice(uids), rng.choice("+-"))),
        lambda: c.cmd('SEARCH UNSEEN SUBJECT "message %d"' % rng.randrange(count)),
        lambda: append_and_expunge(c),
    ]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        op = rng.choice(ops)
        started = time.perf_counter()
        try:
            op()
        except Exception:  # noqa: BLE001 - counted, and the load goes on
            errors.append(1)
            continue
        latencies.append(time.perf_counter() - started)
    c.cmd("LOGOUT")


def append_and_expunge(c):
    """APPEND, then remove what was appended (UIDPLUS, which both servers offer)."""
    c.cmd("APPEND INBOX", MESSAGE % random.getrandbits(48))
    uid = c.last.split(b"APPENDUID ")[1].split()[1].rstrip(b"]").decode()
    c.cmd("UID STORE %s +FLAGS.SILENT (\\Deleted)" % uid)
    c.cmd("UID EXPUNGE %s" % uid)


def mixed(host, port, user, password, clients, seconds):
    latencies, errors = [], []
    threads = [threading.Thread(target=mixed_client,
                                args=(host, port, user, password, float(seconds), latencies, errors))
               for _ in range(int(clients))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = sorted(latencies)
    print("result ops=%d ops_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.1f errors=%d" % (
        len(lat), len(lat) / elapsed, lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000,
        lat[-1] * 1000, len(errors)))


def pss_kib(pids):
    """The sum of PSS over pids and all their descendants, in KiB."""
    todo, seen, total = list(pids), set(), 0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(p) for p in f.read().split()]
        except OSError:
            continue
    return total


async def idle_session(host, port, user, password, ready):
    reader, writer = await asyncio.open_connection(host, int(port))
    await reader.readline()
    for tag, text in ((b"a", f'LOGIN "{user}" "{password}"'.encode()), (b"b", b"SELECT INBOX")):
        writer.write(tag + b" " + text + b"\r\n")
        while not (line := await reader.readline()).startswith(tag + b" "):
            if not line:
                raise EOFError("closed")
        if not line.startswith(tag + b" OK"):
            raise RuntimeError(line.decode())
    writer.write(b"c IDLE\r\n")
    while not (await reader.readline()).startswith(b"+"):
        pass
    ready.append(writer)


async def idle_all(host, port, user, password, count, pids):
    before = pss_kib(pids)
    ready = []
    sem = asyncio.Semaphore(64)  # logins in flight; the rest wait their turn

    async def one():
        async with sem:
            await idle_session(host, port, user, password, ready)
    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    await asyncio.sleep(2)  # let the servers settle (lazy allocations, login processes)
    after = pss_kib(pids)
    for w in ready:
        w.close()
    print("result connections=%d failed=%d pss_before_kib=%d pss_after_kib=%d per_conn_kib=%.1f%s" % (
        len(ready), len(failed), before, after, (after - before) / max(1, len(ready)),
        (" first_error=" + repr(failed[0]).replace(" ", "_")) if failed else ""))


def idle(host, port, user, password, count, pids):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(idle_all(host, port, user, password, int(count),
                         [int(p) for p in pids.split(",")]))


if __name__ == "__main__":
    commands = {"big": (big, 5), "mixed": (mixed, 6), "idle": (idle, 6)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        sys.exit(__doc__)
    commands[sys.argv[1]][0](*sys.argv[2:])
