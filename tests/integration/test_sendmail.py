"""estafeta sendmail and mailq: local programs hand mail to the server through the maildrop,
with no network and no password, exactly as they call sendmail."""
import email
import email.policy
import os
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import ESTAFETA

EX_USAGE, EX_DATAERR = 64, 65


def sendmail(inst, *args, message, user=None, argv0=None, check=True):
    """Runs `estafeta sendmail ARGS` (or a link named argv0) with message on stdin."""
    cmd = [argv0 or ESTAFETA] + ([] if argv0 else ["sendmail"]) + list(args)
    env = dict(os.environ, ESTAFETA_CONF=inst.conf)
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", "--"] + cmd
    p = subprocess.run(cmd, input=message.encode() if isinstance(message, str) else message,
                       capture_output=True, env=env, timeout=60)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def reload(inst):
    """SIGHUP: the running server takes the changed settings."""
    reloads = inst.read_log().count("serve reloaded")
    inst.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while inst.read_log().count("serve reloaded") == reloads and time.time() < deadline:
        time.sleep(0.05)
    assert inst.read_log().count("serve reloaded") > reloads


def parsed(inst, address, uid, folder=None):
    raw = inst.message(address, uid, folder).replace(b"\r\n", b"\n")
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_cron_style_message_gets_the_headers_it_lacks(server):
    sendmail(server, "alice", message="Subject: nightly backup\n\nall went well\n")
    server.wait_for_messages("alice@example.test", 1)
    m = parsed(server, "alice@example.test", 1)
    assert m["Subject"] == "nightly backup"
    assert m["From"].addresses[0].addr_spec == "root@example.test"
    assert m["Date"] is not None and m["Message-ID"].endswith("@example.test>")
    assert m["Return-Path"] == "<root@example.test>"
    assert "from userid 0 root" in m["Received"]
    assert m.get_content() == "all went well\n"
    raw = server.message("alice@example.test", 1)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only


def test_an_unprivileged_user_sends_and_is_named_by_the_server(server):
    p = sendmail(server, "-F", "Nobody Here", "bob@example.test", user="nobody",
                 message="Subject: from a user\n\nhi\n")
    assert p.stdout == b"" and p.stderr == b""
    server.wait_for_messages("bob@example.test", 1)
    m = parsed(server, "bob@example.test", 1)
    assert str(m["From"]) == "Nobody Here <nobody@example.test>"
    assert "from userid 65534 nobody" in m["Received"]


def test_t_takes_to_cc_and_bcc_and_no_one_sees_the_bcc(server):
    server.add_user("carol@example.test")
    msg = ("From: Alice <alice@example.test>\n"
           "To: \"Bob B.\" <bob@example.test>\n"
           "Cc: carol@example.test\n"
           "Bcc: alice+hidden@example.test\n"
           "Subject: meeting\n\nat noon\n")
    sendmail(server, "-t", "-i", "-f", "alice@example.test", message=msg)
    for user in ("alice", "bob", "carol"):
        server.wait_for_messages(f"{user}@example.test", 1)
        raw = server.message(f"{user}@example.test", 1)
        assert b"Bcc" not in raw and b"hidden" not in raw
        m = parsed(server, f"{user}@example.test", 1)
        assert m["Subject"] == "meeting" and m["Return-Path"] == "<alice@example.test>"
        assert "Bcc" not in m


def test_a_lone_dot_ends_the_message_unless_i(server):
    sendmail(server, "alice@example.test", message="Subject: one\n\nbefore\n.\nafter\n")
    sendmail(server, "-oi", "alice@example.test", message="Subject: two\n\nbefore\n.\nafter\n")
    server.wait_for_messages("alice@example.test", 2)
    bodies = {parsed(server, "alice@example.test", uid)["Subject"]:
              parsed(server, "alice@example.test", uid).get_content() for uid in (1, 2)}
    assert bodies == {"one": "before\n", "two": "before\n.\nafter\n"}


def test_lines_too_long_for_smtp_are_sent_quoted_printable(server):
    line = "é" * 700 + "x" * 600  # 2000 octets in one line
    sendmail(server, "alice@example.test", message=f"Subject: long\n\n{line}\nshort\n")
    server.wait_for_messages("alice@example.test", 1)
    raw = server.message("alice@example.test", 1)
    assert max(len(l) for l in raw.split(b"\r\n")) <= 998
    m = parsed(server, "alice@example.test", 1)
    assert m["Content-Transfer-Encoding"] == "quoted-printable"
    assert m.get_content() == f"{line}\nshort\n"


def test_unknown_local_recipients_bounce_and_the_others_get_it(server):
    sendmail(server, "-f", "alice@example.test", "bob@example.test", "nosuch@example.test",
             message="Subject: two rcpts\n\nx\n")
    server.wait_for_messages("bob@example.test", 1)
    server.wait_for_messages("alice@example.test", 1)
    m = parsed(server, "alice@example.test", 1)
    assert m.get_content_type() == "multipart/report"
    assert "nosuch@example.test" in m.as_string() and "5.1.1" in m.as_string()


def test_a_bounce_to_a_system_sender_reaches_the_postmaster(server):
    """Cron's mail comes from root@ (sendmail.origin), which has no mailbox: its bounce goes to
    the domain's postmaster (the first account, alice) instead of nowhere."""
    sendmail(server, "nosuch@example.test", message="Subject: cron output\n\nx\n")
    server.wait_for_messages("alice@example.test", 1)
    m = parsed(server, "alice@example.test", 1)
    assert m.get_content_type() == "multipart/report"
    assert m["To"].addresses[0].addr_spec == "root@example.test" and m["Return-Path"] == "<>"
    assert "nosuch@example.test" in m.as_string() and "Subject: cron output" in m.as_string()
    assert "to=<postmaster@example.test>" in server.read_log()


def test_remote_mail_waits_in_the_queue_and_mailq_lists_it(server):
    server.config("dns.resolvers", "127.0.0.1:9")  # nothing answers: the message stays queued
    reload(server)
    sendmail(server, "-f", "alice@example.test", "someone@elsewhere.test", message="Subject: out\n\nx\n")
    deadline = time.time() + 30
    while time.time() < deadline:
        out = server.cli("mailq")
        if "someone@elsewhere.test" in out:
            break
        time.sleep(0.1)
    assert "alice@example.test" in out and "someone@elsewhere.test" in out
    assert "1 Request." in out
    link = os.path.join(tempfile.mkdtemp(), "mailq")
    os.symlink(ESTAFETA, link)
    p = subprocess.run([link, "-c", server.conf], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "someone@elsewhere.test" in p.stdout
    p = sendmail(server, "-bp", message="")
    assert b"someone@elsewhere.test" in p.stdout


def test_mail_dropped_while_the_server_is_down_is_picked_up_at_start(instance_factory):
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.start()
    inst.stop()
    link = os.path.join(tempfile.mkdtemp(), "sendmail")
    os.symlink(ESTAFETA, link)
    sendmail(inst, "alice", message="Subject: while down\n\nx\n", argv0=link)
    assert "1 message in the maildrop" in inst.cli("mailq")
    inst.start()
    inst.wait_for_messages("alice@example.test", 1)
    assert "Mail queue is empty" in inst.cli("mailq")


def test_a_broken_maildrop_file_is_set_aside_not_lost(server):
    drop = os.path.join(server.data, "maildrop")
    with open(os.path.join(drop, ".tmp.x"), "wb") as f:
        f.write(b"estafeta-maildrop 1\nsender <alice@example.test>\n\nno recipients\r\n")
    os.rename(os.path.join(drop, ".tmp.x"), os.path.join(drop, "broken"))
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(os.path.join(drop, ".corrupt.broken")):
        time.sleep(0.05)
    assert os.path.exists(os.path.join(drop, ".corrupt.broken"))
    assert "set aside" in server.read_log()
    sendmail(server, "alice", message="Subject: still works\n\nx\n")
    server.wait_for_messages("alice@example.test", 1)


def test_errors_have_sendmail_exit_codes(server):
    p = sendmail(server, message="Subject: nobody\n\nx\n", check=False)
    assert p.returncode == EX_USAGE and b"no recipients" in p.stderr
    p = sendmail(server, "not an address@", message="x\n", check=False)
    assert p.returncode == EX_DATAERR and b"not an address" in p.stderr
    p = sendmail(server, "-bs", message="", check=False)
    assert p.returncode == EX_USAGE
    p = sendmail(server, "alice", message=b"Subject: " + b"x" * 1200 + b"\n\nbody\n", check=False)
    assert p.returncode == EX_DATAERR and b"998" in p.stderr
    assert server.mailbox("alice@example.test") == []
    assert os.listdir(os.path.join(server.data, "maildrop")) == []


def test_the_maildrop_cannot_be_listed_by_users(server):
    drop = os.path.join(server.data, "maildrop")
    assert oct(os.stat(drop).st_mode & 0o7777) == "0o1733"
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "ls", drop],
                       capture_output=True)
    assert p.returncode != 0


@pytest.fixture
def local_user():
    """A second local user, made for the test and removed after it."""
    name = "estafeta-t%d" % os.getpid()
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    yield name
    subprocess.run(["userdel", name], capture_output=True)


def sendmail_as(inst, user, *args, message):
    """Runs estafeta sendmail as the local user (runuser), message on stdin."""
    p = subprocess.run(["runuser", "-u", user, "--", ESTAFETA, "sendmail", *args],
                       input=message.encode(), capture_output=True, timeout=60,
                       env=dict(os.environ, ESTAFETA_CONF=inst.conf))
    assert p.returncode == 0, p.stderr
    return p


def test_only_trusted_users_choose_the_envelope_sender(server, local_user):
    """sendmail -f by an ordinary user gets the user's own address instead, logged and noted in
    X-Authentication-Warning as sendmail does; a user in sendmail.trusted_users (and root)
    keeps the -f."""
    sendmail_as(server, local_user, "-f", "ceo@bank.test", "alice@example.test",
                message="Subject: forged\n\nx\n")
    sendmail_as(server, local_user, "-f", local_user, "alice@example.test",
                message="Subject: own\n\nx\n")
    server.wait_for_messages("alice@example.test", 2)
    by_subject = {parsed(server, "alice@example.test", uid)["Subject"]: parsed(server, "alice@example.test", uid)
                  for uid in (1, 2)}
    own = f"<{local_user}@example.test>"
    forged = by_subject["forged"]
    assert forged["Return-Path"] == own
    assert forged["X-Authentication-Warning"] == \
        f"mx.example.test: {local_user} set sender to <ceo@bank.test> using -f"
    assert f"user={local_user} set sender <ceo@bank.test>, replaced by {own}" in server.read_log()
    assert by_subject["own"]["Return-Path"] == own and "X-Authentication-Warning" not in by_subject["own"]

    server.config("sendmail.trusted_users", f"daemon, {local_user}")
    reload(server)
    sendmail_as(server, local_user, "-f", "list-bounces@example.test", "alice@example.test",
                message="Subject: trusted\n\nx\n")
    server.wait_for_messages("alice@example.test", 3)
    trusted = parsed(server, "alice@example.test", 3)
    assert trusted["Return-Path"] == "<list-bounces@example.test>"
    assert "X-Authentication-Warning" not in trusted


def test_set_aside_files_are_removed_after_a_while(server):
    drop = os.path.join(server.data, "maildrop")
    with open(os.path.join(drop, ".tmp.y"), "wb") as f:
        f.write(b"not a maildrop file\n")
    os.rename(os.path.join(drop, ".tmp.y"), os.path.join(drop, "junk"))
    with open(os.path.join(drop, ".tmp.dead"), "wb") as f:  # a sendmail that died mid-write
        f.write(b"estafeta-maildrop 1\n")
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(os.path.join(drop, ".corrupt.junk")):
        time.sleep(0.05)
    # Kept for inspection while younger than sendmail.corrupt_max_age (7d)...
    server.stop()
    server.start()
    assert sorted(os.listdir(drop)) == [".corrupt.junk", ".tmp.dead"]
    # ...and removed by the scan once older.
    server.config("sendmail.corrupt_max_age", "1s")
    time.sleep(2.1)
    server.stop()
    server.start()
    assert os.listdir(drop) == []
    assert "pickup removed file=.corrupt.junk after sendmail.corrupt_max_age" in server.read_log()


def server_has_open(inst, path):
    fds = f"/proc/{inst.proc.pid}/fd"
    for fd in os.listdir(fds):
        try:
            if os.readlink(os.path.join(fds, fd)) == path:
                return True
        except OSError:
            pass
    return False


def test_a_big_drop_is_read_while_the_server_keeps_answering(server):
    """A drop of tens of megabytes is read off the event loop: while the server holds the file
    open, an SMTP session is answered; the message arrives whole."""
    drop = os.path.join(server.data, "maildrop")
    line = b"0123456789" * 7 + b"abcdefgh\r\n"
    body = b"Subject: big\r\n\r\n" + line * (40 * 1024 * 1024 // len(line))
    c = server.raw("smtp")
    c.cmd("EHLO client.test")
    answered_while_open = False
    for attempt in range(5):
        name = f"big{attempt}"
        path = os.path.join(drop, name)
        with open(os.path.join(drop, ".tmp.big"), "wb") as f:
            f.write(b"estafeta-maildrop 1\nsender <bob@example.test>\nrecipient alice@example.test\n\n")
            f.write(body)
        os.rename(os.path.join(drop, ".tmp.big"), path)
        deadline = time.time() + 60
        while os.path.exists(path) and time.time() < deadline and not answered_while_open:
            if server_has_open(server, path):
                assert c.cmd("NOOP")[0] == 250
                answered_while_open = server_has_open(server, path)
        server.wait_for_messages("alice@example.test", attempt + 1, timeout=60)
        if answered_while_open:
            break
    assert answered_while_open, "the server answered no command while it read the drop"
    c.cmd("QUIT")
    stored = server.message("alice@example.test", 1)
    assert stored.endswith(body) and len(stored) > len(body)
