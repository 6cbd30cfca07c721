"""Submission (RFC 6409) on ports 587 and 465: our users send, after authenticating."""
import base64
import smtplib
import socket
import time

import pytest

from conftest import insecure_tls

BODY = b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nBcc: secret@example.test\r\nSubject: hi\r\n\r\nhello bob\r\n"


def test_auth_plain_and_login_then_send(server):
    for mech in ("PLAIN", "LOGIN"):
        with server.smtp("submission") as c:
            assert c.has_extn("auth")
            c.user, c.password = "alice@example.test", server.passwords["alice@example.test"]
            code, text = c.auth(mech, getattr(c, "auth_" + mech.lower()), initial_response_ok=(mech == "PLAIN"))
            assert (code, text) == (235, b"2.7.0 Authentication successful")
            c.sendmail("alice@example.test", ["bob@example.test"], BODY)
    assert len(server.mailbox("bob@example.test")) == 2


def test_submission_adds_date_message_id_and_drops_bcc(server):
    with server.smtp("submission") as c:
        c.login("alice@example.test", server.passwords["alice@example.test"])
        c.sendmail("alice@example.test", ["bob@example.test"], BODY)
    stored = server.message("bob@example.test", 1)
    assert b"\r\nBcc:" not in stored and b"secret@example.test" not in stored
    header = stored.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nDate: " in header and b"\r\nMessage-ID: <" in header
    assert b"with ESMTPA id" in header
    assert stored.endswith(b"\r\n\r\nhello bob\r\n")


def test_port_25_never_adds_or_removes_headers(server):
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["bob@example.test"], BODY)
    stored = server.message("bob@example.test", 1)
    assert b"\r\nBcc: secret@example.test\r\n" in stored
    assert b"Message-ID" not in stored and b"\r\nDate:" not in stored.split(b"\r\n\r\n")[0].split(b"Received")[-1]


def test_wrong_password_is_delayed_and_limited(instance_factory):
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.config("auth.failure_delay", "1s")
    inst.config("auth.max_failures", "2")
    inst.start()
    raw = inst.raw("submission")
    raw.cmd("EHLO client.test")
    bad = base64.b64encode(b"\0alice@example.test\0wrong").decode()
    started = time.time()
    assert raw.cmd("AUTH PLAIN " + bad) == (535, ["5.7.8 Authentication credentials invalid"])
    assert time.time() - started >= 0.9
    nobody = base64.b64encode(b"\0nobody@example.test\0wrong").decode()
    assert raw.cmd("AUTH PLAIN " + nobody)[0] == 535
    assert raw.reply() == (421, ["4.7.0 mx.example.test Too many failed authentications"])
    assert raw.closed()


def test_auth_errors(server):
    raw = server.raw("submission")
    raw.cmd("EHLO client.test")
    assert raw.cmd("AUTH CRAM-MD5") == (504, ["5.5.4 Unrecognized authentication type"])
    assert raw.cmd("AUTH PLAIN !!!notbase64") == (501, ["5.5.2 Cannot decode response"])
    assert raw.cmd("AUTH LOGIN")[0] == 334
    assert raw.cmd("*") == (501, ["5.0.0 Authentication cancelled"])
    assert raw.cmd("AUTH PLAIN") == (334, [""])
    assert raw.cmd("x" * 13000) == (500, ["5.5.6 Authentication Exchange line is too long"])
    assert raw.cmd("AUTH LOGIN")[0] == 334  # at a later step of the exchange too
    assert raw.cmd(base64.b64encode(b"alice@example.test").decode())[0] == 334
    assert raw.cmd("x" * 13000) == (500, ["5.5.6 Authentication Exchange line is too long"])
    assert raw.cmd("MAIL FROM:<alice@example.test>") == (530, ["5.7.0 Authentication required"])
    ok = base64.b64encode(b"\0alice@example.test\0" + server.passwords["alice@example.test"].encode())
    assert raw.cmd("AUTH PLAIN " + ok.decode())[0] == 235
    assert raw.cmd("AUTH PLAIN " + ok.decode()) == (503, ["5.5.1 Already authenticated"])


def test_auth_only_after_tls_off_loopback(instance_factory):
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.config("auth.allow_plaintext_loopback", "no")
    inst.start()
    with inst.smtp("submission") as c:
        assert not c.has_extn("auth")
        code, text = c.mail("alice@example.test")
        assert (code, text) == (530, b"5.7.0 Must issue a STARTTLS command first")
        c.rset()
        code, _ = c.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0a\0b").decode())
        assert code == 538
        c.starttls(context=insecure_tls())
        c.ehlo("client.test")
        assert c.has_extn("auth")
        c.login("alice@example.test", inst.passwords["alice@example.test"])
        c.sendmail("alice@example.test", ["alice@example.test"], b"Subject: self\r\n\r\nx\r\n")
    received = inst.message("alice@example.test", 1)
    assert b"with ESMTPSA id" in received


def test_port_25_offers_no_auth(server):
    with server.smtp("smtp") as c:
        assert not c.has_extn("auth")
        assert c.docmd("AUTH", "PLAIN AGFAYg==")[0] == 503


def test_implicit_tls_port(server):
    with server.smtp("submissions") as c:
        assert not c.has_extn("starttls")
        c.login("bob@example.test", server.passwords["bob@example.test"])
        c.sendmail("bob@example.test", ["alice@example.test"], b"Subject: 465\r\n\r\nvia 465\r\n")
    assert b"with ESMTPSA id" in server.message("alice@example.test", 1)


def test_sender_must_be_owned(server):
    server.cli("alias", "add", "info@example.test", "alice@example.test")
    with server.smtp("submission") as c:
        c.login("alice@example.test", server.passwords["alice@example.test"])
        for own in ("alice@example.test", "ALICE@example.test", "alice+news@example.test", "info@example.test"):
            assert c.mail(own)[0] == 250, own
            c.rset()
        code, text = c.mail("bob@example.test")
        assert code == 553 and text.startswith(b"5.7.1 <bob@example.test>: Sender address not owned")
        assert c.mail("")[0] == 553
        # An alias that leads to others too belongs to none of them.
        server.cli("alias", "add", "team@example.test", "alice@example.test", "bob@example.test")
        assert c.mail("team@example.test")[0] == 553
        assert c.mail("team+x@example.test")[0] == 553


def test_submission_accepts_remote_recipients(server):
    with server.smtp("submission") as c:
        c.login("alice@example.test", server.passwords["alice@example.test"])
        refused = c.sendmail("alice@example.test", ["friend@elsewhere.test", "bob@example.test"],
                             b"Subject: out\r\n\r\nto the world\r\n")
        assert refused == {}
    assert len(server.mailbox("bob@example.test")) == 1


def test_scram_sha_256(server):
    scram = pytest.importorskip("scram")
    raw = server.raw("submission")
    raw.cmd("EHLO client.test")
    client = scram.ScramClient("alice@example.test", server.passwords["alice@example.test"])
    code, text = raw.cmd("AUTH SCRAM-SHA-256 " + base64.b64encode(client.respond(b"")).decode())
    assert code == 334
    final = client.respond(base64.b64decode(text[0]))
    code, text = raw.cmd(base64.b64encode(final).decode())
    assert code == 334
    assert client.respond(base64.b64decode(text[0])) == b""
    assert client.verified
    assert raw.cmd("") == (235, ["2.7.0 Authentication successful"])
    assert raw.cmd("MAIL FROM:<alice@example.test>")[0] == 250
    # A wrong password fails at the proof.
    raw2 = server.raw("submission")
    raw2.cmd("EHLO client.test")
    bad = scram.ScramClient("alice@example.test", "wrong")
    code, text = raw2.cmd("AUTH SCRAM-SHA-256 " + base64.b64encode(bad.respond(b"")).decode())
    assert code == 334
    code, text = raw2.cmd(base64.b64encode(bad.respond(base64.b64decode(text[0]))).decode())
    assert code == 535


def test_scram_with_a_password_saslprep_changes(server):
    """RFC 5802 2.2: keys come from the SASLprep'd password, as clients compute them; PLAIN
    keeps checking the password as typed."""
    scram = pytest.importorskip("scram")
    password = "\uff50ass\u00a0w\u00f6rd \u00bd"  # full-width p, no-break space, one half
    server.add_user("carol@example.test", password)
    raw = server.raw("submission")
    raw.cmd("EHLO client.test")
    client = scram.ScramClient("carol@example.test", password)
    code, text = raw.cmd("AUTH SCRAM-SHA-256 " + base64.b64encode(client.respond(b"")).decode())
    code, text = raw.cmd(base64.b64encode(client.respond(base64.b64decode(text[0]))).decode())
    assert code == 334, text
    client.respond(base64.b64decode(text[0]))
    assert raw.cmd("") == (235, ["2.7.0 Authentication successful"])
    plain = base64.b64encode(b"\0carol@example.test\0" + password.encode()).decode()
    raw2 = server.raw("submission")
    raw2.cmd("EHLO client.test")
    assert raw2.cmd("AUTH PLAIN " + plain)[0] == 235


def test_hourly_limits_per_authenticated_user(server):
    """submission.max_messages_per_hour answers MAIL, max_recipients_per_hour answers RCPT, with
    451 4.7.1, logged; other users are not affected; the counts are in the store, so a restart
    keeps them."""
    server.add_user("carol@example.test")
    server.config("submission.max_messages_per_hour", 3)
    server.config("submission.max_recipients_per_hour", 5)
    server.stop()
    server.start()
    alice = ("alice@example.test", server.passwords["alice@example.test"])
    body = b"From: alice@example.test\r\nSubject: x\r\n\r\nx\r\n"
    with server.smtp("submission") as c:
        c.login(*alice)
        for _ in range(2):
            assert c.sendmail("alice@example.test", ["bob@example.test", "carol@example.test"], body) == {}
        # 2 messages, 4 recipients: the third message may have one recipient more.
        assert c.mail("alice@example.test")[0] == 250
        assert c.rcpt("bob@example.test")[0] == 250
        code, text = c.rcpt("carol@example.test")
        assert code == 451 and text.startswith(b"4.7.1 <alice@example.test>: too many recipients"), text
        assert c.data(body)[0] == 250
        code, text = c.mail("alice@example.test")
        assert code == 451 and text.startswith(b"4.7.1 <alice@example.test>: too many messages"), text
    assert len(server.mailbox("bob@example.test")) == 3
    assert len(server.mailbox("carol@example.test")) == 2
    log = server.read_log()
    assert "smtp limit user=alice@example.test recipients_per_hour=5 reached" in log
    assert "smtp limit user=alice@example.test messages_per_hour=3 reached" in log
    # Another user has counts of its own.
    with server.smtp("submission") as c:
        c.login("bob@example.test", server.passwords["bob@example.test"])
        assert c.sendmail("bob@example.test", ["alice@example.test", "carol@example.test"], body.replace(b"alice", b"bob")) == {}
    # A restart does not reset them.
    server.stop()
    server.start()
    with server.smtp("submission") as c:
        c.login(*alice)
        assert c.mail("alice@example.test")[0] == 451
    # Mail from other servers (port 25) is not the user's submission.
    with server.smtp() as c:
        assert c.sendmail("alice@example.test", ["bob@example.test"], body) == {}


def test_from_and_sender_must_be_owned_after_the_data(server):
    """A From or Sender naming an address the user does not own gets 553 5.7.1 once the data
    has ended (only then is the header known); the user's own address, an alias of it alone
    and +extensions pass; submission.allow_foreign_from lets the fields through."""
    server.cli("alias", "add", "info@example.test", "alice@example.test")
    alice = ("alice@example.test", server.passwords["alice@example.test"])

    def send(header):
        with server.smtp("submission") as c:
            c.login(*alice)
            assert c.mail("alice@example.test")[0] == 250
            assert c.rcpt("bob@example.test")[0] == 250
            code, text = c.data(header + b"Subject: t\r\n\r\nbody\r\n")
            # the session goes on after a refusal
            assert c.noop()[0] == 250
            return code, text

    for own in (b"From: Alice <alice@example.test>\r\n", b"From: ALICE+x@example.test\r\n",
                b"From: info@example.test\r\nSender: alice@example.test\r\n", b"To: bob@example.test\r\n"):
        assert send(own)[0] == 250, own
    for foreign, who in ((b"From: Bob <bob@example.test>\r\n", b"bob@example.test"),
                         (b"From: alice@example.test, ceo@bank.test\r\n", b"ceo@bank.test"),
                         (b"From: alice@example.test\r\nSender: bob@example.test\r\n", b"bob@example.test")):
        code, text = send(foreign)
        assert code == 553 and text.startswith(b"5.7.1 <" + who + b">: From or Sender address not owned"), text
    assert len(server.mailbox("bob@example.test")) == 4
    assert "smtp refused user=alice@example.test author=<ceo@bank.test>" in server.read_log()
    server.config("submission.allow_foreign_from", "yes")
    server.stop()
    server.start()
    assert send(b"From: Bob <bob@example.test>\r\n")[0] == 250
    assert len(server.mailbox("bob@example.test")) == 5


def test_received_names_the_authenticated_user(server):
    with server.smtp("submission") as c:
        c.login("alice@example.test", server.passwords["alice@example.test"])
        c.sendmail("alice@example.test", ["bob@example.test"], BODY)
    received = server.message("bob@example.test", 1).split(b"\r\n\r\n")[0].split(b"\r\nDelivered-To")[-1]
    assert b"(Authenticated sender: alice@example.test)\r\n\tby mx.example.test (estafeta) with ESMTPA" in received
    # Port 25 has no authenticated user to name; the setting turns the comment off.
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["bob@example.test"], BODY)
    assert b"Authenticated sender" not in server.message("bob@example.test", 2)
    server.config("submission.authenticated_header", "no")
    server.stop()
    server.start()
    with server.smtp("submission") as c:
        c.login("alice@example.test", server.passwords["alice@example.test"])
        c.sendmail("alice@example.test", ["bob@example.test"], BODY)
    assert b"Authenticated sender" not in server.message("bob@example.test", 3)
