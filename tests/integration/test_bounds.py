"""What a client that has not logged in, or that does not read, can make the server hold.

Memory is the server's VmRSS from /proc/PID/status while the clients misbehave; the sanitizer
build runs these instances without its quarantine (freed memory is reused at once, as in a
normal build), so what is measured is what the server keeps. Time: a whole command line and
the session before login are bounded, however steadily the bytes trickle in. Slots: a share
of the connections stays for users who log in. Descriptors: accept() out of them neither
spins nor floods the log.
"""
import imaplib
import os
import resource
import socket
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import raw  # noqa: E402

LOW_QUARANTINE = ("abort_on_error=0:detect_leaks=1:quarantine_size_mb=0:"
                  "thread_local_quarantine_size_kb=0")
MiB = 1024 * 1024


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_seconds(pid):
    """User and system CPU time of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakRss:
    """Samples a process's VmRSS every 20 ms while it runs (with ... as peak: peak.kib)."""

    def __init__(self, pid):
        self.pid, self.kib, self.running = pid, rss_kib(pid), True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while self.running:
            self.kib = max(self.kib, rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def low_memory_instance(instance_factory):
    inst = instance_factory()
    inst.env["ASAN_OPTIONS"] = LOW_QUARANTINE
    return inst


def send_while_read(sock, data, seconds):
    """Sends data until the peer stops reading (seconds without progress) or goes away."""
    sock.settimeout(seconds)
    sent = 0
    try:
        while sent < len(data):
            sent += sock.send(data[sent:sent + 65536])
    except (socket.timeout, BrokenPipeError, ConnectionResetError):
        pass
    return sent


# ---- memory ----

def test_imap_huge_literal_before_login(instance_factory):
    """A 50 MB literal announced before LOGIN is refused at once, never collected: the
    synchronizing one with BAD [TOOBIG] (the session goes on), the non-synchronizing one with
    BYE, and the server's memory stays near its start while 20 clients push at it."""
    inst = low_memory_instance(instance_factory)
    inst.start()
    pid = inst.proc.pid
    for _ in range(3):
        c = raw(inst)
        assert c.cmd("a", "LOGIN {50000000}") == ["a BAD [TOOBIG] Literal too big"]
        assert c.cmd("b", "NOOP") == ["b OK Noop completed"]
        c.sock.close()
    before = rss_kib(pid)
    clients = []
    junk = b"x" * (5 * MiB)
    with PeakRss(pid) as peak:
        for _ in range(20):
            c = raw(inst)
            c.send(b"a LOGIN {50000000+}\r\n")
            send_while_read(c.sock, junk, 0.5)
            clients.append(c)
        for c in clients:
            assert c.closed()
    # before the bound each connection held what it was sent: 100 MB
    assert peak.kib - before < 16 * 1024, (before, peak.kib)
    assert inst.read_log().count("imap disconnect") >= 23



def test_imap_overlong_lines_are_skipped_not_kept(instance_factory):
    """Command lines of 5 MB from 20 logged-in clients are skipped as they arrive (each gets
    BAD [TOOBIG] at its end and the session goes on): the server's memory stays near its
    start, as if the lines had been short."""
    inst = low_memory_instance(instance_factory)
    inst.add_user("alice@example.test")
    inst.start()
    pid = inst.proc.pid
    clients = []
    for _ in range(20):
        c = raw(inst)
        assert c.cmd("a", f"LOGIN alice@example.test {inst.passwords['alice@example.test']}")[-1].startswith("a OK")
        clients.append(c)
    before = rss_kib(pid)
    junk = b"x" * (5 * MiB)
    with PeakRss(pid) as peak:
        for c in clients:
            c.send(b"b ID (\"name\" \"")
            assert send_while_read(c.sock, junk, 10) == len(junk)
            c.sock.settimeout(30)
            c.send(b"\")\r\n")
        for c in clients:
            assert c.cmd("c", "NOOP") == ["b BAD [TOOBIG] Command line or literal too long", "c OK Noop completed"]
    assert peak.kib - before < 16 * 1024, (before, peak.kib)


def test_smtp_pipelining_without_reading(instance_factory):
    """A client pipelines megabytes of EHLO and NOOP and reads none of the replies: the server
    stops reading while its replies wait, so its memory stays bounded; once the client
    reads, every reply comes, in order."""
    inst = low_memory_instance(instance_factory)
    inst.start()
    pid = inst.proc.pid
    sock = socket.create_connection((inst.listen, inst.port("smtp")), timeout=30)
    received = b""

    def read_replies(count):
        """Reads until count whole replies (final lines) are in; returns their bytes."""
        nonlocal received
        while True:
            lines = received.split(b"\r\n")
            finals = [i for i, l in enumerate(lines[:-1]) if len(l) >= 4 and l[3:4] == b" "]
            if len(finals) >= count:
                end = sum(len(l) + 2 for l in lines[:finals[count - 1] + 1])
                out, received = received[:end], received[end:]
                return out
            chunk = sock.recv(1 << 20)
            assert chunk, "closed"
            received += chunk

    assert read_replies(1).startswith(b"220 ")
    pair_cmds = b"EHLO a.test\r\nNOOP\r\n"
    sock.sendall(pair_cmds)
    pair = read_replies(2)
    assert pair.startswith(b"250-") and pair.endswith(b"250 2.0.0 Ok\r\n")
    count = 2 * MiB // len(pair_cmds)
    before = rss_kib(pid)
    sender = threading.Thread(target=sock.sendall, args=(pair_cmds * count,), daemon=True)
    with PeakRss(pid) as peak:
        sender.start()
        time.sleep(4)
    # the replies to all of it would take 2 MB / 19 * 230 octets: 25 MB
    assert peak.kib - before < 10 * 1024, (before, peak.kib)
    got = bytearray()
    want = len(pair) * count
    while len(got) < want:
        chunk = received or sock.recv(1 << 20)
        received = b""
        assert chunk, f"closed after {len(got)} of {want} octets"
        got += chunk
    sender.join()
    assert bytes(got) == pair * count
    sock.sendall(b"QUIT\r\n")
    assert read_replies(1).startswith(b"221 ")
    sock.close()


def test_imap_append_goes_to_the_spool(instance_factory):
    """A 30 MB APPEND after login is written to the spool as it arrives: the server's memory
    stays well under the message's size, and the message arrives byte for byte."""
    inst = low_memory_instance(instance_factory)
    inst.add_user("alice@example.test")
    inst.start()
    pid = inst.proc.pid
    lines = [b"From: alice@example.test", b"To: alice@example.test", b"Subject: big", b""]
    lines += [b"%07d " % i + bytes(range(48, 48 + 64)) for i in range(30 * MiB // 74)]
    message = b"\r\n".join(lines) + b"\r\n"
    c = raw(inst)
    assert c.cmd("a", f"LOGIN alice@example.test {inst.passwords['alice@example.test']}")[-1].startswith("a OK")
    before = rss_kib(pid)
    with PeakRss(pid) as peak:
        c.send(f"b APPEND INBOX {{{len(message)}}}\r\n")
        assert c.line().startswith("+ ")
        for i in range(0, len(message), MiB):
            c.send(message[i:i + MiB])
        c.send(b"\r\n")  # the command's line ends after the literal
        done = c.until("b")
    assert done[-1].startswith("b OK [APPENDUID "), done
    assert peak.kib - before < 8 * 1024, (before, peak.kib)
    uid = done[-1].split()[4].rstrip("]")
    client = inst.imap(user="alice@example.test")
    client.select("INBOX", readonly=True)
    typ, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    assert typ == "OK" and data[0][1] == message
    client.logout()


# ---- time ----

def slow_line(sock, line, interval):
    """Sends line one octet every interval seconds until the server closes; returns what it
    answered and how long it let the line run."""
    start = time.time()
    sock.settimeout(interval)
    got = b""
    for octet in line:
        try:
            sock.send(bytes([octet]))
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        got += chunk
        if not chunk:
            break
    return got.decode(), time.time() - start


@pytest.mark.parametrize("service,reply", [
    ("smtp", "421 4.4.2 mx.example.test Error: timeout exceeded\r\n"),
    ("imap", "* BYE Autologout: time limit exceeded\r\n"),
    ("pop3", ""),  # RFC 1939 3: the autologout timer closes without a response
])
def test_slowloris_command_line(instance_factory, service, reply):
    """A command line sent one octet every half second is cut at the command timeout, though
    the idle timeout never runs out, with the protocol's reply."""
    inst = instance_factory()
    inst.config(f"{service}.command_timeout", "2s")
    inst.start()
    sock = socket.create_connection((inst.listen, inst.port(service)), timeout=10)
    assert sock.recv(4096)  # the greeting
    got, took = slow_line(sock, b"NOOP and a long argument that trickles in\r\n", 0.5)
    assert got == reply
    assert 1.5 < took < 5, took
    assert f"{service} timeout" in inst.read_log()
    # whole lines sent at that pace are no slowloris
    sock = socket.create_connection((inst.listen, inst.port(service)), timeout=10)
    sock.recv(4096)
    for _ in range(6):
        sock.sendall(b"NOOP\r\n")
        assert sock.recv(4096)
        time.sleep(0.5)
    sock.close()


def keep_busy(sock, seconds, noop, first=()):
    """Sends the lines of first, then noop every 0.3 s, reading each answer, for seconds or
    until the server closes; returns what it answered and when it closed (None: open)."""
    start, got = time.time(), b""
    sock.settimeout(2)
    lines = list(first)
    try:
        while time.time() - start < seconds:
            sock.sendall((lines.pop(0) if lines else noop).encode() + b"\r\n")
            chunk = sock.recv(4096)
            if not chunk:
                return got.decode(), time.time() - start
            got += chunk
            time.sleep(0.3)
    except (BrokenPipeError, ConnectionResetError):
        return got.decode(), time.time() - start
    return got.decode(), None


@pytest.mark.parametrize("service,noop,reply,login", [
    ("smtp", "NOOP", "421 4.4.2 mx.example.test Error: timeout exceeded",
     ["EHLO c.test", "MAIL FROM:<x@c.test>"]),
    ("imap", "t NOOP", "* BYE Autologout: time limit exceeded", ["a LOGIN alice@example.test {pw}"]),
    # RFC 1939 3: the autologout timer closes without a response; the last is NOOP's refusal
    ("pop3", "NOOP", "-ERR", ["USER alice@example.test", "PASS {pw}"]),
])
def test_login_timeout(instance_factory, service, noop, reply, login):
    """A client that does not log in is closed at the login timeout however busy it keeps
    the session; one that logged in (on SMTP port 25: began a transaction) stays."""
    inst = instance_factory()
    pw = inst.add_user("alice@example.test")
    inst.config(f"{service}.login_timeout", "2s")
    inst.start()
    sock = socket.create_connection((inst.listen, inst.port(service)), timeout=10)
    sock.recv(4096)
    got, closed = keep_busy(sock, 8, noop)
    assert closed is not None and 1.5 < closed < 5, (closed, got)
    assert reply in got.splitlines()[-1], got
    sock = socket.create_connection((inst.listen, inst.port(service)), timeout=10)
    sock.recv(4096)
    got, closed = keep_busy(sock, 4, noop, [line.format(pw=pw) for line in login])
    assert closed is None, got
    sock.close()


def test_login_share_keeps_slots_for_users(instance_factory):
    """Every slot of IMAP is taken by clients that never log in, and more keep coming: each
    new one past the login share drops the oldest of them (BYE [UNAVAILABLE]), so a user
    still gets in and logs in; users may then take the slots the share leaves."""
    inst = instance_factory()
    inst.config("imap.max_connections", "5")
    inst.config("imap.max_login_connections", "3")
    pw = inst.add_user("alice@example.test")
    inst.start()
    idle = [raw(inst) for _ in range(8)]
    assert all(c.greeting.startswith("* OK ") for c in idle)
    for c in idle[:5]:
        assert c.closed()
        assert c.buf == b"* BYE [UNAVAILABLE] Too many connections, try again later\r\n"
    for c in idle[5:]:
        assert not c.closed(timeout=0.2)
    users = []
    for _ in range(2):
        user = raw(inst)
        assert user.greeting.startswith("* OK ")
        assert user.cmd("a", f"LOGIN alice@example.test {pw}")[-1].startswith("a OK")
        users.append(user)
    # the first user dropped the oldest; once it had logged in the share had room again
    assert [c.closed(timeout=0.2) for c in idle[5:]] == [True, False, False]
    assert inst.read_log().count("dropped reason=login-share") == 6
    for user in users:
        assert user.cmd("b", "NOOP")[-1] == "b OK Noop completed"


# ---- descriptors ----

def probes_gone(inst, starts):
    """Waits until the readiness probes of the instance's starts so far (one per service)
    have disconnected."""
    deadline = time.time() + 10
    while inst.read_log().count(" disconnect ip=") < starts * 7:
        assert time.time() < deadline
        time.sleep(0.05)


def test_accept_out_of_descriptors(instance_factory):
    """With its descriptors used up, the server logs one line, rests instead of spinning on
    accept(), and serves again once descriptors are free."""
    inst = instance_factory()
    inst.start()
    probes_gone(inst, 1)
    in_use = len(os.listdir(f"/proc/{inst.proc.pid}/fd"))
    inst.stop()
    # started with room for the start's readiness probes (one per service, at once) and a
    # few connections more (serve inherits the limit); the descriptors counted are those
    # of a server at rest, its resolver's socket among them
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 12, hard))
    try:
        inst.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    pid = inst.proc.pid
    probes_gone(inst, 2)
    clients = [socket.create_connection((inst.listen, inst.port("imap")), timeout=10)
               for _ in range(40)]
    time.sleep(0.5)
    cpu = cpu_seconds(pid)
    time.sleep(3)
    assert cpu_seconds(pid) - cpu < 0.5
    log = inst.read_log()
    imap = f"listener=127.0.0.1:{inst.port('imap')} accept failed: Too many open files"
    assert log.count(imap) == 1 and log.count("accept failed") == 1, log[-2000:]
    for c in clients:
        c.close()
    deadline = time.time() + 15
    while True:
        c = raw(inst, timeout=15)
        if c.greeting.startswith("* OK "):
            break
        assert time.time() < deadline
    assert c.cmd("a", "LOGOUT")[-1] == "a OK Logout completed"
