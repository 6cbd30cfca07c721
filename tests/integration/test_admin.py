"""The admin command line: domains, accounts, aliases, lists, mailbox listings and settings, with
the exit statuses and one-line errors the design promises (0 success, 1 failure, 2 usage)."""
import os
import pathlib
import re
import smtplib
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ESTAFETA


@pytest.fixture
def reachable_tmp():
    """A folder the server's user may enter (pytest's tmp_path is root's alone)."""
    path = tempfile.mkdtemp(prefix="estafeta-test-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def fails(inst, *args, status=1, says="", input="pw-Secret1\n"):
    """Runs a command that must fail with status and a single "estafeta: ..." line saying says."""
    p = inst.cli(*args, check=False, input=input)
    assert p.returncode == status, (args, p.returncode, p.stderr)
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("estafeta: ") and says in lines[0], p.stderr
    return lines[0]


def test_domains_users_aliases_lists(instance_factory):
    inst = instance_factory()
    assert inst.cli("domain", "list") == "example.test\n"
    inst.cli("domain", "add", "Other.TEST")
    assert inst.cli("domain", "list") == "example.test\nother.test\n"
    fails(inst, "domain", "add", "other.test", says="already exists")
    fails(inst, "domain", "add", "not a domain", says="is not a domain name")

    inst.add_user("alice@example.test")
    inst.add_user("Bob@Example.Test")  # the domain is stored lower-case
    fails(inst, "user", "add", "carol@elsewhere.test", "--password-stdin", says="not a local domain")
    fails(inst, "user", "add", "alice@EXAMPLE.test", "--password-stdin", says="already an account")
    assert inst.cli("user", "list") == "alice@example.test\nBob@example.test\n"
    assert inst.cli("user", "list", "other.test") == ""
    fails(inst, "user", "list", "nowhere.test", says="no domain nowhere.test")

    inst.cli("alias", "add", "info@example.test", "alice@example.test", "someone@remote.test")
    inst.cli("alias", "add", "@example.test", "bob@example.test")
    assert inst.cli("alias", "list", "info@example.test") == (
        "info@example.test alice@example.test\ninfo@example.test someone@remote.test\n")
    fails(inst, "alias", "add", "alice@example.test", "x@remote.test", says="already an account")
    fails(inst, "alias", "add", "x@remote.test", "alice@example.test", says="not a local domain")
    fails(inst, "alias", "del", "info@example.test", "nobody@remote.test", says="is not a target")
    inst.cli("alias", "del", "info@example.test", "someone@remote.test")
    assert inst.cli("alias", "list") == (
        "@example.test bob@example.test\nabuse@example.test alice@example.test\n"
        "abuse@other.test alice@example.test\ninfo@example.test alice@example.test\n"
        "postmaster@example.test alice@example.test\npostmaster@other.test alice@example.test\n")
    fails(inst, "alias", "list", "nothing@example.test", says="no alias nothing@example.test")

    inst.cli("list", "add", "team@example.test", "alice@example.test", "bob@example.test")
    inst.cli("list", "add", "team@example.test", "ALICE@example.test", "dave@remote.test")
    assert inst.cli("list", "members", "team@example.test") == (
        "alice@example.test\nbob@example.test\ndave@remote.test\n")
    assert inst.cli("list", "members") == "team@example.test\n"
    fails(inst, "user", "add", "team@example.test", "--password-stdin", says="already a distribution list")
    inst.cli("list", "del", "team@example.test", "bob@example.test")
    assert inst.cli("list", "members", "team@example.test") == "alice@example.test\ndave@remote.test\n"

    fails(inst, "domain", "del", "example.test", says="remove them first")
    inst.cli("list", "del", "team@example.test")
    fails(inst, "list", "members", "team@example.test", says="no distribution list")
    inst.cli("alias", "del", "info@example.test")
    inst.cli("alias", "del", "@example.test")
    inst.cli("alias", "del", "postmaster@example.test")
    inst.cli("alias", "del", "abuse@example.test")
    fails(inst, "user", "del", "alice@example.test", says="receives abuse@other.test's mail")
    inst.cli("alias", "add", "postmaster@other.test", "someone@remote.test")
    inst.cli("alias", "add", "abuse@other.test", "someone@remote.test")
    inst.cli("user", "del", "alice@example.test")
    inst.cli("user", "del", "bob@example.test")
    fails(inst, "user", "del", "bob@example.test", says="no account bob@example.test")
    inst.cli("domain", "del", "example.test")
    assert inst.cli("domain", "list") == "other.test\n"


def test_every_domain_has_a_postmaster(instance_factory):
    """RFC 5321 4.5.1: postmaster@ of each domain (and abuse@, RFC 2142) reaches the
    administrator: the first account, or init's --admin, and every domain added later."""
    inst = instance_factory()
    assert inst.cli("alias", "list") == ""
    p = inst.cli("domain", "add", "other.test", check=False)
    assert p.returncode == 0 and "postmaster@other.test and abuse@other.test will go to the first account" in p.stderr
    p = inst.cli("user", "add", "alice@example.test", "--password-stdin", input="pw-alice-Secret1\n",
                 check=False)
    assert p.returncode == 0 and "postmaster@example.test now goes to alice@example.test" in p.stderr
    inst.add_user("bob@example.test")  # only the first account is the administrator
    inst.cli("domain", "add", "third.test")
    assert inst.cli("alias", "list") == "".join(
        f"{name}@{domain} alice@example.test\n" for name in ("abuse", "postmaster")
        for domain in ("example.test", "other.test", "third.test"))
    # The administrator's own choice stands, and new domains follow it.
    inst.cli("alias", "add", "postmaster@example.test", "bob@example.test")
    inst.cli("alias", "del", "postmaster@example.test", "alice@example.test")
    inst.cli("domain", "add", "fourth.test")
    assert inst.cli("alias", "list", "postmaster@fourth.test") == "postmaster@fourth.test bob@example.test\n"
    # The account a postmaster alias reaches alone stays until the alias goes elsewhere.
    fails(inst, "user", "del", "bob@example.test",
          says="bob@example.test receives abuse@fourth.test's mail, which must reach someone")
    fails(inst, "user", "del", "alice@example.test", says="receives abuse@example.test's mail")
    inst.start()
    with inst.smtp() as c:
        c.sendmail("someone@remote.test", ["postmaster@third.test"], b"Subject: to the postmaster\r\n\r\nx\r\n")
        c.sendmail("someone@remote.test", ["<Postmaster>"], b"Subject: bare\r\n\r\nx\r\n")
    inst.wait_for_messages("alice@example.test", 1)
    inst.wait_for_messages("bob@example.test", 1)


def test_init_admin_is_the_postmaster_from_the_start(reachable_tmp):
    tmp_path = reachable_tmp
    out = subprocess.run([ESTAFETA, "init", str(tmp_path / "i"), "--domain", "example.test",
                          "--admin", "Admin@Example.ORG"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    conf = str(tmp_path / "i" / "estafeta.conf")
    aliases = subprocess.run([ESTAFETA, "-c", conf, "alias", "list"], capture_output=True, text=True,
                             timeout=60).stdout
    assert aliases == "abuse@example.test Admin@example.org\npostmaster@example.test Admin@example.org\n"
    bad = subprocess.run([ESTAFETA, "init", str(tmp_path / "j"), "--domain", "example.test",
                          "--admin", "nobody"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "is not a mail address" in bad.stderr
    assert not os.path.exists(tmp_path / "j")


def test_make_run_under_a_closed_folder_says_why(reachable_tmp):
    """A clone under /root (mode 0700): the server's user cannot enter it. make run (its
    script, scripts/demo.sh) and init say so, and write nothing."""
    closed = reachable_tmp / "root"
    (closed / "clone" / "scripts").mkdir(parents=True)
    (closed / "clone" / "build").mkdir()
    os.chmod(closed, 0o700)
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "demo.sh"),
                closed / "clone" / "scripts")
    os.symlink(ESTAFETA, closed / "clone" / "build" / "estafeta")
    p = subprocess.run(["sh", str(closed / "clone" / "scripts" / "demo.sh")], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert f"the server's user estafeta (run_as) cannot enter {closed}," in p.stderr, p.stderr
    assert f"chmod o+x {closed}" in p.stderr
    assert not os.path.exists(closed / "clone" / "var" / "demo" / "estafeta.conf")


def test_usage_errors_exit_2(instance_factory):
    inst = instance_factory()
    fails(inst, "user", status=2, says="usage: estafeta user add|del|passwd|list")
    fails(inst, "user", "frob", status=2, says='unknown command "user frob"')
    fails(inst, "user", "add", status=2, says="usage: estafeta user add ADDRESS")
    fails(inst, "user", "add", "a@example.test", "--nope", status=2, says="unknown option --nope")
    fails(inst, "alias", "add", "a@example.test", status=2, says="ALIAS TARGET...")
    fails(inst, "mailbox", "show", "a@example.test", "first", status=2, says="is not a UID")
    fails(inst, "user", "add", "no-at-sign", says="is not a mail address")


def test_generated_password_works_once_and_passwd_changes_it(instance_factory):
    inst = instance_factory()
    out = inst.cli("user", "add", "alice@example.test")
    password = out.strip()
    assert re.fullmatch(r"[A-Za-z0-9]{20}", password), out
    inst.cli("config", "set", "auth.failure_delay", "0s")
    inst.start()
    # Loopback connections may authenticate without TLS (auth.allow_plaintext_loopback).
    with inst.smtp("submission") as c:
        assert c.login("alice@example.test", password)[0] == 235
    inst.cli("user", "passwd", "alice@example.test", "--password-stdin", input="new-Secret9\n")
    with inst.smtp("submission") as c:
        try:
            c.login("alice@example.test", password)
            assert False, "the old password still works"
        except smtplib.SMTPAuthenticationError:
            pass
    with inst.smtp("submission") as c:
        assert c.login("alice@example.test", "new-Secret9")[0] == 235


def test_mailbox_list_columns_and_show(server):
    """Byte-exact delivery is test_smtp_inbound's; here the columns of odd headers."""
    folded = b"Subject: hello\r\n\tfolded\r\n\r\nbody line\r\n"  # and no From at all
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], folded)
    [row] = server.mailbox("alice@example.test")
    # Unfolded: the line end goes, the folding tab becomes a space; a missing From is empty.
    assert row[0:2] + row[4:] == ["1", "-", "", "hello folded"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[3]), row
    assert int(row[2]) == len(server.message("alice@example.test", 1))
    fails(server, "mailbox", "show", "alice@example.test", "2", says="no message with UID 2")
    fails(server, "mailbox", "list", "alice@example.test", "Nope", says="its folders: Archive")
    fails(server, "mailbox", "list", "zed@example.test", says="no account zed@example.test")


def test_config_get_set_list(instance_factory):
    inst = instance_factory()
    assert inst.cli("config", "get", "smtp.port") == f"{inst.port('smtp')}\n"
    inst.cli("config", "set", "smtp.max_recipients", "500")
    assert inst.cli("config", "get", "smtp.max_recipients") == "500\n"
    assert "smtp.max_recipients = 500\n" in inst.cli("config", "list", "--changed")
    assert "# recipients per message" in inst.cli("config", "list", "--docs")
    fails(inst, "config", "set", "smtp.max_recipients", "many", says="must be a whole number")
    fails(inst, "config", "get", "smtp.nonsense", says='unknown setting "smtp.nonsense"')
    assert inst.cli("config", "get", "smtp.max_recipients") == "500\n"


def test_config_set_refuses_what_the_server_would(instance_factory):
    """config set checks a value as config load does (serve, SIGHUP): a typo never reaches the
    file, where only the next reload would find it."""
    inst = instance_factory()
    before = open(inst.conf).read()
    fails(inst, "config", "set", "log.level", "debugg",
          says='log.level must be debug, info, warn or error, not "debugg"')
    fails(inst, "config", "set", "smtp.port", "70000", says="a port number from 0 to 65535")
    fails(inst, "config", "set", "queue.retry_schedule", "5m,soon", says="durations above 0")
    fails(inst, "config", "set", "listen", "localhost", says="IPv4 or IPv6 addresses")
    fails(inst, "config", "set", "relayhost", "[smtp.example.org", says="[host]:port")
    fails(inst, "config", "set", "dmarc.enforce", "maybe",
          says='dmarc.enforce must be none, quarantine or reject, not "maybe"')
    fails(inst, "config", "set", "dns.resolvers", "ns.example.org", says="IP, IP:port")
    assert open(inst.conf).read() == before
    inst.cli("config", "set", "log.level", "debug")
    inst.cli("config", "set", "relayhost", "[smtp.example.org]:587")
    inst.start()  # what config set accepted, serve takes


def test_config_docs_name_one_default_each(instance_factory):
    inst = instance_factory()
    docs = [line for line in inst.cli("config", "list", "--docs").splitlines() if line.startswith("#")]
    assert len(docs) > 40
    for line in docs:
        assert line.count("default") == 1, line
    assert "# this server's name in greetings, Received lines and Authentication-Results (default: the system's)" in docs
    assert "# recipients per message (RFC 5321 asks for at least 100) (default: 1000)" in docs


def test_help_names_every_subcommand(instance_factory):
    inst = instance_factory()
    help_lines = inst.cli("help").splitlines()
    for family in ("config", "user", "domain", "alias", "list", "mailbox", "import", "queue"):
        usage = fails(inst, family, status=2, says=f"usage: estafeta {family} ")
        names = usage.split(f"usage: estafeta {family} ")[1].split(" ")[0].split("|")
        [line] = [l for l in help_lines if l.startswith(f"  estafeta {family} ")]
        for name in names:
            assert re.search(rf"(^  estafeta {family} |[|] ({family} )?|[|]){name}\b", line), (name, line)


def test_queue_retry_of_an_unknown_id_fails_like_show(instance_factory):
    inst = instance_factory()
    fails(inst, "queue", "show", "0123456789abcdef", says="no message 0123456789abcdef in the queue")
    fails(inst, "queue", "retry", "0123456789abcdef", says="no message 0123456789abcdef in the queue")
    assert inst.cli("queue", "flush") == "0 recipients due now\n"


def test_mailbox_list_names_its_columns(server):
    assert server.cli("mailbox", "list", "alice@example.test") == "UID\tFLAGS\tSIZE\tDATE\tFROM\tSUBJECT\n"
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], b"From: Carol <carol@remote.test>\r\nSubject: hi\r\n\r\nx\r\n")
    server.wait_for_messages("alice@example.test", 1)
    header, row = server.cli("mailbox", "list", "alice@example.test").splitlines()
    assert len(header.split("\t")) == len(row.split("\t")) == 6
    assert row.split("\t")[4:] == ["Carol <carol@remote.test>", "hi"]


def test_passwords_have_a_minimum_length(instance_factory):
    inst = instance_factory()
    fails(inst, "user", "add", "alice@example.test", "--password-stdin", input="short-pw1\n",
          says="the password has 9 characters, fewer than auth.min_password_length (10)")
    assert inst.cli("user", "list") == ""
    inst.add_user("alice@example.test", "ten chars!")
    fails(inst, "user", "passwd", "alice@example.test", "--password-stdin", input="ünïcödé12\n",
          says="the password has 9 characters")
    inst.cli("config", "set", "auth.min_password_length", "16")
    fails(inst, "user", "passwd", "alice@example.test", "--password-stdin", input="fifteen-chars-1\n",
          says="fewer than auth.min_password_length (16)")
    inst.cli("user", "passwd", "alice@example.test", "--password-stdin", input="sixteen-chars-12\n")
    # A made-up password (20 characters) and an APOP secret are not held to it.
    inst.cli("user", "apop", "alice@example.test", "--password-stdin", input="apop\n")


def wait_for_text(path, text, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path).read():
            return
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in {path}")


def test_contrib_logrotate_rotates_a_running_servers_log(instance_factory):
    """contrib/estafeta.logrotate on this instance's log.file: the lines before the rotation
    are in estafeta.log.1, the server's next lines in the new estafeta.log."""
    server = instance_factory()
    server.config("log.file", "data/estafeta.log")  # opened as the run_as user
    log = os.path.join(server.data, "estafeta.log")
    server.log = open(server.log_path, "ab")
    server.proc = subprocess.Popen([ESTAFETA, "-c", server.conf, "serve"], stdout=server.log,
                                   stderr=subprocess.STDOUT)
    wait_for_text(log, "serve started")
    with server.smtp() as c:
        c.noop()
    wait_for_text(log, "smtp connect")
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "contrib", "estafeta.logrotate")).read()
    assert "/var/lib/estafeta/data/estafeta.log {" in text
    conf = os.path.join(server.root, "logrotate.conf")
    with open(conf, "w") as f:
        f.write(text.replace("/var/lib/estafeta/data/estafeta.log", log))
    os.chmod(conf, 0o644)
    p = subprocess.run(["logrotate", "--force", "--state", os.path.join(server.root, "state"), conf],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "smtp connect" in open(log + ".1").read()
    with server.smtp() as c:
        c.noop()
    wait_for_text(log, "smtp connect")
    fresh = open(log).read()
    assert "smtp connect" in fresh and "serve started" not in fresh and not fresh.startswith("\0")
