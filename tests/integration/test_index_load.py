"""The full-text indexer never holds up delivery or the event loop: a 45 MB message of varied
text (random words over Latin, Greek and Cyrillic letters and digits, so its distinct trigrams
are many) is indexed while small messages keep arriving. Every small one gets 250 (never 451
database is locked) and is delivered; the server keeps answering SMTP NOOPs and ETRN while
the index works; the index keeps only the first megabyte of the message's text (bodies.indexed
= 2), so the instance grows by the message file and a bounded few megabytes; the write-ahead
logs are truncated after the work; SEARCH finds text within the bound from the index and text
beyond it by reading the message; SIGTERM while indexing stops the server within seconds, and
the index resumes at the next start."""
import imaplib
import os
import random
import signal
import smtplib
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from conftest import RawSMTP  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"
MIB = 1024 * 1024
BIG = 45 * MIB
# What the index may add for the big message beyond its file: its first MiB of text (stored
# by FTS5 with the index) and that text's trigram index, with room for SQLite's pages.
INDEX_GROWTH_BOUND = 8 * MIB
WAL_SIZE_LIMIT = 4 * MIB  # PRAGMA journal_size_limit (store/sqlite_internal.h)

ALPHABET = ("abcdefghijklmnopqrstuvwxyz0123456789" "αβγδεζηθικλμνξοπρστυφχψω"
            "абвгдежзийклмнопрстуфхцчшщъыьэюя")


def big_message():
    rng = random.Random(45)
    words = ["".join(rng.choices(ALPHABET, k=rng.randint(3, 9))) for _ in range(200000)]
    lines = ["From: <carol@example.org>", "To: <alice@example.test>", "Subject: the big one",
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 8bit", "", "early needlezq marks the start"]
    size = 0
    body = []
    while size < BIG:
        line = " ".join(rng.choices(words, k=10))
        body.append(line)
        size += len(line.encode()) + 2
    body.append("late needlezq marks the end")
    return ("\r\n".join(lines + body) + "\r\n").encode()


def instance_bytes(inst):
    """Bytes of the databases and their logs (message files apart)."""
    total = 0
    for name in os.listdir(inst.data):
        if name.startswith(("estafeta.db", "index.db")):
            total += os.path.getsize(os.path.join(inst.data, name))
    return total


def message_bytes(inst):
    total = 0
    for root, _, files in os.walk(os.path.join(inst.data, "messages")):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def big_state(inst):
    """bodies.indexed of the big message (None until it is delivered)."""
    db = sqlite3.connect(f"file:{os.path.join(inst.data, 'estafeta.db')}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT indexed FROM bodies WHERE size > ?", (BIG,)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def send_big(inst, data):
    c = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=300)
    c.sendmail("carol@example.org", [ALICE], data)
    c.quit()


class SmallSender(threading.Thread):
    """Sends small messages to bob one after another until stopped; keeps every outcome."""

    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst, self.stop, self.codes, self.slowest = inst, threading.Event(), [], 0.0

    def run(self):
        c = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=120)
        n = 0
        while not self.stop.is_set():
            started = time.time()
            try:
                c.sendmail("dave@example.org", [BOB], f"Subject: small {n}\r\n\r\nsmall one\r\n".encode())
                self.codes.append(250)
            except smtplib.SMTPResponseException as e:
                self.codes.append(e.smtp_code)
            self.slowest = max(self.slowest, time.time() - started)
            n += 1
            time.sleep(0.05)
        c.quit()


class Prober(threading.Thread):
    """NOOP and ETRN (a domain we hold mail for) on one SMTP session in a loop: counts the answers that came while the
    big message was being indexed (bodies.indexed still 0)."""

    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst, self.stop, self.during, self.slowest, self.etrn = inst, threading.Event(), 0, 0.0, set()

    def run(self):
        r = RawSMTP("127.0.0.1", self.inst.port("smtp"))
        r.cmd("EHLO probe.test")
        while not self.stop.is_set():
            started = time.time()
            assert r.cmd("NOOP")[0] == 250
            self.etrn.add(r.cmd("ETRN held.test")[0])
            self.slowest = max(self.slowest, time.time() - started)
            if big_state(self.inst) == 0:
                self.during += 1
            time.sleep(0.1)
        r.close()


def wait(what, cond, timeout):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, what
        time.sleep(0.1)


def search(inst, *criteria):
    c = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    c.login(ALICE, inst.passwords[ALICE])
    c.select("INBOX")
    typ, data = c.search(None, *criteria)
    c.logout()
    assert typ == "OK", data
    return data[0].split()


def test_big_message_indexed_while_mail_flows(server):
    data = big_message()
    server.stop()
    server.config("smtp.etrn_max_per_ip", "100000")
    server.config("smtp.etrn_domains", "held.test")
    server.start()
    before = instance_bytes(server)
    sender, prober = SmallSender(server), Prober(server)
    sender.start()
    prober.start()
    started = time.time()
    send_big(server, data)
    wait("the big message indexed", lambda: big_state(server) not in (None, 0), 300)
    indexed_after = time.time() - started
    time.sleep(1)
    sender.stop.set()
    prober.stop.set()
    sender.join(60)
    prober.join(60)
    print(f"indexed after {indexed_after:.1f} s; slowest small delivery {sender.slowest:.2f} s, "
          f"slowest NOOP+ETRN {prober.slowest:.2f} s, {prober.during} probes answered while "
          f"indexing, {len(sender.codes)} small messages")
    # no 451: every small message was accepted, and is there
    assert sender.codes and set(sender.codes) == {250}, sender.codes
    server.wait_for_messages(BOB, len(sender.codes), timeout=30)
    # the loop answered while the index worked, ETRN too (its store write is a worker's)
    assert prober.during > 0
    assert prober.etrn == {250}
    # only the text within the bound is in the index
    assert big_state(server) == 2
    # the write-ahead logs give their space back once the work is done
    for name in ("estafeta.db-wal", "index.db-wal"):
        path = os.path.join(server.data, name)
        wait(f"{name} truncated", lambda: not os.path.exists(path) or os.path.getsize(path) <= WAL_SIZE_LIMIT, 30)
    growth = instance_bytes(server) - before
    print(f"databases grew by {growth / MIB:.1f} MiB, message files are {message_bytes(server) / MIB:.1f} MiB")
    assert growth <= INDEX_GROWTH_BOUND, growth

    # within the bound: from the index; beyond it: read from the message; absent: not found
    assert search(server, "BODY", '"early needlezq"') == [b"1"]
    assert search(server, "BODY", '"late needlezq"') == [b"1"]
    assert search(server, "TEXT", '"the big one"') == [b"1"]
    assert search(server, "BODY", '"nowhere needlezq"') == []
    assert search(server, "NOT", "BODY", '"late needlezq"') == []


def test_sigterm_while_indexing_and_backlog_at_start(server):
    data = big_message()
    send_big(server, data)
    wait("the big message delivered", lambda: big_state(server) is not None, 60)
    time.sleep(0.5)  # the indexer has started on it
    assert big_state(server) == 0
    started = time.time()
    code = server.stop(signal.SIGTERM)
    stopped_after = time.time() - started
    print(f"stopped {stopped_after:.1f} s after SIGTERM")
    assert code == 0
    assert stopped_after < 10, stopped_after
    # the next start catches up with the backlog while mail is delivered
    server.start()
    sender = SmallSender(server)
    sender.start()
    wait("the backlog indexed", lambda: big_state(server) not in (None, 0), 300)
    time.sleep(1)
    sender.stop.set()
    sender.join(60)
    print(f"slowest small delivery {sender.slowest:.2f} s, {len(sender.codes)} small messages")
    assert sender.codes and set(sender.codes) == {250}, sender.codes
    server.wait_for_messages(BOB, len(sender.codes), timeout=30)
    assert search(server, "BODY", '"early needlezq"') == [b"1"]
