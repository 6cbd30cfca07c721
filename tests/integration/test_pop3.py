"""POP3 (RFC 1939, 2449, 2595, 5034, 8314): the three states, every command, errors, pipelining,
the maildrop snapshot and its lock, DELE only at QUIT, UIDL stability, STLS and port 995, APOP,
SASL PLAIN/LOGIN/SCRAM-SHA-256, and the delay and limit after failed logins. Driven with
Python's poplib and, for what poplib hides (byte-stuffing, pipelining, bad input), raw sockets."""
import base64
import hashlib
import os
import re
import socket
import ssl
import sys
import time

import poplib
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from conftest import RawSMTP, insecure_tls  # noqa: E402
from scram import ScramClient  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"


class RawPOP3(RawSMTP):
    """A line-level POP3 client: sends what it is given, reads single and multi-line responses
    as bytes, byte-stuffing included. Sending, reading lines and closing are RawSMTP's."""

    def __init__(self, host, port, tls=False):
        sock = socket.create_connection((host, port), timeout=30)
        self.sock = insecure_tls().wrap_socket(sock) if tls else sock
        self.buf = b""
        self.greeting = self.line()

    def multiline(self):
        """The lines of a multi-line body up to the "." line, as sent (still byte-stuffed)."""
        lines = []
        while (line := self.line()) != ".":
            lines.append(line.encode())
        return lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def starttls(self):
        self.sock = insecure_tls().wrap_socket(self.sock)

    def login(self, user, password):
        assert self.cmd("USER " + user).startswith("+OK")
        return self.cmd("PASS " + password)


def raw(inst, service="pop3"):
    return RawPOP3(inst.listen, inst.port(service), tls=service == "pop3s")


def deliver(inst, to, body, subject="test"):
    with inst.smtp() as c:
        c.sendmail("sender@elsewhere.test", [to], f"Subject: {subject}\r\n\r\n{body}")


@pytest.fixture
def mailbox(server):
    """The server with three messages for alice; the second has lines that need stuffing."""
    deliver(server, ALICE, "first body\r\n", "one")
    deliver(server, ALICE, "line 1\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast\r\n", "two")
    deliver(server, ALICE, "".join(f"body line {i}\r\n" for i in range(1, 11)), "three")
    server.wait_for_messages(ALICE, 3)
    return server


def octets(lines):
    return sum(len(line) + 2 for line in lines)


# ---- greeting, CAPA, states ----

def test_greeting_has_distinct_apop_timestamps(server):
    stamps = set()
    for _ in range(3):
        c = server.pop3()
        welcome = c.getwelcome().decode()
        assert welcome.startswith("+OK")
        m = re.search(r"<[^<>@\s]+@mx\.example\.test>", welcome)
        assert m, welcome
        stamps.add(m.group(0))
        c.quit()
    assert len(stamps) == 3


def test_capa_in_both_states(server):
    c = server.pop3()
    capa = c.capa()
    for tag in ("TOP", "UIDL", "USER", "STLS", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"):
        assert tag in capa, capa
    assert capa["SASL"] == ["SCRAM-SHA-256", "PLAIN", "LOGIN"]
    assert capa["EXPIRE"] == ["NEVER"]
    assert capa["LOGIN-DELAY"] == ["0"]
    assert capa["IMPLEMENTATION"] == ["estafeta"]
    c.user(ALICE)
    c.pass_(server.passwords[ALICE])
    after = c.capa()
    assert "STLS" not in after  # only permitted in AUTHORIZATION (RFC 2595 4)
    assert {k: v for k, v in capa.items() if k != "STLS"} == after
    c.quit()


def test_state_gates(server):
    r = raw(server)
    for command in ("STAT", "LIST", "RETR 1", "DELE 1", "RSET", "NOOP", "TOP 1 1", "UIDL"):
        assert r.cmd(command).startswith("-ERR"), command
    assert r.login(ALICE, server.passwords[ALICE]).startswith("+OK")
    for command in ("USER " + ALICE, "PASS x", "APOP a b", "AUTH PLAIN", "STLS"):
        assert r.cmd(command).startswith("-ERR"), command
    assert r.cmd("NOOP") == "+OK"
    r.close()


def test_quit_in_authorization_ends_without_update(server):
    r = raw(server)
    assert r.cmd("QUIT").startswith("+OK")
    assert r.closed()


# ---- the maildrop commands ----

def test_stat_and_list_sizes_are_retr_octets(mailbox):
    c = mailbox.pop3(user=ALICE)
    count, total = c.stat()
    assert count == 3
    resp, listing, _ = c.list()
    sizes = {int(n): int(s) for n, s in (line.split() for line in listing)}
    assert sum(sizes.values()) == total
    for n in range(1, 4):
        _, lines, _ = c.retr(n)
        assert octets(lines) == sizes[n]
        assert c.list(n).split() == [b"+OK", str(n).encode(), str(sizes[n]).encode()]
        # the octets are the stored message exactly
        assert b"".join(line + b"\r\n" for line in lines) == mailbox.message(ALICE, n)
    c.quit()


def test_retr_byte_stuffs_and_ends_with_dot(mailbox):
    r = raw(mailbox)
    r.login(ALICE, mailbox.passwords[ALICE])
    status = r.cmd("RETR 2")
    assert re.match(r"\+OK \d+ octets", status)
    body = r.multiline()
    text = b"\r\n".join(body)
    assert b"\r\n..starts with a dot\r\n...two dots\r\n..\r\nlast" in text
    assert r.cmd("NOOP") == "+OK"  # the "." line ended the response exactly
    r.close()


def test_top(mailbox):
    c = mailbox.pop3(user=ALICE)
    _, full, _ = c.retr(3)
    blank = full.index(b"")
    _, top0, _ = c.top(3, 0)
    assert top0 == full[:blank + 1]
    _, top2, _ = c.top(3, 2)
    assert top2 == full[:blank + 3]
    assert top2[-1] == b"body line 2"
    _, top_all, _ = c.top(3, 1000)
    assert top_all == full
    with pytest.raises(poplib.error_proto):
        c.top(9, 1)
    with pytest.raises(poplib.error_proto):
        c._shortcmd("TOP 1 x")
    c.quit()


def test_uidl_unique_and_stable_across_sessions_and_restart(mailbox):
    c = mailbox.pop3(user=ALICE)
    _, listing, _ = c.uidl()
    uids = [line.split()[1] for line in listing]
    assert len(set(uids)) == 3
    for uid in uids:
        assert 1 <= len(uid) <= 70 and all(0x21 <= b <= 0x7E for b in uid)
    assert c.uidl(2).split()[2] == uids[1]
    c.quit()
    mailbox.stop()
    mailbox.start()
    c = mailbox.pop3(user=ALICE)
    assert [line.split()[1] for line in c.uidl()[1]] == uids
    c.dele(1)
    c.quit()
    c = mailbox.pop3(user=ALICE)
    assert [line.split()[1] for line in c.uidl()[1]] == uids[1:]
    c.quit()


def test_dele_only_at_quit_and_rset(mailbox):
    c = mailbox.pop3(user=ALICE)
    size1 = int(c.list(1).split()[2])
    _, total = c.stat()
    assert c.dele(1).startswith(b"+OK")
    assert c.stat() == (2, total - size1)
    assert [line.split()[0] for line in c.list()[1]] == [b"2", b"3"]
    assert [line.split()[0] for line in c.uidl()[1]] == [b"2", b"3"]
    for command in ("RETR 1", "DELE 1", "LIST 1", "TOP 1 0", "UIDL 1"):
        with pytest.raises(poplib.error_proto, match="already deleted"):
            c._shortcmd(command)
    assert len(mailbox.mailbox(ALICE)) == 3  # still there before QUIT
    assert c.rset().startswith(b"+OK")
    assert c.stat() == (3, total)
    c.dele(2)
    c.dele(3)
    assert c.quit().startswith(b"+OK")
    remaining = mailbox.mailbox(ALICE)
    assert [row[0] for row in remaining] == ["1"]


def test_dropped_connection_deletes_nothing(mailbox):
    r = raw(mailbox)
    r.login(ALICE, mailbox.passwords[ALICE])
    assert r.cmd("DELE 1").startswith("+OK")
    assert r.cmd("DELE 2").startswith("+OK")
    r.close()
    time.sleep(0.3)
    assert len(mailbox.mailbox(ALICE)) == 3
    c = mailbox.pop3(user=ALICE)  # and the lock went with the connection
    assert c.stat()[0] == 3
    c.quit()


def test_timeout_closes_without_update(instance_factory):
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.config("pop3.timeout", "1s")
    inst.start()
    deliver(inst, ALICE, "x\r\n")
    inst.wait_for_messages(ALICE, 1)
    r = raw(inst)
    r.login(ALICE, inst.passwords[ALICE])
    assert r.cmd("DELE 1").startswith("+OK")
    assert r.closed(timeout=10)  # closed with no response (RFC 1939 3)
    assert r.buf == b""
    assert len(inst.mailbox(ALICE)) == 1
    assert "pop3 timeout" in inst.read_log()


def test_snapshot_and_in_use_lock(mailbox):
    a = mailbox.pop3(user=ALICE)
    b = mailbox.pop3()
    b.user(ALICE)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        b.pass_(mailbox.passwords[ALICE])
    # the lock blocks neither delivery nor another user
    deliver(mailbox, ALICE, "arrived during the session\r\n")
    mailbox.wait_for_messages(ALICE, 4)
    assert a.stat()[0] == 3  # the session works on its snapshot
    c = mailbox.pop3(user=BOB)
    c.quit()
    a.quit()
    b.user(ALICE)  # the same connection may try again once the lock is free
    assert b.pass_(mailbox.passwords[ALICE]).startswith(b"+OK")
    assert b.stat()[0] == 4
    b.quit()


def test_dele_seen_by_the_store_and_others(mailbox):
    """What POP3 deletes no other client sees afterwards: the store is shared."""
    c = mailbox.pop3(user=ALICE)
    c.dele(2)
    c.quit()
    assert [row[0] for row in mailbox.mailbox(ALICE)] == ["1", "3"]
    c = mailbox.pop3(user=ALICE)
    assert c.retr(2)[1][-1] == b"body line 10"  # renumbered: message 2 is UID 3 now
    c.quit()


# ---- bad input ----

def test_bad_input_gets_err_and_session_goes_on(mailbox):
    r = raw(mailbox)
    r.login(ALICE, mailbox.passwords[ALICE])
    cases = [
        "XYZZY", "HELLOWORLD", "LIST abc", "LIST 0", "LIST 4", "LIST -1", "LIST 1 2", "RETR",
        "RETR 99999999999", "DELE", "TOP 1", "TOP 1 -1", "STAT now", "UIDL 0", "NOOP extra",
        "\x01\x02", "",
    ]
    for command in cases:
        reply = r.cmd(command)
        assert reply.startswith("-ERR"), (command, reply)
        assert r.cmd("NOOP") == "+OK"
    assert r.cmd("LIST 4").startswith("-ERR No such message")
    assert r.cmd("A" * 300).startswith("-ERR Line too long")
    assert r.cmd("LIST " + "1" * 250).startswith("-ERR")
    assert r.cmd("NOOP") == "+OK"
    assert r.cmd("list 1").startswith("+OK 1 ")  # keywords are case-insensitive
    r.close()


def test_pipelining_answers_in_order(mailbox):
    r = raw(mailbox)
    r.send("USER %s\r\nPASS %s\r\nSTAT\r\nLIST 1\r\nRETR 1\r\nBOGUS\r\nUIDL\r\nTOP 3 1\r\n"
           "DELE 1\r\nNOOP\r\nRSET\r\nQUIT\r\n" % (ALICE, mailbox.passwords[ALICE]))
    assert r.line().startswith("+OK")
    assert r.line().startswith("+OK Logged in")
    assert r.line().startswith("+OK 3 ")
    assert r.line().startswith("+OK 1 ")
    assert r.line().startswith("+OK")
    assert b"first body" in r.multiline()
    assert r.line().startswith("-ERR")
    assert r.line().startswith("+OK")
    assert len(r.multiline()) == 3
    assert r.line().startswith("+OK")
    assert r.multiline()[-1] == b"body line 1"
    assert r.line() == "+OK Message 1 deleted"
    assert r.line() == "+OK"
    assert r.line().startswith("+OK Maildrop has 3")
    assert r.line().startswith("+OK")
    assert r.closed()
    assert len(mailbox.mailbox(ALICE)) == 3


# ---- logins ----

def test_user_pass(server):
    r = raw(server)
    assert r.cmd("PASS x").startswith("-ERR")  # PASS needs USER right before
    assert r.cmd("USER " + ALICE).startswith("+OK")
    assert r.cmd("NOOP").startswith("-ERR")
    assert r.cmd("PASS " + server.passwords[ALICE]).startswith("-ERR")  # NOOP came between
    assert r.login(ALICE, server.passwords[ALICE]).startswith("+OK Logged in")
    r.close()


def test_password_with_spaces(instance_factory):
    inst = instance_factory()
    inst.add_user(ALICE, "a pass phrase  with spaces")
    inst.config("auth.failure_delay", "0s")
    inst.start()
    c = inst.pop3(user=ALICE)
    assert c.stat() == (0, 0)
    c.quit()


def test_wrong_password_and_unknown_user_fail_alike(server):
    for user in (ALICE, "nobody@example.test"):
        c = server.pop3()
        assert c.user(user).startswith(b"+OK")
        with pytest.raises(poplib.error_proto, match=r"^b'-ERR \[AUTH\] Authentication failed'$"):
            c.pass_("wrong")
        c.quit()


def test_failure_delay_and_limit(instance_factory):
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.config("auth.failure_delay", "1s")
    inst.config("auth.max_failures", "2")
    inst.start()
    r = raw(inst)
    started = time.time()
    assert r.login(ALICE, "wrong").startswith("-ERR [AUTH]")
    assert time.time() - started >= 0.9
    assert r.login(ALICE, "wrong").startswith("-ERR [AUTH]")
    assert r.closed()
    assert "pop3 auth failed user=alice@example.test" in inst.read_log()


def test_failures_are_limited_per_account_and_address(instance_factory):
    """Failures count per account and client address, across connections and protocols: past
    the limit even the right password is refused at once, until the window has passed; other
    accounts from the same address go on; a success clears them."""
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.add_user("bob@example.test")
    inst.config("auth.failure_delay", "0s")
    inst.config("auth.max_failures_per_ip_account", "3")
    inst.config("auth.failure_window", "3s")
    inst.start()
    for _ in range(3):  # each on a new connection, so the per-connection limit never applies
        r = raw(inst)
        assert r.login(ALICE, "wrong").startswith("-ERR [AUTH]")
        r.close()
    r = raw(inst)
    assert r.cmd("USER " + ALICE).startswith("+OK")
    assert r.cmd("PASS " + inst.passwords[ALICE]) == \
        "-ERR [SYS/TEMP] Too many failed logins, try again later"
    assert r.cmd("NOOP").startswith("-ERR")  # the session goes on, still unauthenticated
    r.close()
    with pytest.raises(Exception, match="Too many failed logins"):
        inst.imap(user=ALICE)
    inst.pop3(user="bob@example.test").quit()
    assert ("login refused user=alice@example.test ip=127.0.0.1 reason=account-failures-from-ip"
            in inst.read_log())
    time.sleep(3.5)
    c = inst.pop3(user=ALICE)  # the window has passed
    c.quit()
    r = raw(inst)  # and the success forgot the earlier failures
    assert r.login(ALICE, "wrong").startswith("-ERR [AUTH]")
    r.close()
    inst.pop3(user=ALICE).quit()


def test_stls_required_off_loopback_policy(instance_factory):
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.config("auth.allow_plaintext_loopback", "no")
    inst.config("auth.failure_delay", "0s")
    inst.start()
    c = inst.pop3()
    capa = c.capa()
    assert "STLS" in capa and "USER" not in capa and "SASL" not in capa
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\].*STLS"):
        c.user(ALICE)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        c._shortcmd("AUTH PLAIN")
    assert c.stls(insecure_tls()).startswith(b"+OK")
    capa = c.capa()
    assert "STLS" not in capa and "USER" in capa and "SASL" in capa
    with pytest.raises(poplib.error_proto, match="TLS active"):
        c._shortcmd("STLS")
    c.user(ALICE)
    assert c.pass_(inst.passwords[ALICE]).startswith(b"+OK")
    c.quit()


def test_stls_discards_pipelined_input(server):
    r = raw(server)
    r.send("STLS\r\nUSER %s\r\n" % ALICE)
    assert r.line().startswith("+OK")
    r.starttls()
    assert r.cmd("PASS " + server.passwords[ALICE]).startswith("-ERR")  # the USER was dropped
    assert r.login(ALICE, server.passwords[ALICE]).startswith("+OK")
    r.close()


def test_pop3s_implicit_tls(mailbox):
    c = mailbox.pop3("pop3s", user=ALICE)
    assert isinstance(c.sock, ssl.SSLSocket)
    assert "STLS" not in c.capa()
    assert c.stat()[0] == 3
    c.quit()


def apop_digest(greeting, secret):
    stamp = re.search(r"<[^>]*>", greeting).group(0)
    return hashlib.md5((stamp + secret).encode()).hexdigest()


def test_apop(server):
    r = raw(server)
    # off until a secret is set: fails like a wrong digest
    reply = r.cmd(f"APOP {ALICE} {apop_digest(r.greeting, server.passwords[ALICE])}")
    assert reply.startswith("-ERR [AUTH]")
    r.close()
    server.cli("user", "apop", ALICE, "--password-stdin", input="tanstaaf-long-secret\n")
    r = raw(server)
    assert r.cmd(f"APOP {ALICE} {'0' * 32}").startswith("-ERR [AUTH]")
    assert r.cmd(f"APOP {ALICE} short").startswith("-ERR [AUTH]")
    reply = r.cmd(f"APOP {ALICE} {apop_digest(r.greeting, 'tanstaaf-long-secret')}")
    assert reply.startswith("+OK Logged in")
    r.close()
    # a digest for another greeting's timestamp is useless (replay protection)
    old = apop_digest(r.greeting, "tanstaaf-long-secret")
    r = raw(server)
    assert r.cmd(f"APOP {ALICE} {old}").startswith("-ERR [AUTH]")
    r.close()
    # poplib's apop, with a generated secret
    secret = server.cli("user", "apop", ALICE).strip()
    assert len(secret) >= 16
    c = server.pop3()
    assert c.apop(ALICE, secret).startswith(b"+OK")
    c.quit()
    # the password still works with USER/PASS; the APOP secret does not
    c = server.pop3()
    c.user(ALICE)
    with pytest.raises(poplib.error_proto):
        c.pass_(secret)
    c.quit()


def b64(data):
    return base64.b64encode(data).decode()


def test_auth_plain_with_and_without_initial_response(server):
    cred = b64(f"\0{ALICE}\0{server.passwords[ALICE]}".encode())
    r = raw(server)
    assert r.cmd("AUTH PLAIN " + cred).startswith("+OK Logged in")
    r.close()
    r = raw(server)
    assert r.cmd("AUTH PLAIN") == "+ "  # the empty challenge of RFC 5034 4
    assert r.cmd(cred).startswith("+OK Logged in")
    r.close()


def test_auth_login(server):
    r = raw(server)
    challenge = r.cmd("AUTH LOGIN")
    assert challenge.startswith("+ ")
    assert base64.b64decode(challenge[2:]) == b"Username:"
    assert r.cmd(b64(ALICE.encode())).startswith("+ ")
    assert r.cmd(b64(server.passwords[ALICE].encode())).startswith("+OK Logged in")
    r.close()


def test_auth_scram_sha_256(mailbox):
    client = ScramClient(ALICE, mailbox.passwords[ALICE])
    r = raw(mailbox)
    first = b64(client.respond(b""))
    reply = r.cmd("AUTH SCRAM-SHA-256 " + first)
    assert reply.startswith("+ ")
    reply = r.cmd(b64(client.respond(base64.b64decode(reply[2:]))))
    assert reply.startswith("+ ")  # server-final as a last challenge: no data with +OK
    assert client.respond(base64.b64decode(reply[2:])) == b""
    assert client.verified
    assert r.cmd("").startswith("+OK Logged in, maildrop has 3 messages")
    r.close()


def test_auth_failures_and_errors(server):
    r = raw(server)
    lines = r.cmd("AUTH")  # RFC 1734 style: list the mechanisms
    assert lines.startswith("+OK")
    assert r.multiline() == [b"SCRAM-SHA-256", b"PLAIN", b"LOGIN"]
    assert r.cmd("AUTH KERBEROS_V4").startswith("-ERR")
    assert r.cmd("AUTH PLAIN") == "+ "
    assert r.cmd("*") == "-ERR Authentication cancelled"
    assert r.cmd("AUTH PLAIN !!!notbase64").startswith("-ERR")
    # a response over the bound ends the exchange, at the first step or a later one
    assert r.cmd("AUTH PLAIN") == "+ "
    assert r.cmd("x" * 13000) == "-ERR Authentication exchange line is too long"
    assert r.cmd("AUTH LOGIN").startswith("+ ")
    assert r.cmd(b64(ALICE.encode())).startswith("+ ")
    assert r.cmd("x" * 13000) == "-ERR Authentication exchange line is too long"
    bad = b64(f"\0{ALICE}\0wrong".encode())
    assert r.cmd("AUTH PLAIN " + bad) == "-ERR [AUTH] Authentication failed"
    client = ScramClient(ALICE, "wrong")
    reply = r.cmd("AUTH SCRAM-SHA-256 " + b64(client.respond(b"")))
    reply = r.cmd(b64(client.respond(base64.b64decode(reply[2:]))))
    assert reply.startswith("-ERR [AUTH]")
    cred = b64(f"\0{ALICE}\0{server.passwords[ALICE]}".encode())
    assert r.cmd("AUTH PLAIN " + cred).startswith("+OK")
    assert r.cmd("AUTH PLAIN " + cred).startswith("-ERR")  # no AUTH after login
    r.close()


def test_connections_per_ip_limit(instance_factory):
    inst = instance_factory()
    inst.config("pop3.max_connections_per_ip", "2")
    inst.start()
    # the harness's start-up probes (counted for every service) may still be open a moment
    for _ in range(50):
        a = raw(inst)
        if a.greeting.startswith("+OK"):
            break
        time.sleep(0.1)
    b = raw(inst)
    assert b.greeting.startswith("+OK")
    c = raw(inst)
    assert c.greeting == "-ERR [SYS/TEMP] Too many connections from your address"
    assert c.closed()
    a.close()
    b.close()


def test_pipelined_retr_of_big_messages_waits_for_the_reader(server):
    """Output beyond a bound stops command reading until the client has read it: every
    response still comes, whole and in order."""
    line = "x" * 70 + "\r\n"
    deliver(server, ALICE, line * 6000, "big")  # about 430 KB
    server.wait_for_messages(ALICE, 1)
    r = raw(server)
    r.login(ALICE, server.passwords[ALICE])
    size = int(r.cmd("LIST 1").split()[2])
    r.send("RETR 1\r\n" * 40 + "STAT\r\n")
    time.sleep(0.5)  # the server must not read all 40 commands and queue 17 MB meanwhile
    for _ in range(40):
        assert r.line() == f"+OK {size} octets"
        assert octets(r.multiline()) == size
    assert r.line() == f"+OK 1 {size}"
    r.close()
    assert "Sanitizer" not in server.read_log()
