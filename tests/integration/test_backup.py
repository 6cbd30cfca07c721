"""estafeta backup and restore: a backup taken while the server takes mail and a client changes
flags and expunges, then restored into a stopped instance, gives back every message
acknowledged before the backup began with its bytes, flags, UIDs and UIDVALIDITY; and restore
refuses a running server, a damaged backup or a newer schema without touching the store."""
import hashlib
import imaplib
import os
import re
import shutil
import subprocess
import threading
import time

from conftest import ESTAFETA

ALICE, BOB = "alice@example.test", "bob@example.test"
FLAG_RE = re.compile(rb"FLAGS \(([^)]*)\)")


def message(token, size=0):
    body = f"Message {token}.\r\n" + ("x" * 70 + "\r\n") * (size // 72)
    return (f"From: sender@remote.test\r\nTo: someone@example.test\r\nSubject: {token}\r\n"
            f"Message-ID: <{token}@remote.test>\r\n\r\n{body}").encode()


def deliver(inst, rcpt, tokens, size=0):
    """Sends one message per token over one SMTP session; returns {token: bytes sent}."""
    sent = {}
    with inst.smtp() as c:
        for token in tokens:
            data = message(token, size)
            c.sendmail("sender@remote.test", [rcpt], data)  # raises unless 250
            sent[token] = data
    return sent


def folder_state(c, folder):
    """(UIDVALIDITY, {uid: (flags without \\Recent, message bytes)}) of one folder."""
    typ, _ = c.select('"%s"' % folder, readonly=True)
    assert typ == "OK"
    validity = int(c.response("UIDVALIDITY")[1][0])
    messages = {}
    typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    for i, item in enumerate(data):
        if not isinstance(item, tuple):
            continue
        # UID and FLAGS stand before or after the literal
        after = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
        meta = item[0] + after
        uid = int(re.search(rb"UID (\d+)", meta).group(1))
        flags = frozenset(FLAG_RE.search(meta).group(1).split()) - {b"\\Recent"}
        messages[uid] = (flags, item[1])
    return validity, messages


def mailbox_state(inst, user, folders=("INBOX", "Archive")):
    c = inst.imap(user=user)
    try:
        state = {f: folder_state(c, f) for f in folders}
    finally:
        c.logout()
    return state


def run(*args):
    return subprocess.run([ESTAFETA, *args], capture_output=True, text=True, timeout=300)


def backup(inst, dest):
    return run("-c", inst.conf, "backup", dest)


def restore(inst, src):
    return run("-c", inst.conf, "restore", src)


def populated(instance_factory):
    """A running instance where alice has mail with flags in two folders (some expunged, so UIDs
    have gaps) and a message waits in the outbound queue."""
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.add_user(BOB)
    inst.config("relayhost", "[127.0.0.1]:9")  # refused: remote mail stays queued
    inst.start()
    deliver(inst, ALICE, [f"alice-{i}" for i in range(20)])
    deliver(inst, ALICE, ["alice-big"], size=300_000)
    c = inst.imap(user=ALICE)
    c.select("INBOX")
    c.uid("STORE", "1:5", "+FLAGS", "(\\Seen)")
    c.uid("STORE", "3,7", "+FLAGS", "(\\Flagged $Important)")
    c.uid("COPY", "2:4", "Archive")
    c.uid("STORE", "8:9", "+FLAGS", "(\\Deleted)")
    c.expunge()
    c.logout()
    inst.cli("sendmail", "-f", ALICE, "carol@far.test", input="Subject: queued\n\nfar away\n")
    deadline = time.time() + 20
    while "carol@far.test" not in inst.cli("queue", "list"):
        assert time.time() < deadline, "the sendmail message never reached the queue"
        time.sleep(0.1)
    return inst


def test_backup_while_serving_then_restore(instance_factory, tmp_path):
    inst = populated(instance_factory)
    bob_sent = deliver(inst, BOB, [f"bob-{i}" for i in range(150)])
    before = mailbox_state(inst, ALICE)
    queued = [l.split("\t")[0] for l in inst.cli("queue", "list").splitlines() if "far.test" in l]
    assert queued

    stop = threading.Event()
    acks_during, imap_ops, errors = [], [], []
    backup_running = threading.Event()

    def keep_delivering():
        i = 0
        try:
            with inst.smtp() as c:
                while not stop.is_set():
                    for rcpt in (ALICE, BOB):
                        token = f"during-{i}"
                        data = message(token)
                        c.sendmail("sender@remote.test", [rcpt], data)
                        if rcpt == BOB:
                            bob_sent[token] = data
                        if backup_running.is_set():
                            acks_during.append(token)
                        i += 1
        except Exception as e:  # reported by the main thread
            errors.append(e)

    def keep_expunging():
        try:
            c = inst.imap(user=BOB)
            c.select("INBOX")
            while not stop.is_set():
                typ, data = c.uid("SEARCH", "ALL")
                uids = data[0].split()
                if len(uids) > 20:
                    c.uid("STORE", b",".join(uids[:3]), "+FLAGS", "(\\Deleted)")
                    c.uid("STORE", uids[-1], "+FLAGS", "(\\Seen $Later)")
                    c.expunge()
                    if backup_running.is_set():
                        imap_ops.append(len(uids))
                else:
                    c.noop()
            c.logout()
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=keep_delivering), threading.Thread(target=keep_expunging)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    dest = str(tmp_path / "backup")
    backup_running.set()
    started = time.time()
    p = subprocess.Popen([ESTAFETA, "-c", inst.conf, "backup", dest], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # the server answers while the backup runs
    answered = 0
    while p.poll() is None:
        c = inst.imap(user=ALICE)
        c.noop()
        c.logout()
        answered += 1
    out, err = p.communicate()
    elapsed = time.time() - started
    backup_running.clear()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert p.returncode == 0, err
    assert answered > 0
    m = re.fullmatch(r"backed up (\d+) messages \((\d+) queued\) in (\d+) files, (\d+) bytes, "
                     r"in [\d.]+ s to (.+)\n", out)
    assert m, out
    assert int(m.group(1)) >= sum(len(f[1]) for f in before.values()) and int(m.group(2)) >= 1
    assert m.group(5) == dest
    print(f"backup took {elapsed:.2f}s; {len(acks_during)} deliveries and {len(imap_ops)} "
          f"expunges happened meanwhile")
    assert acks_during, "no delivery was acknowledged while the backup ran"

    # Something goes wrong: alice's Archive is gone, and so is bob's account.
    inst.stop()
    inst.cli("mailbox", "del", ALICE, "Archive")
    inst.cli("user", "del", BOB)

    r = restore(inst, dest)
    assert r.returncode == 0, r.stderr
    assert re.match(r"restored \d+ messages \(\d+ queued\) in \d+ files, \d+ bytes, in [\d.]+ s "
                    r"from .*; the data folder before it is kept as (\S+)", r.stdout), r.stdout
    kept = re.search(r"kept as (\S+) ", r.stdout).group(1)
    assert os.path.isdir(kept) and not os.path.exists(inst.data + ".restore-tmp")
    if os.geteuid() == 0:  # owned and private as serve expects
        run_as = os.stat(os.path.join(kept, "estafeta.db")).st_uid
        for root, dirs, files in os.walk(inst.data):
            for name in dirs + files:
                st = os.lstat(os.path.join(root, name))
                assert st.st_uid == run_as, (root, name)
                if root.startswith(os.path.join(inst.data, "messages")) or name == "estafeta.db":
                    assert st.st_mode & 0o077 == 0, (root, name, oct(st.st_mode))

    inst.start()
    after = mailbox_state(inst, ALICE)
    for folder, (validity, messages) in before.items():
        assert after[folder][0] == validity, folder
        for uid, (flags, data) in messages.items():
            assert uid in after[folder][1], (folder, uid)
            assert after[folder][1][uid] == (flags, data), (folder, uid)
    # bob's messages, changed and expunged during the backup, are whole where they are
    _, bob_after = mailbox_state(inst, BOB, folders=("INBOX",))["INBOX"]
    assert bob_after
    for uid, (flags, data) in bob_after.items():
        token = re.search(rb"Subject: (\S+)", data).group(1).decode()
        assert data.endswith(bob_sent[token]), token
    assert queued[0] in inst.cli("queue", "list")
    # the full-text index, left out of the backup, is rebuilt
    c = inst.imap(user=ALICE)
    c.select("INBOX")
    deadline = time.time() + 30
    while c.search(None, "BODY", '"Message alice-12."')[1][0] == b"":
        assert time.time() < deadline, "the index was not rebuilt"
        time.sleep(0.2)
    c.logout()


def test_restore_refuses_while_the_server_runs(instance_factory, tmp_path):
    inst = populated(instance_factory)
    dest = str(tmp_path / "b")
    assert backup(inst, dest).returncode == 0
    r = restore(inst, dest)
    assert r.returncode == 1
    assert "server is running" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert not any(".pre-restore-" in n or ".restore-tmp" in n for n in os.listdir(inst.dir))


def test_backup_refuses_a_folder_that_is_not_empty(instance_factory, tmp_path):
    inst = populated(instance_factory)
    dest = tmp_path / "full"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me\n")
    r = backup(inst, str(dest))
    assert r.returncode == 1
    assert "not empty" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert os.listdir(dest) == ["notes.txt"]
    assert (dest / "notes.txt").read_text() == "keep me\n"


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def test_restore_refuses_a_damaged_backup_and_keeps_the_store(instance_factory, tmp_path):
    inst = populated(instance_factory)
    good = str(tmp_path / "good")
    assert backup(inst, good).returncode == 0
    inst.stop()
    # the store now differs from the backup; a refused restore must leave it so
    deliver_state = inst.mailbox(ALICE)
    inst.cli("user", "del", BOB)
    users = inst.cli("user", "list")
    messages = [l.split()[3] for l in open(os.path.join(good, "MANIFEST")) if l.startswith("file ")
                and "messages/" in l]
    cases = {
        "message": (os.path.join(messages[0]), 100),
        "database": ("estafeta.db", 4096 + 17),
    }
    for what, (path, offset) in cases.items():
        bad = str(tmp_path / what)
        shutil.copytree(good, bad)
        flip_byte(os.path.join(bad, path), offset)
        r = restore(inst, bad)
        assert r.returncode == 1, (what, r.stdout)
        assert "damaged" in r.stderr and "not changed" in r.stderr, r.stderr
        assert len(r.stderr.splitlines()) == 1, r.stderr
    # a manifest changed by hand fails its own checksum
    bad = str(tmp_path / "manifest")
    shutil.copytree(good, bad)
    text = open(os.path.join(bad, "MANIFEST")).read()
    with open(os.path.join(bad, "MANIFEST"), "w") as f:
        f.write(text.replace("queued 1", "queued 2"))
    r = restore(inst, bad)
    assert r.returncode == 1 and "manifest is damaged" in r.stderr, r.stderr
    # a file missing from the backup
    bad = str(tmp_path / "missing")
    shutil.copytree(good, bad)
    os.unlink(os.path.join(bad, messages[-1]))
    r = restore(inst, bad)
    assert r.returncode == 1 and "not changed" in r.stderr, r.stderr

    assert inst.cli("user", "list") == users
    assert inst.mailbox(ALICE) == deliver_state
    assert not any(".pre-restore-" in n or ".restore-tmp" in n for n in os.listdir(inst.dir))
    # the good one still restores
    r = restore(inst, good)
    assert r.returncode == 0, r.stderr
    assert BOB in inst.cli("user", "list")


def test_restore_refuses_a_newer_schema(instance_factory, tmp_path):
    inst = populated(instance_factory)
    dest = str(tmp_path / "b")
    assert backup(inst, dest).returncode == 0
    inst.stop()
    path = os.path.join(dest, "MANIFEST")
    lines = open(path).read().splitlines(keepends=True)[:-1]
    text = "".join(lines)
    text = re.sub(r"^schema \d+$", "schema 999", text, flags=re.M)
    text += "manifest-sha256 " + hashlib.sha256(text.encode()).hexdigest() + "\n"
    with open(path, "w") as f:
        f.write(text)
    r = restore(inst, dest)
    assert r.returncode == 1
    assert "schema version 999, newer than this estafeta knows" in r.stderr, r.stderr
    assert not any(".pre-restore-" in n or ".restore-tmp" in n for n in os.listdir(inst.dir))
