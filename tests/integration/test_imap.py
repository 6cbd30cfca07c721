"""IMAP (RFC 3501 with LITERAL+, SASL-IR, IDLE, NAMESPACE, UNSELECT, ID, ENABLE): the states,
login by LOGIN and AUTHENTICATE (PLAIN, LOGIN, SCRAM-SHA-256), STARTTLS and port 993, SELECT
and EXAMINE, LIST/LSUB/STATUS, FETCH of every item there is so far (body sections of nested
multiparts included), STORE, SEARCH, EXPUNGE and CLOSE, IDLE seeing an SMTP delivery, several
sessions seeing each other's changes, and bad syntax answered with BAD while the session goes
on. Driven with Python's imaplib and, for what imaplib hides, raw sockets."""
import base64
import os
import re
import socket
import sys
import threading
import time

import imaplib
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from conftest import insecure_tls  # noqa: E402
from scram import ScramClient  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"

MULTIPART = (
    "From: Ann <ann@elsewhere.test>\r\n"
    "Subject: =?ISO-8859-1?Q?caf=E9?= menu\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "plain part\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "\r\n"
    "inner text\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>inner html</p>\r\n"
    "--inner--\r\n"
    "--outer--\r\n")


class RawIMAP:
    """A line-level IMAP client: sends what it is given, reads lines and literals as bytes."""

    def __init__(self, host, port, tls=False, timeout=30):
        sock = socket.create_connection((host, port), timeout=timeout)
        self.sock = insecure_tls().wrap_socket(sock) if tls else sock
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; got " + repr(self.buf))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def until(self, tag):
        """Every line up to and including the tagged one."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until(tag)

    def closed(self, timeout=5):
        """Whether the server closes within timeout seconds (what it says before is kept)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def raw(inst, service="imap", timeout=30):
    return RawIMAP(inst.listen, inst.port(service), tls=service == "imaps", timeout=timeout)


def deliver(inst, to, body, subject="test", raw_message=None):
    with inst.smtp() as c:
        c.sendmail("sender@elsewhere.test", [to],
                   raw_message or f"Subject: {subject}\r\nFrom: x@elsewhere.test\r\n\r\n{body}")


@pytest.fixture
def mailbox(server):
    """The server with three messages for alice: two simple ones and a nested multipart."""
    deliver(server, ALICE, "first body\r\n", "one")
    deliver(server, ALICE, "second body\r\nwith a needle\r\n", "two")
    deliver(server, ALICE, None, raw_message=MULTIPART)
    server.wait_for_messages(ALICE, 3)
    return server


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


# ---- greeting, capabilities, states ----

def test_greeting_and_capability(server):
    c = server.imap()
    assert b"IMAP4rev1" in c.welcome and b"[CAPABILITY" in c.welcome
    caps = c.capabilities
    for cap in ("IMAP4REV1", "LITERAL+", "SASL-IR", "IDLE", "NAMESPACE", "UNSELECT", "ID",
                "AUTH=PLAIN", "AUTH=SCRAM-SHA-256", "STARTTLS"):
        assert cap in caps, caps
    c.logout()


def test_commands_need_the_right_state(server):
    r = raw(server)
    assert r.cmd("a1", "SELECT INBOX")[-1].startswith("a1 BAD")
    assert r.cmd("a2", "FETCH 1 FLAGS")[-1].startswith("a2 BAD")
    assert r.cmd("a3", f"LOGIN {ALICE} {server.passwords[ALICE]}")[-1].startswith("a3 OK")
    assert r.cmd("a4", "LOGIN x y")[-1].startswith("a4 BAD")
    assert r.cmd("a5", "FETCH 1 FLAGS")[-1].startswith("a5 BAD")
    lines = r.cmd("a6", "LOGOUT")
    assert lines[0].startswith("* BYE") and lines[-1].startswith("a6 OK")
    assert r.closed()


def test_bad_syntax_gets_bad_and_session_goes_on(server):
    r = raw(server)
    for tag, text in [("b1", "NOSUCHCOMMAND"), ("b2", "LOGIN \"unterminated"),
                      ("b3", "NOOP extra"), ("b4", "LOGIN a"), ("b5", "CAPABILITY (")]:
        assert r.cmd(tag, text)[-1].startswith(tag + " BAD"), text
    r.send("\r\n")
    assert r.line().startswith("* BAD")
    assert r.cmd("b6", "NOOP")[-1] == "b6 OK Noop completed"
    r.close()


def test_overlong_line_gets_bad(server):
    r = raw(server)
    r.send("a NOOP " + "x" * 9000 + "\r\n")
    assert r.line() == "a BAD [TOOBIG] Command line or literal too long"
    assert r.cmd("b", "NOOP")[-1] == "b OK Noop completed"


# ---- login ----

def test_login_and_failure(server):
    c = server.imap(user=ALICE)
    assert c.state == "AUTH"
    c.logout()
    c = server.imap()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login(ALICE, "wrong")
    with pytest.raises(imaplib.IMAP4.error):
        c.login("nobody@example.test", "wrong")
    c.logout()


def test_login_with_literals(server):
    r = raw(server)
    pw = server.passwords[ALICE]
    r.send(f"a LOGIN {{{len(ALICE)}}}\r\n")
    assert r.line().startswith("+ ")
    r.send(f"{ALICE} {{{len(pw)}+}}\r\n{pw}\r\n")
    assert r.until("a")[-1].startswith("a OK [CAPABILITY")
    r.close()


def test_too_many_failures_close(server):
    r = raw(server)
    for i in range(3):
        assert "AUTHENTICATIONFAILED" in r.cmd(f"f{i}", f"LOGIN {ALICE} wrong")[-1]
    assert r.line().startswith("* BYE")
    assert r.closed()


def test_authenticate_plain_and_sasl_ir(server):
    pw = server.passwords[ALICE]
    c = server.imap()
    ok(c.authenticate("PLAIN", lambda _: f"\0{ALICE}\0{pw}".encode()))
    c.logout()
    r = raw(server)
    # a PLAIN message without its separators: credentials refused, not a syntax error
    broken = base64.b64encode(f"{ALICE}{pw}".encode()).decode()
    assert r.cmd("z", f"AUTHENTICATE PLAIN {broken}")[-1] == \
        "z NO [AUTHENTICATIONFAILED] Malformed authentication data"
    ir = base64.b64encode(f"\0{ALICE}\0{pw}".encode()).decode()
    assert r.cmd("a", f"AUTHENTICATE PLAIN {ir}")[-1].startswith("a OK")
    r.close()


def test_authenticate_login_and_cancel(server):
    r = raw(server)
    r.send("a AUTHENTICATE LOGIN\r\n")
    assert r.line().startswith("+ ")
    r.send(base64.b64encode(ALICE.encode()) + b"\r\n")
    assert r.line().startswith("+ ")
    r.send(base64.b64encode(server.passwords[ALICE].encode()) + b"\r\n")
    assert r.until("a")[-1].startswith("a OK")
    r.close()
    r = raw(server)
    r.send("b AUTHENTICATE PLAIN\r\n")
    assert r.line().startswith("+")
    r.send("*\r\n")
    assert r.until("b")[-1].startswith("b BAD")
    assert r.cmd("c", "NOOP")[-1].startswith("c OK")
    r.close()


def test_client_gone_while_scram_credentials_are_looked_up(server):
    """SCRAM's credentials are looked up on a store worker while the session waits: clients
    that leave in the meantime are freed (the sanitizer checks at stop), and a login after
    them works."""
    for _ in range(5):
        r = raw(server)
        client = ScramClient(ALICE, server.passwords[ALICE])
        r.send(f"a AUTHENTICATE SCRAM-SHA-256 {base64.b64encode(client.respond(b'')).decode()}\r\n")
        r.close()
    time.sleep(0.5)
    c = server.imap(user=ALICE)
    ok(c.noop())
    c.logout()
    assert server.read_log().count("imap disconnect") >= 5


def test_authenticate_scram(server):
    r = raw(server)
    client = ScramClient(ALICE, server.passwords[ALICE])
    first = base64.b64encode(client.respond(b"")).decode()
    r.send(f"a AUTHENTICATE SCRAM-SHA-256 {first}\r\n")
    line = r.line()
    assert line.startswith("+ ")
    r.send(base64.b64encode(client.respond(base64.b64decode(line[2:]))) + b"\r\n")
    line = r.line()
    assert line.startswith("+ ")  # server-final as a last challenge: no data with OK
    assert client.respond(base64.b64decode(line[2:])) == b""
    assert client.verified
    r.send("\r\n")
    assert r.until("a")[-1].startswith("a OK")
    r.close()


def test_starttls_and_imaps(server):
    c = server.imap()
    c.starttls(ssl_context=insecure_tls())
    assert "STARTTLS" not in c.capabilities
    c.login(ALICE, server.passwords[ALICE])
    c.logout()
    c = server.imap("imaps", user=ALICE)
    ok(c.select())
    c.logout()


# ---- mailboxes ----

def test_list_lsub_status_namespace(mailbox):
    c = mailbox.imap(user=ALICE)
    names = ok(c.list())
    text = b"\n".join(names).decode()
    for name, use in [("INBOX", None), ("Sent", "\\Sent"), ("Drafts", "\\Drafts"),
                      ("Trash", "\\Trash"), ("Junk", "\\Junk"), ("Archive", "\\Archive")]:
        m = re.search(r'\(([^)]*)\) "/" "?%s"?$' % name, text, re.M)
        assert m, text
        if use:
            assert use in m.group(1)
    assert ok(c.list('""', "S%")) == [b'(\\HasNoChildren \\Sent) "/" "Sent"']
    assert ok(c.list('""', '""')) == [b'(\\Noselect) "/" ""']
    assert len(ok(c.lsub())) == 6
    status = ok(c.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)"))[0].decode()
    assert "MESSAGES 3" in status and "UNSEEN 3" in status and "UIDNEXT 4" in status
    assert ok(c.namespace()) == [b'(("" "/")) NIL NIL']
    typ, _ = c.status("Nope", "(MESSAGES)")
    assert typ == "NO"
    c.logout()


def test_select_and_examine(mailbox):
    c = mailbox.imap(user=ALICE)
    assert ok(c.select("inbox")) == [b"3"]
    assert c.untagged_responses.get("UIDVALIDITY")
    assert c.untagged_responses["UIDNEXT"] == [b"4"]
    assert b"\\*" in c.untagged_responses["PERMANENTFLAGS"][0]
    assert c.untagged_responses["READ-WRITE"] == [b""]
    ok(c.unselect())
    assert ok(c.select("INBOX", readonly=True)) == [b"3"]
    typ, data = c.store("1", "+FLAGS", "\\Seen")
    assert typ == "NO"
    typ, _ = c.select("Nope")
    assert typ == "NO"
    assert c.state == "AUTH"
    c.logout()


# ---- FETCH ----

def test_fetch_simple_items(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    data = ok(c.fetch("1:3", "(UID FLAGS RFC822.SIZE INTERNALDATE)"))
    assert len(data) == 3
    for i, d in enumerate(data, 1):
        s = d.decode()
        # the first session to select the mailbox holds the new messages as \Recent
        assert s.startswith(f"{i} (UID {i} FLAGS (\\Recent) RFC822.SIZE ")
        assert re.search(r'INTERNALDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"', s)
    data = ok(c.fetch("2", "FAST"))
    assert b"FLAGS (\\Recent)" in data[0] and b"RFC822.SIZE" in data[0]
    c.logout()


def test_fetch_sizes_match_bodies(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    size = int(re.search(rb"RFC822.SIZE (\d+)", ok(c.fetch("1", "RFC822.SIZE"))[0]).group(1))
    data = ok(c.fetch("1", "(BODY.PEEK[])"))
    assert len(data[0][1]) == size
    assert data[0][1].endswith(b"first body\r\n")
    c.logout()


def test_fetch_sections(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()

    def section(spec):
        data = ok(c.fetch("3", f"(BODY.PEEK[{spec}])"))
        return data[0][1]

    assert section("1") == b"plain part"
    assert section("1.MIME") == b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    assert section("2.HEADER").startswith(b"Subject: inner\r\n")
    assert section("2.1") == b"inner text"
    assert section("2.2") == b"<p>inner html</p>"
    assert section("2.2.MIME") == b"Content-Type: text/html\r\n\r\n"
    assert section("2.TEXT").startswith(b"--inner\r\n")
    assert section("HEADER.FIELDS (SUBJECT FROM)") == (
        b"From: Ann <ann@elsewhere.test>\r\nSubject: =?ISO-8859-1?Q?caf=E9?= menu\r\n\r\n")
    hdr = section("HEADER.FIELDS.NOT (Subject)")
    assert b"Subject" not in hdr and b"MIME-Version: 1.0\r\n" in hdr and hdr.endswith(b"\r\n\r\n")
    assert section("TEXT").startswith(b"preamble\r\n--outer")
    assert section("HEADER").endswith(b"boundary=outer\r\n\r\n")
    assert section("9") == b""
    data = ok(c.fetch("3", "(BODY.PEEK[1]<2.3>)"))
    assert data[0][0].endswith(b"BODY[1]<2> {3}") and data[0][1] == b"ain"
    # a partial that starts past the end is empty
    size = int(re.search(rb"RFC822.SIZE (\d+)", ok(c.fetch("1", "(RFC822.SIZE)"))[0]).group(1))
    data = ok(c.fetch("1", f"(BODY.PEEK[]<{size}.10>)"))
    assert data[0][1] == b""
    c.logout()


def test_fetch_rfc822_items_and_seen(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    data = ok(c.fetch("1", "(RFC822.HEADER)"))
    assert data[0][1].startswith(b"Return-Path:") or b"Subject: one" in data[0][1]
    assert b"Seen" not in ok(c.fetch("1", "FLAGS"))[0]
    data = ok(c.fetch("1", "(RFC822.TEXT)"))
    assert data[0][1] == b"first body\r\n"
    assert b"\\Seen" in data[0][0] or b"\\Seen" in data[-1]
    data = ok(c.fetch("2", "(BODY[TEXT])"))
    assert b"FLAGS (\\Seen \\Recent)" in data[0][0] or b"FLAGS (\\Seen \\Recent)" in data[-1]
    assert b"\\Seen" in ok(c.fetch("2", "FLAGS"))[0]
    data = ok(c.fetch("3", "(BODY.PEEK[TEXT])"))
    assert b"\\Seen" not in ok(c.fetch("3", "FLAGS"))[0]
    c.logout()


def test_uid_fetch_and_bad_sets(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    data = ok(c.uid("FETCH", "2:*", "(FLAGS)"))
    assert [d.split(b" ")[0] for d in data] == [b"2", b"3"]
    assert all(b"UID" in d for d in data)
    assert ok(c.uid("FETCH", "100:200", "FLAGS")) == [None]
    r = raw(mailbox)
    r.cmd("a", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    assert r.cmd("c", "FETCH 4 FLAGS")[-1].startswith("c BAD")
    assert r.cmd("d", "FETCH 0 FLAGS")[-1].startswith("d BAD")
    assert r.cmd("e", "FETCH 1 (FLAGS NOSUCH)")[-1].startswith("e BAD")
    assert r.cmd("f", "FETCH 1 BODY[1.X]")[-1].startswith("f BAD")
    assert r.cmd("g", "FETCH 1 FLAGS")[-1].startswith("g OK")
    r.close()
    c.logout()


# ---- STORE, SEARCH, EXPUNGE ----

def test_store_flags_and_keywords(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    data = ok(c.store("1", "+FLAGS", "(\\Flagged $Work)"))
    assert data == [b"1 (FLAGS (\\Flagged \\Recent $Work))"]
    data = ok(c.store("1:2", "+FLAGS", "(\\Seen)"))
    assert data == [b"1 (FLAGS (\\Seen \\Flagged \\Recent $Work))", b"2 (FLAGS (\\Seen \\Recent))"]
    assert ok(c.store("1", "-FLAGS", "($work \\Flagged)")) == [b"1 (FLAGS (\\Seen \\Recent))"]
    assert ok(c.store("2", "FLAGS.SILENT", "(\\Answered)")) == [None]
    assert ok(c.fetch("2", "FLAGS")) == [b"2 (FLAGS (\\Answered \\Recent))"]
    data = ok(c.uid("STORE", "3", "+FLAGS", "(\\Draft)"))
    assert data == [b"3 (FLAGS (\\Draft \\Recent) UID 3)"]
    with pytest.raises(imaplib.IMAP4.error, match="Invalid flag"):
        c.store("1", "+FLAGS", "(\\Recent)")
    c.logout()
    c = mailbox.imap(user=ALICE)
    c.select()  # the first session took the messages as recent: this one has none
    assert ok(c.fetch("1:3", "FLAGS")) == [b"1 (FLAGS (\\Seen))", b"2 (FLAGS (\\Answered))",
                                          b"3 (FLAGS (\\Draft))"]
    c.logout()


def test_search(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    c.store("2", "+FLAGS", "(\\Seen $Work)")
    assert ok(c.search(None, "ALL")) == [b"1 2 3"]
    assert ok(c.search(None, "SEEN")) == [b"2"]
    assert ok(c.search(None, "UNSEEN")) == [b"1 3"]
    assert ok(c.search(None, "KEYWORD", "$work")) == [b"2"]
    assert ok(c.search(None, "NOT", "SEEN")) == [b"1 3"]
    assert ok(c.search(None, "OR", "SUBJECT", "one", "SUBJECT", "two")) == [b"1 2"]
    assert ok(c.search(None, "SUBJECT", "CAF")) == [b"3"]
    assert ok(c.search("UTF-8", "SUBJECT", "\"café\"".encode())) == [b"3"]
    assert ok(c.search(None, "BODY", "needle")) == [b"2"]
    assert ok(c.search(None, "TEXT", '"inner html"')) == [b"3"]
    assert ok(c.search(None, "HEADER", "From", "ann@")) == [b"3"]
    assert ok(c.search(None, "2:3", "UNSEEN")) == [b"3"]
    assert ok(c.search(None, "(UID 1:2 SEEN)")) == [b"2"]
    assert ok(c.search(None, "LARGER", "1", "SMALLER", "100000")) == [b"1 2 3"]
    assert ok(c.search(None, "SINCE", "1-Jan-2000", "BEFORE", "1-Jan-2100")) == [b"1 2 3"]
    assert ok(c.search(None, "ON", "1-Jan-2000")) == [b""]
    assert ok(c.uid("SEARCH", "SUBJECT", "two")) == [b"2"]
    with pytest.raises(imaplib.IMAP4.error, match="Unknown search key"):
        c.search(None, "NOSUCHKEY")
    typ, data = c.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0]
    c.logout()


def test_expunge_close_and_uid_expunge(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    c.store("1", "+FLAGS", "(\\Deleted)")
    c.store("3", "+FLAGS", "(\\Deleted)")
    assert ok(c.expunge()) == [b"3", b"1"] or ok(c.expunge()) == [None]
    assert ok(c.search(None, "ALL")) == [b"1"]
    assert ok(c.fetch("1", "UID")) == [b"1 (UID 2)"]
    deliver(mailbox, ALICE, "fourth\r\n", "four")
    mailbox.wait_for_messages(ALICE, 2)
    ok(c.noop())
    assert ok(c.search(None, "ALL")) == [b"1 2"]
    c.store("1:2", "+FLAGS", "(\\Deleted)")
    typ, data = c.uid("EXPUNGE", "4")
    assert typ == "OK"
    assert ok(c.uid("SEARCH", "ALL")) == [b"2"]
    ok(c.close())
    assert c.state == "AUTH"
    c.select()
    assert ok(c.search(None, "ALL")) == [b""]
    assert ok(c.uid("FETCH", "1:*", "UID")) == [None]
    c.logout()


def test_expunge_reported_in_order(mailbox):
    r = raw(mailbox)
    r.cmd("a", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    r.cmd("c", "STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    lines = r.cmd("d", "EXPUNGE")
    assert lines == ["* 1 EXPUNGE", "* 1 EXPUNGE", "* 1 EXPUNGE", "d OK EXPUNGE completed"]
    r.close()


# ---- several sessions, IDLE ----

def test_sessions_see_each_others_changes(mailbox):
    a = raw(mailbox)
    a.cmd("a", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    a.cmd("b", "SELECT INBOX")
    c = mailbox.imap(user=ALICE)
    c.select()
    c.store("2", "+FLAGS", "(\\Flagged)")
    assert "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))" in a.cmd("c", "NOOP")  # a took them
    c.store("1", "+FLAGS", "(\\Deleted)")
    ok(c.expunge())
    # FETCH may not announce the expunge (RFC 3501 7.4.1); NOOP does
    lines = a.cmd("d", "FETCH 1:3 UID")
    assert not any("EXPUNGE" in line for line in lines)
    lines = a.cmd("e", "NOOP")
    assert "* 1 EXPUNGE" in lines
    assert a.cmd("f", "FETCH 1 UID")[0] == "* 1 FETCH (UID 2)"
    c.logout()
    a.close()


def test_idle_sees_smtp_delivery(mailbox):
    r = raw(mailbox)
    r.cmd("a", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    r.send("c IDLE\r\n")
    assert r.line().startswith("+ ")
    start = time.time()
    deliver(mailbox, ALICE, "pushed\r\n", "push")
    delivered = time.time()
    r.sock.settimeout(5)
    assert r.line() == "* 4 EXISTS"
    assert time.time() - delivered < 1.5, time.time() - start
    r.send("DONE\r\n")
    assert r.until("c")[-1] == "c OK IDLE terminated"
    assert r.cmd("d", "FETCH 4 BODY.PEEK[TEXT]")[0].startswith("* 4 FETCH (BODY[TEXT] {8}")
    r.close()


def test_idle_with_imaplib_in_thread(mailbox):
    """Another session's STORE shows up in IDLE at once."""
    r = raw(mailbox)
    r.cmd("a", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    r.send("c IDLE\r\n")
    assert r.line().startswith("+ ")

    def change():
        c = mailbox.imap(user=ALICE)
        c.select()
        c.store("3", "+FLAGS", "(\\Answered)")
        c.logout()
    t = threading.Thread(target=change)
    t.start()
    t.join()
    changed = time.time()
    r.sock.settimeout(5)
    assert r.line() == "* 3 FETCH (UID 3 FLAGS (\\Answered \\Recent))"
    assert time.time() - changed < 1, "the change must wake IDLE, not wait for a poll"
    r.send("DONE\r\n")
    assert r.until("c")[-1].startswith("c OK")
    r.close()


def test_users_are_kept_apart(mailbox):
    c = mailbox.imap(user=BOB)
    assert ok(c.select()) == [b"0"]
    assert ok(c.search(None, "ALL")) == [b""]
    c.logout()


def test_id_enable_check(mailbox):
    r = raw(mailbox)
    lines = r.cmd("a", 'ID ("name" "pytest" "version" "1")')
    assert lines[0] == '* ID ("name" "estafeta")' and lines[-1].startswith("a OK")
    assert r.cmd("b", "ID NIL")[-1].startswith("b OK")
    r.cmd("c", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    assert r.cmd("d", "ENABLE X-NOTHING")[0] == "* ENABLED"  # unknown: ignored (RFC 5161)
    r.cmd("e", "SELECT INBOX")
    assert r.cmd("f", "CHECK")[-1] == "f OK Check completed"
    r.close()


def test_fetch_envelope_and_bodystructure(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    data = ok(c.fetch("3", "(ENVELOPE BODYSTRUCTURE)"))
    text = b"".join(d if isinstance(d, bytes) else b"".join(d) for d in data).decode()
    # Sender and Reply-To default to From; the message has no To, Cc, Date or Message-ID.
    assert ('ENVELOPE (NIL "=?ISO-8859-1?Q?caf=E9?= menu" (("Ann" NIL "ann" "elsewhere.test")) '
            '(("Ann" NIL "ann" "elsewhere.test")) (("Ann" NIL "ann" "elsewhere.test")) '
            'NIL NIL NIL NIL NIL)') in text
    assert ('BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)'
            '("message" "rfc822" NIL NIL NIL "7bit" ') in text
    assert ('(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)'
            '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 17 0 NIL NIL NIL NIL) '
            '"alternative" ("boundary" "inner") NIL NIL NIL)') in text
    assert text.rstrip(")").endswith('"mixed" ("boundary" "outer") NIL NIL NIL')
    data = ok(c.fetch("1", "(BODY)"))
    assert data == [b'1 (BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1))']
    data = ok(c.fetch("1", "ALL"))
    assert b"ENVELOPE (" in data[0] and b'"one"' in data[0]
    assert b"((NIL NIL \"x\" \"elsewhere.test\"))" in data[0]
    data = ok(c.fetch("1", "FULL"))
    assert b"BODY (\"text\"" in data[0]
    c.logout()


def test_envelope_groups_and_odd_addresses(server):
    deliver(server, ALICE, None, raw_message=(
        "From: \"Doe, Jane\" <jane@x.test> (comment)\r\n"
        "To: undisclosed-recipients:;\r\n"
        "Cc: team: a@x.test, B <b@x.test>;, solo@y.test\r\n"
        "Message-ID: <id@x.test>\r\n"
        "Date: Mon, 23 Nov 2026 01:00:00 +0000\r\n"
        "\r\nbody\r\n"))
    server.wait_for_messages(ALICE, 1)
    c = server.imap(user=ALICE)
    c.select()
    env = ok(c.fetch("1", "ENVELOPE"))[0].decode()
    assert env.startswith('1 (ENVELOPE ("Mon, 23 Nov 2026 01:00:00 +0000" NIL '
                          '(("Doe, Jane" NIL "jane" "x.test"))')
    assert '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))' in env
    assert ('((NIL NIL "team" NIL)(NIL NIL "a" "x.test")("B" NIL "b" "x.test")(NIL NIL NIL NIL)'
            '(NIL NIL "solo" "y.test"))') in env
    assert env.endswith('NIL NIL "<id@x.test>"))')
    c.logout()


def test_create_rename_delete_subscribe(mailbox):
    c = mailbox.imap(user=ALICE)
    ok(c.create("Projects/2026/Q4"))
    ok(c.subscribe("Projects/2026"))  # CREATE subscribes nothing (RFC 3501 6.3.6)
    names = b"\n".join(ok(c.list('""', "Projects*"))).decode()
    assert '(\\HasChildren) "/" "Projects"' in names
    assert '(\\HasNoChildren) "/" "Projects/2026/Q4"' in names
    typ, data = c.create("Projects")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    # names no mailbox may have: NO, as for any failure to create (RFC 9051 6.3.4)
    for bad in ("a//b", "../x", "a/../b", "/abs", "x*"):
        typ, data = c.create(bad)
        assert typ == "NO" and data == [b"[CANNOT] Invalid mailbox name"], (bad, data)
    ok(c.rename("Projects", "Work"))
    names = b"\n".join(ok(c.list('""', "*"))).decode()
    assert "Projects" not in names and '"Work/2026/Q4"' in names
    # the subscription moved with the rename
    assert ok(c.lsub('""', "Work*")) == [b'(\\HasChildren) "/" "Work/2026"']
    ok(c.unsubscribe("Work/2026"))
    assert ok(c.lsub('""', "Work*")) == [None]  # imaplib's way of saying: no LSUB lines
    typ, data = c.rename("Work", "Sent")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    typ, _ = c.delete("INBOX")
    assert typ == "NO"
    # a mailbox with mailboxes below it stays until they are gone (RFC 9051 6.3.4)
    typ, data = c.delete("Work/2026")
    assert typ == "NO" and b"[HASCHILDREN]" in data[0]
    ok(c.delete("Work/2026/Q4"))
    typ, _ = c.select("Work/2026/Q4")
    assert typ == "NO"
    typ, _ = c.delete("Nope")
    assert typ == "NO"
    ok(c.delete("Work/2026"))
    assert '"Work"' in b"\n".join(ok(c.list('""', "Work*"))).decode()
    c.logout()


def test_append(mailbox):
    c = mailbox.imap(user=ALICE)
    msg = b"From: me@example.test\r\nSubject: draft\r\n\r\nappended body\r\n"
    typ, data = c.append("Drafts", "(\\Draft \\Seen $Later)", '"07-Feb-1994 21:52:25 -0800"', msg)
    assert typ == "OK"
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert m and m.group(2) == b"1"
    c.select("Drafts")
    data = ok(c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"))
    head = data[0][0]
    assert b"FLAGS (\\Seen \\Draft \\Recent $Later)" in head  # appended: recent
    assert b'INTERNALDATE " 8-Feb-1994' in head or b'INTERNALDATE " 7-Feb-1994' in head
    assert b"RFC822.SIZE %d" % len(msg) in head
    assert data[0][1] == msg
    typ, data = c.append("Nope", None, None, msg)
    assert typ == "NO" and b"TRYCREATE" in data[0]
    # into the selected mailbox: EXISTS comes with the answer
    ok(c.append("Drafts", None, None, msg))
    assert c.untagged_responses.get("EXISTS")[-1] == b"2"
    c.logout()
    r = raw(mailbox)
    r.cmd("a", f"LOGIN {ALICE} {mailbox.passwords[ALICE]}")
    lines = r.cmd("b", 'APPEND INBOX "31-Dec-2026 99:00:00 +0000" {3+}\r\nabc')
    assert lines[-1].startswith("b BAD")
    lines = r.cmd("c", "APPEND INBOX {5+}\r\nhello")
    assert lines[-1].startswith("c OK [APPENDUID")
    r.close()


def test_copy_and_move(mailbox):
    c = mailbox.imap(user=ALICE)
    c.select()
    c.store("2", "+FLAGS", "(\\Flagged $Keep)")
    typ, data = c.copy("1:2", "Archive")
    assert typ == "OK"
    m = re.search(rb"\[COPYUID (\d+) 1,2 1,2\]", data[0])
    assert m, data
    typ, data = c.copy("1", "Nope")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    typ, data = c.uid("MOVE", "3", "Archive")
    assert typ == "OK"
    assert c.untagged_responses.get("EXPUNGE") == [b"3"]
    assert ok(c.search(None, "ALL")) == [b"1 2"]
    c.select("Archive")
    data = ok(c.fetch("1:3", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    subjects = [d[1].strip() for d in data if isinstance(d, tuple)]
    assert subjects == [b"Subject: one", b"Subject: two",
                        b"Subject: =?ISO-8859-1?Q?caf=E9?= menu"]
    heads = [d[0] for d in data if isinstance(d, tuple)]
    assert b"FLAGS (\\Flagged \\Recent $Keep)" in heads[1]  # copied: recent there
    # the copy is its own message: expunging it leaves the original
    c.store("1", "+FLAGS", "(\\Deleted)")
    ok(c.expunge())
    c.select("INBOX")
    assert ok(c.fetch("1", "BODY.PEEK[TEXT]"))[0][1] == b"first body\r\n"
    c.logout()


def test_literal_limits(server):
    r = raw(server)
    # a synchronizing literal over the limit is refused before the client sends it
    r.send("a LOGIN {999999999999}\r\n")
    assert r.line() == "a BAD [TOOBIG] Literal too big"
    assert r.cmd("b", "NOOP")[-1].startswith("b OK")
    # a non-synchronizing one cannot be skipped safely: BYE (RFC 7888 4)
    r.send("c LOGIN {999999999999+}\r\n")
    assert r.line().startswith("* BYE [TOOBIG]")
    assert r.closed()


def test_connection_limit_per_address(instance_factory):
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.config("imap.max_connections_per_ip", "2")
    inst.start()
    time.sleep(1)  # start() probes every port; those connections are counted until closed
    first, second = raw(inst), raw(inst)
    third = raw(inst)
    assert first.greeting.startswith("* OK") and second.greeting.startswith("* OK")
    assert third.greeting.startswith("* BYE [UNAVAILABLE]")
    assert third.closed()
    first.close()
    second.close()


def test_starttls_drops_pipelined_commands(server):
    r = raw(server)
    r.send("a STARTTLS\r\nb LOGIN x y\r\n")
    assert r.line() == "a OK Begin TLS negotiation now"
    r.sock = insecure_tls().wrap_socket(r.sock)
    r.buf = b""
    lines = r.cmd("c", "CAPABILITY")
    assert lines[-1].startswith("c OK") and not any(line.startswith("b ") for line in lines)
    assert "STARTTLS" not in lines[0] and "AUTH=PLAIN" in lines[0]
    r.close()
