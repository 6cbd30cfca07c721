"""Interoperability of the IMAP server with real clients from Debian: mbsync (isync) keeping a local
Maildir in step with a mailbox both ways, and mutt reading, flagging, copying, saving, deleting and
searching over IMAP (under a pseudo-terminal, keys pushed from the command line), resynchronising
its header cache with CONDSTORE/QRESYNC, and sending through submission in batch mode with a copy
APPENDed to Sent. Each client runs with a private configuration and HOME inside the test's folder,
and with TLS (STARTTLS or port 993) that trusts the instance's own self-signed certificate: mbsync
by CertificateFile, mutt by certificate_file with its host name check off (the certificate is for
mx.example.test, the clients connect to 127.0.0.1)."""
import datetime
import email
import fcntl
import imaplib
import mailbox
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import termios
import time

import pytest

ALICE = "alice@example.test"
BOB = "bob@example.test"

MBSYNC = shutil.which("mbsync")
MUTT = shutil.which("mutt")

needs_mbsync = pytest.mark.skipif(MBSYNC is None, reason="mbsync is not installed (package isync)")
needs_mutt = pytest.mark.skipif(MUTT is None, reason="mutt is not installed")


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


def deliver(inst, to, messages, per_connection=100):
    """Delivers the messages over SMTP, several to a connection."""
    for start in range(0, len(messages), per_connection):
        with inst.smtp() as c:
            for m in messages[start:start + per_connection]:
                c.sendmail("sender@elsewhere.test", [to], m)


def message_id(data):
    m = re.search(rb"^Message-ID:[ \t]*(<[^>]*>)", data, re.I | re.M)
    return m.group(1).decode() if m else None


class Remote:
    """One message on the server as imaplib sees it."""

    def __init__(self, uid, flags, internaldate, data):
        self.uid, self.flags, self.internaldate, self.data = uid, flags, internaldate, data

    def __eq__(self, other):
        return vars(self) == vars(other)

    def __repr__(self):
        return f"Remote({self.uid}, {sorted(self.flags)}, {message_id(self.data)})"


def server_messages(inst, user, folder="INBOX"):
    """{uid: Remote} of a folder, read with imaplib (EXAMINE: no flag changes)."""
    c = inst.imap(user=user)
    ok(c.select(folder, readonly=True))
    data = ok(c.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])"))
    c.logout()
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0]
        uid = int(re.search(rb"UID (\d+)", head).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()) - {"\\Recent"}
        date = re.search(rb'INTERNALDATE "([^"]*)"', head).group(1).decode()
        date = int(datetime.datetime.strptime(date.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp())
        out[uid] = Remote(uid, flags, date, item[1])
    return out


def by_message_id(remote):
    return {message_id(m.data): m for m in remote.values()}


def folder_state(inst, user, folder):
    """(UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, MESSAGES) of a folder: a no-op client changes none."""
    c = inst.imap(user=user)
    line = ok(c.status(folder, "(UIDVALIDITY UIDNEXT HIGHESTMODSEQ MESSAGES)"))[0].decode()
    c.logout()
    return tuple(int(re.search(name + r" (\d+)", line).group(1))
                 for name in ("UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ", "MESSAGES"))


# ---------------------------------------------------------------- mbsync

MAILDIR_FLAG = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


def bulk_message(i):
    """Message i of the bulk load: its own Message-ID, subject and body (a dot line, a From_
    line, a length that varies); message 777 carries a 2 MB attachment."""
    lines = [f"Body of bulk message {i}.", ".a line that starts with a dot",
             "From the start of a line"]
    lines += [f"filler {i} line {k} " + "x" * (k * 7 % 60) for k in range(i % 9)]
    if i == 777:
        lines += ["--", "attachment follows"] + [
            ("%06d" % k) + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[:70]
            for k in range(30000)]
    return ("From: Sender <sender@elsewhere.test>\r\n"
            f"To: {ALICE}\r\n"
            f"Subject: bulk message {i}\r\n"
            f"Message-ID: <bulk-{i}@elsewhere.test>\r\n"
            "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
            "\r\n" + "\r\n".join(lines) + "\r\n")


def bulk_id(i):
    return f"<bulk-{i}@elsewhere.test>"


def without_tuid(data):
    """A message less the X-TUID header mbsync adds to each message it propagates (to find it
    on the other side)."""
    return re.sub(rb"^X-TUID: [^\r\n]*\r?\n", b"", data, count=1, flags=re.M)


def mbsync_channel(maildir, expunge):
    """mbsync's configuration after the far store ("far"): a local Maildir tree ("near") and
    the channel between them, every folder, created on both sides, arrival dates copied."""
    return f"""MaildirStore near
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :far:
Near :near:
Patterns *
Create Both
Expunge {expunge}
SyncState *
CopyArrivalDate yes
"""


class Mbsync:
    """mbsync with a generated configuration: every folder of the account <-> a local Maildir
    tree, both ways, creating and expunging on both sides, arrival dates copied."""

    def __init__(self, inst, user, tls="STARTTLS", auth="*"):
        self.inst = inst
        self.dir = os.path.join(inst.root, "mbsync")
        self.maildir = os.path.join(self.dir, "mail")
        os.makedirs(self.maildir, exist_ok=True)
        self.rc = os.path.join(self.dir, "mbsyncrc")
        # isync 1.4 (Debian 12) spells the TLS mode SSLType; CertificateFile trusts the
        # self-signed certificate whatever host name it is for.
        with open(self.rc, "w") as f:
            f.write(f"""IMAPAccount estafeta
Host {inst.listen}
Port {inst.port('imap' if tls == "STARTTLS" else 'imaps')}
User {user}
Pass "{inst.passwords[user]}"
SSLType {tls}
AuthMechs {auth}
CertificateFile {os.path.join(inst.dir, "tls", "cert.pem")}

IMAPStore far
Account estafeta

""" + mbsync_channel(self.maildir, "Both"))
        os.chmod(self.rc, 0o600)

    def run(self, debug=False):
        """One sync of everything; its output (-Dn: the IMAP exchange too)."""
        env = dict(os.environ, HOME=self.dir)
        p = subprocess.run([MBSYNC, "-c", self.rc, "-Dn" if debug else "-V", "-a"],
                           capture_output=True, text=True, errors="replace", env=env,
                           timeout=120, cwd=self.dir)
        out = p.stdout + p.stderr
        assert p.returncode == 0, out[-5000:]
        assert "rror" not in out, out[-5000:]
        return out

    def folder(self, name="INBOX"):
        return os.path.join(self.maildir, name)

    def files(self, name="INBOX"):
        """{path in the folder (cur/... or new/...): bytes}."""
        out = {}
        for sub in ("cur", "new"):
            d = os.path.join(self.folder(name), sub)
            for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                with open(os.path.join(d, fn), "rb") as f:
                    out[os.path.join(sub, fn)] = f.read()
        return out

    def snapshot(self, name):
        """Everything a sync could change in a local folder: names, bytes, modification times."""
        return {path: (data, int(os.stat(os.path.join(self.folder(name), path)).st_mtime))
                for path, data in self.files(name).items()}

    def by_message_id(self, name="INBOX"):
        return {message_id(data): (path, data) for path, data in self.files(name).items()}


def maildir_flags(path):
    """The IMAP flags a Maildir file name stands for."""
    letters = path.split(":2,", 1)[1] if ":2," in path else ""
    return {MAILDIR_FLAG[c] for c in letters if c in MAILDIR_FLAG}


def maildir_uid(path):
    m = re.search(r",U=(\d+)", path)
    return int(m.group(1)) if m else None


def set_maildir_flags(folder, path, add):
    """Renames a message to add flags the Maildir way (into cur/, letters sorted after :2,)."""
    base, _, letters = os.path.basename(path).partition(":2,")
    new = os.path.join("cur", base + ":2," + "".join(sorted(set(letters) | set(add))))
    os.rename(os.path.join(folder, path), os.path.join(folder, new))


def local_message(tag, subject, size=0):
    body = f"Written locally: {tag}.\n" + "".join(f"{k:07d} local filler line\n"
                                                 for k in range(size // 25))
    return (f"From: Local <local@example.test>\nTo: {ALICE}\nSubject: {subject}\n"
            f"Message-ID: <local-{tag}@example.test>\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\n"
            + body).encode()


def add_local(folder, tag, subject, sub="new", flags="", mtime=None, size=0):
    """Writes a message into a local Maildir folder (made when missing) as a mail program would."""
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(folder, d), exist_ok=True)
    name = f"{int(time.time())}.local-{tag}.testhost" + (f":2,{flags}" if sub == "cur" else "")
    path = os.path.join(folder, sub, name)
    with open(path, "wb") as f:
        f.write(local_message(tag, subject, size))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return local_message(tag, subject, size)


def assert_in_step(sync, inst, folder):
    """The local folder and the server's hold the same messages under the same UIDs, with the
    same flags, the same bytes (LF for CRLF, X-TUID aside) and the same arrival dates."""
    local = sync.files(folder)
    remote = server_messages(inst, ALICE, folder)
    local_by_uid = {maildir_uid(path): path for path in local}
    assert None not in local_by_uid, sorted(local)
    assert sorted(local_by_uid) == sorted(remote), folder
    for uid, m in remote.items():
        path = local_by_uid[uid]
        assert maildir_flags(path) == m.flags, (folder, path, m)
        assert without_tuid(local[path]) == without_tuid(m.data).replace(b"\r\n", b"\n"), path
        assert int(os.stat(os.path.join(sync.folder(folder), path)).st_mtime) == m.internaldate
    return remote


IMAP_COMMAND = re.compile(r"^>>> \d+ (UID \w+|\w+)", re.M)


@needs_mbsync
def test_mbsync_both_ways_with_1000_messages(server):
    n = 1000
    sent = [bulk_message(i) for i in range(n)]
    deliver(server, ALICE, sent)
    server.wait_for_messages(ALICE, n, timeout=60)
    sync = Mbsync(server, ALICE)

    # -- 1: everything comes down, byte for byte (mbsync stores LF line ends)
    out = sync.run()
    assert out.index("Connection is now encrypted") < out.index("Logging in")
    local = sync.by_message_id()
    assert set(local) == {bulk_id(i) for i in range(n)}
    remote = assert_in_step(sync, server, "INBOX")
    for i in (0, 1, 8, 499, 777, 998, 999):  # what was sent arrived, after the trace headers
        path, data = local[bulk_id(i)]
        assert data.startswith(b"Return-Path: <sender@elsewhere.test>\n")
        assert without_tuid(data).endswith(b"\n" + sent[i].replace("\r\n", "\n").encode())
    assert len(local[bulk_id(777)][1]) > 2_000_000
    # the special-use folders came down too
    assert {"Archive", "Drafts", "Junk", "Sent", "Trash"} <= set(os.listdir(sync.maildir))

    # -- 2: local changes go up: flags, deletions, new messages (one large, one with an old
    # arrival date), a new folder and a new nested folder
    inbox = sync.folder()
    flagged, seen, deleted = [bulk_id(i) for i in (10, 11, 777)], [bulk_id(i) for i in (20, 21)], \
        [bulk_id(i) for i in (30, 31, 32, 999)]
    for mid in flagged:
        set_maildir_flags(inbox, local[mid][0], "F")
    for mid in seen:
        set_maildir_flags(inbox, local[mid][0], "S")
    for mid in deleted:
        os.unlink(os.path.join(inbox, local[mid][0]))
    old_date = 1588766400  # 2020-05-06 12:00 UTC
    written = {"new-0": add_local(inbox, "new-0", "local new 0"),
               "new-1": add_local(inbox, "new-1", "local new 1", mtime=old_date),
               "big": add_local(inbox, "big", "local big one", sub="cur", flags="S",
                                size=1_500_000)}
    written["p1"] = add_local(sync.folder("Projects"), "p1", "project note 1", sub="cur", flags="S")
    written["p2"] = add_local(sync.folder("Projects"), "p2", "project note 2", sub="cur", flags="FS")
    written["deep"] = add_local(sync.folder("Projects/2024"), "deep", "nested note")

    sync.run()
    remote = by_message_id(assert_in_step(sync, server, "INBOX"))
    assert len(remote) == n - len(deleted) + 3
    assert not set(deleted) & set(remote)
    for mid in flagged:
        assert remote[mid].flags == {"\\Flagged"}, remote[mid]
    for mid in seen:
        assert remote[mid].flags == {"\\Seen"}, remote[mid]
    assert remote[bulk_id(40)].flags == set()
    for tag in ("new-0", "new-1", "big"):
        m = remote[f"<local-{tag}@example.test>"]
        assert without_tuid(m.data) == written[tag].replace(b"\n", b"\r\n"), tag
    assert remote["<local-new-1@example.test>"].internaldate == old_date
    assert remote["<local-big@example.test>"].flags == {"\\Seen"}
    c = server.imap(user=ALICE)
    listed = [line.decode() for line in ok(c.list())]
    c.logout()
    assert any(line.endswith(' "/" Projects') or line.endswith(' "/" "Projects"')
               for line in listed), listed
    assert any('"/" "Projects/2024"' in line or '"/" Projects/2024' in line
               for line in listed), listed
    projects = by_message_id(assert_in_step(sync, server, "Projects"))
    assert set(projects) == {"<local-p1@example.test>", "<local-p2@example.test>"}
    assert projects["<local-p2@example.test>"].flags == {"\\Flagged", "\\Seen"}
    deep = by_message_id(assert_in_step(sync, server, "Projects/2024"))
    assert without_tuid(deep["<local-deep@example.test>"].data) == \
        written["deep"].replace(b"\n", b"\r\n")

    # -- 3: server changes come down: flags set and cleared, an expunge, an APPEND with a date
    # and flags, a new folder whose name is modified UTF-7 (isync 1.4 keeps the name as it is,
    # and would send a local UTF-8 name raw, which a server must refuse: no such folder here)
    answered, unflagged, gone = remote[bulk_id(50)], remote[flagged[0]], remote[bulk_id(60)]
    c = server.imap(user=ALICE)
    ok(c.select("INBOX"))
    ok(c.uid("STORE", str(answered.uid), "+FLAGS", "(\\Answered \\Seen)"))
    ok(c.uid("STORE", str(unflagged.uid), "-FLAGS", "(\\Flagged)"))
    ok(c.uid("STORE", str(gone.uid), "+FLAGS", "(\\Deleted)"))
    ok(c.expunge())
    appended = (b"From: Server <server@example.test>\r\nSubject: appended on the server\r\n"
                b"Message-ID: <appended@example.test>\r\n\r\nAppended with imaplib.\r\n")
    ok(c.append("INBOX", "(\\Flagged)", imaplib.Time2Internaldate(old_date + 3600), appended))
    ok(c.create('"Caf&AOk-"'))
    ok(c.append('"Caf&AOk-"', None, None, b"Subject: menu\r\nMessage-ID: <menu@example.test>\r\n\r\nsoup\r\n"))
    c.logout()

    sync.run()
    remote = assert_in_step(sync, server, "INBOX")
    local = sync.by_message_id()
    assert len(local) == n - len(deleted) + 3 - 1 + 1
    assert gone.uid not in remote and bulk_id(60) not in local
    assert maildir_flags(local[bulk_id(50)][0]) == {"\\Answered", "\\Seen"}
    assert maildir_flags(local[flagged[0]][0]) == set()
    assert maildir_flags(local[flagged[1]][0]) == {"\\Flagged"}
    path, data = local["<appended@example.test>"]
    assert without_tuid(data) == appended.replace(b"\r\n", b"\n")
    assert maildir_flags(path) == {"\\Flagged"}
    assert int(os.stat(os.path.join(inbox, path)).st_mtime) == old_date + 3600
    cafe = assert_in_step(sync, server, "Caf&AOk-")
    assert [message_id(m.data) for m in cafe.values()] == ["<menu@example.test>"]

    # -- 4: nothing changed, so a sync reads and writes nothing: no STORE, APPEND, EXPUNGE or
    # CREATE, the same files, the same UIDs, flags and modification sequences on the server
    folders = ["INBOX", "Projects", "Projects/2024", "Caf&AOk-", "Sent"]
    before_local = {f: sync.snapshot(f) for f in folders}
    before_remote = {f: (server_messages(server, ALICE, f), folder_state(server, ALICE, f))
                     for f in folders}
    out = sync.run(debug=True)
    commands = set(IMAP_COMMAND.findall(out))
    assert {"SELECT", "UID FETCH"} <= commands, out[-3000:]
    assert commands <= {"STARTTLS", "CAPABILITY", "AUTHENTICATE", "LOGIN", "COMPRESS",
                        "NAMESPACE", "LIST", "SELECT", "UID FETCH", "CLOSE", "LOGOUT"}, commands
    assert "BODY" not in "".join(re.findall(r"^>>> \d+ UID FETCH.*$", out, re.M))
    assert {f: sync.snapshot(f) for f in folders} == before_local
    assert {f: (server_messages(server, ALICE, f), folder_state(server, ALICE, f))
            for f in folders} == before_remote


@needs_mbsync
def test_mbsync_over_imaps_with_login(server):
    """Port 993 and the LOGIN command instead of STARTTLS and SASL: a first sync down, a local
    change up, and the two sides in step after each."""
    deliver(server, ALICE, [bulk_message(i) for i in range(20)])
    server.wait_for_messages(ALICE, 20)
    sync = Mbsync(server, ALICE, tls="IMAPS", auth="LOGIN")
    out = sync.run(debug=True)
    assert re.search(r"^>>> \d+ LOGIN ", out, re.M) and "AUTHENTICATE" not in out
    assert sorted(sync.by_message_id()) == sorted(bulk_id(i) for i in range(20))
    assert_in_step(sync, server, "INBOX")
    local = sync.by_message_id()
    set_maildir_flags(sync.folder(), local[bulk_id(3)][0], "RS")
    os.unlink(os.path.join(sync.folder(), local[bulk_id(4)][0]))
    written = add_local(sync.folder("Sent"), "sent", "sent from here", sub="cur", flags="S")
    sync.run()
    remote = by_message_id(assert_in_step(sync, server, "INBOX"))
    assert remote[bulk_id(3)].flags == {"\\Answered", "\\Seen"} and bulk_id(4) not in remote
    (sent,) = assert_in_step(sync, server, "Sent").values()
    assert without_tuid(sent.data) == written.replace(b"\n", b"\r\n")


# ---------------------------------------------------------------- mutt

def mutt_setup(inst, user, name, extra=""):
    """A home folder and muttrc for user: TLS required, the instance's certificate the only one
    trusted, IMAP folders on the instance, nothing asked."""
    home = os.path.join(inst.root, name)
    os.makedirs(home)
    certs = os.path.join(home, "certificates")
    shutil.copyfile(os.path.join(inst.dir, "tls", "cert.pem"), certs)
    rc = os.path.join(home, "muttrc")
    with open(rc, "w") as f:
        f.write(f"""set imap_user="{user}"
set imap_pass="{inst.passwords[user]}"
set smtp_pass="{inst.passwords[user]}"
set ssl_starttls=yes
set ssl_force_tls=yes
set ssl_verify_host=no
set certificate_file="{certs}"
set folder="imap://{inst.listen}:{inst.port('imap')}/"
set spoolfile="+INBOX"
set from="{user}"
set realname="Test User"
set use_from=yes
set record=""
set postponed=""
set mbox_type=mbox
set sort=mailbox-order
set confirmcreate=no
set confirmappend=no
set move=no
set delete=yes
set quit=yes
set wait_key=no
set mail_check=60
set timeout=60
set header_cache=""
set message_cachedir=""
set pager_stop=yes
{extra}""")
    os.chmod(rc, 0o600)
    return home, rc


def run_mutt(home, rc, url, keys, timeout=30):
    """mutt on a pseudo-terminal of 80x24 opening url, with keys pushed; returns what it drew
    (exit status 0 asserted). mutt waits for a key on any error, so a hang is a failure."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, HOME=home, TERM="xterm", LANG="C.UTF-8", MAIL="")
    p = subprocess.Popen([MUTT, "-n", "-F", rc, "-f", url, "-e", f"push '{keys}'"],
                         stdin=slave, stdout=slave, stderr=slave, env=env, cwd=home,
                         start_new_session=True)
    os.close(slave)
    screen = b""
    deadline = time.time() + timeout
    try:
        while True:
            if time.time() > deadline:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise AssertionError("mutt did not finish; its screen: "
                                     + screen.decode("utf-8", "replace")[-3000:])
            r, _, _ = select.select([master], [], [], 0.2)
            chunk = b""
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other side is closed
                    pass
                screen += chunk
            if not chunk and p.poll() is not None:
                break
    finally:
        os.close(master)
    text = screen.decode("utf-8", "replace")
    assert p.wait() == 0, text[-3000:]
    return text


def simple_message(tag, body, extra_headers=""):
    return (f"From: Ann <ann@elsewhere.test>\r\nTo: {ALICE}\r\nSubject: {tag}\r\n"
            f"Message-ID: <{tag}@elsewhere.test>\r\n{extra_headers}\r\n{body}")


def saved_ids(path):
    return [m["Message-ID"] for m in mailbox.mbox(path)] if os.path.exists(path) else []


@needs_mutt
def test_mutt_reads_flags_saves_and_deletes_over_imap(server):
    deliver(server, ALICE, [simple_message(t, f"The body of {t}.\r\nSecond line.\r\n")
                            for t in ("readme", "deleteme", "flagme", "archiveme", "leaveme")])
    server.wait_for_messages(ALICE, 5)
    home, rc = mutt_setup(server, ALICE, "mutt")
    saved = os.path.join(home, "saved.mbox")
    # readme: shown in the pager (so \Seen), copied to a local mbox; deleteme: deleted;
    # flagme: flagged; archiveme: saved to the server's Archive (a COPY, and deleted here);
    # then the mailbox synced (so the deleted ones expunged) and mutt quits.
    keys = (f"<first-entry><display-message><exit><copy-message>{saved}<enter>"
            "<delete-pattern>~s deleteme<enter>"
            "<tag-pattern>~s flagme<enter><tag-prefix><flag-message><untag-pattern>~A<enter>"
            "<tag-pattern>~s archiveme<enter><tag-prefix><save-message>=Archive<enter>"
            "<untag-pattern>~A<enter><sync-mailbox><quit>")
    run_mutt(home, rc, f"imap://{server.listen}:{server.port('imap')}/INBOX", keys)

    saved_messages = list(mailbox.mbox(saved))
    assert len(saved_messages) == 1
    msg = saved_messages[0]
    assert msg["Subject"] == "readme"
    assert msg["Message-ID"] == "<readme@elsewhere.test>"
    assert msg["Delivered-To"] == ALICE
    assert msg.get_payload() == "The body of readme.\nSecond line.\n"

    inbox = by_message_id(server_messages(server, ALICE))
    assert set(inbox) == {"<readme@elsewhere.test>", "<flagme@elsewhere.test>",
                          "<leaveme@elsewhere.test>"}
    assert "\\Seen" in inbox["<readme@elsewhere.test>"].flags
    assert "\\Flagged" in inbox["<flagme@elsewhere.test>"].flags
    assert "\\Seen" not in inbox["<flagme@elsewhere.test>"].flags
    assert not {"\\Seen", "\\Flagged"} & inbox["<leaveme@elsewhere.test>"].flags
    archive = list(server_messages(server, ALICE, "Archive").values())
    assert [message_id(m.data) for m in archive] == ["<archiveme@elsewhere.test>"]
    assert archive[0].data.endswith(b"\r\n\r\nThe body of archiveme.\r\nSecond line.\r\n")


@needs_mutt
def test_mutt_server_side_search_and_utf8_folder_over_imaps(server):
    deliver(server, ALICE, [
        simple_message("s1", "nothing to see\r\n"),
        simple_message("s2", "a haystack with a Needle42 in it\r\n"),
        simple_message("s3", "plain\r\n", "X-Project: zebra\r\n"),
        simple_message("s4", "needle42 again, and the zebra\r\n", "X-Project: zebra crossing\r\n"),
        simple_message("s5", "needle 42 is not it\r\n", "X-Project: giraffe\r\n"),
        simple_message("u1", "dessert: Cr\u00e8me br\u00fbl\u00e9e\r\n",
                       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n").encode(),
        simple_message("u2", "dessert: Cr=C3=A8me br=C3=BBl=C3=A9e\r\n",
                       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: quoted-printable\r\n"),
        simple_message("u3", "no dessert\r\n", "Comments: =?UTF-8?Q?Cr=C3=A8me?= inside\r\n")])
    server.wait_for_messages(ALICE, 8)
    imaps = f"imaps://{server.listen}:{server.port('imaps')}/"
    home, rc = mutt_setup(server, ALICE, "mutt-search", f'set folder="{imaps}"\n')
    found = {name: os.path.join(home, name + ".mbox") for name in ("body", "header", "utf8")}
    # =b and =h: searches mutt leaves to the server (UID SEARCH BODY / HEADER); mutt has
    # ENABLEd UTF8=ACCEPT, so the non-ASCII ones go as UTF-8 quoted strings. Then the UTF-8
    # matches are saved (UID COPY, then deleted and expunged) to a folder named in UTF-8.
    keys = (f"<tag-pattern>=b needle42<enter><tag-prefix><copy-message>{found['body']}<enter>"
            f"<untag-pattern>~A<enter><tag-pattern>=h \"X-Project: zebra\"<enter>"
            f"<tag-prefix><copy-message>{found['header']}<enter><untag-pattern>~A<enter>"
            f"<tag-pattern>=b br\u00fbl\u00e9e<enter><tag-pattern>=h \"Comments: Cr\u00e8me\"<enter>"
            f"<tag-prefix><copy-message>{found['utf8']}<enter>"
            f"<tag-prefix><save-message>=Entw\u00fcrfe<enter><sync-mailbox><quit>")
    run_mutt(home, rc, imaps + "INBOX", keys)
    assert saved_ids(found["body"]) == ["<s2@elsewhere.test>", "<s4@elsewhere.test>"]
    assert saved_ids(found["header"]) == ["<s3@elsewhere.test>", "<s4@elsewhere.test>"]
    utf8 = ["<u1@elsewhere.test>", "<u2@elsewhere.test>", "<u3@elsewhere.test>"]
    assert saved_ids(found["utf8"]) == utf8
    # a client without UTF8=ACCEPT sees the new folder's name in modified UTF-7 (RFC 3501 5.1.3)
    c = server.imap(user=ALICE)
    listed = [line.decode() for line in ok(c.list())]
    c.logout()
    assert '(\\HasNoChildren) "/" "Entw&APw-rfe"' in listed, listed
    moved = server_messages(server, ALICE, '"Entw&APw-rfe"')
    assert sorted(message_id(m.data) for m in moved.values()) == utf8
    assert sorted(by_message_id(server_messages(server, ALICE))) == [
        f"<s{i}@elsewhere.test>" for i in range(1, 6)]


@needs_mutt
def test_mutt_header_cache_resync_with_condstore_and_qresync(server):
    """mutt keeps headers and flags in a header cache and, next time, asks only for what
    changed since (UID FETCH ... (CHANGEDSINCE modseq VANISHED)); its view must be the server's."""
    deliver(server, ALICE, [simple_message(f"q{i}", f"body q{i}\r\n") for i in range(6)])
    server.wait_for_messages(ALICE, 6)
    home, rc = mutt_setup(server, ALICE, "mutt-cache",
                          'set header_cache="~/hcache"\nset imap_condstore=yes\n'
                          'set imap_qresync=yes\n')
    url = f"imap://{server.listen}:{server.port('imap')}/INBOX"
    run_mutt(home, rc, url, "<tag-pattern>~s q0<enter><tag-prefix><flag-message><quit>")
    assert os.path.exists(os.path.join(home, "hcache"))
    remote = by_message_id(server_messages(server, ALICE))
    assert "\\Flagged" in remote["<q0@elsewhere.test>"].flags

    # on the server meanwhile: flags changed both ways, one expunged, one appended
    c = server.imap(user=ALICE)
    ok(c.select("INBOX"))
    uid = {mid: m.uid for mid, m in remote.items()}
    ok(c.uid("STORE", str(uid["<q0@elsewhere.test>"]), "-FLAGS", "(\\Flagged)"))
    ok(c.uid("STORE", str(uid["<q2@elsewhere.test>"]), "+FLAGS", "(\\Flagged)"))
    ok(c.uid("STORE", str(uid["<q3@elsewhere.test>"]), "+FLAGS", "(\\Seen)"))
    ok(c.uid("STORE", str(uid["<q1@elsewhere.test>"]), "+FLAGS", "(\\Deleted)"))
    ok(c.expunge())
    ok(c.append("INBOX", "(\\Flagged)", None,
                b"From: s@elsewhere.test\r\nSubject: q6\r\nMessage-ID: <q6@elsewhere.test>\r\n"
                b"\r\nbody q6\r\n"))
    c.logout()

    flagged, unread, everything = (os.path.join(home, f + ".mbox")
                                   for f in ("flagged", "unread", "all"))
    run_mutt(home, rc, url,
             f"<tag-pattern>~F<enter><tag-prefix><copy-message>{flagged}<enter>"
             f"<untag-pattern>~A<enter><tag-pattern>~U<enter><tag-prefix>"
             f"<copy-message>{unread}<enter><untag-pattern>~A<enter><tag-pattern>~A<enter>"
             f"<tag-prefix><copy-message>{everything}<enter><quit>")
    q = lambda *nums: [f"<q{i}@elsewhere.test>" for i in nums]  # noqa: E731
    assert saved_ids(everything) == q(0, 2, 3, 4, 5, 6)
    assert saved_ids(flagged) == q(2, 6)
    assert saved_ids(unread) == q(0, 2, 4, 5, 6)


@needs_mutt
def test_mutt_sends_through_submission_and_files_in_sent(server):
    user = ALICE.replace("@", "%40")
    home, rc = mutt_setup(server, ALICE, "mutt-send",
                          f'set smtp_url="smtp://{user}@{server.listen}:'
                          f'{server.port("submission")}"\nset record="=Sent"\n')
    env = dict(os.environ, HOME=home, LANG="C.UTF-8")
    body = b"Hello Bob,\nthis came through mutt.\n.\n.. and dots\n"
    p = subprocess.run([MUTT, "-n", "-F", rc, "-s", "sent by mutt", "--", BOB], input=body,
                       capture_output=True, env=env, cwd=home, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    server.wait_for_messages(BOB, 1)
    assert len(server.mailbox(BOB)) == 1
    (got,) = server_messages(server, BOB).values()
    msg = email.message_from_bytes(got.data)
    assert msg["Subject"] == "sent by mutt"
    assert msg["From"] == f"Test User <{ALICE}>"
    assert msg["To"] == BOB
    assert msg.get_payload().replace("\r\n", "\n") == body.decode()
    assert b"with ESMTPSA id" in got.data  # over TLS (STARTTLS), authenticated (RFC 3848)
    # the copy mutt APPENDed to Sent over IMAP, already \Seen
    (copy,) = server_messages(server, ALICE, "Sent").values()
    assert message_id(got.data) is not None
    assert message_id(copy.data) == message_id(got.data)
    assert "\\Seen" in copy.flags
    assert email.message_from_bytes(copy.data).get_payload().replace("\r\n", "\n") == body.decode()
