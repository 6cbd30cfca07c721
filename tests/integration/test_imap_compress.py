"""COMPRESS=DEFLATE (RFC 4978): after the tagged OK both directions are raw DEFLATE, each
response flushed so the client can read it at once; it works in the clear and under TLS,
a second COMPRESS is refused with NO [COMPRESSIONACTIVE] and an unknown mechanism with BAD;
the input is bounded as any input (a decompression bomb is cut off without the server
growing) and the output waits for a client that does not read, as without compression.

The client here is raw sockets and Python's zlib, as Thunderbird drives it: LOGIN, COMPRESS,
SELECT, FETCH, IDLE with a delivery during it, DONE, LOGOUT. Memory is measured as in
test_imap_stream (VmRSS, the sanitizer's quarantine off)."""
import os
import re
import sys
import threading
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from conftest import insecure_tls  # noqa: E402
from test_bounds import PeakRss  # noqa: E402
from test_imap import ALICE, deliver, raw  # noqa: E402
from test_imap_stream import (MiB, USER, fetch_not_read, low_memory_instance,  # noqa: E402
                              mailbox_of, noop_seconds, settled_rss_kib)


class Deflated:
    """An IMAP connection after COMPRESS: what is sent is deflated and sync-flushed as one
    command, what arrives is inflated; lines and literals are read from the inflated bytes."""

    def __init__(self, c):
        self.sock = c.sock
        self.out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflater = zlib.decompressobj(-15)
        # what the server sent after the tagged OK of COMPRESS is compressed already
        self.buf = self.inflater.decompress(c.buf)
        c.buf = b""

    def send(self, data):
        data = data if isinstance(data, bytes) else data.encode()
        self.sock.sendall(self.out.compress(data) + self.out.flush(zlib.Z_SYNC_FLUSH))

    def more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; got " + repr(self.buf[:200]))
        self.buf += self.inflater.decompress(chunk)

    def line(self):
        while b"\r\n" not in self.buf:
            self.more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def exactly(self, n):
        while len(self.buf) < n:
            self.more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until(self, tag):
        lines = []
        while True:
            lines.append(self.line())
            if lines[-1].startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until(tag)


def compressed(c):
    """COMPRESS DEFLATE on a RawIMAP connection: the tagged OK arrives uncompressed."""
    c.send("z COMPRESS DEFLATE\r\n")
    assert c.line() == "z OK DEFLATE active"
    return Deflated(c)


def login(c, inst, user=ALICE):
    assert c.cmd("a", f"LOGIN {user} {inst.passwords[user]}")[-1].startswith("a OK")


def test_capability_and_refusals(server):
    """COMPRESS=DEFLATE is offered; an unknown mechanism is BAD and the session goes on
    uncompressed; after COMPRESS, a second one is NO [COMPRESSIONACTIVE]."""
    c = raw(server)
    assert "COMPRESS=DEFLATE" in c.greeting
    assert c.cmd("n", "COMPRESS DEFLATE")[-1].startswith("n BAD")  # before login
    login(c, server)
    assert c.cmd("b", "COMPRESS LZW")[-1].startswith("b BAD")
    assert c.cmd("c", "NOOP") == ["c OK Noop completed"]
    z = compressed(c)
    assert z.cmd("d", "COMPRESS DEFLATE") == ["d NO [COMPRESSIONACTIVE] DEFLATE is active already"]
    assert z.cmd("e", "NOOP") == ["e OK Noop completed"]


def thunderbird_session(inst, c):
    """The session Thunderbird holds open, compressed, on c (RawIMAP, not logged in)."""
    login(c, inst)
    z = compressed(c)
    select = z.cmd("s", "SELECT INBOX")
    assert "* 1 EXISTS" in select and select[-1].startswith("s OK [READ-WRITE]")
    z.send("f UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[])\r\n")
    head = z.line()
    m = re.fullmatch(r"\* 1 FETCH \(UID 1 RFC822\.SIZE (\d+) FLAGS \(\\Recent\) BODY\[\] \{(\d+)\}", head)
    assert m, head
    body = z.exactly(int(m.group(2)))
    assert b"Subject: first\r\n" in body and body.endswith(b"first body\r\n")
    assert z.until("f") == [")", "f OK UID FETCH completed"]
    z.send("i IDLE\r\n")
    assert z.line().startswith("+ ")
    deliver(inst, ALICE, "arrived during IDLE\r\n", "second")
    assert z.line() == "* 2 EXISTS"
    z.send("DONE\r\n")
    assert z.until("i")[-1] == "i OK IDLE terminated"
    fetched = z.cmd("g", "FETCH 2 BODY.PEEK[TEXT]")
    assert fetched[0] == "* 2 FETCH (BODY[TEXT] {21}" and fetched[-1] == "g OK FETCH completed"
    assert z.cmd("l", "LOGOUT")[-2:] == ["* BYE Logging out", "l OK Logout completed"]
    z.sock.settimeout(5)
    assert z.sock.recv(1) == b"" and z.buf == b""  # closed after the last response


def test_thunderbird_like_session(server):
    deliver(server, ALICE, "first body\r\n", "first")
    server.wait_for_messages(ALICE, 1)
    thunderbird_session(server, raw(server))


def test_compress_after_starttls(server):
    """Compression sits above TLS: STARTTLS, then COMPRESS, the same session."""
    deliver(server, ALICE, "first body\r\n", "first")
    server.wait_for_messages(ALICE, 1)
    c = raw(server)
    assert c.cmd("t", "STARTTLS")[-1].startswith("t OK")
    c.sock = insecure_tls().wrap_socket(c.sock)
    thunderbird_session(server, c)


def test_compress_on_implicit_tls(server):
    deliver(server, ALICE, "first body\r\n", "first")
    server.wait_for_messages(ALICE, 1)
    thunderbird_session(server, raw(server, "imaps"))


def test_big_fetch_not_read_keeps_memory_bounded(instance_factory):
    """A compressed FETCH 1:* BODY.PEEK[] of 40 messages of 1 MB that the client does not
    read: the server grows by less than 32 MiB, another session is served meanwhile, and
    once the client reads it inflates every octet."""
    inst = low_memory_instance(instance_factory)
    inst.add_user(USER)
    inst.start()
    messages = mailbox_of(inst, 40)
    c = raw(inst, timeout=60)
    login(c, inst, USER)
    z = compressed(c)
    assert z.cmd("s", "SELECT INBOX")[-1].startswith("s OK")
    other = raw(inst)
    login(other, inst, USER)
    before = settled_rss_kib(inst, 40)
    fetch_not_read(inst.proc.pid, before, z, other, 10)
    for n in range(1, 41):
        head = z.line()
        m = re.fullmatch(r"\* (\d+) FETCH \(BODY\[\] \{(\d+)\}", head)
        assert m and int(m.group(1)) == n, head
        assert z.exactly(int(m.group(2))) == messages[n - 1], n
        assert z.line() == ")"
    assert z.line() == "f OK FETCH completed"


def send_bomb(z, prefix, zeroes, suffix):
    """Sends prefix, zeroes NUL octets and suffix deflated (1 GiB of zeroes is about 1 MiB),
    without building the inflated text."""
    sock, out = z.sock, zlib.compressobj(9, zlib.DEFLATED, -15)
    z.out = out
    sock.sendall(out.compress(prefix))
    block = bytes(MiB)
    for _ in range(zeroes // MiB):
        data = out.compress(block)
        if data:
            sock.sendall(data)
    sock.sendall(out.compress(suffix) + out.flush(zlib.Z_SYNC_FLUSH))


def test_decompression_bomb(instance_factory):
    """A command line of 1 GiB of zeroes sent deflated: the server inflates it a bound at a
    time, answers BAD [TOOBIG] as for any line over the bound, goes on with the next command,
    and its memory does not grow; other sessions are served meanwhile."""
    inst = low_memory_instance(instance_factory)
    inst.add_user(USER)
    inst.start()
    c = raw(inst, timeout=300)
    login(c, inst, USER)
    z = compressed(c)
    other = raw(inst)
    login(other, inst, USER)
    assert z.cmd("n", "NOOP") == ["n OK Noop completed"]
    with PeakRss(inst.proc.pid) as peak:
        before = peak.kib
        sender = threading.Thread(target=send_bomb, args=(z, b'b ID ("x" "', 1024 * MiB, b'")\r\nc NOOP\r\n'))
        sender.start()
        worst = noop_seconds(other, 10)
        sender.join()
        reply = z.line()
        inst_rss = peak.kib
    print(f"\nRSS growth {(inst_rss - before) / 1024:.1f} MiB, slowest NOOP {worst * 1000:.1f} ms")
    assert reply.startswith("b BAD [TOOBIG]"), reply
    assert z.line() == "c OK Noop completed"
    assert inst_rss - before < 16 * 1024, (before, inst_rss)
    assert worst < 1.0, worst


def test_a_stream_that_is_not_deflate_ends_the_connection(server):
    """After COMPRESS, octets that do not inflate cannot be followed: the server closes, and
    serves others as before."""
    c = raw(server)
    login(c, server)
    compressed(c)
    c.send(b"\xff" * 64 + b"\r\n")
    assert c.closed()
    other = raw(server)
    login(other, server)
    assert other.cmd("n", "NOOP") == ["n OK Noop completed"]
