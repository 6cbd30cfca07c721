"""Secrets are private and the service account cannot make itself root: another local user
reads no database, message, key or password file; the run_as user cannot rewrite or rename the
config it is started with; run_as root is refused; what drifted is fixed at start."""
import os
import pwd
import stat
import subprocess
import time

import pytest

from conftest import ESTAFETA

PROBE = "estafeta-probe"  # an ordinary local user, made for these tests


@pytest.fixture(scope="module")
def probe():
    try:
        pwd.getpwnam(PROBE)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        PROBE], check=True)
    return PROBE


def run_as(user, *cmd, **kw):
    """Runs cmd as user (its own group, no others)."""
    return subprocess.run(["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
                           "--clear-groups", "--", *cmd], capture_output=True, text=True,
                          timeout=60, **kw)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def owner(path):
    st = os.lstat(path)
    return pwd.getpwuid(st.st_uid).pw_name


def with_mail(server):
    with server.smtp() as c:
        c.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: private\r\n\r\nsecret words\r\n")
    server.wait_for_messages("alice@example.test", 1)
    return [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(server.data, "messages")) for f in fs]


def test_another_local_user_reads_no_secret(server, probe):
    secret = os.path.join(server.dir, "relay-password")
    with open(secret, "w") as f:
        f.write("hunter2\n")
    server.config("relayhost.password_file", secret)
    server.stop()
    server.start()
    messages = with_mail(server)
    db = os.path.join(server.data, "estafeta.db")
    private = [db, db + "-wal", db + "-shm", *messages, os.path.join(server.dir, "tls", "key.pem"), secret]
    assert os.path.exists(db + "-wal") and os.path.exists(db + "-shm") and messages
    for path in private:
        p = run_as(probe, "cat", path)
        assert p.returncode != 0 and "Permission denied" in p.stderr, path
    for folder in ("messages", "tmp", "maildrop"):
        assert run_as(probe, "ls", os.path.join(server.data, folder)).returncode != 0, folder
    assert run_as(probe, "ls", server.data).returncode != 0
    # what the server made is its own, with the modes the README lists
    for path in (db, db + "-wal", db + "-shm", *messages):
        assert (owner(path), mode(path)) == ("estafeta", 0o600), path
    assert (owner(server.data), mode(server.data)) == ("estafeta", 0o711)
    assert mode(os.path.join(server.data, "messages")) == 0o700
    assert {mode(os.path.dirname(m)) for m in messages} == {0o700}
    assert (owner(secret), mode(secret), os.stat(secret).st_gid) == ("root", 0o640,
                                                                     pwd.getpwnam("estafeta").pw_gid)
    # the config has no secret and stays readable: sendmail from any user finds the instance
    p = run_as(probe, ESTAFETA, "-c", server.conf, "sendmail", "bob@example.test", input="Subject: hi\n\nx\n")
    assert p.returncode == 0, p.stderr
    server.wait_for_messages("bob@example.test", 1)
    p = run_as(probe, ESTAFETA, "-c", server.conf, "mailq")
    assert p.returncode != 0 and "run this command as one of them" in p.stderr, p.stderr


def test_the_run_as_user_cannot_rewrite_or_rename_the_config(server):
    p = run_as("estafeta", ESTAFETA, "-c", server.conf, "config", "set", "run_as", "root")
    assert p.returncode != 0 and "Permission denied" in p.stderr, p.stderr
    for target in (server.conf + ".old", os.path.join(server.data, "estafeta.conf")):
        assert run_as("estafeta", "mv", server.conf, target).returncode != 0
    assert run_as("estafeta", "mv", os.path.join(server.dir, "tls"), os.path.join(server.data, "tls")).returncode != 0
    for path in (server.conf, os.path.join(server.dir, "tls", "key.pem")):
        assert run_as("estafeta", "sh", "-c", f"echo x >> {path}").returncode != 0, path
    assert run_as("estafeta", "touch", os.path.join(server.dir, "tls", "new.pem")).returncode != 0
    assert (owner(server.dir), owner(server.conf), owner(os.path.join(server.dir, "tls"))) == ("root",) * 3
    with open(server.conf) as f:
        assert "run_as" not in f.read()


def test_run_as_root_is_refused(instance_factory):
    inst = instance_factory()
    inst.config("run_as", "root")
    for args in (["serve"], ["user", "list"]):
        p = inst.cli(*args, check=False)
        assert p.returncode != 0 and "run_as names root" in p.stderr, p.stderr
        assert len(p.stderr.splitlines()) == 1, p.stderr


def test_a_start_fixes_what_drifted(server):
    server.stop()
    db = os.path.join(server.data, "estafeta.db")
    key = os.path.join(server.dir, "tls", "key.pem")
    estafeta = pwd.getpwnam("estafeta")
    os.chmod(db, 0o644)
    os.chmod(key, 0o644)
    os.chown(server.conf, estafeta.pw_uid, estafeta.pw_gid)  # as init left it before
    os.chown(server.dir, estafeta.pw_uid, estafeta.pw_gid)
    os.chmod(os.path.join(server.data, "messages"), 0o755)
    server.start()
    assert mode(db) == 0o600 and mode(key) == 0o640 and owner(key) == "root"
    assert owner(server.conf) == "root" and owner(server.dir) == "root"
    assert mode(os.path.join(server.data, "messages")) == 0o700
    log = server.read_log()
    assert f"permissions fixed path={db} mode=0644->0600" in log and f"path={server.conf}" in log


def test_data_in_the_config_folder_is_refused_with_the_fix(instance_factory):
    inst = instance_factory()
    inst.config("data_dir", ".")
    p = inst.cli("serve", check=False)
    assert p.returncode != 0 and "move the data into a folder of its own" in p.stderr, p.stderr


def test_an_inline_relayhost_password_in_a_readable_config_is_refused(instance_factory):
    inst = instance_factory()
    inst.config("relayhost.password", "hunter2")
    p = inst.cli("serve", check=False)
    assert p.returncode != 0 and "every local user can read" in p.stderr, p.stderr
    assert "relayhost.password_file" in p.stderr
    secret = os.path.join(inst.dir, "relay-password")
    with open(secret, "w") as f:
        f.write("hunter2\n")
    inst.config("relayhost.password_file", secret)
    p = inst.cli("serve", check=False)
    assert p.returncode != 0 and "keep only relayhost.password_file" in p.stderr, p.stderr
    inst.config("relayhost.password", "")
    inst.start()


def test_the_log_file_is_opened_by_the_run_as_user(instance_factory):
    inst = instance_factory()
    inst.config("log.file", os.path.join(inst.root, "serve-file.log"))  # a folder of root's
    p = inst.cli("serve", check=False)
    assert p.returncode != 0 and "as the run_as user: Permission denied" in p.stderr, p.stderr
    logs = os.path.join(inst.root, "logs")
    os.mkdir(logs)
    os.chown(logs, pwd.getpwnam("estafeta").pw_uid, 0)
    inst.config("log.file", os.path.join(logs, "serve.log"))
    proc = subprocess.Popen([ESTAFETA, "-c", inst.conf, "serve"])
    try:
        path = os.path.join(logs, "serve.log")
        for _ in range(300):
            if os.path.exists(path):
                with open(path) as f:
                    if "serve started" in f.read():
                        break
            assert proc.poll() is None
            time.sleep(0.05)
        assert (owner(path), mode(path)) == ("estafeta", 0o600)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_folders_of_others_are_refused_not_taken(instance_factory, probe):
    inst = instance_factory()
    os.chown(inst.dir, pwd.getpwnam(probe).pw_uid, 0)  # someone's own folder
    p = inst.cli("serve", check=False)
    assert p.returncode != 0 and f"the config's folder {inst.dir} belongs to uid" in p.stderr, p.stderr
    assert owner(inst.dir) == probe
    os.chown(inst.dir, 0, 0)
    shared = os.path.join(inst.root, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)  # as /tmp
    inst.config("data_dir", shared)
    p = inst.cli("serve", check=False)
    assert p.returncode != 0 and "is writable by every user" in p.stderr, p.stderr
    assert (owner(shared), mode(shared)) == ("root", 0o1777)
