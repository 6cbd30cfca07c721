"""estafeta import maildir|mbox and estafeta export with real peers.

1. A real Dovecot (its imap binary, pre-authenticated, over a pipe) writes a Maildir++ tree with
   folders, flags and keywords; mbsync syncs it to a local Maildir. The tree is imported into
   estafeta while it serves; mbsync, its far side switched from Dovecot to estafeta with the
   same state, downloads nothing (the local files stay as they were: UIDVALIDITY and UIDs
   kept) and still follows flags. Every message reads the same from both servers (UID, flags,
   keywords, INTERNALDATE, octets).
2. mboxrd and mboxo files: '>From ' unquoted by each one's rule, Status/X-Status/X-Keywords as
   flags and out of the message, INTERNALDATE from the From_ line, read back exactly with
   imaplib; an IMAP session that has the folder selected sees the new mail.
3. export, then import into another account: the same messages, flags, keywords, UIDs and
   UIDVALIDITY; Dovecot serves the export; a second import adds nothing.
4. A big Maildir: progress lines on stderr, a message over smtp.max_message_size reported,
   skipped and counted.
"""
import datetime
import imaplib
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import raw  # noqa: E402
from test_imap_clients import mbsync_channel  # noqa: E402
from test_imap_search import wait_indexed  # noqa: E402

DOVECOT_IMAP = "/usr/lib/dovecot/imap"
MBSYNC = shutil.which("mbsync")

needs_dovecot = pytest.mark.skipif(not os.path.exists(DOVECOT_IMAP),
                                   reason="Dovecot's imap is not installed (package dovecot-imapd)")
needs_mbsync = pytest.mark.skipif(MBSYNC is None, reason="mbsync is not installed (package isync)")

ALICE = "alice@example.test"
BOB = "bob@example.test"


def ok(result):
    typ, data = result
    assert typ == "OK", result
    return data


class Dovecot:
    """Dovecot's imap binary on a Maildir++ tree, pre-authenticated (no daemon, no login):
    each connection is the binary run over a pipe, as mbsync's Tunnel does it."""

    def __init__(self, root, maildir=None):
        self.dir = os.path.join(root, "dovecot")
        self.maildir = maildir or os.path.join(self.dir, "Maildir")
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.maildir, exist_ok=True)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""mail_location = maildir:{self.maildir}
base_dir = {self.dir}/run
log_path = {self.dir}/dovecot.log
ssl = no
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
namespace inbox {{
  inbox = yes
  separator = /
}}
""")
        # Dovecot works as nobody (mail_uid); estafeta's import reads as its run_as user.
        for path in (self.dir, self.maildir):
            os.chmod(path, 0o755)
        shutil.chown(self.maildir, "nobody", "nogroup")
        self.command = f"USER=nobody HOME={self.dir} {DOVECOT_IMAP} -c {self.conf}"
        # for mbsync's Tunnel: Dovecot's imap refuses a socket as its output ("must not be
        # started from inetd"), and mbsync's tunnel is one
        self.tunnel = self.command + " | cat"

    def imap(self):
        return imaplib.IMAP4_stream(self.command)


def messages(c, folder):
    """{uid: (flags, internaldate, octets)} of a folder, \\Recent left out (it is per session)."""
    ok(c.select(f'"{folder}"', readonly=True))
    typ, data = c.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    assert typ == "OK", data
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0]
        uid = int(re.search(rb"UID (\d+)", head).group(1))
        flags = frozenset(re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()) - {"\\Recent"}
        date = re.search(rb'INTERNALDATE "([^"]*)"', head).group(1).decode()
        when = int(datetime.datetime.strptime(date.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp())
        out[uid] = (flags, when, item[1])
    return out


def uidvalidity(c, folder):
    data = ok(c.status(f'"{folder}"', "(UIDVALIDITY UIDNEXT)"))
    return tuple(int(re.search(rb"%s (\d+)" % item, data[0]).group(1))
                 for item in (b"UIDVALIDITY", b"UIDNEXT"))


def message(i, extra=""):
    return (f"From: Sender {i} <s{i}@elsewhere.test>\r\nTo: {ALICE}\r\nSubject: message {i}\r\n"
            f"Message-ID: <m{i}@elsewhere.test>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n"
            f"Body {i}.\r\n{extra}").encode()


def append(c, folder, i, flags, date):
    ok(c.append(f'"{folder}"', flags, imaplib.Time2Internaldate(date), message(i)))


# Folder (IMAP name on Dovecot, "/" separated): messages (number, flags, internal date).
DOVECOT_CONTENT = {
    "INBOX": [(1, r"(\Seen)", 1700000001), (2, r"(\Seen \Answered $Forwarded)", 1700000002),
              (3, r"(\Flagged Work $Label1)", 1700000003), (4, "()", 1700000004),
              (5, r"(\Draft)", 1700000005)],
    "Work": [(6, r"(\Seen Work)", 1700000006), (7, r"(\Deleted)", 1700000007)],
    "Work/Projé": [(8, r"(\Seen \Flagged)", 1700000008), (9, r"(Work Urgent)", 1700000009)],
}


def fill_dovecot(dv):
    c = dv.imap()
    for folder, msgs in DOVECOT_CONTENT.items():
        mutf7 = folder.replace("é", "&AOk-")
        if folder != "INBOX":
            ok(c.create(f'"{mutf7}"'))
        for i, flags, date in msgs:
            append(c, mutf7, i, flags, date)
    # a gap in INBOX's UIDs, and an expunged last message, so UIDNEXT is past the last UID
    ok(c.select("INBOX"))
    ok(c.uid("STORE", "2,5", "+FLAGS", r"(\Deleted)"))
    ok(c.expunge())
    c.logout()
    return {f.replace("é", "&AOk-"): f for f in DOVECOT_CONTENT}


def everything(c, folders):
    return {name: (uidvalidity(c, mutf7), messages(c, mutf7)) for mutf7, name in folders.items()}


class Mbsync:
    """mbsync between a far IMAP store and a local Maildir, with one state kept in the Maildir."""

    def __init__(self, root):
        self.dir = os.path.join(root, "mbsync")
        self.maildir = os.path.join(self.dir, "mail")
        os.makedirs(self.maildir, exist_ok=True)
        self.rc = os.path.join(self.dir, "mbsyncrc")

    def configure(self, far):
        with open(self.rc, "w") as f:
            f.write(f"IMAPStore far\n{far}\n\n" + mbsync_channel(self.maildir, "None"))
        os.chmod(self.rc, 0o600)

    def run(self):
        p = subprocess.run([MBSYNC, "-c", self.rc, "-V", "-a"], capture_output=True, text=True,
                           errors="replace", env=dict(os.environ, HOME=self.dir), timeout=120,
                           cwd=self.dir)
        out = p.stdout + p.stderr
        assert p.returncode == 0, out[-5000:]
        # a far side whose UIDVALIDITY changed would be an error, and a full download
        assert "rror" not in out and "changed" not in out, out[-5000:]
        return out

    def snapshot(self):
        """{path: (bytes, mtime)} of every message file (in cur/ or new/)."""
        out = {}
        for top, _, files in os.walk(self.maildir):
            if os.path.basename(top) not in ("cur", "new"):
                continue
            for fn in files:
                path = os.path.join(top, fn)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, self.maildir)] = (f.read(), int(os.stat(path).st_mtime))
        return out


def estafeta_far(inst, user):
    return (f"Host {inst.listen}\nPort {inst.port('imap')}\nUser {user}\n"
            f'Pass "{inst.passwords[user]}"\nSSLType STARTTLS\n'
            f"CertificateFile {os.path.join(inst.dir, 'tls', 'cert.pem')}")


def import_cli(inst, *args):
    p = inst.cli("import", *args, check=False)
    assert p.returncode == 0, p.stderr
    return p.stdout, p.stderr


@needs_dovecot
@needs_mbsync
def test_dovecot_maildir_imported_and_mbsync_downloads_nothing(server):
    dv = Dovecot(server.root)
    folders = fill_dovecot(dv)
    c = dv.imap()
    before = everything(c, folders)
    c.logout()
    assert sorted(before["INBOX"][1]) == [1, 3, 4], before["INBOX"]  # Dovecot's own UIDs

    sync = Mbsync(server.root)
    sync.configure(f'Tunnel "{dv.tunnel}"')
    sync.run()
    local = sync.snapshot()
    assert len(local) == 7, sorted(local)

    out, _ = import_cli(server, "maildir", ALICE, dv.maildir)
    assert re.search(r"imported 7 messages into 3 folders of alice@example.test; 0 already there", out), out

    # Every message as Dovecot had it: UIDVALIDITY, UIDNEXT, UIDs, flags, keywords, dates, octets.
    c = server.imap(user=ALICE)
    after = everything(c, folders)
    c.logout()
    assert after == before

    # mbsync, now syncing the same local Maildir with estafeta, downloads nothing and changes
    # no file (estafeta's empty default folders, Sent, Trash..., are only made locally).
    sync.configure(estafeta_far(server, ALICE))
    sync.run()
    assert sync.snapshot() == local

    # ...and follows flags both ways from there.
    c = server.imap(user=ALICE)
    ok(c.select("INBOX"))
    ok(c.uid("STORE", "4", "+FLAGS", r"(\Flagged)"))
    c.logout()
    sync.run()
    now = sync.snapshot()
    changed = {p: v[0] for p, v in now.items() if local.get(p) != v}
    assert len(now) == len(local) and len(changed) == 1, changed
    path, data = changed.popitem()
    assert path.startswith("INBOX/cur/") and path.endswith(":2,F"), path
    assert b"Subject: message 4\n" in data
    # a second import adds nothing
    out, _ = import_cli(server, "maildir", ALICE, dv.maildir)
    assert "imported 0 messages into 3 folders of alice@example.test; 7 already there" in out, out


MBOXRD = (b"From alice@example.test Mon Jan  1 10:00:00 2024\n"
          b"From: a@example.test\nSubject: quoted\nStatus: RO\nX-Status: AF\n"
          b"X-Keywords: Work, $Label2\nX-UID: 17\n\n"
          b">From the start\n>>From two levels\n>>>From three\n> From not quoted\n.\n\n"
          b"From bob@example.test Tue Feb  2 11:22:33 2021 +0200\n"
          b"From: b@example.test\nSubject: plain\n\nSecond.\n")
MBOXRD_EXPECT = [
    (b"From: a@example.test\r\nSubject: quoted\r\n\r\nFrom the start\r\n>From two levels\r\n"
     b">>From three\r\n> From not quoted\r\n.\r\n",
     # no zone on the From_ line: the writer's local time, which is the import's too
     {"\\Seen", "\\Answered", "\\Flagged", "Work", "$Label2"},
     int(time.mktime((2024, 1, 1, 10, 0, 0, 0, 0, -1)))),
    (b"From: b@example.test\r\nSubject: plain\r\n\r\nSecond.\r\n", set(), 1612257753),
]
MBOXO = (b"From MAILER-DAEMON Wed Mar  3 03:03:03 2021 UTC\n"
         b"Subject: old\n\n>From here\n>>From stays\n\n")
MBOXO_EXPECT = [(b"Subject: old\r\n\r\nFrom here\r\n>>From stays\r\n", set(), 1614740583)]


def check_folder(inst, user, folder, expect):
    c = inst.imap(user=user)
    got = sorted(messages(c, folder).values(), key=lambda m: m[1])
    c.logout()
    assert [(data, set(flags), date) for flags, date, data in got] == sorted(expect, key=lambda e: e[2])


def test_mbox_import_mboxrd_and_mboxo(server):
    rd = os.path.join(server.root, "rd.mbox")
    o = os.path.join(server.root, "o.mbox")
    for path, data in ((rd, MBOXRD), (o, MBOXO)):
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    # a session with INBOX selected learns of the imported mail, and one in IDLE is told
    watcher = server.imap(user=ALICE)
    ok(watcher.select("INBOX"))
    watcher.response("EXISTS")  # SELECT's, taken out of the way
    idler = raw(server)
    assert idler.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")[-1].startswith("a OK")
    assert idler.cmd("b", "SELECT INBOX")[-1].startswith("b OK")
    idler.send("c IDLE\r\n")
    assert idler.line() == "+ idling"
    out, _ = import_cli(server, "mbox", ALICE, rd)
    assert "imported 2 messages into 1 folders" in out, out
    ok(watcher.noop())
    assert watcher.response("EXISTS") == ("EXISTS", [b"2"])
    watcher.logout()
    assert idler.line() == "* 2 EXISTS"
    idler.send("DONE\r\n")
    assert idler.until("c")[-1] == "c OK IDLE terminated"
    # the running server's indexer was told of them: nothing waits for it
    wait_indexed(server, 2, seconds=30)
    check_folder(server, ALICE, "INBOX", MBOXRD_EXPECT)

    out, _ = import_cli(server, "mbox", ALICE, o, "--folder", "Old/Mail", "--format", "mboxo")
    assert "imported 1 messages into 1 folders" in out, out
    check_folder(server, ALICE, "Old/Mail", MBOXO_EXPECT)
    # again: nothing new
    out, _ = import_cli(server, "mbox", ALICE, rd)
    assert "imported 0 messages into 1 folders of alice@example.test; 2 already there" in out, out
    p = server.cli("import", "mbox", ALICE, rd, "--format", "mboxcl", check=False)
    assert p.returncode == 2 and "--format takes mboxrd" in p.stderr, p.stderr


def shared_dir(inst, name):
    """A folder the server's user (run_as) may write, inside the instance's root."""
    run_as = inst.cli("config", "get", "run_as").strip()
    path = os.path.join(inst.root, name)
    os.makedirs(path)
    shutil.chown(path, run_as)
    return path


def account_state(inst, user, folders):
    c = inst.imap(user=user)
    state = everything(c, {f: f for f in folders})
    c.logout()
    return state


@needs_dovecot
def test_export_then_import_into_another_account(server):
    # alice's mail: delivered, with flags and keywords, in folders of several levels
    with server.smtp() as s:
        for i in range(4):
            s.sendmail("s@elsewhere.test", [ALICE], message(i))
    server.wait_for_messages(ALICE, 4)
    c = server.imap(user=ALICE)
    ok(c.create("Lists/Dev"))
    ok(c.select("INBOX"))
    ok(c.uid("STORE", "1", "+FLAGS", r"(\Seen $Forwarded Work)"))
    ok(c.uid("STORE", "2", "+FLAGS", r"(\Answered \Draft \Deleted)"))
    ok(c.uid("COPY", "3:4", "Lists/Dev"))
    ok(c.uid("STORE", "3", "+FLAGS", r"(\Flagged Urgent)"))
    c.logout()
    folders = ["INBOX", "Lists", "Lists/Dev", "Sent", "Trash"]
    alice = account_state(server, ALICE, folders)

    out_dir = os.path.join(shared_dir(server, "export"), "alice")
    out = server.cli("export", ALICE, out_dir)
    assert re.search(r"exported 6 messages in \d+ folders of alice@example.test", out), out
    assert os.path.isdir(os.path.join(out_dir, ".Lists.Dev", "cur"))
    p = server.cli("export", ALICE, out_dir, check=False)
    assert p.returncode == 1 and "is not empty" in p.stderr, p.stderr

    # bob gets alice's mail as it was, UIDs and UIDVALIDITY included
    out, _ = import_cli(server, "maildir", BOB, out_dir)
    assert "imported 6 messages" in out, out
    assert account_state(server, BOB, folders) == alice
    out, _ = import_cli(server, "maildir", BOB, out_dir)
    assert "imported 0 messages" in out and "6 already there" in out, out
    assert account_state(server, BOB, folders) == alice

    # Dovecot serves the export: the same messages, flags and keywords
    os.chmod(os.path.dirname(out_dir), 0o755)
    subprocess.run(["chown", "-R", "nobody:nogroup", out_dir], check=True)
    dv = Dovecot(server.root, maildir=out_dir)
    c = dv.imap()
    seen = everything(c, {f: f for f in folders})
    c.logout()
    assert seen == alice


def test_big_maildir_shows_progress_and_skips_what_is_too_big(server):
    src = shared_dir(server, "big")
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(src, d))
    n = 2500
    for i in range(n):
        path = os.path.join(src, "cur", f"{1700000000 + i}.M{i}P1.host:2,S")
        with open(path, "wb") as f:
            f.write(message(i).replace(b"\r\n", b"\n"))
        os.utime(path, (1700000000 + i, 1700000000 + i))
    server.config("smtp.max_message_size", "100K")
    with open(os.path.join(src, "new", "1800000000.M1P1.host"), "wb") as f:
        f.write(message(n, "x" * 200000 + "\r\n"))
    subprocess.run(["chmod", "-R", "a+rX", src], check=True)
    out, err = import_cli(server, "maildir", ALICE, src)
    assert "imported 2500 messages into 1 folders of alice@example.test; 0 already there, " \
           "1 over smtp.max_message_size skipped" in out, out
    assert "import: 1000 messages (INBOX)" in err and "import: 2000 messages (INBOX)" in err, err
    assert "skipped, over smtp.max_message_size" in err, err
    listing = server.mailbox(ALICE)
    assert len(listing) == n and listing[0][0] == "1" and listing[-1][0] == str(n)
    # file order: the oldest file first, each message with its file's mtime
    assert listing[0][3] == "2023-11-14T22:13:20Z", listing[0]
    assert listing[0][1] == "\\Seen", listing[0]
