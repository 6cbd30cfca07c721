"""ARC (RFC 8617) on received mail: chain validation and the DMARC override for trusted
forwarders, against a real DNS server (Debian's dnsmasq) on loopback.

A forwarder at 127.0.0.3 (fwd.test, or the untrusted other.test) receives mail that
author.test signed with DKIM (p=reject), records what it found in an Authentication-Results
field, tags the Subject and adds a footer (which breaks the author's signature) and seals the
result with Debian's python3-dkim (dkimpy's arc_sign), then hands it to instance b on port 25.
SPF passes for the forwarder's own domain, which is not the author's: DMARC fails at b. With
fwd.test in arc.trusted_sealers, fwd.test's passing chain saying dmarc=pass brings the message
to the INBOX; a chain sealed last by an untrusted sealer, a chain tampered with after sealing,
and a trusted chain that does not vouch for DMARC go to Junk. Mail that an instance
forwards through an alias to another leaves with an ARC set of its own, which dkimpy's
arc_verify and the receiving instance accept. Our Authentication-Results fields are parsed
with python3-authres.
"""
import smtplib

import authres
import dkim
import pytest

from test_dkim_sign import txt_lookup, txt_records
from test_dkim_verify import rsa_key, txt_record
from test_dmarc import by_subject, folder_messages, wait_for
from test_outbound import DNS_RECORDS, dnsmasq

FORWARDER = "127.0.0.3"
ORIGINAL = (b"From: Alice <alice@author.test>\r\nTo: <list@fwd.test>\r\nSubject: {subject}\r\n"
            b"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{mid}@author.test>\r\n"
            b"\r\nLunch at noon?\r\n")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return {name: rsa_key(tmp_path_factory.mktemp(name), 2048) for name in ("author", "fwd", "other")}


@pytest.fixture
def b(instance_factory, keys):
    inst = instance_factory(domain="b.test", listen="127.0.0.2")
    inst.add_user("bob@b.test")
    records = DNS_RECORDS + [
        "--txt-record=_dmarc.author.test,v=DMARC1; p=reject",
        "--txt-record=fwd.test,v=spf1 ip4:127.0.0.3 -all",
        "--txt-record=other.test,v=spf1 ip4:127.0.0.3 -all",
        txt_record("sel._domainkey.author.test", f"v=DKIM1; k=rsa; p={keys['author'][1]}"),
        txt_record("arc._domainkey.fwd.test", f"v=DKIM1; k=rsa; p={keys['fwd'][1]}"),
        txt_record("arc._domainkey.other.test", f"v=DKIM1; k=rsa; p={keys['other'][1]}"),
    ]
    with dnsmasq(records) as address:
        inst.config("dns.resolvers", address)
        inst.config("arc.trusted_sealers", "trusted.example, fwd.test")
        yield inst.start()


def forwarded(keys, subject, sealers=("fwd",), dmarc="pass"):
    """author.test's signed message as the forwarders pass it on: each records its
    results, tags the Subject, adds a footer and seals."""
    mid = subject.replace(" ", ".").encode()
    msg = ORIGINAL.replace(b"{subject}", subject.encode()).replace(b"{mid}", mid)
    msg = dkim.sign(msg, b"sel", b"author.test", keys["author"][0]) + msg
    for name in sealers:
        domain = f"{name}.test".encode()
        arc = b" arc=pass;" if msg.startswith(b"ARC-") else b""
        ar = (b"Authentication-Results: " + domain + b";" + arc +
              b" dkim=pass header.d=author.test; dmarc=" + dmarc.encode() +
              b" header.from=author.test\r\n")
        head, body = msg.split(b"\r\n\r\n", 1)
        head = head.replace(b"Subject: ", b"Subject: [" + name.encode() + b"] ")
        tagged = ar + head + b"\r\n\r\n" + body + b"-- \r\nThe " + name.encode() + b" list\r\n"
        seal = dkim.arc_sign(tagged, b"arc", domain, keys[name][0], domain)
        assert len(seal) == 3, "dkimpy made no ARC set"
        msg = b"".join(seal) + tagged[len(ar):]
    return msg


def send(inst, msg, sender="bounce@fwd.test"):
    c = smtplib.SMTP(inst.listen, inst.port("smtp"), timeout=30, source_address=(FORWARDER, 0))
    c.ehlo("mx.fwd.test")
    assert c.sendmail(sender, ["bob@b.test"], msg) == {}
    c.quit()


def ours(msg):
    """Our Authentication-Results: {method: (result, reason, {ptype.property: value})}."""
    fields = [" ".join(v.split()) for v in msg.get_all("Authentication-Results", [])]
    parsed = [authres.AuthenticationResultsHeader.parse("Authentication-Results: " + v)
              for v in fields]
    mine = [p for p in parsed if p.authserv_id.lower() == "mx.b.test"]
    assert len(mine) == 1, fields
    return {r.method: (r.result, r.reason, {f"{p.type}.{p.name}": p.value for p in r.properties})
            for r in mine[0].results}


def test_trusted_forwarder_lifts_dmarc_failure(b, keys):
    msg = forwarded(keys, "trusted lunch")
    send(b, msg)
    wait_for(b, "bob@b.test", "INBOX", 1)
    r = ours(by_subject(b, "bob@b.test", "INBOX", "[fwd] trusted lunch"))
    assert r["dkim"][0] == "fail"  # the tag and the footer broke the author's signature
    assert r["arc"][0] == "pass" and r["arc"][2] == {"smtp.remote-ip": FORWARDER}
    assert r["dmarc"][0] == "fail"
    assert r["dmarc"][1] == "arc override by trusted sealer fwd.test"
    assert r["dmarc"][2]["header.from"] == "author.test"
    assert folder_messages(b, "bob@b.test", "Junk") == []
    assert "arc=pass: delivered, sealed by trusted fwd.test" in b.read_log()


def test_chain_of_two_ending_with_the_trusted_forwarder(b, keys):
    send(b, forwarded(keys, "two hops", sealers=("other", "fwd")))
    wait_for(b, "bob@b.test", "INBOX", 1)
    r = ours(by_subject(b, "bob@b.test", "INBOX", "[fwd] [other] two hops"))
    assert r["arc"][0] == "pass"
    assert r["dmarc"][1] == "arc override by trusted sealer fwd.test"


@pytest.mark.parametrize("case", ["untrusted", "tampered", "no dmarc pass", "trusted first"])
def test_other_chains_go_to_junk(b, keys, case):
    subject = f"lunch {case}"
    if case == "untrusted":
        msg, tag, arc = forwarded(keys, subject, sealers=("other",)), "[other] ", "pass"
    elif case == "trusted first":
        msg, tag, arc = forwarded(keys, subject, sealers=("fwd", "other")), "[other] [fwd] ", "pass"
    elif case == "no dmarc pass":
        msg, tag, arc = forwarded(keys, subject, dmarc="fail"), "[fwd] ", "pass"
    else:
        msg, tag, arc = forwarded(keys, subject).replace(b"Lunch at noon", b"Lunch at one"), "[fwd] ", "fail"
    send(b, msg, sender="bounce@other.test" if "other" in tag else "bounce@fwd.test")
    wait_for(b, "bob@b.test", "Junk", 1)
    r = ours(by_subject(b, "bob@b.test", "Junk", tag + subject))
    assert r["arc"][0] == arc
    assert r["dmarc"][0] == "fail" and r["dmarc"][1] is None
    assert folder_messages(b, "bob@b.test", "INBOX") == []


def test_unsealed_mail_says_arc_none(b, keys):
    msg = ORIGINAL.replace(b"{subject}", b"plain").replace(b"{mid}", b"plain")
    msg = dkim.sign(msg, b"sel", b"author.test", keys["author"][0]) + msg
    send(b, msg, sender="alice@author.test")
    wait_for(b, "bob@b.test", "INBOX", 1)
    r = ours(by_subject(b, "bob@b.test", "INBOX", "plain"))
    assert r["dkim"][0] == "pass" and r["dmarc"][0] == "pass"
    assert r["arc"] == ("none", None, {"smtp.remote-ip": FORWARDER})


def test_forwarded_mail_leaves_sealed(instance_factory, keys):
    """Instance a forwards through an alias to instance b: the copy that leaves carries an
    ARC set by a.test that dkimpy's arc_verify accepts and b reports as arc=pass."""
    a = instance_factory(domain="a.test", listen="127.0.0.1")
    b = instance_factory(domain="b.test", listen="127.0.0.2")
    b.add_user("bob@b.test")
    a.cli("alias", "add", "list@a.test", "bob@b.test")
    records = DNS_RECORDS + [
        "--txt-record=_dmarc.author.test,v=DMARC1; p=reject",
        txt_record("sel._domainkey.author.test", f"v=DKIM1; k=rsa; p={keys['author'][1]}"),
    ] + [f"--txt-record={name}," + ",".join(strings)
         for name, strings in txt_records(a.cli("dkim", "keygen", "a.test")).items()]
    with dnsmasq(records) as address:
        for inst, other in ((a, b), (b, a)):
            inst.config("dns.resolvers", address)
            inst.config("outbound.port", other.port("smtp"))
            inst.config("queue.retry_schedule", "1s")
        a.start()
        b.start()
        msg = ORIGINAL.replace(b"{subject}", b"via the list").replace(b"{mid}", b"list")
        msg = msg.replace(b"<list@fwd.test>", b"<list@a.test>")
        msg = dkim.sign(msg, b"sel", b"author.test", keys["author"][0]) + msg
        c = smtplib.SMTP(a.listen, a.port("smtp"), timeout=30, source_address=(FORWARDER, 0))
        assert c.sendmail("alice@author.test", ["list@a.test"], msg) == {}
        c.quit()
        wait_for(b, "bob@b.test", "INBOX", 1)
        got = by_subject(b, "bob@b.test", "INBOX", "via the list")
        assert "arc sealed d=a.test" in a.read_log()
        # the set a added: instance 1, cv=none, recording a's own results
        assert got["ARC-Seal"].split(";")[0:2] == ["i=1", " cv=none"]
        aar = " ".join(got["ARC-Authentication-Results"].split())
        assert aar.startswith("i=1; mx.a.test;") and "dkim=pass" in aar and "dmarc=pass" in aar
        r = ours(got)
        assert r["arc"][0] == "pass" and r["arc"][2] == {"smtp.remote-ip": "127.0.0.1"}
        # what b received, byte for byte, verifies with dkimpy too
        raw = b.message("bob@b.test", 1)
        cv, results, reason = dkim.arc_verify(raw, dnsfunc=txt_lookup(address))
        assert cv == b"pass", reason
