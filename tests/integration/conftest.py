"""Integration test harness: real estafeta instances on loopback ports, driven by real clients.

An Instance is made with `estafeta init` in a fresh folder, configured with `estafeta config set`,
served by `estafeta serve` (the sanitizer build when make test runs), and read back with the
admin commands. Its log is checked for sanitizer reports when it stops.
"""
import atexit
import contextlib
import imaplib
import os
import poplib
import random
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

ESTAFETA = os.environ.get("ESTAFETA_BIN") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "estafeta"))

SERVICES = {"smtp": 25, "submission": 587, "submissions": 465, "pop3": 110, "pop3s": 995,
            "imap": 143, "imaps": 993}


def free_port_base():
    """A port base N (multiple of 1000) whose service ports are all free on 127.0.0.1. Bases stay
    below Linux's ephemeral range (32768 and up), where client sockets could take a port between
    this check and the server's bind, and away from make run's 20000 and make bench's 21000."""
    for _ in range(200):
        base = random.choice([*range(10, 20), *range(23, 32)]) * 1000
        ok = True
        for port in SERVICES.values():
            with socket.socket() as s:
                # As the server binds: connections of earlier tests in TIME_WAIT do not count.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", base + port % 1000))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")



DNS_IP = "127.0.0.53"


def free_udp_port(ip):
    for _ in range(100):
        port = random.randint(5300, 9999)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, socket.socket() as t:
            try:
                s.bind((ip, port))
                t.bind((ip, port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port for the DNS server")


@contextlib.contextmanager
def dnsmasq(records, ip=DNS_IP):
    """dnsmasq on ip:port serving records (its command-line options); yields "ip:port" for
    dns.resolvers."""
    if shutil.which("dnsmasq") is None and not os.path.exists("/usr/sbin/dnsmasq"):
        pytest.skip("dnsmasq is not installed (scripts/install-deps.sh test)")
    port = free_udp_port(ip)
    proc = subprocess.Popen(
        ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
         "--conf-file=/dev/null", "--pid-file=", "--bind-interfaces",
         f"--listen-address={ip}", f"--port={port}", "--user=root", "--log-facility=-",
         *records], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 5
    while time.time() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((ip, port))
            except OSError:
                break  # dnsmasq holds it
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    try:
        yield f"{ip}:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_quiet_dns = None


def quiet_dns():
    """A DNS server on loopback for every instance that has no test DNS of its own: dnsmasq
    answering NXDOMAIN for every name at once, so no lookup leaves the machine and none waits
    for a timeout. Started once, stopped when the tests end."""
    global _quiet_dns
    if _quiet_dns is None:
        cm = dnsmasq(["--local=/#/"])
        _quiet_dns = (cm, cm.__enter__())
        atexit.register(cm.__exit__, None, None, None)
    return _quiet_dns[1]


class Instance:
    def __init__(self, root, domain="example.test", listen="127.0.0.1"):
        self.root = root
        self.dir = os.path.join(root, "instance")
        self.domain = domain
        self.listen = listen
        self.port_base = free_port_base()
        self.conf = os.path.join(self.dir, "estafeta.conf")
        self.data = os.path.join(self.dir, "data")  # the run_as user's: db, messages, maildrop
        self.log_path = os.path.join(root, "serve.log")
        self.proc = None
        self.env = {}  # added to serve's environment
        self.passwords = {}
        out = self.cli("init", self.dir, "--domain", domain, "--hostname", "mx." + domain,
                       "--port-base", str(self.port_base), "--listen", listen)
        assert "Created an estafeta instance" in out
        # No lookup leaves loopback: a test with names to serve gives its own DNS server.
        self.config("dns.resolvers", quiet_dns())

    # -- admin --
    def cli(self, *args, input=None, check=True):
        """Runs an estafeta command; returns its stdout (raises when check and it fails)."""
        cmd = [ESTAFETA, "-c", self.conf, *args] if args[0] != "init" else [ESTAFETA, *args]
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=60,
                           text=isinstance(input, str) or input is None)
        if check and p.returncode != 0:
            raise AssertionError(f"{cmd} failed ({p.returncode}): {p.stderr}")
        return p.stdout if check else p

    def config(self, name, value):
        self.cli("config", "set", name, str(value))

    def add_user(self, address, password=None):
        password = password or "pw-" + address.split("@")[0] + "-Secret1"
        self.cli("user", "add", address, "--password-stdin", input=password + "\n")
        self.passwords[address] = password
        return password

    def mailbox(self, address, folder=None):
        """The lines of `mailbox list` split into fields, its header row left out."""
        args = ["mailbox", "list", address] + ([folder] if folder else [])
        header, *lines = self.cli(*args).splitlines()
        assert header == "UID\tFLAGS\tSIZE\tDATE\tFROM\tSUBJECT", header
        return [line.split("\t") for line in lines if line]

    def message(self, address, uid, folder=None):
        args = ["mailbox", "show", address, str(uid)] + ([folder] if folder else [])
        p = subprocess.run([ESTAFETA, "-c", self.conf, *args], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def wait_for_messages(self, address, count, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.mailbox(address)) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{address} has {len(self.mailbox(address))} messages, want {count}")

    # -- server --
    def port(self, service):
        return self.port_base + SERVICES[service] % 1000

    def start(self):
        # Test runs of several builds may share the machine: when one took our ports between
        # free_port_base and the bind, move to other ports and try again.
        for _ in range(5):
            if self.start_once():
                return self
            for service, port in SERVICES.items():
                self.config(service + ".port", self.port_base + port % 1000)
        raise AssertionError("no free ports:\n" + self.read_log())

    def start_once(self):
        """Starts serve; False when its ports were taken, so nothing started."""
        self.log = open(self.log_path, "ab")
        log = self.read_log()
        starts, taken = log.count("serve started"), log.count("Address already in use")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.update(self.env)
        self.proc = subprocess.Popen([ESTAFETA, "-c", self.conf, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None and self.read_log().count("Address already in use") > taken:
                self.proc = None
                self.log.close()
                self.port_base = free_port_base()
                return False
            assert self.proc.poll() is None, "serve exited:\n" + self.read_log()
            try:
                # Our server's start in the log first: another test run that took the same
                # ports in the meantime would answer the probes too.
                if self.read_log().count("serve started") == starts:
                    raise OSError("not started yet")
                for service in SERVICES:
                    socket.create_connection((self.listen, self.port(service)), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        raise AssertionError("serve did not start:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        self.log.close()
        return code

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- clients --
    def smtp(self, service="smtp", helo=True, **kw):
        if service == "submissions":
            c = smtplib.SMTP_SSL(self.listen, self.port(service), context=insecure_tls(),
                                 timeout=30, **kw)
        else:
            c = smtplib.SMTP(self.listen, self.port(service), timeout=30, **kw)
        if helo:
            c.ehlo("client.test")
        return c

    def raw(self, service="smtp"):
        return RawSMTP(self.listen, self.port(service))

    def pop3(self, service="pop3", user=None):
        """A poplib client; logged in with USER/PASS when user is given."""
        if service == "pop3s":
            c = poplib.POP3_SSL(self.listen, self.port(service), context=insecure_tls(), timeout=30)
        else:
            c = poplib.POP3(self.listen, self.port(service), timeout=30)
        if user is not None:
            c.user(user)
            c.pass_(self.passwords[user])
        return c

    def imap(self, service="imap", user=None):
        """An imaplib client; logged in with LOGIN when user is given."""
        if service == "imaps":
            c = imaplib.IMAP4_SSL(self.listen, self.port(service), ssl_context=insecure_tls(),
                                  timeout=30)
        else:
            c = imaplib.IMAP4(self.listen, self.port(service), timeout=30)
        if user is not None:
            c.login(user, self.passwords[user])
        return c


def insecure_tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RawSMTP:
    """A line-level SMTP client for what smtplib will not send: pipelined bursts, bad syntax,
    bare line ends."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; got " + repr(self.buf))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One whole reply: (code, [text lines])."""
        lines = []
        while True:
            line = self.line()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """True when the server has closed the connection."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


@pytest.fixture
def instance_factory():
    made = []

    def make(tmpfs_size=None, **kw):
        """tmpfs_size: put the instance on a tmpfs of that size (needs root), to fill it."""
        root = tempfile.mkdtemp(prefix="estafeta-test-")
        os.chmod(root, 0o755)  # the run_as user must reach the instance inside
        if tmpfs_size is not None:
            os.mkdir(os.path.join(root, "instance"))
            if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_size},mode=0755", "tmpfs",
                               os.path.join(root, "instance")]).returncode != 0:
                shutil.rmtree(root)
                pytest.skip("cannot mount a tmpfs here")
        inst = Instance(root, **kw)
        inst.mounted = tmpfs_size is not None
        made.append(inst)
        return inst

    yield make
    # Every instance stops before any is judged, so a failure of one never leaves another
    # running (and holding its ports) for the tests that follow.
    results = []
    for inst in made:
        code = inst.stop()
        log = inst.read_log() if os.path.exists(inst.log_path) else ""
        if inst.mounted:
            subprocess.run(["umount", inst.dir])
        shutil.rmtree(inst.root, ignore_errors=True)
        results.append((code, log))
    for code, log in results:
        assert "Sanitizer" not in log and "runtime error" not in log, log
        assert code in (None, 0), f"serve exited with {code}:\n{log}"


@pytest.fixture
def server(instance_factory):
    """A running instance for example.test with users alice and bob."""
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.add_user("bob@example.test")
    inst.config("auth.failure_delay", "0s")
    return inst.start()
