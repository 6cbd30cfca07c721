"""Running under systemd: contrib/estafeta.service passes systemd-analyze (verify, and security
with an exposure threshold), and serve speaks the readiness protocol of its Type=notify: READY=1
only once every port answers, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM,
and no READY at all when a port cannot be bound (the unit's start fails)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import ESTAFETA, SERVICES

UNIT = os.path.join(os.path.dirname(__file__), "..", "..", "contrib", "estafeta.service")
EXPOSURE_THRESHOLD = 3.0  # systemd-analyze security: 0 is sealed, 10 is fully exposed


@pytest.fixture
def unit_copy():
    """The unit with ExecStart naming the built binary, so that verify finds the program."""
    folder = tempfile.mkdtemp(prefix="estafeta-unit-")
    text = open(UNIT).read()
    assert "ExecStart=/usr/local/sbin/estafeta serve" in text
    path = os.path.join(folder, "estafeta.service")
    with open(path, "w") as f:
        f.write(text.replace("/usr/local/sbin/estafeta", os.path.abspath(ESTAFETA)))
    yield path
    shutil.rmtree(folder)


def test_the_unit_verifies(unit_copy):
    p = subprocess.run(["systemd-analyze", "verify", unit_copy], capture_output=True, text=True,
                       timeout=60)
    # A misspelt directive is only a warning: any output at all fails the test.
    assert p.returncode == 0 and p.stderr == "" and p.stdout == "", p.stderr + p.stdout
    settings = dict(line.split("=", 1) for line in open(unit_copy).read().splitlines()
                    if "=" in line and not line.startswith("#"))
    assert settings["Type"] == "notify"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert settings["ReadWritePaths"] == "/var/lib/estafeta"
    assert settings["Environment"].startswith("ESTAFETA_CONF=/var/lib/estafeta/")


def test_the_unit_is_hardened(unit_copy):
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        # systemd 252 takes the threshold in tenths, as whole numbers
                        f"--threshold={round(EXPOSURE_THRESHOLD * 10)}", unit_copy],
                       capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for estafeta.service: ([0-9.]+)", p.stdout)
    assert score, p.stdout + p.stderr
    assert p.returncode == 0 and float(score.group(1)) <= EXPOSURE_THRESHOLD, p.stdout
    for checked in ("ProtectSystem=", "NoNewPrivileges=", "RestrictAddressFamilies=~AF_PACKET",
                    "SystemCallFilter=~@mount", "CapabilityBoundingSet=~CAP_SYS_ADMIN"):
        line = next(l for l in p.stdout.splitlines() if checked in l)
        assert line.startswith("✓"), line


@pytest.fixture
def notify_socket(monkeypatch):
    """A datagram socket where serve (the run_as user by then) may send its notifications."""
    folder = tempfile.mkdtemp(prefix="estafeta-notify-")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o777)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()
    shutil.rmtree(folder)


def start_serve(inst):
    inst.log = open(inst.log_path, "ab")
    inst.proc = subprocess.Popen([ESTAFETA, "-c", inst.conf, "serve"], stdout=inst.log,
                                 stderr=subprocess.STDOUT)
    return inst.proc


def receive(sock, timeout=30):
    sock.settimeout(timeout)
    return sock.recv(4096).decode()


def test_ready_once_every_port_answers_then_reload_and_stop(instance_factory, notify_socket):
    inst = instance_factory()
    start_serve(inst)
    assert receive(notify_socket) == "READY=1", inst.read_log()
    for service in SERVICES:
        socket.create_connection((inst.listen, inst.port(service)), timeout=5).close()
    inst.proc.send_signal(signal.SIGHUP)
    assert receive(notify_socket) == "RELOADING=1"
    assert receive(notify_socket) == "READY=1"
    assert "serve reloaded" in inst.read_log()
    assert inst.stop() == 0
    assert receive(notify_socket, timeout=5) == "STOPPING=1"


def test_a_port_that_cannot_be_bound_fails_without_ready(instance_factory, notify_socket):
    inst = instance_factory()
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind((inst.listen, inst.port("imaps")))
        taken.listen()
        proc = start_serve(inst)
        code = proc.wait(timeout=60)
        inst.proc = None
        inst.log.close()
    assert code != 0
    assert "Address already in use" in inst.read_log()
    with pytest.raises(socket.timeout):
        receive(notify_socket, timeout=0.5)
