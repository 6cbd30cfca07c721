"""estafeta mail, the command-line client, end to end against estafeta: every command, the
interactive mode through a pseudo-terminal, non-ASCII round trips, discovery by SRV records,
and one scenario against Dovecot + Postfix from Debian."""
import email
import email.policy
import imaplib
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ESTAFETA, insecure_tls

SUBJECT = "Résumé für das Treffen — 会議"
FILENAME = "Lebenslauf Müller 2026.pdf"
PDF = bytes(range(256)) * 40 + b"%PDF-1.4 binary tail\x00\xff"


def env_for(inst, address, imap_port=None, smtp_port=None, password=None, **extra):
    env = dict(os.environ)
    env.update({
        "ESTAFETA_MAIL_ADDRESS": address,
        "ESTAFETA_MAIL_PASSWORD": password or inst.passwords[address],
        "ESTAFETA_MAIL_IMAP": f"127.0.0.1:{imap_port or inst.port('imap')}",
        "ESTAFETA_MAIL_SMTP": f"127.0.0.1:{smtp_port or inst.port('submission')}",
        "ESTAFETA_MAIL_TLS_VERIFY": "no",
        "ESTAFETA_MAIL_CONFIG": "/nonexistent",
    })
    env.update(extra)
    return env


def mail(env, *args, input=b"", check=True):
    p = subprocess.run([ESTAFETA, "mail", *args], input=input, capture_output=True, env=env, timeout=60)
    if check:
        assert p.returncode == 0, (args, p.stderr)
    return p


def out(env, *args, input=b""):
    return mail(env, *args, input=input).stdout.decode()


def listing(env, folder=None):
    """(number, status, subject) of each line of `list`."""
    rows = []
    for line in out(env, "list", *([folder] if folder else [])).splitlines():
        m = re.match(r"\s*(\d+) (\S) +\S+  (.{22})  (\S+ \S+) (.) (.*)", line)
        if m:
            rows.append((int(m.group(1)), m.group(2), m.group(6), m.group(5) == "@", m.group(3).strip()))
    return rows


def wait_list(env, count, folder=None, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = listing(env, folder)
        if len(rows) >= count:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"{count} messages expected, have {listing(env, folder)}")


def raw(env, n, folder=None):
    data = mail(env, "read", str(n), "--raw", *(["--folder", folder] if folder else [])).stdout
    return email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)


@pytest.fixture
def people(instance_factory):
    inst = instance_factory()
    for user in ("alice", "bob", "carol", "dave", "eve"):
        inst.add_user(f"{user}@example.test")
    inst.config("auth.failure_delay", "0s")
    inst.start()
    return inst, {u: env_for(inst, f"{u}@example.test") for u in ("alice", "bob", "carol", "dave", "eve")}


def test_send_reply_reply_all_and_forward(people, tmp_path):
    inst, env = people
    alice = dict(env["alice"], ESTAFETA_MAIL_NAME="Alice Ñandú")
    att = tmp_path / FILENAME
    att.write_bytes(PDF)
    mail(alice, "send", "--to", "Bob Brown <bob@example.test>", "--cc", "carol@example.test",
         "--bcc", "dave@example.test", "--reply-to", "alice+replies@example.test",
         "--subject", SUBJECT, "--attach", str(att),
         input="Hallo zusammen,\nder Plan für morgen steht. ünïcödé\n".encode())

    for user in ("bob", "carol", "dave"):
        rows = wait_list(env[user], 1)
        # unread: N (new) to the first session that sees it, unless one of wait_list's polls
        # had the mailbox open as it arrived and took it; U (unread, old) ever after
        assert rows[0][1] in ("N", "U") and rows[0][2] == SUBJECT and rows[0][3], rows
        assert listing(env[user])[0][1] == "U"
        assert rows[0][4] == "Alice Ñandú"
        shown = out(env[user], "read", "1")
        assert f"Subject: {SUBJECT}" in shown and "From: Alice Ñandú <alice@example.test>" in shown
        assert "der Plan für morgen steht. ünïcödé" in shown
        assert f"[2] {FILENAME} (application/pdf" in shown
        assert "dave" not in shown
        m = raw(env[user], 1)
        assert "Bcc" not in m
        if user != "dave":  # dave's own copy names him only in Delivered-To
            assert b"dave" not in m.as_bytes()
        assert m["Reply-To"] == "alice+replies@example.test"
        assert listing(env[user])[0][1] == "R"  # read marks it seen
        saved = tmp_path / f"saved-{user}"
        assert "saved" in out(env[user], "save", "1", "2", str(saved))
        assert saved.read_bytes() == PDF
        assert mail(env[user], "save", "1", FILENAME, "-").stdout == PDF

    m = raw(env["bob"], 1)
    assert m["Date"] and m["Message-ID"] and m["MIME-Version"] == "1.0"
    assert m.get_content_type() == "multipart/mixed"
    part = [p for p in m.iter_attachments()][0]
    assert part.get_filename() == FILENAME and part.get_content() == PDF
    body = m.get_body(("plain",))
    assert body["Content-Transfer-Encoding"] == "quoted-printable"
    lines = raw_bytes = mail(env["bob"], "read", "1", "--raw").stdout
    assert max(len(l) for l in raw_bytes.split(b"\r\n")) <= 998 and all(b < 128 for b in lines)
    sent = listing(alice, "Sent")
    assert len(sent) == 1 and sent[0][2] == SUBJECT and sent[0][1] == "R"
    # offered SCRAM, the client uses it on both sides: the password never crosses the wire
    log = inst.read_log()
    assert "imap login user=alice@example.test method=SCRAM-SHA-256" in log
    assert "smtp auth user=alice@example.test method=SCRAM-SHA-256" in log
    original_id = m["Message-ID"]

    # bob replies: to Reply-To, "Re: " once, threaded, the original quoted
    mail(env["bob"], "reply", "1", input=b"Passt, ich komme.\n")
    rows = wait_list(env["alice"], 1)
    assert rows[0][2] == "Re: " + SUBJECT
    r = raw(env["alice"], 1)
    assert r["To"] == "alice+replies@example.test" and r["Cc"] is None
    assert r["In-Reply-To"] == original_id and original_id in r["References"]
    text = r.get_body(("plain",)).get_content()
    assert text.startswith("Passt, ich komme.\n") and "> der Plan für morgen steht." in text
    assert "A" in [row[1] for row in listing(env["bob"])]  # answered

    # carol replies to all: Reply-To, and bob from To; never carol herself, never the Bcc
    mail(env["carol"], "reply", "1", "--all", input=b"Ich auch.\n")
    rows = wait_list(env["alice"], 2)
    assert rows[1][2] == "Re: " + SUBJECT
    wait_list(env["bob"], 2)
    r = raw(env["bob"], 2)
    assert r["To"] == "alice+replies@example.test"
    assert [a.addr_spec for a in r["Cc"].addresses] == ["bob@example.test"]
    assert r["Cc"].addresses[0].display_name == "Bob Brown"
    assert listing(env["dave"]) == listing(env["dave"])[:1]
    assert len(listing(env["carol"])) == 1

    # a reply to the reply keeps one "Re: "
    mail(env["alice"], "reply", "1", input=b"Gut.\n")
    rows = wait_list(env["bob"], 3)
    assert rows[2][2] == "Re: " + SUBJECT

    # a reply to one's own message, from Sent, goes to its recipients
    mail(alice, "reply", "1", "--folder", "Sent", input=b"Nachtrag.\n")
    rows = wait_list(env["bob"], 4)
    assert rows[3][2] == "Re: " + SUBJECT and raw(env["bob"], 4)["To"] == "Bob Brown <bob@example.test>"

    # forwards: inline, then as an attached message
    mail(env["bob"], "forward", "1", "--to", "eve@example.test", input=b"FYI\n")
    mail(env["bob"], "forward", "1", "--to", "eve@example.test", "--attach", input=b"see attached\n")
    rows = wait_list(env["eve"], 2)
    assert rows[0][2] == "Fwd: " + SUBJECT and rows[1][2] == "Fwd: " + SUBJECT
    inline = out(env["eve"], "read", "1")
    assert "FYI" in inline and "---------- Forwarded message ----------" in inline
    assert "From: Alice Ñandú <alice@example.test>" in inline and "der Plan für morgen" in inline
    attached = raw(env["eve"], 2)
    inner = [p for p in attached.walk() if p.get_content_type() == "message/rfc822"]
    assert len(inner) == 1 and inner[0].get_content()["Subject"] == SUBJECT
    assert "[2]" in out(env["eve"], "read", "2") and "message/rfc822" in out(env["eve"], "read", "2")
    with inst.imap(user="bob@example.test") as im:
        im.select("INBOX")
        typ, data = im.fetch("1", "(FLAGS)")
        assert b"$Forwarded" in data[0] and b"\\Answered" in data[0]


def test_replies_to_ones_own_messages_and_options_before_the_command(people):
    inst, env = people
    alice = env["alice"]
    mail(alice, "send", "--cc", "carol@example.test", "--subject", "cc only", input=b"x\n")
    mail(alice, "send", "--to", "alice@example.test", "--subject", "note to self", input=b"x\n")
    wait_list(alice, 1)
    assert [r[2] for r in wait_list(alice, 2, "Sent")] == ["cc only", "note to self"]
    # an own message without To answers its Cc; the options may stand before the command
    mail(alice, "--folder", "Sent", "reply", "1", input=b"more\n")
    rows = wait_list(env["carol"], 2)
    assert rows[1][2] == "Re: cc only" and raw(env["carol"], 2)["To"] == "carol@example.test"
    # one to oneself only: says why there is no one to answer, and how
    p = mail(alice, "-f", "Sent", "reply", "2", input=b"x\n", check=False)
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1
    assert b"message 2 is your own and names no one else in To or Cc" in p.stderr
    assert b"--to" in p.stderr
    mail(alice, "--folder", "Sent", "reply", "2", "--to", "dave@example.test", input=b"x\n")
    assert wait_list(env["dave"], 1)[0][2] == "Re: note to self"
    p = mail(alice, "--folder", "Sent", check=False)
    assert p.returncode == 2 and b"no command after the options" in p.stderr


def test_implicit_tls_on_any_port_and_a_tls_port_reached_without_it(people):
    inst, env = people
    alice = env["alice"]
    imaps = f"127.0.0.1:{inst.port('imaps')}"
    submissions = f"127.0.0.1:{inst.port('submissions')}"
    tls = dict(alice, ESTAFETA_MAIL_IMAP="imaps://" + imaps, ESTAFETA_MAIL_SMTP="smtps://" + submissions)
    mail(tls, "send", "--to", "bob@example.test", "--subject", "over implicit TLS", input=b"x\n")
    assert [r[2] for r in wait_list(env["bob"], 1)] == ["over implicit TLS"]
    assert [r[2] for r in listing(tls, "Sent")] == ["over implicit TLS"]
    log = inst.read_log()
    assert "service=imaps" in log and "service=submissions" in log
    starttls = dict(alice, ESTAFETA_MAIL_IMAP=f"imap://127.0.0.1:{inst.port('imap')}/",
                    ESTAFETA_MAIL_SMTP=f"smtp://127.0.0.1:{inst.port('submission')}")
    mail(starttls, "send", "--to", "bob@example.test", "--subject", "over STARTTLS", input=b"x\n")
    assert len(wait_list(env["bob"], 2)) == 2

    # A port of implicit TLS reached in the clear: told in seconds, not after the timeout.
    for setting, scheme, value, command in (
            ("ESTAFETA_MAIL_IMAP", "imaps", imaps, ["list"]),
            ("ESTAFETA_MAIL_SMTP", "smtps", submissions, ["send", "--to", "bob@example.test"])):
        started = time.monotonic()
        p = mail(dict(alice, **{setting: value}), *command, input=b"x\n", check=False)
        assert time.monotonic() - started < 30
        assert p.returncode == 1 and p.stderr.count(b"\n") == 1, p.stderr
        assert f"expects TLS from the first byte: write the server as {scheme}://{value}".encode() in p.stderr
    p = mail(dict(alice, ESTAFETA_MAIL_IMAP="pop3s://" + imaps), "list", check=False)
    assert p.returncode == 1 and b"imaps://host:port (implicit TLS) or imap://host:port" in p.stderr


def test_long_non_ascii_file_name(people, tmp_path):
    """A name too long for one header line goes out in RFC 2231 sections (lines of at most 78
    octets) and comes back whole, to the client and to Python's email package."""
    inst, env = people
    name = "Protokoll der Sitzung über die Änderungen des Haushaltsplans für 2027 – endgültige Fassung.pdf"
    att = tmp_path / name
    att.write_bytes(PDF)
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "Protokoll",
         "--attach", str(att), input=b"anbei\n")
    wait_list(env["bob"], 1)
    assert f"[2] {name} (application/pdf" in out(env["bob"], "read", "1")
    m = raw(env["bob"], 1)
    assert [p.get_filename() for p in m.iter_attachments()] == [name]
    assert "filename*1*=" in m.as_string()
    lines = [l for l in mail(env["bob"], "read", "1", "--raw").stdout.split(b"\r\n") if b"name" in l]
    assert len(lines) >= 6 and max(len(l) for l in lines) <= 78, lines
    assert mail(env["bob"], "save", "1", name, "-").stdout == PDF


def test_folders_flags_search_delete_spam_and_drafts(people):
    inst, env = people
    alice, bob = env["alice"], env["bob"]
    for subject, body in (("lunch plans", "pizza at noon"), ("quarterly report", "numbers inside"),
                          ("Grüße aus Köln", "Dom und Rhein")):
        mail(alice, "send", "--to", "bob@example.test", "--subject", subject, input=body.encode())
    wait_list(bob, 3)

    # search: fields, whole text, non-ASCII, flags
    assert [r[2] for r in listing_of(out(bob, "search", "subject:report"))] == ["quarterly report"]
    assert [r[2] for r in listing_of(out(bob, "search", "pizza"))] == ["lunch plans"]
    assert [r[2] for r in listing_of(out(bob, "search", "köln"))] == ["Grüße aus Köln"]
    assert len(listing_of(out(bob, "search", "from:alice@example.test", "unread"))) == 3
    assert "no messages match" in out(bob, "search", "nothing-like-this")

    # flags
    mail(bob, "flag", "2", "+\\Flagged", "+project-x")
    assert listing(bob)[1][1] == "F"
    assert [r[2] for r in listing_of(out(bob, "search", "flagged"))] == ["quarterly report"]
    mail(bob, "read", "1")
    mail(bob, "flag", "1", "-\\Seen")
    assert listing(bob)[0][1] == "U"
    with inst.imap(user="bob@example.test") as im:
        im.select("INBOX")
        assert b"project-x" in im.fetch("2", "(FLAGS)")[1][0]

    # folders
    mail(bob, "mkdir", "Projekte/Köln")
    assert "Projekte/Köln" in out(bob, "folders").splitlines()
    mail(bob, "move", "3", "Projekte/Köln")
    assert [r[2] for r in listing(bob, "Projekte/Köln")] == ["Grüße aus Köln"]
    mail(bob, "rename", "Projekte/Köln", "Archiv Köln")
    folders = out(bob, "folders").splitlines()
    assert "Archiv Köln" in folders and "Projekte/Köln" not in folders
    assert "Sent\t\\Sent" in folders and "Trash\t\\Trash" in folders
    assert mail(bob, "rmdir", "Archiv Köln").returncode == 0
    assert "Archiv Köln" not in out(bob, "folders")

    # delete goes to Trash, and from Trash for good; spam goes to Junk with $Junk
    mail(bob, "delete", "1")
    assert [r[2] for r in listing(bob)] == ["quarterly report"]
    assert [r[2] for r in listing(bob, "Trash")] == ["lunch plans"]
    mail(bob, "delete", "1", "--folder", "Trash")
    assert listing(bob, "Trash") == []
    mail(bob, "spam", "1")
    assert listing(bob) == [] and [r[2] for r in listing(bob, "Junk")] == ["quarterly report"]
    with inst.imap(user="bob@example.test") as im:
        im.select("Junk")
        assert b"$Junk" in im.fetch("1", "(FLAGS)")[1][0]

    # a draft is saved, not sent
    mail(bob, "draft", "--to", "alice@example.test", "--subject", "half written", input=b"to be continued\n")
    rows = listing(bob, "Drafts")
    assert [r[2] for r in rows] == ["half written"]
    with inst.imap(user="bob@example.test") as im:
        im.select("Drafts")
        assert b"\\Draft" in im.fetch("1", "(FLAGS)")[1][0]
    time.sleep(0.5)
    assert len(listing(alice)) == 0


def listing_of(text):
    return [(0, "", m.group(1)) for m in re.finditer(r"^\s*\d+ \S +\S+  .{22}  \S+ \S+ . (.*)$", text, re.M)]


def test_errors_are_one_line_with_a_status(people):
    inst, env = people
    p = mail(dict(env["alice"], ESTAFETA_MAIL_PASSWORD="wrong"), "list", check=False)
    assert p.returncode == 1 and b"login refused" in p.stderr and p.stderr.count(b"\n") == 1
    p = mail(env["alice"], "frobnicate", check=False)
    assert p.returncode == 2 and b"unknown command" in p.stderr
    p = mail(env["alice"], "read", "7", check=False)
    assert p.returncode == 1 and b"no message 7" in p.stderr
    p = mail(env["alice"], "send", "--subject", "x", check=False)
    assert p.returncode == 2 and b"usage" in p.stderr
    p = mail(env["alice"], "send", "--to", "not an address", input=b"x", check=False)
    assert p.returncode == 1 and b"not an address" in p.stderr
    p = mail(dict(env["alice"], ESTAFETA_MAIL_TLS_VERIFY="yes"), "list", check=False)
    assert p.returncode == 1 and b"certificate is not trusted" in p.stderr
    p = mail({k: v for k, v in env["alice"].items() if k != "ESTAFETA_MAIL_ADDRESS"}, "list", check=False)
    assert p.returncode == 1 and b"ESTAFETA_MAIL_ADDRESS" in p.stderr
    p = mail(dict(env["alice"], ESTAFETA_MAIL_IMAP="127.0.0.1:1"), "list", check=False)
    assert p.returncode == 1 and b"cannot connect" in p.stderr


def test_account_from_the_config_file_and_a_password_command(people, tmp_path):
    inst, env = people
    conf = tmp_path / "mail.conf"
    conf.write_text(f"# test\naddress = bob@example.test\nname = Bob\n"
                    f"imap = 127.0.0.1:{inst.port('imap')}\nsmtp = 127.0.0.1:{inst.port('submission')}\n"
                    f"tls_verify = no\npassword_command = echo {inst.passwords['bob@example.test']}\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ESTAFETA_MAIL")}
    e = dict(clean, ESTAFETA_MAIL_CONFIG=str(conf))
    mail(e, "send", "--to", "alice@example.test", "--subject", "from the file", input=b"x\n")
    assert [r[2] for r in wait_list(env["alice"], 1)] == ["from the file"]
    assert raw(env["alice"], 1)["From"] == "Bob <bob@example.test>"
    # the environment wins over the file
    p = mail(dict(e, ESTAFETA_MAIL_PASSWORD="wrong"), "list", check=False)
    assert p.returncode == 1 and b"login refused" in p.stderr


def read_until(fd, pattern, timeout=15):
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if re.search(pattern, data):
                return data
    raise AssertionError(f"{pattern!r} not seen in {data!r}")


def test_interactive_mode_through_a_terminal(people):
    inst, env = people
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "über alles", input=b"erste Zeile\n")
    wait_list(env["bob"], 1)
    e = {k: v for k, v in env["bob"].items() if k != "ESTAFETA_MAIL_PASSWORD"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(ESTAFETA, [ESTAFETA, "mail"], e)
    try:
        read_until(fd, rb"Password for bob@example.test: ")
        os.write(fd, inst.passwords["bob@example.test"].encode() + b"\n")
        screen = read_until(fd, rb"& $")
        assert "über alles".encode() in screen and b"   1 U" in screen
        assert inst.passwords["bob@example.test"].encode() not in screen  # never echoed
        os.write(fd, b"p 1\n")
        screen = read_until(fd, rb"& $")
        assert b"erste Zeile" in screen and "Subject: über alles".encode() in screen
        os.write(fd, b"r 1\n")
        read_until(fd, rb"line holding only")
        os.write(fd, "Antwort mit Ümlaut\n.\n".encode())
        read_until(fd, rb"& $")
        os.write(fd, b"m alice@example.test\n")
        read_until(fd, rb"Subject: $")
        os.write(fd, "Grüße vom Terminal\n".encode())
        read_until(fd, rb"line holding only")
        os.write(fd, b"typed here\n.\n")
        read_until(fd, rb"& $")
        os.write(fd, b"F 1 +\\Flagged\n")
        read_until(fd, rb"& $")
        os.write(fd, b"l\n")
        screen = read_until(fd, rb"& $")
        assert b"   1 F" in screen
        os.write(fd, b"?\n")
        screen = read_until(fd, rb"& $")
        assert b"reply N" in screen
        os.write(fd, b"q\n")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        os.close(fd)
    subjects = [r[2] for r in wait_list(env["alice"], 2)]
    assert subjects == ["Re: über alles", "Grüße vom Terminal"]
    assert "Antwort mit Ümlaut" in out(env["alice"], "read", "1")
    assert "typed here" in out(env["alice"], "read", "2")


def test_servers_are_found_by_srv_records(people):
    inst, env = people
    if not os.path.exists("/usr/sbin/dnsmasq"):
        pytest.skip("dnsmasq is not installed")
    from test_outbound import free_udp_port
    port = free_udp_port("127.0.0.1")
    proc = subprocess.Popen(
        ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
         "--conf-file=/dev/null", "--pid-file=", "--bind-interfaces", "--listen-address=127.0.0.1",
         f"--port={port}", "--user=root",
         f"--srv-host=_imap._tcp.example.test,localhost,{inst.port('imap')}",
         f"--srv-host=_submission._tcp.example.test,localhost,{inst.port('submission')}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        e = {k: v for k, v in env["alice"].items() if k not in ("ESTAFETA_MAIL_IMAP", "ESTAFETA_MAIL_SMTP")}
        e["ESTAFETA_MAIL_RESOLVERS"] = f"127.0.0.1:{port}"
        mail(e, "send", "--to", "bob@example.test", "--subject", "found by SRV", input=b"x\n")
        assert [r[2] for r in wait_list(env["bob"], 1)] == ["found by SRV"]
        assert [r[2] for r in listing(e, "Sent")] == ["found by SRV"]
    finally:
        proc.terminate()
        proc.wait()


def test_against_dovecot_and_postfix(tmp_path):
    if not (os.path.exists("/usr/sbin/dovecot") and os.path.exists("/usr/sbin/postfix")):
        pytest.skip("dovecot-imapd and postfix are not installed")
    from thirdparty import ThirdParty
    users = {"ann@other.test": "pw-ann-1", "bob@other.test": "pw-bob-1", "cat@other.test": "pw-cat-1"}
    with ThirdParty(str(tmp_path), users=users, hashed_only={"cat@other.test"}) as tp:
        def env_other(user):
            e = dict(os.environ)
            e.update({"ESTAFETA_MAIL_ADDRESS": f"{user}@other.test", "ESTAFETA_MAIL_PASSWORD": tp.users[f"{user}@other.test"],
                      "ESTAFETA_MAIL_IMAP": f"127.0.0.1:{tp.imap_port}",
                      "ESTAFETA_MAIL_SMTP": f"127.0.0.1:{tp.submission_port}",
                      "ESTAFETA_MAIL_TLS_VERIFY": "no", "ESTAFETA_MAIL_CONFIG": "/nonexistent"})
            return e
        ann, bob = env_other("ann"), env_other("bob")
        att = tmp_path / FILENAME
        att.write_bytes(PDF)
        mail(ann, "send", "--to", "Bob <bob@other.test>", "--subject", SUBJECT, "--attach", str(att),
             input="Grüße über Postfix\n".encode())
        tp.wait_for_message("bob@other.test", 1)
        rows = wait_list(bob, 1)
        assert rows[0][2] == SUBJECT and rows[0][3]
        shown = out(bob, "read", "1")
        assert "Grüße über Postfix" in shown and FILENAME in shown
        saved = tmp_path / "saved.pdf"
        mail(bob, "save", "1", FILENAME, str(saved))
        assert saved.read_bytes() == PDF
        assert [r[2] for r in listing(ann, "Sent")] == [SUBJECT]
        mail(bob, "reply", "1", input=b"Got it.\n")
        tp.wait_for_message("ann@other.test", 1)
        assert [r[2] for r in wait_list(ann, 1)] == ["Re: " + SUBJECT]
        assert "> Grüße über Postfix" in out(ann, "read", "1")
        assert raw(ann, 1)["In-Reply-To"] == raw(bob, 1)["Message-ID"]
        assert [r[1] for r in listing(bob)] == ["A"]
        mail(bob, "flag", "1", "+\\Flagged")
        mail(bob, "mkdir", "Archiv")
        mail(bob, "move", "1", "Archiv")
        assert [r[2] for r in listing(bob, "Archiv")] == [SUBJECT]
        mail(bob, "delete", "1", "--folder", "Archiv")
        assert [r[2] for r in listing(bob, "Trash")] == [SUBJECT]
        mail(bob, "draft", "--subject", "later", input=b"x\n")
        assert [r[2] for r in listing(bob, "Drafts")] == ["later"]
        assert [r[2] for r in listing_of(out(ann, "search", "subject:Re:"))] == ["Re: " + SUBJECT]
        # SCRAM-SHA-256 with Dovecot and with Postfix (through Dovecot's SASL): each proved to
        # the other; and where the server keeps no SCRAM keys (cat), PLAIN after its refusal
        with open(tp.dovecot_log) as f:
            assert "user=<ann@other.test>, method=SCRAM-SHA-256" in f.read()
        cat = env_other("cat")
        mail(cat, "send", "--to", "ann@other.test", "--subject", "from cat", input=b"miau\n")
        tp.wait_for_message("ann@other.test", 2)
        assert [r[2] for r in listing(cat, "Sent")] == ["from cat"]
        with open(tp.dovecot_log) as f:
            log = f.read()
        assert "user=<cat@other.test>, method=PLAIN" in log
        with open(tp.postfix_log) as f:
            log = f.read()
        assert "sasl_method=SCRAM-SHA-256, sasl_username=ann@other.test" in log
        assert "sasl_method=PLAIN, sasl_username=cat@other.test" in log
