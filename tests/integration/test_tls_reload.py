"""TLS never switches itself off: a reload whose certificate cannot be read or does not match
its key keeps the old one (STARTTLS still offered, implicit-TLS ports still TLS, AUTH never in
clear), a start with a certificate that cannot be loaded fails with one line, and an
implicit-TLS port without a certificate does not start. SIGHUP says what it applied and what
waits for a restart."""
import imaplib
import os
import poplib
import signal
import socket
import ssl
import subprocess
import time

from conftest import ESTAFETA, insecure_tls


def reload(inst):
    """Sends SIGHUP and waits for the server's report; returns the log lines written since, up
    to the report (sessions of the start's probes may log theirs after it)."""
    before = inst.read_log()
    inst.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 15
    while time.time() < deadline:
        log = inst.read_log()
        new = log[len(before):]
        lines = new.splitlines()
        for i, line in enumerate(lines):
            if "serve reloaded" in line or "serve reload failed" in line:
                return lines[:i + 1]
        time.sleep(0.05)
    raise AssertionError("no reload report:\n" + inst.read_log())


def make_other_key(path):
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", path], check=True, capture_output=True)


def assert_tls_everywhere(inst):
    """STARTTLS offered where it belongs, implicit TLS on 465/993/995, no AUTH in clear."""
    with inst.smtp("submission") as c:
        assert c.has_extn("starttls") and not c.has_extn("auth")
        c.starttls(context=insecure_tls())
        c.ehlo("client.test")
        assert "PLAIN" in c.esmtp_features["auth"]
    with inst.smtp() as c:
        assert c.has_extn("starttls")
    with inst.smtp("submissions") as c:  # a TLS handshake, then AUTH
        assert isinstance(c.sock, ssl.SSLSocket) and c.has_extn("auth")
    imap = inst.imap()
    caps = imap.capabilities
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps and not any(c.startswith("AUTH=") for c in caps)
    imap.logout()
    imaplib.IMAP4_SSL(inst.listen, inst.port("imaps"), ssl_context=insecure_tls(), timeout=30).logout()
    pop = inst.pop3()
    assert "STLS" in pop.capa()
    pop.quit()
    poplib.POP3_SSL(inst.listen, inst.port("pop3s"), context=insecure_tls(), timeout=30).quit()
    for service in ("submissions", "imaps", "pop3s"):
        with socket.create_connection((inst.listen, inst.port(service)), timeout=5) as s:
            s.settimeout(1)
            try:  # a TLS server waits for the client's hello: no plaintext greeting
                assert s.recv(100) == b"", service
            except socket.timeout:
                pass


def tls_instance(instance_factory):
    inst = instance_factory()
    inst.add_user("alice@example.test")
    inst.config("auth.allow_plaintext_loopback", "no")  # AUTH only under TLS, even here
    return inst.start()


def test_an_unreadable_key_at_reload_keeps_the_old_certificate(instance_factory):
    inst = tls_instance(instance_factory)
    key = os.path.join(inst.dir, "tls", "key.pem")
    os.chown(key, 0, 0)
    os.chmod(key, 0o600)  # as certbot leaves it: root only, and the server is estafeta now
    lines = reload(inst)
    warnings = [l for l in lines if " warn " in l]
    assert len(warnings) == 1, lines
    assert f"kept the old TLS certificate: cannot read {key}: Permission denied" in warnings[0]
    assert "tls=kept-old" in lines[-1] and "tls disabled" not in inst.read_log()
    assert_tls_everywhere(inst)


def test_a_key_that_does_not_match_at_reload_keeps_the_old_certificate(instance_factory):
    inst = tls_instance(instance_factory)
    make_other_key(os.path.join(inst.dir, "tls", "key.pem"))
    lines = reload(inst)
    assert [l for l in lines if "kept the old TLS certificate" in l and "mismatch" in l], lines
    assert "tls=kept-old" in lines[-1]
    assert_tls_everywhere(inst)


def test_a_good_certificate_at_reload_replaces_the_old_one(instance_factory):
    inst = tls_instance(instance_factory)
    tls = os.path.join(inst.dir, "tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=renewed.example.test", "-days", "2",
                    "-keyout", os.path.join(tls, "key.pem"), "-out", os.path.join(tls, "cert.pem")],
                   check=True, capture_output=True)
    lines = reload(inst)
    assert "tls=reloaded" in lines[-1] and not [l for l in lines if " warn " in l], lines
    with socket.create_connection((inst.listen, inst.port("imaps")), timeout=5) as raw:
        with insecure_tls().wrap_socket(raw) as s:
            cert = ssl.DER_cert_to_PEM_cert(s.getpeercert(binary_form=True))
    with open(os.path.join(tls, "cert.pem")) as f:
        assert cert.split("-----")[2].split() == f.read().split("-----")[2].split()
    assert_tls_everywhere(inst)


def start_fails(inst):
    p = subprocess.run([ESTAFETA, "-c", inst.conf, "serve"], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    errors = [l for l in p.stderr.splitlines() if l.startswith("estafeta: ")]
    assert len(errors) == 1 and p.stderr.rstrip("\n").endswith(errors[0]), p.stderr
    return errors[0]


def test_a_start_with_a_certificate_that_cannot_be_loaded_fails_in_one_line(instance_factory):
    inst = instance_factory()
    key = os.path.join(inst.dir, "tls", "key.pem")
    make_other_key(key)
    error = start_fails(inst)
    assert f"cannot load TLS key {key}" in error and "mismatch" in error
    inst.config("tls.cert", os.path.join(inst.dir, "tls", "missing.pem"))
    error = start_fails(inst)
    assert "missing.pem: No such file or directory" in error


def test_implicit_tls_ports_refuse_to_start_without_a_certificate(instance_factory):
    inst = instance_factory()
    inst.config("tls.cert", "")
    inst.config("auth.allow_plaintext_loopback", "no")
    error = start_fails(inst)
    assert "submissions.port" in error and "no TLS certificate" in error
    for service in ("submissions", "pop3s", "imaps"):
        inst.config(service + ".port", 0)
    proc = subprocess.Popen([ESTAFETA, "-c", inst.conf, "serve"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 15
        while True:
            try:
                c = inst.smtp("submission")
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        with c:  # no STARTTLS, and so no AUTH
            assert not c.has_extn("starttls") and not c.has_extn("auth")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    assert "tls off: tls.cert is empty" in proc.stderr.read()


def test_sighup_says_what_it_applied_and_what_needs_a_restart(server):
    port = server.port("smtp")
    server.config("smtp.timeout", "7m")
    server.config("log.level", "debug")
    server.config("listen", "127.0.0.2")
    server.config("smtp.port", port + 1)
    lines = reload(server)
    assert lines[-1].endswith(f"serve reloaded config={server.conf} applied=log.level,smtp.timeout "
                              "restart_needed=listen,smtp.port tls=reloaded"), lines
    with server.smtp() as c:  # still where it was bound
        assert c.noop()[0] == 250
    lines = reload(server)  # nothing changed since
    assert "applied=none restart_needed=listen,smtp.port" in lines[-1], lines
    with open(server.conf, "a") as f:
        f.write("no such setting = 1\n")
    lines = reload(server)
    assert "serve reload failed, nothing changed" in lines[-1] and "no such setting" in lines[-1]
    with server.smtp() as c:
        assert c.noop()[0] == 250


def test_reload_command_answers_with_the_report_and_fails_when_the_old_certificate_stays(
        instance_factory):
    """`estafeta reload` does what SIGHUP does and prints the report; its status is not 0 when
    something kept its old state, so a deploy hook knows its certificate was not taken."""
    inst = tls_instance(instance_factory)
    inst.config("smtp.timeout", "4m")
    out = inst.cli("reload")
    assert "applied=smtp.timeout" in out and "restart_needed=none" in out and "tls=reloaded" in out, out
    key = os.path.join(inst.dir, "tls", "key.pem")
    os.chown(key, 0, 0)
    os.chmod(key, 0o600)
    p = inst.cli("reload", check=False)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert f"kept the old TLS certificate: cannot read {key}" in p.stdout and "tls=kept-old" in p.stdout
    assert "kept its old state" in p.stderr
    assert_tls_everywhere(inst)
    inst.stop()
    p = inst.cli("reload", check=False)  # no server: says so
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
