"""Third-party mail servers for interoperability tests: a real Dovecot (IMAP) and a real Postfix
(submission) from Debian's packages, private to one test, on 127.0.0.1 only.

    with ThirdParty(root_dir) as tp:
        ... IMAP with STARTTLS on 127.0.0.1:tp.imap_port, submission on tp.submission_port ...
        tp.wait_for_message("bob@other.test", 1)

Both are started the way bench/ starts them (bench/imap.sh, bench/pop3.sh, bench/run.sh): their own
configuration, state and logs in a folder of their own, never the system's instances nor anything
under /etc. Dovecot: `dovecot -c FILE` with its own base_dir, a passwd-file passdb and a static
userdb (every mailbox belongs to nobody:nogroup), Maildirs, STARTTLS with a self-signed certificate
(ssl = required), the SPECIAL-USE folders Sent, Drafts, Trash and Junk created on login. Postfix:
`postfix -c DIR start` with its own config_directory, queue_directory and data_directory, a master.cf
with only the services it needs, and one smtpd: the submission listener (STARTTLS required, SASL
AUTH through Dovecot's auth socket, relay only when authenticated). Mail for the domain's users is
delivered by Postfix's virtual(8) into the Maildirs Dovecot serves.

Needs root (both start as root and drop privileges) and the packages dovecot-imapd and postfix.
Postfix's and Dovecot's own users must reach the folders: when root_dir cannot be traversed by
others (pytest's tmp_path is mode 0700) or is too long for Unix socket names, the servers run in a
folder made under /tmp, removed when they stop; their logs are copied into root_dir then.
"""
import base64
import hashlib
import os
import pwd
import grp
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = "/usr/sbin/dovecot"
POSTFIX = "/usr/sbin/postfix"

# Postfix's services this instance uses (upstream's master.cf, chroot off): the queue manager and
# its helpers, virtual(8) for delivery, error(8) for what is not delivered, postlogd for
# maillog_file. The submission smtpd is added in front. No local(8), smtp(8), pickup(8): nothing is
# delivered to local users, nothing leaves the machine, nothing is posted with sendmail.
POSTFIX_SERVICES = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# Longest root_dir used in place: Unix socket paths (108 bytes at most) are made under it, the
# longest Dovecot's and Postfix's, e.g. ROOT/dovecot/run/token-login/tokenlogin.
MAX_ROOT_LEN = 60


def _port_range_outside_ephemeral():
    """Ports to choose from: above Linux's ephemeral range when there is room (client sockets
    take ports from that range, one could take ours between the check and the bind), else
    below it, above the ranges tests/integration/conftest.py uses."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if high < 64500:
        return high + 1, 65535
    return 32000, low - 1


def _free_ports(n):
    lo, hi = _port_range_outside_ephemeral()
    ports = []
    for _ in range(1000):
        port = random.randint(lo, hi)
        if port in ports:
            continue
        with socket.socket() as s:
            # As the servers bind: connections of earlier tests in TIME_WAIT do not count.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == n:
            return ports
    raise RuntimeError("no free ports on 127.0.0.1")


def _run(cmd, log):
    """Runs cmd with its output appended to the file log; returns its exit status. Not through
    pipes: the daemons it starts keep them open, and reading to their end would never finish."""
    with open(log, "a") as f:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                              timeout=60).returncode


def _port_answers(port):
    """True when a server on 127.0.0.1:port accepts and greets (the first line arrives)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.settimeout(2)
            return s.recv(1) != b""
    except OSError:
        return False


def _reachable_by_others(path):
    """True when every folder from / down to path can be traversed by other users."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _children(pid):
    """The pids of pid's descendants (from /proc)."""
    by_parent = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: the fields follow the last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        by_parent.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _wait_gone(pids, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


def _kill_remaining(pids):
    """SIGKILL for what did not stop when asked, then a last wait."""
    for p in pids:
        if _alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _wait_gone(pids, 5)


class ThirdParty:
    """Dovecot (IMAP with STARTTLS, self-signed cert) + Postfix (submission with STARTTLS + SASL
    AUTH via Dovecot's auth socket), one domain, users with passwords; mail submitted to Postfix for
    users of the domain is delivered by Postfix's virtual(8) into the Maildirs Dovecot serves.

    Logins take PLAIN, LOGIN and SCRAM-SHA-256; the users in hashed_only have their passwords
    kept as salted SHA-256, from which no SCRAM login can be made (SCRAM offered, it fails).

    Attributes: imap_port, submission_port (127.0.0.1), domain, users ({address: password}),
    hostname (the servers' name, mx.DOMAIN, in the certificate with localhost and 127.0.0.1),
    cert_path (the self-signed certificate, PEM, to trust), dir (where the servers run),
    dovecot_log, postfix_log (their log files while they run)."""

    def __init__(self, root_dir, domain="other.test",
                 users={"ann@other.test": "pw-ann-1", "bob@other.test": "pw-bob-1"}, hashed_only=()):
        for dep, pkg in ((DOVECOT, "dovecot-imapd"), ("/usr/lib/dovecot/imap", "dovecot-imapd"),
                         (POSTFIX, "postfix")):
            if not os.path.exists(dep):
                raise RuntimeError(f"{dep} is missing: apt-get install -y {pkg}")
        self.root_dir = os.path.abspath(root_dir)
        self.domain = domain
        self.users = dict(users)
        self.hashed_only = set(hashed_only)
        for address in self.users:
            if not address.endswith("@" + domain):
                raise ValueError(f"{address} is not in {domain}")
        self.hostname = "mx." + domain
        self.imap_port, self.submission_port = _free_ports(2)
        self.dir = None
        self._private_dir = False
        self._dovecot_pid = None
        self._postfix_started = False

    # -- paths --
    def maildir(self, address):
        local, domain = address.split("@")
        return os.path.join(self.dir, "mail", domain, local, "Maildir")

    def _paths(self):
        d = self.dir
        self.cert_path = os.path.join(d, "cert.pem")
        self._key_path = os.path.join(d, "key.pem")
        self._dc = os.path.join(d, "dovecot")
        self._dovecot_conf = os.path.join(self._dc, "dovecot.conf")
        self.dovecot_log = os.path.join(self._dc, "dovecot.log")
        self._auth_socket = os.path.join(self._dc, "auth-postfix")
        self._pf = os.path.join(d, "postfix")
        self._pf_conf = os.path.join(self._pf, "conf")
        self.postfix_log = os.path.join(self._pf, "maillog")

    # -- start --
    def __enter__(self):
        os.makedirs(self.root_dir, exist_ok=True)
        if _reachable_by_others(self.root_dir) and len(self.root_dir) <= MAX_ROOT_LEN:
            self.dir = os.path.join(self.root_dir, "thirdparty")
            self._paths()
            self._stop_leftovers()
            shutil.rmtree(self.dir, ignore_errors=True)
            os.makedirs(self.dir)
        else:
            self.dir = tempfile.mkdtemp(prefix="estafeta-3p-")
            self._private_dir = True
        os.chmod(self.dir, 0o755)
        self._paths()
        try:
            self._make_cert()
            self._make_mailboxes()
            self._start_dovecot()
            self._start_postfix()
        except BaseException as e:
            self.__exit__(type(e), e, e.__traceback__)  # stops what started; e is what counts
            raise
        return self

    def _stop_leftovers(self):
        """Stops the servers a killed earlier run left in the same folder, as bench/run.sh does."""
        if os.path.exists(os.path.join(self._pf_conf, "main.cf")):
            self._stop_postfix()
        try:
            with open(os.path.join(self._dc, "run", "master.pid")) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if self._dovecot_conf.encode() in f.read():
                    self._stop_dovecot(pid)
        except (OSError, ValueError):
            pass

    def _make_cert(self):
        p = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={self.hostname}",
             "-addext", f"subjectAltName=DNS:{self.hostname},DNS:localhost,IP:127.0.0.1",
             "-keyout", self._key_path, "-out", self.cert_path],
            capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("openssl req failed: " + p.stderr)
        os.chmod(self.cert_path, 0o644)
        os.chmod(self._key_path, 0o600)

    def _make_mailboxes(self):
        """Every user's Maildir (new, cur, tmp), owned by nobody:nogroup, whom Postfix delivers
        as and Dovecot serves as; the INBOX is there before the first message or login."""
        nobody = pwd.getpwnam("nobody")
        mail = os.path.join(self.dir, "mail")
        os.makedirs(mail)
        os.chmod(mail, 0o755)
        for address in self.users:
            md = self.maildir(address)
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(md, sub))
            top = os.path.join(mail, address.split("@")[1])
            for root, dirs, _ in os.walk(top):
                os.chown(root, nobody.pw_uid, nobody.pw_gid)
                os.chmod(root, 0o700)
            os.chmod(top, 0o755)

    def _start_dovecot(self):
        dc = self._dc
        for sub in ("run", "state"):
            os.makedirs(os.path.join(dc, sub))
        os.chmod(dc, 0o755)
        passwd = os.path.join(dc, "passwd")
        with open(passwd, "w") as f:
            for address, password in self.users.items():
                if address in self.hashed_only:
                    salt = os.urandom(8)
                    digest = hashlib.sha256(password.encode() + salt).digest()
                    f.write(f"{address}:{{SSHA256}}{base64.b64encode(digest + salt).decode()}\n")
                else:
                    f.write(f"{address}:{{PLAIN}}{password}\n")
        # Read by Dovecot's auth process, which runs as its internal user.
        internal = pwd.getpwnam("dovecot")
        os.chown(passwd, 0, internal.pw_gid)
        os.chmod(passwd, 0o640)
        dh = "/usr/share/dovecot/dh.pem"
        postfix = pwd.getpwnam("postfix")
        postfix_group = grp.getgrgid(postfix.pw_gid).gr_name
        mail = os.path.join(self.dir, "mail")
        conf = f"""\
# Private Dovecot for tests/integration/thirdparty.py.
base_dir = {dc}/run
state_dir = {dc}/state
log_path = {self.dovecot_log}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.cert_path}
ssl_key = <{self._key_path}
{f"ssl_dh = <{dh}" if os.path.exists(dh) else ""}
disable_plaintext_auth = yes
auth_mechanisms = plain login scram-sha-256
# A wrong password is answered at once, and does not slow down the next logins from 127.0.0.1
# (the auth penalty, below): tests try wrong passwords on purpose.
auth_failure_delay = 0
mail_location = maildir:{mail}/%d/%n/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    auto = create
    special_use = \\Drafts
  }}
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
  mailbox Trash {{
    auto = create
    special_use = \\Trash
  }}
  mailbox Junk {{
    auto = create
    special_use = \\Junk
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  # Postfix's smtpd (user postfix) authenticates its submission clients here.
  unix_listener {self._auth_socket} {{
    mode = 0660
    user = {postfix.pw_name}
    group = {postfix_group}
  }}
}}
"""
        with open(self._dovecot_conf, "w") as f:
            f.write(conf)
        if _run([DOVECOT, "-c", self._dovecot_conf], os.path.join(dc, "start.log")) != 0:
            raise RuntimeError("Dovecot did not start: " + self._tail(os.path.join(dc, "start.log"))
                               + self._tail(self.dovecot_log))
        pidfile = os.path.join(dc, "run", "master.pid")
        self._wait(lambda: os.path.exists(pidfile), 10, "Dovecot to write its pid")
        with open(pidfile) as f:
            self._dovecot_pid = int(f.read().strip())
        self._wait(lambda: _port_answers(self.imap_port), 20, "Dovecot to listen",
                   self.dovecot_log)
        self._wait(lambda: os.path.exists(self._auth_socket), 10, "Dovecot's auth socket",
                   self.dovecot_log)

    def _start_postfix(self):
        pf = self._pf
        queue, data, conf = os.path.join(pf, "queue"), os.path.join(pf, "data"), self._pf_conf
        for d in (queue, data, conf):
            os.makedirs(d)
        os.chmod(pf, 0o755)
        postfix = pwd.getpwnam("postfix")
        # Postfix's data directory belongs to its mail_owner; it makes the queue's subfolders.
        os.chown(data, postfix.pw_uid, postfix.pw_gid)
        nobody = pwd.getpwnam("nobody")
        mailboxes = ", ".join(f"{a}={a.split('@')[1]}/{a.split('@')[0]}/Maildir/"
                              for a in self.users)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""\
# Generated by tests/integration/thirdparty.py: a private Postfix, submission for {self.domain}.
compatibility_level = 3.6
config_directory = {conf}
queue_directory = {queue}
data_directory = {data}
maillog_file = {self.postfix_log}
maillog_file_prefixes = {pf}
myhostname = {self.hostname}
mydomain = {self.domain}
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no
# No DNS: mail for {self.domain} is delivered here, other mail is not sent anywhere.
smtp_dns_support_level = disabled
local_transport = error:5.1.1 no local delivery in this test server
default_transport = error:5.7.1 no outbound mail from this test server
relay_transport = $default_transport
virtual_mailbox_domains = {self.domain}
virtual_mailbox_base = {self.dir}/mail
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
smtpd_tls_chain_files = {self._key_path}, {self.cert_path}
smtpd_tls_received_header = yes
smtpd_tls_auth_only = yes
""")
        listener = (f"127.0.0.1:{self.submission_port} inet n - n - - smtpd\n"
                    "  -o syslog_name=postfix/submission\n"
                    "  -o smtpd_tls_security_level=encrypt\n"
                    "  -o smtpd_sasl_auth_enable=yes\n"
                    "  -o smtpd_sasl_type=dovecot\n"
                    f"  -o smtpd_sasl_path={self._auth_socket}\n"
                    "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n")
        with open(os.path.join(conf, "master.cf"), "w") as f:
            f.write("# Generated by tests/integration/thirdparty.py.\n"
                    "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
                    + listener + POSTFIX_SERVICES)
        self._postfix_started = True  # from here on, __exit__ stops it
        # Not `postfix check` first, as bench/ does: start makes the queue's folders and checks
        # what must be right all the same; check adds warnings about the installed files and
        # takes 3 s.
        start_log = os.path.join(pf, "start.log")
        if _run([POSTFIX, "-c", conf, "start"], start_log) != 0:
            raise RuntimeError(f"postfix start failed: {self._tail(start_log)}"
                               f"{self._tail(self.postfix_log)}")
        self._wait(lambda: _port_answers(self.submission_port), 20, "Postfix to listen",
                   self.postfix_log)

    # -- stop --
    def __exit__(self, *a):
        errors = []
        if self._postfix_started:
            self._postfix_started = False
            try:
                self._stop_postfix()
            except Exception as e:  # stop Dovecot all the same
                errors.append(e)
        if self._dovecot_pid:
            pid, self._dovecot_pid = self._dovecot_pid, None
            try:
                self._stop_dovecot(pid)
            except Exception as e:
                errors.append(e)
        if self._private_dir and self.dir:
            # Keep the logs where the caller looks; the rest goes with the folder.
            for log in (self.dovecot_log, self.postfix_log):
                if os.path.exists(log):
                    shutil.copy(log, os.path.join(self.root_dir, "thirdparty-" + os.path.basename(log)))
            shutil.rmtree(self.dir, ignore_errors=True)
            self._private_dir = False
        if errors and a[0] is None:
            raise errors[0]
        return False

    def _postfix_master_pid(self):
        try:
            with open(os.path.join(self._pf, "data", "master.lock")) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def _stop_postfix(self):
        conf = self._pf_conf
        master = self._postfix_master_pid()
        pids = ([master] + _children(master)) if master and _alive(master) else []
        _run([POSTFIX, "-c", conf, "stop"], os.path.join(self._pf, "stop.log"))
        # postfix stop only signals the master; its children leave at their own pace.
        if not _wait_gone(pids, 10):
            _run([POSTFIX, "-c", conf, "abort"], os.path.join(self._pf, "stop.log"))
            if not _wait_gone(pids, 5):
                _kill_remaining(pids)

    def _stop_dovecot(self, pid):
        if not _alive(pid):
            return
        pids = [pid] + _children(pid)
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pids, 10):
            _kill_remaining(pids)

    # -- mailboxes --
    def messages(self, address):
        """The file names of the messages in address's INBOX (Maildir new/ and cur/)."""
        md = self.maildir(address)
        names = []
        for sub in ("new", "cur"):
            try:
                names += [n for n in os.listdir(os.path.join(md, sub)) if not n.startswith(".")]
            except FileNotFoundError:
                pass
        return names

    def wait_for_message(self, address, count, timeout=20):
        """Waits until address's INBOX holds count messages (or more); raises AssertionError,
        with the end of Postfix's log, when it does not within timeout seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.messages(address)) >= count:
                return
            time.sleep(0.05)
        n = len(self.messages(address))
        if n >= count:
            return
        raise AssertionError(f"{address} has {n} messages, want {count}; Postfix's log:\n"
                             + self._tail(self.postfix_log))

    def imap_logins(self):
        """Dovecot's successful IMAP logins so far, oldest first: (user, method, tls) for each,
        tls True when the session had STARTTLS. Dovecot lets 127.0.0.1 log in without TLS
        (a connection whose two ends have the same address counts as secured, whatever the
        settings), so this is how a test sees that a client did use STARTTLS."""
        logins = []
        try:
            with open(self.dovecot_log, errors="replace") as f:
                for line in f:
                    if "imap-login: Info: Login: " not in line:
                        continue
                    fields = [x.strip() for x in line.split("Login: ", 1)[1].split(",")]
                    user = method = ""
                    for x in fields:
                        if x.startswith("user=<"):
                            user = x[6:-1]
                        elif x.startswith("method="):
                            method = x[7:]
                    logins.append((user, method, "TLS" in fields))
        except FileNotFoundError:
            pass
        return logins

    # -- helpers --
    @staticmethod
    def _tail(path, lines=20):
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def _wait(self, cond, timeout, what, log=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.05)
        if cond():
            return
        raise RuntimeError(f"timed out waiting for {what}" + (": " + self._tail(log) if log else ""))
