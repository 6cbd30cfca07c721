"""Outbound delivery: two estafeta instances (a.test on 127.0.0.1, b.test on 127.0.0.2) and a real
DNS server (Debian's dnsmasq) on a loopback address serving their MX and A records. Instance a's
outbound.port points at b's SMTP port, so "port 25 of the MX" is b's listener.

DNS data (see DNS_RECORDS): a.test and b.test have one MX each; fb.test has a first MX on an
address where nothing listens and a second one at b; imp.test has no MX, only an A record at b
(the implicit MX); null.test has a null MX (RFC 7505); down.test's MX has nowhere to connect;
nx.test does not exist; p.test is a private Postfix on a port of 127.0.0.1 (the interop test;
Postfix refuses inet_interfaces that no interface carries, such as 127.0.0.3).
"""
import contextlib
import email
import email.policy
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import dnsmasq, free_udp_port  # noqa: F401 (shared with other tests)

DNS_RECORDS = [
    # Local data only for .test: a name without the asked type gets NODATA (not REFUSED),
    # an unknown name NXDOMAIN.
    "--local=/test/",
    "--mx-host=a.test,mx.a.test,10", "--host-record=mx.a.test,127.0.0.1",
    "--mx-host=b.test,mx.b.test,10", "--host-record=mx.b.test,127.0.0.2",
    "--mx-host=fb.test,mx1.fb.test,10", "--host-record=mx1.fb.test,127.0.0.4",
    "--mx-host=fb.test,mx2.fb.test,20", "--host-record=mx2.fb.test,127.0.0.2",
    "--host-record=imp.test,127.0.0.2",
    "--mx-host=null.test,.,0", "--host-record=null.test,127.0.0.2",
    "--mx-host=down.test,mx.down.test,10", "--host-record=mx.down.test,127.0.0.5",
    "--mx-host=p.test,mx.p.test,10", "--host-record=mx.p.test,127.0.0.1",
]


@pytest.fixture
def dns():
    """dnsmasq with the test zone; yields "ip:port" for dns.resolvers."""
    with dnsmasq(DNS_RECORDS) as resolvers:
        yield resolvers


@pytest.fixture
def pair(instance_factory, dns):
    """Instances a (a.test, 127.0.0.1) and b (b.test and the other test domains, 127.0.0.2),
    each sending to the other through the DNS server; neither started yet."""
    a = instance_factory(domain="a.test", listen="127.0.0.1")
    b = instance_factory(domain="b.test", listen="127.0.0.2")
    for d in ("fb.test", "imp.test", "null.test"):
        b.cli("domain", "add", d)
    a.add_user("alice@a.test")
    for u in ("bob@b.test", "carol@fb.test", "dave@imp.test"):
        b.add_user(u)
    for inst, other in ((a, b), (b, a)):
        inst.config("dns.resolvers", dns)
        inst.config("outbound.port", other.port("smtp"))
        inst.config("queue.retry_schedule", "1s")
        inst.config("auth.failure_delay", "0s")
    return a, b


def send(inst, sender, rcpts, subject="hello", body="Hello from a.\r\n", password=None):
    """Submits a message on inst's submission port as sender; returns the queue id."""
    c = inst.smtp("submission")
    c.login(sender, password or inst.passwords[sender])
    msg = (f"From: <{sender}>\r\nTo: {', '.join('<%s>' % r for r in rcpts)}\r\n"
           f"Subject: {subject}\r\n\r\n{body}")
    c.mail(sender)
    for r in rcpts:
        code, text = c.rcpt(r)
        assert code == 250, text
    code, text = c.data(msg.encode())
    assert code == 250, text
    c.quit()
    return text.decode().split()[-1]


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def queue_lines(inst):
    return [l.split("\t") for l in inst.cli("queue", "list").splitlines() if l]


def test_delivery_by_mx_with_starttls(pair):
    a, b = pair
    a.start()
    b.start()
    qid = send(a, "alice@a.test", ["bob@b.test"], subject="by mx")
    b.wait_for_messages("bob@b.test", 1, timeout=20)
    msg = b.message("bob@b.test", 1).decode()
    assert "Subject: by mx" in msg
    # The hop from a to b used STARTTLS: b's Received line says ESMTPS (RFC 3848).
    assert "with ESMTPS" in msg, msg
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
    log = a.read_log()
    assert f"queue={qid} outbound to=<bob@b.test>" in log and "status=sent" in log
    # Delivered and referred to by no folder: the message file is gone from a.
    files = [f for _, _, fs in os.walk(os.path.join(a.data, "messages")) for f in fs]
    assert files == [], files


def test_fallback_to_second_mx(pair):
    a, b = pair
    a.start()
    b.start()
    # A reload (SIGHUP) takes the queue's settings again; delivery goes on.
    a.config("queue.retry_schedule", "2s,1m")
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "serve reloaded" in a.read_log(), what="the reload")
    send(a, "alice@a.test", ["carol@fb.test"])
    b.wait_for_messages("carol@fb.test", 1, timeout=20)
    log = a.read_log()
    assert "relay=mx1.fb.test[127.0.0.4]" in log, log
    assert "keeps its old settings" not in log, log


def test_implicit_mx(pair):
    a, b = pair
    a.start()
    b.start()
    send(a, "alice@a.test", ["dave@imp.test"])
    b.wait_for_messages("dave@imp.test", 1, timeout=20)


def dsn_of(inst, address, uid):
    raw = inst.message(address, uid)
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    # compat32 parses message/delivery-status into a list of header blocks.
    blocks = parts[1].get_payload()
    per_message, per_rcpt = blocks[0], blocks[1:]
    assert per_message["Reporting-MTA"] == "dns; mx.a.test"
    assert per_message["Arrival-Date"]
    assert "Return-Path: <>" in raw.decode(errors="replace")
    return msg, per_rcpt


def test_550_bounces_at_once(pair):
    a, b = pair
    a.start()
    b.start()
    send(a, "alice@a.test", ["nobody@b.test", "bob@b.test"], subject="partly wrong")
    b.wait_for_messages("bob@b.test", 1, timeout=20)
    a.wait_for_messages("alice@a.test", 1, timeout=20)
    msg, rcpts = dsn_of(a, "alice@a.test", 1)
    assert len(rcpts) == 1
    r = rcpts[0]
    assert r["Final-Recipient"] == "rfc822; nobody@b.test"
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.1"
    assert r["Remote-MTA"].startswith("dns; mx.b.test")
    assert r["Diagnostic-Code"].startswith("smtp; 550")
    assert "Subject: partly wrong" in str(msg.get_payload()[2])
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")


def test_null_mx_bounces_at_once(pair):
    a, b = pair
    a.start()
    send(a, "alice@a.test", ["x@null.test"])
    a.wait_for_messages("alice@a.test", 1, timeout=20)
    _, rcpts = dsn_of(a, "alice@a.test", 1)
    assert rcpts[0]["Status"] == "5.1.10"


def test_unknown_domain_bounces_at_once(pair):
    a, b = pair
    a.start()
    send(a, "alice@a.test", ["x@nx.test"])
    a.wait_for_messages("alice@a.test", 1, timeout=20)
    _, rcpts = dsn_of(a, "alice@a.test", 1)
    assert rcpts[0]["Status"] == "5.1.2"
    assert rcpts[0]["Remote-MTA"] is None


def test_unreachable_deferred_then_bounced(pair):
    a, b = pair
    a.config("queue.max_age", "6s")
    a.start()
    qid = send(a, "alice@a.test", ["who@down.test"])
    lines = wait_for(lambda: [l for l in queue_lines(a) if l[0] == qid and l[4] != "0"],
                     what="a failed attempt")
    assert lines[0][1] == "<alice@a.test>" and lines[0][2] == "who@down.test"
    assert "connect" in lines[0][6], lines
    assert len(a.mailbox("alice@a.test")) == 0
    a.wait_for_messages("alice@a.test", 1, timeout=30)
    _, rcpts = dsn_of(a, "alice@a.test", 1)
    assert rcpts[0]["Status"] == "4.4.7"
    assert rcpts[0]["Action"] == "failed"
    assert queue_lines(a) == []


def test_delay_warning_once(pair):
    a, b = pair
    a.config("queue.delay_warning", "2s")
    a.start()
    send(a, "alice@a.test", ["who@down.test"], subject="slow")
    a.wait_for_messages("alice@a.test", 1, timeout=20)
    msg, rcpts = dsn_of(a, "alice@a.test", 1)
    assert rcpts[0]["Action"] == "delayed"
    assert rcpts[0]["Status"].startswith("4.")
    assert "Delayed Mail" in msg["Subject"]
    time.sleep(4)  # retried every second, warned only once
    assert len(a.mailbox("alice@a.test")) == 1
    assert [l[2] for l in queue_lines(a)] == ["who@down.test"]


def test_8bit_body_and_dot_lines(pair):
    a, b = pair
    a.start()
    b.start()
    body = "Grüße aus a.\r\n.\r\n..two dots\r\n"
    send(a, "alice@a.test", ["bob@b.test"], subject="8bit", body=body)
    b.wait_for_messages("bob@b.test", 1, timeout=20)
    msg = b.message("bob@b.test", 1)
    assert msg.endswith(body.encode()), msg


def test_no_bounce_for_null_sender(pair):
    """A message from <> that fails for good is dropped, never bounced (RFC 5321 4.5.5)."""
    a, b = pair
    a.cli("alias", "add", "fwd@a.test", "nobody@b.test")
    a.start()
    b.start()
    c = a.smtp("smtp")
    c.mail("<>")
    assert c.rcpt("fwd@a.test")[0] == 250
    code, text = c.data(b"Subject: a bounce\r\n\r\nx\r\n")
    assert code == 250
    c.quit()
    qid = text.decode().split()[-1]
    wait_for(lambda: f"queue={qid} bounce skipped" in a.read_log(), what="the skipped bounce")
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")


def test_kill9_with_queued_messages(pair):
    a, b = pair
    a.start()
    ids = [send(a, "alice@a.test", ["bob@b.test"], subject=f"m{i}") for i in range(5)]
    wait_for(lambda: len(queue_lines(a)) == 5 and all(l[4] != "0" for l in queue_lines(a)),
             what="five deferred messages")
    a.kill9()
    b.start()
    a.start()
    b.wait_for_messages("bob@b.test", 5, timeout=30)
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
    time.sleep(3)  # nothing is sent twice
    subjects = sorted(line[5] for line in b.mailbox("bob@b.test"))
    assert subjects == [f"m{i}" for i in range(5)], subjects
    assert len(ids) == 5


def test_etrn_and_queue_cli(pair):
    a, b = pair
    a.config("queue.retry_schedule", "1h")
    a.config("smtp.etrn_domains", "b.test")
    a.start()
    qid1 = send(a, "alice@a.test", ["bob@b.test"], subject="one")
    qid2 = send(a, "alice@a.test", ["carol@fb.test"], subject="two")
    qid3 = send(a, "alice@a.test", ["bob@b.test"], subject="three")
    wait_for(lambda: len(queue_lines(a)) == 3 and all(l[4] == "1" for l in queue_lines(a)),
             what="three deferred messages")
    lines = queue_lines(a)
    assert [l[0] for l in lines] == [qid1, qid2, qid3]
    for l in lines:
        assert l[1] == "<alice@a.test>" and l[5] != "now" and "connect" in l[6], l
    show = a.cli("queue", "show", qid1)
    assert "recipient: bob@b.test status=pending attempts=1" in show
    a.cli("queue", "delete", qid3)
    assert [l[0] for l in queue_lines(a)] == [qid1, qid2]
    assert a.cli("queue", "delete", qid3, check=False).returncode == 1
    b.start()
    time.sleep(2)
    assert b.mailbox("bob@b.test") == []  # the next attempt is an hour away
    # ETRN b.test on a's SMTP port releases b.test's mail at once, and only that.
    r = a.raw("smtp")
    r.cmd("EHLO b.test")
    assert r.cmd("ETRN example.invalid")[0] == 459  # not in smtp.etrn_domains
    code, text = r.cmd("ETRN b.test")
    assert code == 250, text
    r.cmd("QUIT")
    b.wait_for_messages("bob@b.test", 1, timeout=20)
    assert [m[5] for m in b.mailbox("bob@b.test")] == ["one"]
    time.sleep(2)
    assert b.mailbox("carol@fb.test") == []
    # queue flush reaches the running server through the store.
    assert "1 recipients due now" in a.cli("queue", "flush")
    b.wait_for_messages("carol@fb.test", 1, timeout=20)
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")


def test_hold_and_release_by_sender_and_by_id(pair):
    """queue hold --sender stops delivery attempts for the sender's mail, queued now or later;
    the running server sees it through the store; release by id or by sender lets it go."""
    a, b = pair
    a.add_user("mallory@a.test")
    a.start()
    b.start()
    assert "0 messages held" in a.cli("queue", "hold", "--sender", "mallory@a.test")
    assert a.cli("queue", "hold").splitlines() == ["<mallory@a.test>"]
    held1 = send(a, "mallory@a.test", ["bob@b.test"], subject="held one")
    held2 = send(a, "mallory@a.test", ["bob@b.test"], subject="held two")
    send(a, "alice@a.test", ["bob@b.test"], subject="free")
    b.wait_for_messages("bob@b.test", 1, timeout=20)
    time.sleep(2.5)  # two polls and more: the held messages are still not tried
    assert [m[5] for m in b.mailbox("bob@b.test")] == ["free"]
    lines = queue_lines(a)
    assert sorted(l[0] for l in lines) == sorted([held1, held2])
    assert all(l[1] == "<mallory@a.test>" and l[4] == "0" and l[5] == "held" for l in lines), lines
    assert f"queue={held1} outbound" not in a.read_log()
    assert "held: yes" in a.cli("queue", "show", held1)

    a.cli("queue", "release", held1)
    b.wait_for_messages("bob@b.test", 2, timeout=20)
    assert [l[0] for l in queue_lines(a)] == [held2]
    assert queue_lines(a)[0][5] == "held"

    assert "1 messages released" in a.cli("queue", "release", "--sender", "mallory@a.test")
    b.wait_for_messages("bob@b.test", 3, timeout=20)
    assert sorted(m[5] for m in b.mailbox("bob@b.test")) == ["free", "held one", "held two"]
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
    assert a.cli("queue", "hold") == ""
    # Released, the sender's new mail goes at once; an unknown id is an error.
    send(a, "mallory@a.test", ["bob@b.test"], subject="after")
    b.wait_for_messages("bob@b.test", 4, timeout=20)
    assert a.cli("queue", "release", "0123456789abcdef", check=False).returncode == 1


def test_etrn_is_advertised(pair):
    a, b = pair
    a.start()
    r = a.raw("smtp")
    code, lines = r.cmd("EHLO client.test")
    assert "ETRN" in lines
    assert r.cmd("ETRN")[0] == 501
    assert r.cmd("ETRN #queue")[0] == 458
    r.close()


POSTFIX_MASTER_CF = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "postfix-master.cf")


@pytest.fixture
def postfix():
    """A private Postfix (never the system's): smtpd on 127.0.0.1:PORT with STARTTLS, virtual
    delivery of p.test to Maildirs under the test folder. Yields (port, maildir of bob@p.test,
    maillog path); stopped at the end."""
    if not os.path.exists("/usr/sbin/postfix") or os.getuid() != 0:
        pytest.skip("needs Postfix (scripts/install-deps.sh test) and root to start it")
    port = free_udp_port("127.0.0.1")
    # Postfix's own users must reach its folders: not under pytest's private tmp_path.
    root = pathlib.Path(tempfile.mkdtemp(prefix="estafeta-postfix-"))
    conf, queue, data, mail = root / "conf", root / "queue", root / "data", root / "mail"
    for d in (conf, queue, data, mail):
        d.mkdir(parents=True)
    os.chmod(root, 0o755)
    import pwd
    nobody = pwd.getpwnam("nobody")
    postfix_user = pwd.getpwnam("postfix")
    os.chown(data, postfix_user.pw_uid, postfix_user.pw_gid)
    os.chown(mail, nobody.pw_uid, nobody.pw_gid)
    # estafeta's test certificate serves Postfix too.
    cert = root / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=mx.p.test", "-keyout", str(cert), "-out", str(cert)],
                   check=True, capture_output=True)
    (conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
config_directory = {conf}
queue_directory = {queue}
data_directory = {data}
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = mx.p.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
biff = no
readme_directory = no
smtpd_tls_security_level = may
smtpd_tls_chain_files = {cert}
smtpd_tls_received_header = yes
virtual_mailbox_domains = p.test
virtual_mailbox_base = {mail}
virtual_mailbox_maps = inline:{{ bob@p.test=bob/ }}
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
""")
    with open(POSTFIX_MASTER_CF) as f:
        (conf / "master.cf").write_text(f.read().replace("SMTPD_LISTEN", f"127.0.0.1:{port}"))
    p = subprocess.run(f"postfix -c {conf} check && postfix -c {conf} start", shell=True,
                       capture_output=True, text=True)
    log = root / "maillog"
    assert p.returncode == 0, p.stdout + p.stderr + (log.read_text() if log.exists() else "")
    try:
        wait_for(lambda: socket_open("127.0.0.1", port), what="Postfix to listen")
        yield port, mail / "bob", log
    finally:
        subprocess.run(["postfix", "-c", str(conf), "stop"], capture_output=True)
        for _ in range(100):
            if subprocess.run(["postfix", "-c", str(conf), "status"], capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def socket_open(ip, port):
    try:
        socket.create_connection((ip, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_interop_postfix_receiver(instance_factory, dns, postfix):
    port, maildir, maillog = postfix
    a = instance_factory(domain="a.test", listen="127.0.0.1")
    a.add_user("alice@a.test")
    a.config("dns.resolvers", dns)
    a.config("outbound.port", port)
    a.config("queue.retry_schedule", "1s")
    a.start()
    send(a, "alice@a.test", ["bob@p.test"], subject="to postfix", body="Hi Postfix.\r\n.dot line\r\n")
    send(a, "alice@a.test", ["nobody@p.test"], subject="unknown at postfix")

    def delivered():
        new = maildir / "new"
        return list(new.iterdir()) if new.exists() else []
    files = wait_for(delivered, what="Postfix to deliver")
    text = files[0].read_text()
    assert "Subject: to postfix" in text
    assert "\n.dot line" in text  # dot-stuffing undone by the receiver
    assert "with ESMTPS" in text, text  # STARTTLS with Postfix
    # Postfix's 550 for the unknown user comes back as a bounce.
    a.wait_for_messages("alice@a.test", 1, timeout=20)
    _, rcpts = dsn_of(a, "alice@a.test", 1)
    assert rcpts[0]["Final-Recipient"] == "rfc822; nobody@p.test"
    assert rcpts[0]["Status"].startswith("5.1.")
    wait_for(lambda: queue_lines(a) == [], what="the queue to empty")


def relay_password_file(inst, password):
    """The relayhost password in a file of its own (the config stays readable by all); the
    server makes it root:estafeta 0640 when it starts."""
    path = os.path.join(inst.dir, "relay-password")
    with open(path, "w") as f:
        f.write(password + "\n")
    inst.config("relayhost.password_file", path)


def test_relayhost_with_auth(pair):
    """relayhost = [b]:submission with AUTH PLAIN after STARTTLS: no MX lookup (fb.test's first
    MX is down and never tried), credentials of a user of b who may send as alice@a.test."""
    a, b = pair
    b.cli("domain", "add", "a.test")
    password = b.add_user("relay@b.test")
    b.cli("alias", "add", "alice@a.test", "relay@b.test")
    a.config("relayhost", f"[127.0.0.2]:{b.port('submission')}")
    a.config("relayhost.username", "relay@b.test")
    relay_password_file(a, password)
    a.start()
    b.start()
    send(a, "alice@a.test", ["carol@fb.test"], subject="via relayhost")
    b.wait_for_messages("carol@fb.test", 1, timeout=20)
    msg = b.message("carol@fb.test", 1).decode()
    assert "with ESMTPSA" in msg, msg  # TLS and AUTH at the relayhost (RFC 3848)
    log = a.read_log()
    assert "relay=127.0.0.2[127.0.0.2]" in log and "mx1.fb.test" not in log, log


@contextlib.contextmanager
def smtp_sink(*options):
    """Postfix's smtp-sink on a free port of 127.0.0.1 with the given options; yields the port."""
    if not os.path.exists("/usr/sbin/smtp-sink"):
        pytest.skip("needs smtp-sink from Postfix (scripts/install-deps.sh test)")
    port = free_udp_port("127.0.0.1")
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", *options, "-u", "nobody", f"127.0.0.1:{port}",
                             "10"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: socket_open("127.0.0.1", port), what="smtp-sink to listen")
        yield port
    finally:
        sink.terminate()
        sink.wait()


def test_relayhost_refuses_auth_in_clear(pair):
    """Credentials never go out without TLS: a relayhost without STARTTLS (Postfix's
    smtp-sink) defers the mail."""
    a, b = pair
    with smtp_sink() as port:
        a.config("relayhost", f"[127.0.0.1]:{port}")
        a.config("relayhost.username", "relay@b.test")
        relay_password_file(a, "secret")
        a.start()
        qid = send(a, "alice@a.test", ["bob@b.test"])
        lines = wait_for(lambda: [l for l in queue_lines(a) if l[0] == qid and l[4] != "0"],
                         what="a failed attempt")
        assert "AUTH PLAIN over TLS" in lines[0][6], lines


def test_helo_fallback_without_pipelining(pair):
    """A server that knows no ESMTP (smtp-sink -e refuses EHLO): HELO, then one command at a
    time and DATA with dot-stuffing."""
    a, b = pair
    with smtp_sink("-e") as port:
        a.config("relayhost", f"[127.0.0.1]:{port}")
        a.start()
        qid = send(a, "alice@a.test", ["bob@b.test", "carol@fb.test"], body="x\r\n.\r\n")
        wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
        log = a.read_log()
        assert log.count(f"queue={qid} outbound to=") == 2 and "status=sent" in log, log
        assert "status=deferred" not in log and "status=bounced" not in log, log


def test_8bit_to_a_server_without_8bitmime_is_converted(pair):
    """RFC 6152 3: no 8-bit data to a server that does not offer 8BITMIME: the body goes as
    quoted-printable, labelled so, and decodes to what was sent; no BODY=8BITMIME."""
    a, b = pair
    with relayed_to_fake(a, ["PIPELINING"]) as sink:
        send(a, "alice@a.test", ["bob@b.test"], body="Grüße aus Zürich\r\n")
        wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
        assert len(sink.messages) == 1
        raw = sink.messages[0]
        assert all(byte < 128 for byte in raw), raw
        assert not any("BODY=8BITMIME" in c for c in sink.sessions[-1])
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Content-Transfer-Encoding"] == "quoted-printable"
        assert msg.get_payload(decode=True) == "Grüße aus Zürich\r\n".encode()
        assert "converted to 7-bit" in a.read_log()


def test_8bit_that_cannot_be_converted_bounces(pair):
    """8-bit octets in a part declared base64 cannot be relabelled: 5.6.3 at once."""
    a, b = pair
    with relayed_to_fake(a, ["PIPELINING"]) as sink:
        send(a, "alice@a.test", ["bob@b.test"],
             body="not base64 at all: \u00ff\r\n", subject="x\r\nMIME-Version: 1.0\r\n"
             "Content-Transfer-Encoding: base64")
        a.wait_for_messages("alice@a.test", 1, timeout=20)
        _, rcpts = dsn_of(a, "alice@a.test", 1)
        assert rcpts[0]["Status"] == "5.6.3"
        assert sink.messages == []


class FakeSMTPServer:
    """A scripted SMTP server on 127.0.0.1 that takes mail and records, per connection, the
    commands and the messages. It offers the given EHLO extensions; with STARTTLS among them
    it answers the handshake with clear text and hangs up (a broken TLS setup)."""

    def __init__(self, extensions):
        self.extensions = extensions
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.sessions = []
        self.messages = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.session(conn.makefile("rwb"))

    def session(self, f):
        commands = []
        self.sessions.append(commands)

        def say(text):
            f.write(text.encode() + b"\r\n")
            f.flush()
        say("220 fake.test ESMTP")
        while line := f.readline():
            cmd = line.decode(errors="replace").rstrip("\r\n")
            commands.append(cmd)
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                lines = ["fake.test"] + self.extensions
                say("\r\n".join(f"250{' ' if i == len(lines) - 1 else '-'}{text}"
                                for i, text in enumerate(lines)))
            elif verb == "STARTTLS":
                say("220 Go ahead")
                f.write(b"this is not a TLS server hello\r\n" * 4)
                f.flush()
                return
            elif verb == "DATA":
                say("354 go on")
                lines = []
                while (l := f.readline()) not in (b".\r\n", b""):
                    lines.append(l[1:] if l.startswith(b".") else l)
                self.messages.append(b"".join(lines))
                say("250 2.0.0 taken")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 2.0.0 ok")

    def close(self):
        self.sock.close()


@contextlib.contextmanager
def relayed_to_fake(a, extensions):
    """Instance a started with a FakeSMTPServer offering extensions as its relayhost."""
    sink = FakeSMTPServer(extensions)
    try:
        a.config("relayhost", f"[127.0.0.1]:{sink.port}")
        a.start()
        yield sink
    finally:
        sink.close()


def submission(inst, user):
    """A logged-in submission session, EHLO done, for commands with parameters."""
    c = inst.smtp("submission")
    c.login(user, inst.passwords[user])
    c.ehlo()
    return c


def test_broken_tls_falls_back_to_clear_text(pair):
    """Opportunistic STARTTLS: a handshake that fails makes the client try the same server once
    more without TLS, at once, instead of deferring the mail."""
    a, b = pair
    with relayed_to_fake(a, ["8BITMIME", "STARTTLS"]) as sink:
        send(a, "alice@a.test", ["bob@b.test"])
        wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
        assert len(sink.sessions) == 2, sink.sessions
        assert sink.sessions[0][-1] == "STARTTLS"
        assert "STARTTLS" not in sink.sessions[1] and "DATA" in sink.sessions[1], sink.sessions
        log = a.read_log()
        assert "TLS handshake failed, trying again without TLS" in log and "status=sent" in log, log


def test_dsn_parameters_are_passed_on(pair):
    """RFC 3461: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT reach the next hop when it
    offers DSN, with or without PIPELINING."""
    a, b = pair
    with relayed_to_fake(a, ["DSN", "8BITMIME"]) as sink:
        c = submission(a, "alice@a.test")
        code, _ = c.mail("alice@a.test", ["RET=HDRS", "ENVID=env+2Bid"])
        assert code == 250
        code, _ = c.rcpt("bob@b.test", ["NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;bob@b.test"])
        assert code == 250
        code, _ = c.data(b"Subject: dsn\r\n\r\nhello\r\n")
        assert code == 250
        c.quit()
        wait_for(lambda: queue_lines(a) == [], what="the queue to empty")
        cmds = sink.sessions[-1]
        mail = [x for x in cmds if x.startswith("MAIL FROM:")][0]
        rcpt = [x for x in cmds if x.startswith("RCPT TO:")][0]
        assert "RET=HDRS" in mail and "ENVID=env+2Bid" in mail, mail
        assert "NOTIFY=FAILURE,DELAY" in rcpt and "ORCPT=rfc822;bob@b.test" in rcpt, rcpt


def test_utf8_address_to_a_server_without_smtputf8_bounces(pair):
    """RFC 6531 3.2: a UTF-8 address cannot go to a server without SMTPUTF8: 5.6.7 at once."""
    a, b = pair
    with relayed_to_fake(a, ["8BITMIME"]) as sink:
        c = submission(a, "alice@a.test")
        assert c.mail("alice@a.test", ["SMTPUTF8"])[0] == 250
        assert c.rcpt("jürgen@b.test")[0] == 250
        assert c.data("Subject: ü\r\n\r\nhallo\r\n".encode())[0] == 250
        c.quit()
        a.wait_for_messages("alice@a.test", 1, timeout=20)
        _, rcpts = dsn_of(a, "alice@a.test", 1)
        assert rcpts[0]["Status"] == "5.6.7"
        assert sink.messages == []
