"""DKIM signing of outbound mail (RFC 6376, RFC 8301, RFC 8463), checked by an independent
verifier: Debian's python3-dkim (dkimpy), looking the keys up with python3-dnspython in a real
DNS server (dnsmasq) that serves the TXT records `estafeta dkim list` prints.

Instance a (a.test, 127.0.0.1) has keys made by `estafeta dkim keygen a.test` (Ed25519 and
RSA-2048), a second local domain without keys (nokeys.test), and aliases forwarding to b;
instance b (b.test, 127.0.0.2) receives, and what reaches bob's mailbox there is what is
verified.
"""
import email
import email.policy
import re
import smtplib

import dkim
import pytest
from dns import resolver as dns_resolver

from test_outbound import DNS_RECORDS, dnsmasq
from test_sendmail import sendmail


def txt_records(listing):
    """The records of `dkim list`: {name: [strings]} from its indented zone-file lines."""
    records = {}
    for line in listing.splitlines():
        m = re.match(r'\t(\S+)\. IN TXT (.*)$', line)
        if m:
            records[m.group(1)] = re.findall(r'"([^"]*)"', m.group(2))
    return records


def key_lines(inst, domain):
    """The key lines of `dkim list DOMAIN`, split at tabs."""
    return [l.split("\t") for l in inst.cli("dkim", "list", domain).splitlines()
            if l and not l.startswith("\t")]


@pytest.fixture
def signing(instance_factory):
    a = instance_factory(domain="a.test", listen="127.0.0.1")
    b = instance_factory(domain="b.test", listen="127.0.0.2")
    a.cli("domain", "add", "nokeys.test")
    a.add_user("alice@a.test")
    a.add_user("zed@nokeys.test")
    a.cli("alias", "add", "fwd@a.test", "nobody@b.test")
    a.cli("alias", "add", "relay@a.test", "bob@b.test")
    b.add_user("bob@b.test")
    out = a.cli("dkim", "keygen", "a.test")
    records = txt_records(out)
    assert len(records) == 2, out
    assert records == txt_records(a.cli("dkim", "list"))
    # every string of a record fits a TXT character-string; the RSA key needs two
    assert all(len(s) <= 255 for strings in records.values() for s in strings)
    assert sorted(len(s) for s in records.values()) == [1, 2], records
    txt = [f"--txt-record={name}," + ",".join(strings)
           for name, strings in records.items()]
    with dnsmasq(DNS_RECORDS + txt) as address:
        for inst, other in ((a, b), (b, a)):
            inst.config("dns.resolvers", address)
            inst.config("outbound.port", other.port("smtp"))
            inst.config("queue.retry_schedule", "1s")
        a.start()
        b.start()
        yield a, b, txt_lookup(address)


def txt_lookup(address):
    """dkimpy's dnsfunc for the DNS server at "ip:port": a name's TXT strings joined."""
    host, port = address.split(":")
    r = dns_resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)

    def dnsfunc(name, timeout=5):
        answer = r.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        return b"".join(answer[0].strings)

    return dnsfunc


def submit(inst, sender, rcpt, subject, body, extra=""):
    c = inst.smtp("submission")
    c.login(sender, inst.passwords[sender])
    msg = (f"From: Sender <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
           f"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@x>\r\n"
           f"{extra}\r\n{body}")
    c.sendmail(sender, [rcpt], msg.encode())
    c.quit()


def from_another_server(inst, sender, rcpt, subject):
    """Hands inst a message on its port 25, as another server would (no login)."""
    c = smtplib.SMTP(inst.listen, inst.port("smtp"), timeout=30)
    c.sendmail(sender, [rcpt], f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n\r\n"
                               "x\r\n".encode())
    c.quit()


def received(inst, address, count):
    inst.wait_for_messages(address, count, timeout=30)
    return inst.message(address, count)


def signatures(raw):
    """The DKIM-Signature fields of a message, each as a dict of its tags."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = []
    for field in msg.get_all("DKIM-Signature") or []:
        tags = {}
        for part in re.sub(r"\s+", "", field).split(";"):
            if "=" in part:
                name, value = part.split("=", 1)
                tags[name] = value
        out.append(tags)
    return out


def verified(raw, dnsfunc):
    """Whether each signature of the message verifies, in order (dkimpy raises for a body
    hash that does not match)."""
    d = dkim.DKIM(raw)
    results = []
    for i in range(len(signatures(raw))):
        try:
            results.append(d.verify(idx=i, dnsfunc=dnsfunc))
        except dkim.ValidationError:
            results.append(False)
    return results


def test_mail_is_signed_with_both_keys(signing):
    a, b, dnsfunc = signing
    body = "Grüße aus a.\r\nline with trailing space \r\n\r\n"
    submit(a, "alice@a.test", "bob@b.test", "dual signed", body,
           extra="MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n")
    raw = received(b, "bob@b.test", 1)
    sigs = signatures(raw)
    selectors = {l[1]: l[2] for l in key_lines(a, "a.test")}
    assert sorted(s["a"] for s in sigs) == ["ed25519-sha256", "rsa-sha256"], sigs
    for s in sigs:
        assert s["d"] == "a.test" and s["c"] == "relaxed/relaxed" and s["v"] == "1"
        assert s["a"].split("-")[0] == selectors[s["s"]]
        assert "l" not in s and int(s["t"]) > 0
        names = s["h"].split(":")
        assert names.count("from") == 2  # one more than the message has
        for name in ("to", "subject", "date", "message-id", "mime-version", "content-type",
                     "content-transfer-encoding"):
            assert name in names, names
    assert verified(raw, dnsfunc) == [True, True]
    # signed in its 7-bit form, which is what b got and what still reads as the text sent
    assert all(byte < 128 for byte in raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert msg.get_payload(decode=True) == body.encode()
    assert "converted to 7-bit before signing" in a.read_log()
    # a changed body or Subject fails every signature
    tampered_body = raw.replace(b"line with", b"line sans")
    tampered_subject = raw.replace(b"Subject: dual signed", b"Subject: dual signed!")
    assert tampered_body != raw and tampered_subject != raw
    assert verified(tampered_body, dnsfunc) == [False, False]
    assert verified(tampered_subject, dnsfunc) == [False, False]
    # so does a second From put above the signed one
    assert verified(b"From: <boss@a.test>\r\n" + raw, dnsfunc) == [False, False]


def test_retired_key_signs_no_more(signing):
    a, b, dnsfunc = signing
    rsa = [l[1] for l in key_lines(a, "a.test") if l[2] == "rsa"][0]
    out = a.cli("dkim", "retire", "a.test", rsa)
    assert "no longer signs" in out
    states = {l[1]: l[4] for l in key_lines(a, "a.test")}
    assert states[rsa].startswith("retired ") and list(states.values()).count("active") == 1
    # retiring it again is an error that says what to do
    p = a.cli("dkim", "retire", "a.test", rsa, check=False)
    assert p.returncode != 0 and "estafeta dkim list a.test" in p.stderr
    submit(a, "alice@a.test", "bob@b.test", "after retire", "one signature\r\n")
    raw = received(b, "bob@b.test", 1)
    assert [s["a"] for s in signatures(raw)] == ["ed25519-sha256"]
    assert verified(raw, dnsfunc) == [True]


def test_sendmail_mail_is_signed(signing):
    """A script's message, LF line ends and all, leaves signed like a submitted one."""
    a, b, dnsfunc = signing
    sendmail(a, "-f", "alice@a.test", "bob@b.test",
             message="From: alice@a.test\nTo: bob@b.test\nSubject: from cron\n\nnightly report\n")
    raw = received(b, "bob@b.test", 1)
    assert b"nightly report\r\n" in raw
    assert verified(raw, dnsfunc) == [True, True]


def test_domain_without_keys_is_not_signed(signing):
    a, b, dnsfunc = signing
    submit(a, "zed@nokeys.test", "bob@b.test", "unsigned", "no keys here\r\n")
    raw = received(b, "bob@b.test", 1)
    assert b"From: Sender <zed@nokeys.test>" in raw
    assert signatures(raw) == []


def test_forward_of_mail_from_elsewhere_is_not_signed(signing):
    """Mail from another server claiming a From of a.test, forwarded by an alias, leaves as it
    came: signing it would vouch for a forgery."""
    a, b, dnsfunc = signing
    from_another_server(a, "alice@a.test", "relay@a.test", "forged")
    raw = received(b, "bob@b.test", 1)
    assert b"Subject: forged" in raw
    assert signatures(raw) == []


def test_bounce_to_a_remote_sender_is_signed(signing):
    """A's bounce, From MAILER-DAEMON@mx.a.test (its host name), to a sender at b is signed by
    a.test, the local domain above the host name: DMARC's relaxed alignment accepts it."""
    a, b, dnsfunc = signing
    from_another_server(a, "bob@b.test", "fwd@a.test", "to be bounced")
    raw = received(b, "bob@b.test", 1)
    assert b"Return-Path: <>" in raw and b"MAILER-DAEMON@mx.a.test" in raw
    sigs = signatures(raw)
    assert sorted(s["a"] for s in sigs) == ["ed25519-sha256", "rsa-sha256"]
    assert {s["d"] for s in sigs} == {"a.test"}
    assert verified(raw, dnsfunc) == [True, True]


def test_keygen_refuses_what_it_cannot_do(instance_factory):
    a = instance_factory(domain="a.test")
    for args, words in (
            (["b.test"], "estafeta domain add b.test"),
            (["a.test", "--selector", "s1"], "--algorithm"),
            (["a.test", "--algorithm", "dsa"], "ed25519 or rsa"),
            (["a.test", "--selector", "bad_sel!", "--algorithm", "rsa"], "not a selector")):
        p = a.cli("dkim", "keygen", *args, check=False)
        assert p.returncode != 0 and words in p.stderr and p.stderr.count("\n") == 1, p.stderr
    out = a.cli("dkim", "keygen", "a.test", "--selector", "Mine", "--algorithm", "ed25519")
    assert txt_records(out).keys() == {"mine._domainkey.a.test"}
    p = a.cli("dkim", "keygen", "a.test", "--selector", "mine", "--algorithm", "rsa", check=False)
    assert p.returncode != 0 and "already has a key with selector mine" in p.stderr
    assert [l[:3] for l in key_lines(a, "a.test")] == [["a.test", "mine", "ed25519"]]
