"""SMTP reception on port 25 (RFC 5321): what another mail server sees when it delivers to us."""
import re
import smtplib

import pytest

MSG = (b"From: Carol <carol@remote.test>\r\nTo: alice@example.test\r\n"
       b"Subject: hello\r\nMessage-ID: <m1@remote.test>\r\nDate: Mon, 23 Nov 2026 01:00:00 +0000\r\n"
       b"\r\nHello Alice.\r\n.a line that starts with a dot\r\n.\r\nlast line\r\n")


def stored_body(inst, address, uid=1):
    """The stored message split into our added lines and the message as the client sent it."""
    data = inst.message(address, uid)
    head, rest = data.split(b"\r\nReceived: ", 1)
    received, original = rest.split(b"\r\n", 1)
    while original.startswith(b"\t"):
        received += b"\r\n" + original.split(b"\r\n", 1)[0]
        original = original.split(b"\r\n", 1)[1]
    return head + b"\r\n", b"Received: " + received, original


def test_greeting_and_ehlo(server):
    raw = server.raw()
    assert raw.greeting == (220, ["mx.example.test ESMTP estafeta"])
    code, lines = raw.cmd("EHLO client.test")
    assert code == 250
    assert lines[0].startswith("mx.example.test Hello client.test [127.0.0.1]")
    assert lines[1:] == ["PIPELINING", "SIZE 52428800", "8BITMIME", "SMTPUTF8",
                         "ENHANCEDSTATUSCODES", "STARTTLS", "DSN", "ETRN", "CHUNKING"]
    assert raw.cmd("HELO client.test") == (250, ["mx.example.test"])
    assert raw.cmd("QUIT")[0] == 221
    assert raw.closed()


def test_delivery_is_byte_exact_with_trace_headers(server):
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], MSG)
    rows = server.mailbox("alice@example.test")
    assert len(rows) == 1
    uid, flags, size, date, frm, subject = rows[0]
    assert (uid, flags, frm, subject) == ("1", "-", "Carol <carol@remote.test>", "hello")
    prefix, received, original = stored_body(server, "alice@example.test")
    # our Authentication-Results sits above the Received line (test_authres.py and
    # test_dmarc.py check its results against DNS servers of their own; here the DNS knows no
    # name, so the client has no PTR record and remote.test publishes neither SPF nor DMARC)
    assert re.fullmatch(rb"Return-Path: <carol@remote.test>\r\nDelivered-To: alice@example.test\r\n"
                        rb"Authentication-Results: mx.example.test;\r\n\tiprev=permerror"
                        rb" \([^)]*\)(\r\n\t| )policy.iprev=127.0.0.1;\r\n"
                        rb"\tspf=none [^\r]*(\r\n\t[^\r]*)*;\r\n\tdkim=none;\r\n"
                        rb"\tarc=none smtp.remote-ip=127.0.0.1;\r\n"
                        rb"\tdmarc=none [^\r]*(\r\n\t[^\r]*)*\r\n", prefix), prefix
    assert re.match(rb"Received: from client.test \(\[127.0.0.1\]\)\r\n\tby mx.example.test "
                    rb"\(estafeta\) with ESMTP id [0-9a-f]{16}\r\n\tfor <alice@example.test>;"
                    rb"\r\n\t\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$", received), received
    assert original == MSG
    assert int(size) == len(server.message("alice@example.test", 1))


def test_dot_unstuffing_over_raw_socket(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    assert raw.cmd("MAIL FROM:<carol@remote.test>")[0] == 250
    assert raw.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert raw.cmd("DATA")[0] == 354
    raw.send(b"Subject: dots\r\n\r\n..one\r\n...two\r\n.\r\n")
    code, text = raw.reply()
    assert code == 250 and text[0].startswith("2.0.0 Ok: queued as ")
    assert server.message("alice@example.test", 1).endswith(b"\r\n\r\n.one\r\n..two\r\n")


def test_unknown_user_relay_and_null_sender(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    assert raw.cmd("MAIL FROM:<>") == (250, ["2.1.0 Ok"])
    assert raw.cmd("RCPT TO:<nobody@example.test>") == (
        550, ["5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"])
    assert raw.cmd("RCPT TO:<someone@elsewhere.test>") == (
        554, ["5.7.1 <someone@elsewhere.test>: Relay access denied"])
    assert raw.cmd("DATA") == (554, ["5.5.1 No valid recipients"])
    assert raw.cmd("RCPT TO:<Bob@EXAMPLE.TEST>")[0] == 250
    assert raw.cmd("DATA")[0] == 354
    raw.send("Subject: bounce\r\n\r\nnull sender\r\n.\r\n")
    assert raw.reply()[0] == 250
    assert server.message("bob@example.test", 1).startswith(b"Return-Path: <>\r\n")


def test_pipelined_commands_are_answered_in_order(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    raw.send("MAIL FROM:<carol@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
             "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(5)] == [250, 250, 550, 250, 354]
    raw.send("Subject: piped\r\n\r\nbody\r\n.\r\nMAIL FROM:<carol@remote.test>\r\n"
             "RCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert [raw.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    raw.send("Subject: second\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    assert [raw.reply()[0] for _ in range(2)] == [250, 221]
    assert len(server.mailbox("alice@example.test")) == 2
    assert len(server.mailbox("bob@example.test")) == 1


@pytest.mark.parametrize("smuggle", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n"])
def test_smuggling_attempts_never_end_data(server, smuggle):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    raw.cmd("MAIL FROM:<carol@remote.test>")
    raw.cmd("RCPT TO:<alice@example.test>")
    assert raw.cmd("DATA")[0] == 354
    # A hidden second transaction after the fake end must stay part of the (refused) message.
    raw.send(b"Subject: one\r\n\r\nbody" + smuggle + b"MAIL FROM:<evil@remote.test>\r\n"
             b"RCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n")
    code, text = raw.reply()
    assert code == 554 and text[0].startswith("5.6.0"), text
    # The session goes on, and nothing reached either mailbox.
    assert raw.cmd("NOOP")[0] == 250
    assert server.mailbox("alice@example.test") == []
    assert server.mailbox("bob@example.test") == []


def test_overlong_lines(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    assert raw.cmd("NOOP " + "x" * 3000) == (500, ["5.5.2 Line too long"])
    assert raw.cmd("NOOP " + "x" * 20000) == (500, ["5.5.2 Line too long"])
    assert raw.cmd("NOOP")[0] == 250
    raw.cmd("MAIL FROM:<carol@remote.test>")
    raw.cmd("RCPT TO:<alice@example.test>")
    raw.cmd("DATA")
    raw.send("Subject: long\r\n\r\n" + "y" * 999 + "\r\n.\r\n")
    code, text = raw.reply()
    assert code == 554 and "longer than the limit" in text[0]
    raw.cmd("MAIL FROM:<carol@remote.test>")
    raw.cmd("RCPT TO:<alice@example.test>")
    raw.cmd("DATA")
    raw.send("Subject: long\r\n\r\n" + "y" * 998 + "\r\n.\r\n")
    assert raw.reply()[0] == 250


def test_message_size_limits(instance_factory):
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.config("smtp.max_message_size", "10K")
    inst.start()
    raw = inst.raw()
    assert "SIZE 10240" in raw.cmd("EHLO client.test")[1]
    assert raw.cmd("MAIL FROM:<c@remote.test> SIZE=20000") == (
        552, ["5.3.4 Message size exceeds fixed maximum message size"])
    raw.cmd("MAIL FROM:<c@remote.test> SIZE=100")
    raw.cmd("RCPT TO:<alice@example.test>")
    raw.cmd("DATA")
    raw.send("Subject: big\r\n\r\n" + ("z" * 100 + "\r\n") * 200 + ".\r\n")
    assert raw.reply()[0] == 552
    assert raw.cmd("NOOP")[0] == 250
    assert inst.mailbox("alice@example.test") == []


def test_recipient_limit(instance_factory):
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.config("smtp.max_recipients", "2")
    inst.start()
    raw = inst.raw()
    raw.cmd("EHLO client.test")
    raw.cmd("MAIL FROM:<c@remote.test>")
    assert raw.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert raw.cmd("RCPT TO:<alice+x@example.test>")[0] == 250
    assert raw.cmd("RCPT TO:<alice+y@example.test>") == (452, ["4.5.3 Too many recipients"])


def test_sequence_errors_and_simple_commands(server):
    raw = server.raw()
    assert raw.cmd("MAIL FROM:<c@remote.test>") == (503, ["5.5.1 Send HELO or EHLO first"])
    raw.cmd("EHLO client.test")
    assert raw.cmd("RCPT TO:<alice@example.test>") == (503, ["5.5.1 Need MAIL command first"])
    assert raw.cmd("DATA") == (503, ["5.5.1 Need MAIL command first"])
    assert raw.cmd("MAIL FROM:<c@remote.test>")[0] == 250
    assert raw.cmd("MAIL FROM:<c@remote.test>") == (503, ["5.5.1 Nested MAIL command"])
    assert raw.cmd("RSET") == (250, ["2.0.0 Ok"])
    assert raw.cmd("RCPT TO:<alice@example.test>")[0] == 503
    assert raw.cmd("VRFY alice@example.test")[0] == 252
    assert raw.cmd("VRFY") == (501, ["5.5.4 Syntax: VRFY address"])
    assert raw.cmd("EXPN staff@example.test") == (502, ["5.5.1 EXPN is not available"])
    assert raw.cmd("HELP")[0] == 214
    assert raw.cmd("TURN") == (502, ["5.5.1 TURN is not implemented: it is unsafe"])
    assert raw.cmd("NOOP hello") == (250, ["2.0.0 Ok"])
    assert raw.cmd("RSET now") == (501, ["5.5.4 Syntax: RSET takes no argument"])
    assert raw.cmd("FROB") == (500, ['5.5.1 Command unrecognized: "FROB"'])
    assert raw.cmd("") == (500, ["5.5.2 Syntax error, command unrecognized"])
    assert raw.cmd("EHLO") == (501, ["Syntax: EHLO hostname"])
    assert raw.cmd("MAIL alice") == (501, ["5.5.4 Syntax: MAIL FROM:<address>"])
    assert raw.cmd("MAIL FROM:alice") == (501, ["5.1.7 Bad sender address syntax"])
    raw.cmd("EHLO client.test")
    assert raw.cmd("MAIL FROM:<a b@remote.test>")[0] == 501
    assert raw.cmd("MAIL FROM:<c@remote.test> FOO=BAR") == (555, ["5.5.4 Unsupported parameter"])
    assert raw.cmd("MAIL FROM:<c@remote.test> BODY=8BITMIME SMTPUTF8")[0] == 250
    assert raw.cmd("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,NEVER")[0] == 501
    assert raw.cmd("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice+2Bx@example.test")[0] == 250
    assert raw.cmd("RCPT TO:<ålice@example.test>")[0] == 550  # UTF-8 allowed after SMTPUTF8


def test_every_reply_has_an_enhanced_status_code(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    for command in ["NOOP", "RSET", "VRFY x", "MAIL FROM:<c@remote.test>", "RCPT TO:<x@y>",
                    "RCPT TO:<bob@example.test>", "DATA"]:
        code, text = raw.cmd(command)
        if code != 354:
            assert re.match(r"[245]\.\d{1,3}\.\d{1,3} ", text[-1]), (command, text)
    raw.send(".\r\n")
    code, text = raw.reply()
    assert code == 250 and text[0].startswith("2.0.0")


def test_non_ascii_address_needs_smtputf8(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    assert raw.cmd("MAIL FROM:<jörg@remote.test>") == (
        550, ["5.6.7 Non-ASCII addresses not permitted without SMTPUTF8"])
    raw.cmd("MAIL FROM:<jorg@remote.test>")
    assert raw.cmd("RCPT TO:<jörg@example.test>")[0] == 553


def test_bdat_chunks(server):
    raw = server.raw()
    raw.cmd("EHLO client.test")
    raw.cmd("MAIL FROM:<carol@remote.test>")
    raw.cmd("RCPT TO:<alice@example.test>")
    part1 = b"Subject: chunked\r\n\r\nfirst part\r\n.not stuffed\r\n"
    part2 = b"second part\r\n"
    raw.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert raw.reply() == (250, [f"2.0.0 {len(part1)} octets received"])
    assert raw.cmd("DATA") == (503, ["5.5.1 DATA after BDAT is not allowed (RFC 3030)"])
    raw.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    code, text = raw.reply()
    assert code == 250 and text[0].startswith("2.0.0 Ok: queued as")
    assert server.message("alice@example.test", 1).endswith(part1 + part2)
    # A refused BDAT still has its chunk read, so the session stays in step.
    raw.send(b"BDAT 10\r\n0123456789")
    assert raw.reply()[0] == 503
    assert raw.cmd("NOOP")[0] == 250


def test_starttls_then_esmtps(server):
    with server.smtp() as c:
        c.starttls(context=__import__("conftest").insecure_tls())
        c.ehlo("client.test")
        assert not c.has_extn("starttls")
        c.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: tls\r\n\r\nsecret\r\n")
    _, received, _ = stored_body(server, "alice@example.test")
    assert b"with ESMTPS id" in received and b"(using TLSv1." in received


def test_swaks_delivers(server):
    import shutil
    import subprocess
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed")
    p = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.port('smtp')}",
                        "--from", "carol@remote.test", "--to", "bob@example.test",
                        "--header", "Subject: from swaks", "--body", "swaks body"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = server.mailbox("bob@example.test")
    assert len(rows) == 1 and rows[0][5] == "from swaks"
    p = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.port('smtp')}", "--tls",
                        "--from", "carol@remote.test", "--to", "bob@example.test"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(server.mailbox("bob@example.test")) == 2
