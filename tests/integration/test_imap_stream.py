"""Long IMAP answers flow as the client reads them: a FETCH of many large messages from a
client that does not read holds the server's memory near the output bound, the other
sessions are served meanwhile, pipelined commands wait their turn in order, and a client
that goes away mid-answer leaves the server fine.

Memory is measured as in test_bounds (VmRSS, the sanitizer's quarantine off). The latency
bound is generous (1 s, the goal being well under 100 ms): CI shares 2 cores and runs the
sanitizer build; the measured value is printed (pytest -s)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from test_bounds import PeakRss, low_memory_instance, rss_kib  # noqa: E402
from test_imap import raw  # noqa: E402
from test_imap_search import wait_indexed  # noqa: E402

MiB = 1024 * 1024
USER = "alice@example.test"


def message(n):
    """About 1 MB, different in each message: a binary attachment, so the indexer, which
    reads only text, is soon done with it and its work does not count as FETCH's."""
    head = [b"From: %s" % USER.encode(), b"To: %s" % USER.encode(), b"Subject: big %d" % n,
            b"MIME-Version: 1.0", b"Content-Type: application/octet-stream",
            b"Content-Transfer-Encoding: base64", b""]
    lines = [b"%03d%07d" % (n, i) + bytes(range(65, 65 + 26)) * 2 + b"abcdefghij"
             for i in range(MiB // 74)]
    return b"\r\n".join(head + lines) + b"\r\n"


def mailbox_of(inst, count):
    """Logs in, APPENDs count messages to INBOX, returns them."""
    c = raw(inst)
    assert c.cmd("a", f"LOGIN {USER} {inst.passwords[USER]}")[-1].startswith("a OK")
    messages = [message(n) for n in range(count)]
    for n, m in enumerate(messages):
        c.send(b"p%d APPEND INBOX {%d+}\r\n" % (n, len(m)) + m + b"\r\n")
    for n in range(count):
        assert c.until(f"p{n}")[-1].startswith(f"p{n} OK"), n
    c.close()
    return messages


def settled_rss_kib(inst, rows):
    """VmRSS once the indexer has read the rows new messages (its work after APPEND would
    otherwise count as FETCH's) and memory has stopped growing."""
    wait_indexed(inst, rows, seconds=120)
    pid = inst.proc.pid
    last = rss_kib(pid)
    for _ in range(100):
        time.sleep(0.5)
        now = rss_kib(pid)
        if now - last < 512:
            return now
        last = now
    raise AssertionError("the server's memory keeps growing")


def logged_in(inst):
    c = raw(inst, timeout=60)
    assert c.cmd("a", f"LOGIN {USER} {inst.passwords[USER]}")[-1].startswith("a OK")
    assert c.cmd("b", "SELECT INBOX")[-1].startswith("b OK")
    return c


def read_exactly(c, n):
    data = bytearray(c.buf[:n])
    c.buf = c.buf[n:]
    while len(data) < n:
        chunk = c.sock.recv(min(MiB, n - len(data)))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {n} octets")
        data += chunk
    return bytes(data)


def read_bodies(c, tag, count):
    """The count "* n FETCH (BODY[] {len}" answers and the tagged line."""
    bodies = []
    for n in range(1, count + 1):
        head = c.line()
        m = re.fullmatch(r"\* (\d+) FETCH \(BODY\[\] \{(\d+)\}", head)
        assert m and int(m.group(1)) == n, head
        bodies.append(read_exactly(c, int(m.group(2))))
        assert c.line() == ")", n
    return bodies, c.line()


def noop_seconds(c, times):
    """The slowest of times NOOPs."""
    worst = 0.0
    for n in range(times):
        start = time.monotonic()
        assert c.cmd(f"n{n}", "NOOP")[-1].startswith(f"n{n} OK")
        worst = max(worst, time.monotonic() - start)
        time.sleep(0.05)
    return worst


def fetch_not_read(pid, before, slow, other, noops):
    """Sends FETCH 1:* BODY.PEEK[] on slow and reads nothing: the server (pid, before KiB of
    memory) grows by less than 32 MiB, and other's noops NOOPs are each answered at once."""
    with PeakRss(pid) as peak:
        slow.send("f FETCH 1:* BODY.PEEK[]\r\n")
        worst = noop_seconds(other, noops)
        time.sleep(1)
    print(f"\nRSS growth {(peak.kib - before) / 1024:.1f} MiB, slowest NOOP {worst * 1000:.1f} ms")
    assert peak.kib - before < 32 * 1024, (before, peak.kib)
    assert worst < 1.0, worst


def test_fetch_waits_for_a_client_that_does_not_read(instance_factory):
    """FETCH 1:* BODY.PEEK[] of 100 messages of 1 MB, the client reading nothing: the server
    grows by less than 32 MiB (it held all 100 MB before), another session's NOOP is answered
    at once, and once the client reads it gets every octet and the tagged OK."""
    inst = low_memory_instance(instance_factory)
    inst.add_user(USER)
    inst.start()
    pid = inst.proc.pid
    messages = mailbox_of(inst, 100)
    slow, other = logged_in(inst), logged_in(inst)
    before = settled_rss_kib(inst, 100)
    fetch_not_read(pid, before, slow, other, 20)
    bodies, done = read_bodies(slow, "f", 100)
    assert done == "f OK FETCH completed"
    assert bodies == messages


def test_pipelined_commands_wait_in_order(instance_factory):
    """Four FETCHes and a NOOP sent at once, none read: memory stays bounded while they wait,
    and the answers come in the order of the commands, each complete."""
    inst = low_memory_instance(instance_factory)
    inst.add_user(USER)
    inst.start()
    pid = inst.proc.pid
    messages = mailbox_of(inst, 40)
    c = logged_in(inst)
    before = settled_rss_kib(inst, 40)
    with PeakRss(pid) as peak:
        c.send("f1 FETCH 1:* BODY.PEEK[]\r\nf2 FETCH 1:* BODY.PEEK[]\r\nn NOOP\r\n"
               "f3 FETCH 1:* BODY.PEEK[]\r\nf4 FETCH 1:* BODY.PEEK[]\r\nu UID FETCH 40 (UID)\r\n")
        time.sleep(2)
    print(f"\nRSS growth {(peak.kib - before) / 1024:.1f} MiB")
    assert peak.kib - before < 32 * 1024, (before, peak.kib)
    for tag in ("f1", "f2", "n", "f3", "f4"):
        if tag == "n":
            assert c.line() == "n OK Noop completed"
            continue
        bodies, done = read_bodies(c, tag, 40)
        assert done == f"{tag} OK FETCH completed" and bodies == messages
    assert c.until("u") == ["* 40 FETCH (UID 40)", "u OK UID FETCH completed"]


def test_closing_mid_fetch(instance_factory):
    """Clients that close while their FETCH waits for them to read (after reading part of it,
    or none) leave the server serving, and freeing all they held (the sanitizer checks)."""
    inst = low_memory_instance(instance_factory)
    inst.add_user(USER)
    inst.start()
    messages = mailbox_of(inst, 20)
    for read in (0, 3 * MiB):
        c = logged_in(inst)
        c.send("f FETCH 1:* BODY.PEEK[]\r\ng NOOP\r\n")
        time.sleep(0.3)
        read_exactly(c, read)
        c.close()
    time.sleep(0.3)
    c = logged_in(inst)
    c.send("f FETCH 20 BODY.PEEK[]\r\n")
    head = c.line()
    assert head == "* 20 FETCH (BODY[] {%d}" % len(messages[19]), head
    assert read_exactly(c, len(messages[19])) == messages[19]
    assert c.until("f") == [")", "f OK FETCH completed"]
    assert inst.read_log().count("imap disconnect") >= 3
