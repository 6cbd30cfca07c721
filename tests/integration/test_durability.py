"""Nothing acknowledged is lost: kill -9 in the middle of a stream of messages, and a full disk."""
import os
import smtplib
import subprocess
import threading
import time


PAYLOAD = "payload line\r\n" * 100


def sender_thread(inst, tag, acked, stop):
    """Sends messages one after another, recording each subject the server answered 250 to."""
    n = 0
    try:
        with inst.smtp() as c:
            while not stop.is_set():
                subject = f"{tag}-{n}"
                c.sendmail("carol@remote.test", ["alice@example.test"],
                           f"Subject: {subject}\r\n\r\n{PAYLOAD}end {subject}\r\n".encode())
                acked.append(subject)
                n += 1
    except (smtplib.SMTPException, OSError):
        pass  # the server was killed under us


def test_kill_9_loses_no_acknowledged_message(server):
    acked, stop = [], threading.Event()
    threads = [threading.Thread(target=sender_thread, args=(server, f"t{i}", acked, stop))
               for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acked) < 150 and time.time() < deadline:
        time.sleep(0.01)
    server.kill9()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 150
    server.start()
    rows = server.mailbox("alice@example.test")
    subjects = {r[5] for r in rows}
    missing = [s for s in acked if s not in subjects]
    assert missing == []
    # Every stored message is whole: its last line names its own subject.
    for r in rows[-20:]:
        data = server.message("alice@example.test", r[0])
        assert data.endswith(f"end {r[5]}\r\n".encode()), data[-100:]
    # And the server goes on taking mail.
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: after\r\n\r\nx\r\n")
    assert server.mailbox("alice@example.test")[-1][5] == "after"


def test_full_disk_gives_452_and_leaves_nothing_half_written(instance_factory):
    inst = instance_factory(tmpfs_size="6m")
    inst.add_user("alice@example.test")
    inst.start()
    filler = os.path.join(inst.dir, "filler")
    free = os.statvfs(inst.dir).f_bavail * os.statvfs(inst.dir).f_frsize
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k",
                    f"count={max(0, free - 900 * 1024) // 65536}"], capture_output=True)
    body = ("x" * 98 + "\r\n") * 1000  # about 100 KB
    accepted, refused = [], None
    with inst.smtp() as c:
        for i in range(40):
            try:
                c.sendmail("carol@remote.test", ["alice@example.test"],
                           f"Subject: fill-{i}\r\n\r\n{body}end fill-{i}\r\n".encode())
                accepted.append(f"fill-{i}")
            except smtplib.SMTPDataError as e:
                refused = e
                break
        assert refused is not None, "the disk never filled"
        assert refused.smtp_code == 452 and refused.smtp_error.startswith(b"4.3.1"), refused
        assert c.noop()[0] == 250  # the session goes on
    rows = inst.mailbox("alice@example.test")
    assert [r[5] for r in rows] == accepted
    for r in rows:
        assert inst.message("alice@example.test", r[0]).endswith(f"end {r[5]}\r\n".encode())
    assert os.listdir(os.path.join(inst.data, "tmp")) == []  # no half-written spool file
    os.unlink(filler)
    with inst.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: room again\r\n\r\nx\r\n")
    assert inst.mailbox("alice@example.test")[-1][5] == "room again"


def test_start_sweeps_what_a_crash_left(server):
    """A message file renamed but never committed, and a spool file, both an hour old, go at
    start; fresh ones and committed ones stay."""
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: kept\r\n\r\nx\r\n")
    server.stop()
    old = time.time() - 7200
    orphan_dir = os.path.join(server.data, "messages", "ff")
    os.makedirs(orphan_dir, exist_ok=True)
    orphan = os.path.join(orphan_dir, "0" * 32)
    spool = os.path.join(server.data, "tmp", "deadbeef.spool")
    fresh = os.path.join(server.data, "tmp", "fresh.spool")
    for path in (orphan, spool, fresh):
        with open(path, "w") as f:
            f.write("partial")
    owner = os.stat(server.data)
    for path in (orphan_dir, orphan, spool, fresh):  # as the server itself would have left them
        os.chown(path, owner.st_uid, owner.st_gid)
    for path in (orphan, spool):
        os.utime(path, (old, old))
    committed = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(server.data, "messages"))
                 for f in files if f != "0" * 32]
    for path in committed:
        os.utime(path, (old, old))
    server.start()
    assert not os.path.exists(orphan) and not os.path.exists(spool)
    assert os.path.exists(fresh)
    assert all(os.path.exists(p) for p in committed)
    assert server.mailbox("alice@example.test")[0][5] == "kept"
    assert "store sweep removed=2" in server.read_log()
    os.unlink(fresh)
