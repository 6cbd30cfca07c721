"""Quotas: the limits an administrator sets with estafeta user quota and domain quota, as IMAP
reports them (RFC 9208 QUOTA, RFC 7889 APPENDLIMIT), as APPEND, COPY and MOVE keep to them, and
as SMTP answers mail for a full mailbox (RFC 3463 4.2.2 / 5.2.2)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from conftest import ESTAFETA  # noqa: E402
from test_imap import ALICE, BOB, deliver, raw  # noqa: E402


def login(server, user=ALICE):
    r = raw(server)
    assert r.cmd("l", f"LOGIN {user} {server.passwords[user]}")[-1].startswith("l OK")
    return r


def append(r, folder, text, tag="p"):
    data = text.encode()
    r.send(f"{tag} APPEND {folder} {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    return r.until(tag)[-1]


def quota_lines(lines):
    return [x for x in lines if x.startswith("* QUOTA")]


def cli_status(inst, *args):
    p = subprocess.run([ESTAFETA, "-c", inst.conf, *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def fill_and_refuse(inst, code, status):
    """Fills alice's one-message quota, then checks the answer to RCPT for her; returns the
    SMTP client with its transaction open."""
    inst.cli("user", "quota", ALICE, "--messages", "1")
    deliver(inst, ALICE, "fills it\r\n")
    c = inst.smtp()
    c.mail("sender@elsewhere.test")
    answer = c.rcpt(ALICE)
    assert (answer[0], answer[1][:5]) == (code, status), answer
    return c


def test_cli_sets_shows_and_inherits_limits(server):
    assert server.cli("user", "quota", ALICE) == "storage 0 (no limit)\nmessages 0 (no limit)\n"
    deliver(server, ALICE, ("x" * 70 + "\r\n") * 28)
    server.cli("user", "quota", ALICE, "--storage", "10K", "--messages", "4")
    out = server.cli("user", "quota", ALICE)
    used = int(re.match(r"storage (\d+) of 10240 \((\d+)%\)\n", out).group(1))
    assert 2000 < used < 3000, out
    assert out.endswith("messages 1 of 4 (25%)\n"), out

    # a domain's limits are the default of its accounts that have none of their own
    assert server.cli("domain", "quota", "example.test") == "storage none\nmessages none\n"
    server.cli("domain", "quota", "example.test", "--storage", "1M")
    assert server.cli("domain", "quota", "example.test") == "storage 1048576\nmessages none\n"
    assert server.cli("user", "quota", BOB).startswith("storage 0 of 1048576 (0%)\n")
    assert server.cli("user", "quota", ALICE).startswith("storage %d of 10240" % used)
    server.cli("user", "quota", ALICE, "--storage", "default", "--messages", "none")
    assert server.cli("user", "quota", ALICE) == \
        f"storage {used} of 1048576 (0%)\nmessages 1 (no limit)\n"

    # what does not read is refused and changes nothing
    for bad in (["--storage", "lots"], ["--messages", "1K"], ["--messages", "-1"]):
        code, _, err = cli_status(server, "user", "quota", ALICE, *bad)
        assert code == 2 and "a limit is a size" in err, (bad, err)
    code, _, err = cli_status(server, "domain", "quota", "example.test", "--storage", "default")
    assert code == 2, err
    code, _, err = cli_status(server, "user", "quota", "nobody@example.test", "--messages", "3")
    assert code == 1 and "no account nobody@example.test" in err, err
    code, _, err = cli_status(server, "domain", "quota", "elsewhere.test")
    assert code == 1 and "no domain elsewhere.test" in err, err
    assert server.cli("user", "quota", ALICE).endswith("messages 1 (no limit)\n")


def test_imap_reports_the_quota_root_and_its_usage(server):
    r = login(server)
    caps = r.cmd("c", "CAPABILITY")[0]
    for cap in ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE", "APPENDLIMIT="):
        assert f" {cap}" in caps, caps
    assert " QUOTASET" not in caps  # limits are the administrator's

    # no limits: INBOX is under no quota root
    lines = r.cmd("a", "GETQUOTAROOT INBOX")
    assert lines == ['* QUOTAROOT "INBOX"', "a OK GETQUOTAROOT completed"], lines

    server.cli("user", "quota", ALICE, "--storage", "100K", "--messages", "10")
    deliver(server, ALICE, ("y" * 70 + "\r\n") * 42)
    used = int(server.cli("user", "quota", ALICE).split()[1])
    lines = r.cmd("b", "GETQUOTAROOT INBOX")
    assert lines[0] == '* QUOTAROOT "INBOX" ""' and lines[-1].startswith("b OK"), lines
    [q] = quota_lines(lines[1:])
    kib = (used + 1023) // 1024  # in units of 1024 octets, rounded up
    assert q == f'* QUOTA "" (STORAGE {kib} 100 MESSAGE 1 10)', (q, used)
    assert quota_lines(r.cmd("c", 'GETQUOTA ""')) == [q]

    # only the storage limit: only STORAGE is reported
    server.cli("user", "quota", ALICE, "--messages", "none")
    assert quota_lines(r.cmd("d", 'GETQUOTA ""')) == [f'* QUOTA "" (STORAGE {kib} 100)']

    assert r.cmd("e", 'GETQUOTA "other"')[-1].startswith("e NO")
    assert r.cmd("f", "GETQUOTAROOT Nowhere")[-1].startswith("f NO [NONEXISTENT]")
    assert r.cmd("g", 'SETQUOTA "" (STORAGE 512)')[-1].startswith("g NO [NOPERM]")
    assert r.cmd("h", "GETQUOTA")[-1].startswith("h BAD")
    # the session goes on
    assert r.cmd("i", "NOOP")[-1].startswith("i OK")

    # STATUS APPENDLIMIT: the largest message APPEND takes, as announced
    limit = re.search(r" APPENDLIMIT=(\d+)", caps).group(1)
    lines = r.cmd("j", "STATUS INBOX (MESSAGES APPENDLIMIT)")
    assert f'* STATUS "INBOX" (MESSAGES 1 APPENDLIMIT {limit})' in lines, lines


def test_append_copy_and_move_keep_to_the_limit(server):
    server.cli("user", "quota", ALICE, "--messages", "2")
    r = login(server)
    assert r.cmd("a", "CREATE Projects")[-1].startswith("a OK")
    assert append(r, "INBOX", "Subject: 1\r\n\r\none\r\n", "p1").startswith("p1 OK")
    assert append(r, "Projects", "Subject: 2\r\n\r\ntwo\r\n", "p2").startswith("p2 OK")
    # a third message would be one too many, whichever folder it goes to
    assert append(r, "INBOX", "Subject: 3\r\n\r\nthree\r\n", "p3").startswith("p3 NO [OVERQUOTA]")
    assert append(r, "Projects", "Subject: 3\r\n\r\nthree\r\n", "p4").startswith("p4 NO [OVERQUOTA]")
    assert r.cmd("b", "SELECT INBOX")[-1].startswith("b OK")
    assert r.cmd("c", "COPY 1 Projects")[-1].startswith("c NO [OVERQUOTA]")
    # a move within the account adds nothing
    assert r.cmd("d", "MOVE 1 Projects")[-1].startswith("d OK")
    lines = r.cmd("e", "STATUS Projects (MESSAGES)")
    assert '* STATUS "Projects" (MESSAGES 2)' in lines, lines

    # a storage limit counts octets: room for a small message, not for a large one
    server.cli("user", "quota", ALICE, "--messages", "none", "--storage", "4K")
    assert append(r, "INBOX", "Subject: small\r\n\r\nsmall\r\n", "p5").startswith("p5 OK")
    big = "Subject: big\r\n\r\n" + ("z" * 70 + "\r\n") * 70
    assert append(r, "INBOX", big, "p6").startswith("p6 NO [OVERQUOTA]")
    assert r.cmd("f", "NOOP")[-1].startswith("f OK")
    assert len(server.mailbox(ALICE)) == 1
    # raised by the administrator, the same message is taken, with no restart
    server.cli("user", "quota", ALICE, "--storage", "1M")
    assert append(r, "INBOX", big, "p7").startswith("p7 OK")


def test_smtp_defers_mail_for_a_full_mailbox(server):
    with fill_and_refuse(server, 452, b"4.2.2") as c:
        # the other recipients of the transaction are not held back
        assert c.rcpt(BOB)[0] == 250
        assert c.data(b"Subject: hi\r\n\r\nfor bob\r\n")[0] == 250
    server.wait_for_messages(BOB, 1)
    assert len(server.mailbox(ALICE)) == 1

    # the SIZE a client declares counts against the storage limit
    server.cli("user", "quota", ALICE, "--messages", "none", "--storage", "8K")
    with server.smtp() as c:
        c.mail("sender@elsewhere.test", ["SIZE=20000"])
        assert c.rcpt(ALICE)[0] == 452
        c.rset()
        c.mail("sender@elsewhere.test", ["SIZE=200"])
        assert c.rcpt(ALICE)[0] == 250
        assert c.data(b"Subject: fits\r\n\r\nsmall\r\n")[0] == 250
    server.wait_for_messages(ALICE, 2)
    assert "over quota" in server.read_log()


def test_permanent_failure_and_uncounted_trash(instance_factory):
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.config("auth.failure_delay", "0s")
    inst.config("quota.permanent_failure", "yes")
    inst.config("quota.exclude_trash_junk", "yes")
    inst.start()
    fill_and_refuse(inst, 552, b"5.2.2").quit()

    r = login(inst)
    # Trash does not count: it takes messages though the account is full, and has no root
    assert append(r, "Trash", "Subject: old\r\n\r\nold\r\n", "p1").startswith("p1 OK")
    assert r.cmd("a", "GETQUOTAROOT Trash")[0] == '* QUOTAROOT "Trash"'
    assert quota_lines(r.cmd("b", 'GETQUOTA ""')) == ['* QUOTA "" (MESSAGE 1 1)']
    assert inst.cli("user", "quota", ALICE).endswith("messages 1 of 1 (100%)\n")
    # a message moved out of Trash counts again, so a full account refuses it
    assert r.cmd("c", "SELECT Trash")[-1].startswith("c OK")
    assert r.cmd("d", "MOVE 1 INBOX")[-1].startswith("d NO [OVERQUOTA]")
    # and moving INBOX's message to Trash makes room
    assert r.cmd("e", "SELECT INBOX")[-1].startswith("e OK")
    assert r.cmd("f", "MOVE 1 Trash")[-1].startswith("f OK")
    assert quota_lines(r.cmd("g", 'GETQUOTA ""')) == ['* QUOTA "" (MESSAGE 0 1)']
    deliver(inst, ALICE, "room again\r\n")
    inst.wait_for_messages(ALICE, 1)
