"""IMAP's store calls run on the store workers, not on the event loop: while one session's
long SEARCH reads and decodes message files, other sessions are answered, and what the
long command answers is whole and in order.

Nothing here asserts a duration: whether other sessions were served while the SEARCH ran
is told by the order of the answers (a NOOP answered while the SEARCH's answer has not
arrived). The measured times are printed (pytest -s)."""
import os
import select
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import raw  # noqa: E402
from test_imap_search import wait_indexed  # noqa: E402

USER = "alice@example.test"
MESSAGES = 16


def text_message(n):
    """About 4 MB of text: the index holds its first MiB only (store/index_bound.c), so a
    search for a word it does not hold reads and decodes the whole message."""
    head = [b"From: %s" % USER.encode(), b"To: %s" % USER.encode(), b"Subject: long %d" % n, b""]
    lines = [b"line %03d %07d of a long text that goes on and on, word after word" % (n, i)
             for i in range(4 * 1024 * 1024 // 64)]
    return b"\r\n".join(head + lines) + b"\r\n"


def logged_in(inst):
    c = raw(inst, timeout=120)
    assert c.cmd("a", f"LOGIN {USER} {inst.passwords[USER]}")[-1].startswith("a OK")
    assert c.cmd("b", "SELECT INBOX")[-1].startswith("b OK")
    return c


def fill(inst):
    c = logged_in(inst)
    for n in range(MESSAGES):
        m = text_message(n)
        c.send(b"p%d APPEND INBOX {%d+}\r\n" % (n, len(m)) + m + b"\r\n")
    for n in range(MESSAGES):
        assert c.until(f"p{n}")[-1].startswith(f"p{n} OK"), n
    c.close()
    wait_indexed(inst, MESSAGES, seconds=240)


def answered(c):
    """Whether anything of an answer has arrived on c, without waiting."""
    return bool(c.buf) or bool(select.select([c.sock], [], [], 0)[0])


def test_a_long_search_does_not_hold_up_other_sessions(instance_factory):
    inst = instance_factory()
    inst.add_user(USER)
    inst.start()
    fill(inst)
    slow, other = logged_in(inst), logged_in(inst)
    start = time.monotonic()
    slow.send('s SEARCH BODY "nowhere-in-these-messages"\r\nt UID SEARCH TEXT "line 003 0000001"\r\n')
    served, latencies = 0, []
    while not answered(slow):
        t0 = time.monotonic()
        assert other.cmd("n", "NOOP")[-1] == "n OK Noop completed"
        latencies.append(time.monotonic() - t0)
        # counted only when the SEARCH is still unanswered after the NOOP's answer
        served += not answered(slow)
    assert slow.until("s") == ["* SEARCH", "s OK SEARCH completed"]
    searched = time.monotonic() - start
    assert slow.until("t") == ["* SEARCH 4", "t OK UID SEARCH completed"]
    print(f"\nSEARCH of {MESSAGES} x 4 MB read from the files: {searched * 1000:.0f} ms; "
          f"{served} NOOPs of another session answered meanwhile, median "
          f"{statistics.median(latencies) * 1000:.1f} ms, slowest {max(latencies) * 1000:.1f} ms")
    assert served >= 1
    # the sessions go on: a command on each after the long one
    assert slow.cmd("u", "UID FETCH 1:* (UID)")[-1] == "u OK UID FETCH completed"
    assert other.cmd("v", "STATUS INBOX (MESSAGES)")[0] == f'* STATUS "INBOX" (MESSAGES {MESSAGES})'


def test_a_client_that_leaves_during_a_long_search(instance_factory):
    """The session's job finishes after the client has gone and the session is freed (the
    sanitizer checks); the server goes on serving."""
    inst = instance_factory()
    inst.add_user(USER)
    inst.start()
    fill(inst)
    for _ in range(3):
        c = logged_in(inst)
        c.send('s SEARCH BODY "nowhere-in-these-messages"\r\n')
        c.close()
    c = logged_in(inst)
    assert c.cmd("s", 'SEARCH BODY "nowhere-in-these-messages"') == ["* SEARCH", "s OK SEARCH completed"]
    time.sleep(0.5)
    assert inst.read_log().count("imap disconnect") >= 3


def test_stopping_during_a_long_search(instance_factory):
    """SIGTERM while SEARCHes and an APPEND are on the store workers: serve lets them finish,
    stops cleanly (status 0, so the sanitizer found no leak) and the APPENDed message that
    was answered OK is there after a restart."""
    inst = instance_factory()
    inst.add_user(USER)
    inst.start()
    fill(inst)
    slow, other = logged_in(inst), logged_in(inst)
    slow.send('s SEARCH BODY "nowhere-in-these-messages"\r\n')
    other.send('o SEARCH BODY "nowhere-in-these-messages"\r\n')
    appender = logged_in(inst)
    note = b"Subject: last\r\n\r\nappended as the server stops\r\n"
    answer = appender.cmd("p", "APPEND INBOX {%d+}\r\n%s" % (len(note), note.decode()))[-1]
    assert inst.stop() == 0, inst.read_log()[-2000:]
    assert "serve stopped" in inst.read_log()
    inst.start()
    c = logged_in(inst)
    expected = MESSAGES + 1 if answer.startswith("p OK") else MESSAGES
    assert c.cmd("n", "STATUS INBOX (MESSAGES)")[0] == f'* STATUS "INBOX" (MESSAGES {expected})'
