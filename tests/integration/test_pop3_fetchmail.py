"""Interoperability with fetchmail (from Debian): it downloads a maildrop into a local mbox, once
leaving the mail on the server (keep, remembering what it has seen by UIDL) and once deleting it
(RETR, DELE, QUIT), over STLS and over port 995. fetchmail runs with a private rc file, id file and
FETCHMAILHOME inside the test's folder, and --nosyslog, so it touches nothing else."""
import mailbox as mbox_module
import os
import shutil
import subprocess

import pytest

ALICE = "alice@example.test"

MDA = """#!/bin/sh
# Appends the message on standard input to the mbox beside this script (mboxrd quoting).
dir=$(dirname "$0")
{ echo "From fetchmail  Thu Jan  1 00:00:00 1970"; sed 's/^\\(>*From \\)/>\\1/'; echo; } >> "$dir/mbox"
"""

pytestmark = pytest.mark.skipif(shutil.which("fetchmail") is None,
                                reason="fetchmail is not installed (make deps-test installs it)")


class Fetchmail:
    def __init__(self, inst):
        self.inst = inst
        self.dir = os.path.join(inst.root, "fetchmail")
        os.makedirs(self.dir, exist_ok=True)
        self.mbox = os.path.join(self.dir, "mbox")
        self.mda = os.path.join(self.dir, "mda.sh")
        with open(self.mda, "w") as f:
            f.write(MDA)
        os.chmod(self.mda, 0o755)

    def run(self, mode, service="pop3", tls="stls"):
        """Runs one poll; returns fetchmail's exit status (0 mail, 1 no mail) and its output."""
        rc = os.path.join(self.dir, "rc")
        ssl = {"stls": "sslproto \"auto\"\n  no sslcertck",
               "implicit": "ssl\n  no sslcertck"}[tls]
        with open(rc, "w") as f:
            f.write(f"""set no syslog
poll {self.inst.listen} service {self.inst.port(service)} protocol POP3 uidl
  user "{ALICE}" there with password "{self.inst.passwords[ALICE]}" is "nobody" here
  {mode}
  {ssl}
  mda "{self.mda}"
""")
        os.chmod(rc, 0o600)  # fetchmail refuses a readable rc file
        env = dict(os.environ, HOME=self.dir, FETCHMAILHOME=self.dir)
        p = subprocess.run(["fetchmail", "-f", rc, "--nosyslog", "-i",
                            os.path.join(self.dir, "fetchids"), "-v"],
                           capture_output=True, text=True, env=env, timeout=60, cwd=self.dir)
        return p.returncode, p.stdout + p.stderr

    def messages(self):
        if not os.path.exists(self.mbox):
            return []
        return list(mbox_module.mbox(self.mbox))


@pytest.fixture
def loaded(server):
    with server.smtp() as c:
        for i in range(3):
            c.sendmail("sender@elsewhere.test", [ALICE],
                       f"Subject: message {i}\r\nFrom: sender@elsewhere.test\r\n\r\n"
                       f"From the start of a line\r\n.a dot line\r\nbody {i}\r\n")
    server.wait_for_messages(ALICE, 3)
    return server


def check_downloaded(fm, count):
    got = fm.messages()
    assert [m["Subject"] for m in got] == [f"message {i}" for i in range(count)]
    for i, m in enumerate(got):
        body = m.get_payload()
        # ">From": the MDA's mbox quoting; ".a": the byte-stuffing undone by fetchmail
        assert body.startswith(">From the start of a line\n.a dot line\n")
        assert f"body {i}" in body


def test_fetchmail_keep_mode(loaded):
    fm = Fetchmail(loaded)
    code, out = fm.run("keep")
    assert code == 0, out
    assert "STLS" in out  # it upgraded the connection before sending the password
    check_downloaded(fm, 3)
    assert len(loaded.mailbox(ALICE)) == 3  # left on the server
    # the next poll knows these messages by their UIDL and fetches only the new one
    with loaded.smtp() as c:
        c.sendmail("sender@elsewhere.test", [ALICE],
                   "Subject: message 3\r\n\r\nFrom the start of a line\r\n.a dot line\r\nbody 3\r\n")
    loaded.wait_for_messages(ALICE, 4)
    code, out = fm.run("keep")
    assert code == 0, out
    check_downloaded(fm, 4)
    code, out = fm.run("keep")
    assert code == 1, out  # 1: no new mail
    assert len(fm.messages()) == 4


def test_fetchmail_delete_mode_over_pop3s(loaded):
    fm = Fetchmail(loaded)
    code, out = fm.run("nokeep", service="pop3s", tls="implicit")
    assert code == 0, out
    check_downloaded(fm, 3)
    assert "POP3> DELE 3" in out and "POP3> QUIT" in out, out
    assert loaded.mailbox(ALICE) == []
    code, out = fm.run("nokeep", service="pop3s", tls="implicit")
    assert code == 1, out
    assert len(fm.messages()) == 3
