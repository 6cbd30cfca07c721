"""The limits on failed logins, shared by SMTP AUTH, POP3 and IMAP: per account and client
address first, per address only for many accounts, per account for many addresses (never from
the account's own recent addresses); attempts count as they start; trusted networks exempt;
`estafeta auth blocked|unblock` on the running server through its control socket.

Loopback gives the tests many client addresses: a client may bind any 127.0.0.0/8 source."""
import base64
import imaplib
import os
import poplib
import pwd
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import ESTAFETA, RawSMTP
from scram import ScramClient

ALICE, BOB, CAROL = "alice@example.test", "bob@example.test", "carol@example.test"
REFUSED_SMTP = (454, ["4.7.0 Too many failed authentications, try again later"])
REFUSED_POP3 = "-ERR [SYS/TEMP] Too many failed logins, try again later"
REFUSED_IMAP = "[UNAVAILABLE] Too many failed logins, try again later"


class SourcedSMTP(RawSMTP):
    """RawSMTP from a chosen source address."""

    def __init__(self, host, port, source):
        self.sock = socket.create_connection((host, port), timeout=30, source_address=(source, 0))
        self.buf = b""
        self.greeting = self.reply()


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def smtp_login(inst, user, password, source=None):
    """AUTH PLAIN on submission on a new connection: the (code, lines) reply."""
    c = SourcedSMTP(inst.listen, inst.port("submission"), source or inst.listen)
    c.cmd("EHLO client.test")
    reply = c.cmd("AUTH PLAIN " + plain(user, password))
    c.close()
    return reply


def pop3_login(inst, user, password):
    """USER/PASS on a new connection: the PASS response line."""
    c = inst.pop3()
    c.user(user)
    try:
        return c.pass_(password).decode()
    except poplib.error_proto as e:
        return e.args[0].decode()
    finally:
        c.close()


def imap_login(inst, user, password):
    """LOGIN on a new connection: "OK" or the text of the NO."""
    c = inst.imap()
    try:
        c.login(user, password)
        c.logout()
        return "OK"
    except imaplib.IMAP4.error as e:
        c.shutdown()
        return str(e)


def fail(inst, user, times, source=None):
    for _ in range(times):
        assert smtp_login(inst, user, "wrong", source)[0] == 535


def auth_cli(inst, *args, check=True):
    return inst.cli("auth", *args, check=check)


def blocked(inst):
    return auth_cli(inst, "blocked").splitlines()


@pytest.fixture
def limited(instance_factory):
    inst = instance_factory()
    for user in (ALICE, BOB, CAROL):
        inst.add_user(user)
    inst.config("auth.failure_delay", "0s")
    inst.config("smtp.max_connections_per_ip", "100")
    return inst


def test_one_accounts_failures_do_not_lock_out_the_address(limited):
    """Ten failures for alice, over all three protocols: alice is refused on each, even with
    her password (SASL and SCRAM included); bob and carol at the same address are not."""
    inst = limited.start()
    for i in range(10):
        if i % 3 == 0:
            assert smtp_login(inst, ALICE, "wrong")[0] == 535
        elif i % 3 == 1:
            assert pop3_login(inst, ALICE, "wrong") == "-ERR [AUTH] Authentication failed"
        else:
            assert "AUTHENTICATIONFAILED" in imap_login(inst, ALICE, "wrong")
    right = inst.passwords[ALICE]
    assert smtp_login(inst, ALICE, right) == REFUSED_SMTP
    assert pop3_login(inst, ALICE, right) == REFUSED_POP3
    assert REFUSED_IMAP in imap_login(inst, ALICE, right)
    c = inst.imap()
    with pytest.raises(imaplib.IMAP4.error, match=re.escape(REFUSED_IMAP)):
        c.authenticate("SCRAM-SHA-256", ScramClient(ALICE, right).respond)
    c.shutdown()
    for user in (BOB, CAROL):
        assert smtp_login(inst, user, inst.passwords[user])[0] == 235
        assert pop3_login(inst, user, inst.passwords[user]).startswith("+OK")
        assert imap_login(inst, user, inst.passwords[user]) == "OK"
    log = inst.read_log()
    assert "login refused user=alice@example.test ip=127.0.0.1 reason=account-failures-from-ip" in log
    assert "user=bob@example.test ip=127.0.0.1 reason" not in log


def test_own_logins_between_guesses_do_not_reset_the_count(limited):
    """36 rounds of one guess at alice and a login to bob, one's own account: only the limit's
    worth of guesses are checked."""
    inst = limited.start()
    guesses = []
    for _ in range(36):
        guesses.append(smtp_login(inst, ALICE, "guess")[0])
        assert smtp_login(inst, BOB, inst.passwords[BOB])[0] == 235
    assert guesses == [535] * 10 + [454] * 26


def test_parallel_attempts_count_as_they_start(limited):
    """50 AUTHs with wrong passwords sent at once: only the limit's worth are checked."""
    inst = limited.start()
    conns = [SourcedSMTP(inst.listen, inst.port("submission"), inst.listen) for _ in range(50)]
    for c in conns:
        c.cmd("EHLO client.test")
    for c in conns:
        c.send("AUTH PLAIN " + plain(ALICE, "wrong") + "\r\n")
    codes = [c.reply()[0] for c in conns]
    for c in conns:
        c.close()
    assert codes.count(535) == 10 and codes.count(454) == 40, codes


def test_many_accounts_from_one_address(limited):
    """Failures for five accounts from one address refuse further accounts from it, but not
    an account that logged in from there before, nor the same account elsewhere."""
    inst = limited.start()
    assert smtp_login(inst, BOB, inst.passwords[BOB])[0] == 235
    for i in range(5):
        fail(inst, f"guess{i}@example.test", 1)
    assert smtp_login(inst, CAROL, inst.passwords[CAROL]) == REFUSED_SMTP
    assert pop3_login(inst, CAROL, inst.passwords[CAROL]) == REFUSED_POP3
    assert smtp_login(inst, BOB, inst.passwords[BOB])[0] == 235
    assert smtp_login(inst, CAROL, inst.passwords[CAROL], source="127.0.0.2")[0] == 235
    assert re.fullmatch(r"ip=127\.0\.0\.1 accounts=5 failures=5 left=\d+s", blocked(inst)[0])
    assert "reason=accounts-failing-from-ip" in inst.read_log()


def test_account_limit_spares_the_accounts_own_addresses(limited):
    """Guesses at alice from many addresses refuse her from new addresses only: where she
    logged in before she goes on."""
    limited.config("auth.max_failures_per_account", "6")
    inst = limited.start()
    assert smtp_login(inst, ALICE, inst.passwords[ALICE])[0] == 235
    for n in (2, 3, 4):
        fail(inst, ALICE, 2, source=f"127.0.0.{n}")
    right = inst.passwords[ALICE]
    assert smtp_login(inst, ALICE, right, source="127.0.0.5") == REFUSED_SMTP
    assert smtp_login(inst, ALICE, right)[0] == 235
    assert smtp_login(inst, BOB, inst.passwords[BOB], source="127.0.0.5")[0] == 235
    assert any(re.fullmatch(r"account=alice@example\.test failures=6 left=\d+s", line)
               for line in blocked(inst))
    assert "reason=account-failures" in inst.read_log()
    out = auth_cli(inst, "unblock", "ALICE@example.test")
    assert out == "unblocked ALICE@example.test: forgot the failed logins of 3 account and address pairs\n"
    assert smtp_login(inst, ALICE, right, source="127.0.0.5")[0] == 235


def test_blocked_lists_and_unblock_clears_on_the_running_server(limited):
    inst = limited.start()
    fail(inst, ALICE, 10)
    lines = blocked(inst)
    assert len(lines) == 1
    m = re.fullmatch(r"ip=127\.0\.0\.1 account=alice@example\.test failures=10 left=(\d+)s", lines[0])
    assert m and 0 < int(m.group(1)) <= 900
    assert smtp_login(inst, ALICE, inst.passwords[ALICE]) == REFUSED_SMTP
    assert auth_cli(inst, "unblock", "127.0.0.1") == \
        "unblocked 127.0.0.1: forgot the failed logins of 1 account and address pair\n"
    assert blocked(inst) == []
    assert imap_login(inst, ALICE, inst.passwords[ALICE]) == "OK"
    assert auth_cli(inst, "unblock", "127.0.0.9") == "no failed logins were counted for 127.0.0.9\n"
    p = auth_cli(inst, "unblock", check=False)
    assert p.returncode == 2 and "usage" in p.stderr


def test_control_socket_belongs_to_the_servers_user(limited):
    inst = limited.start()
    path = os.path.join(inst.data, "control.sock")
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    run_as = inst.cli("config", "get", "run_as").strip()
    if os.geteuid() != 0:
        assert st.st_uid == os.geteuid()
        return
    assert st.st_uid == pwd.getpwnam(run_as).pw_uid

    def as_user(user):
        return subprocess.run(["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups",
                               ESTAFETA, "-c", inst.conf, "auth", "blocked"],
                              capture_output=True, text=True, timeout=60)
    assert as_user(run_as).returncode == 0
    other = as_user("nobody")
    assert other.returncode == 1 and "permission denied" in other.stderr
    inst.stop()
    assert not os.path.exists(path)


def control_request(inst, data):
    """Sends raw bytes to the control socket; returns all it answers before closing."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(os.path.join(inst.data, "control.sock"))
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        return answer


def test_control_socket_protocol(limited):
    """One request line, data lines, a status line; bad requests get an error, and a client
    that says nothing holds nobody up."""
    inst = limited.start()
    fail(inst, ALICE, 10)
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(os.path.join(inst.data, "control.sock"))
    answer = control_request(inst, b"auth-blocked\n")
    assert re.fullmatch(rb"\+ ip=127\.0\.0\.1 account=alice@example\.test failures=10 left=\d+s\nok\n",
                        answer), answer
    assert control_request(inst, b"nonsense\r\n") == b'error unknown request "nonsense"\n'
    assert control_request(inst, b"auth-blocked extra\n") == b"error auth-blocked takes no argument\n"
    assert control_request(inst, b"auth-unblock\n") == \
        b"error auth-unblock needs an address or an account\n"
    assert control_request(inst, b"x" * 5000) == b"error request line too long\n"
    silent.close()
    assert smtp_login(inst, BOB, inst.passwords[BOB])[0] == 235


def test_commands_say_when_the_server_is_not_running(limited):
    p = auth_cli(limited, "blocked", check=False)
    assert p.returncode == 1
    assert "the server is not running" in p.stderr and "estafeta serve" in p.stderr


def test_trusted_networks_are_exempt(limited):
    """Failures from a trusted network are neither counted nor refused; the setting takes
    effect on reload."""
    inst = limited.start()
    fail(inst, ALICE, 10)
    assert smtp_login(inst, ALICE, inst.passwords[ALICE]) == REFUSED_SMTP
    inst.config("auth.trusted_networks", "192.0.2.0/24, 127.0.0.0/8, ::1")
    reloads = inst.read_log().count("serve reloaded")
    inst.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while inst.read_log().count("serve reloaded") == reloads and time.time() < deadline:
        time.sleep(0.05)
    fail(inst, ALICE, 15)
    assert smtp_login(inst, ALICE, inst.passwords[ALICE])[0] == 235
    fail(inst, BOB, 15, source="127.0.0.2")
    assert smtp_login(inst, BOB, inst.passwords[BOB], source="127.0.0.2")[0] == 235
    # what was counted before stays until it expires, and nothing was added to it
    assert [line.split(" left=")[0] for line in blocked(inst)] == \
        ["ip=127.0.0.1 account=alice@example.test failures=10"]
    p = inst.cli("config", "set", "auth.trusted_networks", "10.0.0.1/8", check=False)
    assert p.returncode != 0 and "is not a network" in p.stderr


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_counts_by_64(instance_factory):
    inst = instance_factory(listen="::1")
    inst.add_user(ALICE)
    inst.config("auth.failure_delay", "0s")
    inst.start()
    fail(inst, ALICE, 10)
    assert smtp_login(inst, ALICE, inst.passwords[ALICE]) == REFUSED_SMTP
    assert re.fullmatch(r"ip=::/64 account=alice@example\.test failures=10 left=\d+s",
                        blocked(inst)[0])
    assert auth_cli(inst, "unblock", "::1").startswith("unblocked ::1:")
    assert smtp_login(inst, ALICE, inst.passwords[ALICE])[0] == 235
