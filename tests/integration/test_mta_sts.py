"""MTA-STS (RFC 8461) on outbound mail: instance a (a.test, 127.0.0.1) sends to bob@b.test,
whose MX is instance b (mx.b.test, 127.0.0.2). A real DNS server (dnsmasq) publishes b.test's
"_mta-sts" TXT record and the policy host mta-sts.b.test (127.0.0.9), where Python's HTTPS
server (the ssl module) serves the policy; a test CA made with openssl signs the policy host's
certificate and, when a test wants it, b's. a trusts that CA (outbound.tls_ca_file).
"""
import http.server
import os
import pathlib
import shutil
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from test_outbound import DNS_RECORDS, dnsmasq

POLICY_HOST = "127.0.0.9"
ENFORCE = "version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmax_age: 86400\r\n"


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def ca():
    """A CA and certificates it signed: {"ca": path, name: (cert, key)} for the policy host
    and for mx.b.test, in a folder the servers' unprivileged user can read."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="estafeta-ca-"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
            "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))
    out = {"ca": str(d / "ca.pem")}
    for name in ("mta-sts.b.test", "mx.b.test"):
        key, csr, cert = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem"
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", str(key), "-out", str(csr))
        (d / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
                "-CAcreateserial", "-days", "2", "-extfile", str(d / f"{name}.ext"), "-out", str(cert))
        out[name] = (str(cert), str(key))
    os.chmod(d, 0o755)
    for f in os.listdir(d):
        os.chmod(d / f, 0o644)
    yield out
    shutil.rmtree(d)


class PolicyServer:
    """The policy host: answers /.well-known/mta-sts.txt with what the test sets."""

    def __init__(self, cert, key):
        self.status, self.body, self.content_type, self.requests = 200, ENFORCE, "text/plain", 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                body = server.body.encode()
                self.send_response(server.status)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((POLICY_HOST, 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def policy(ca):
    server = PolicyServer(*ca["mta-sts.b.test"])
    yield server
    server.close()


def start_pair(instance_factory, ca, policy, address, b_signed):
    a = instance_factory(domain="a.test", listen="127.0.0.1")
    b = instance_factory(domain="b.test", listen="127.0.0.2")
    a.add_user("alice@a.test")
    b.add_user("bob@b.test")
    if b_signed:  # else b keeps the self-signed certificate init made
        cert, key = ca["mx.b.test"]
        b.config("tls.cert", cert)
        b.config("tls.key", key)
    a.config("outbound.tls_ca_file", ca["ca"])
    a.config("outbound.mta_sts_port", policy.port)
    for inst, other in ((a, b), (b, a)):
        inst.config("dns.resolvers", address)
        inst.config("outbound.port", other.port("smtp"))
        inst.config("queue.retry_schedule", "1s")
    return a.start(), b.start()


def send(a, subject):
    c = a.smtp("submission")
    c.login("alice@a.test", a.passwords["alice@a.test"])
    c.sendmail("alice@a.test", ["bob@b.test"],
               f"From: <alice@a.test>\r\nTo: <bob@b.test>\r\nSubject: {subject}\r\n\r\nHi.\r\n".encode())
    c.quit()


def wait_log(inst, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in inst.read_log():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the log:\n{inst.read_log()}")


RECORDS = DNS_RECORDS + [f"--host-record=mta-sts.b.test,{POLICY_HOST}",
                         "--txt-record=_mta-sts.b.test,v=STSv1; id=20261204a"]


def test_enforced_policy_delivers_over_verified_tls(instance_factory, ca, policy):
    with dnsmasq(RECORDS) as address:
        a, b = start_pair(instance_factory, ca, policy, address, b_signed=True)
        send(a, "enforced")
        b.wait_for_messages("bob@b.test", 1, timeout=30)
        msg = b.message("bob@b.test", 1)
        assert b"(using TLSv1." in msg
        wait_log(a, "queue mta-sts domain=b.test id=20261204a mode=enforce max_age=86400 mx=1")
        assert "mx=mx.b.test mta-sts=enforce" in a.read_log()
        # a second message takes the cached policy: no second fetch
        send(a, "again")
        b.wait_for_messages("bob@b.test", 2, timeout=30)
        assert policy.requests == 1


def test_enforced_policy_refuses_a_certificate_it_cannot_verify(instance_factory, ca, policy):
    with dnsmasq(RECORDS) as address:
        a, b = start_pair(instance_factory, ca, policy, address, b_signed=False)
        send(a, "self-signed")
        wait_log(a, "4.7.0 TLS handshake failed: certificate")
        # never in the clear: nothing reached bob, the message waits in a's queue
        time.sleep(2)
        assert b.mailbox("bob@b.test") == []
        assert "bob@b.test" in a.cli("queue", "list")


def test_mx_outside_the_policy_is_not_used(instance_factory, ca, policy):
    policy.body = ENFORCE.replace("mx: mx.b.test", "mx: *.elsewhere.test")
    with dnsmasq(RECORDS) as address:
        a, b = start_pair(instance_factory, ca, policy, address, b_signed=True)
        send(a, "wrong mx")
        wait_log(a, "mx=mx.b.test left out: not in its MTA-STS policy")
        wait_log(a, "no MX host matches the domain's MTA-STS policy")
        assert b.mailbox("bob@b.test") == []


def test_testing_mode_delivers_anyway(instance_factory, ca, policy):
    policy.body = ENFORCE.replace("mode: enforce", "mode: testing")
    with dnsmasq(RECORDS) as address:
        a, b = start_pair(instance_factory, ca, policy, address, b_signed=False)
        send(a, "testing")
        b.wait_for_messages("bob@b.test", 1, timeout=30)
        assert "domain=b.test mta-sts=testing" in a.read_log()


@pytest.mark.parametrize("status,content_type,body,why", [
    (404, "text/plain", "not here", "not 200 OK"),
    (200, "text/html", ENFORCE, "not text/plain"),
    (200, "text/plain", "version: STSv1\r\nmode: enforce\r\n", "cannot be read"),
])
def test_a_policy_that_cannot_be_fetched_counts_as_none(instance_factory, ca, policy, status,
                                                        content_type, body, why):
    policy.status, policy.content_type, policy.body = status, content_type, body
    with dnsmasq(RECORDS) as address:
        a, b = start_pair(instance_factory, ca, policy, address, b_signed=False)
        send(a, "no policy")
        b.wait_for_messages("bob@b.test", 1, timeout=30)
        wait_log(a, "queue mta-sts domain=b.test id=20261204a policy fetch failed")
        assert why in a.read_log()
