"""DKIM verification (RFC 6376 6, RFC 8301, RFC 8463) through `estafeta dkim verify`: messages
signed by an independent signer, Debian's python3-dkim (dkimpy), with keys that a real DNS
server (dnsmasq) publishes; each verdict is compared with dkimpy's own verification of the
same message. Mail that an estafeta instance signs verifies too.
"""
import base64
import hashlib
import os
import re
import subprocess

import dkim
import nacl.encoding
import nacl.signing
import pytest
from dns import resolver as dns_resolver

from conftest import ESTAFETA
from test_dkim_sign import received, signing, submit, txt_lookup  # noqa: F401 (signing is a fixture)
from test_outbound import dnsmasq, free_udp_port

DOMAIN = b"example.test"
MESSAGE = (b"From: Alice <alice@example.test>\r\nTo: <bob@b.test>\r\nSubject: Lunch\r\n"
           b"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <lunch@example.test>\r\n"
           b"\r\nShall we  meet at noon? \r\n\tBring the map.\r\n\r\n\r\n")


def rsa_key(tmp_path, bits):
    """A new RSA key: its PKCS#1 PEM (what dkimpy signs with) and the base64 DER of its
    public key (p=)."""
    pem = tmp_path / f"rsa{bits}.pem"
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          f"rsa_keygen_bits:{bits}"], check=True, capture_output=True).stdout
    pem.write_bytes(subprocess.run(["openssl", "pkey", "-traditional"], input=key, check=True,
                                   capture_output=True).stdout)
    der = subprocess.run(["openssl", "pkey", "-in", str(pem), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return pem.read_bytes(), base64.b64encode(der).decode()


def txt_record(name, text):
    """dnsmasq's option for a TXT record of text, in strings of at most 255 octets."""
    strings = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return f"--txt-record={name}," + ",".join(strings)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keys")
    seed = base64.b64encode(os.urandom(32))
    ed_pub = nacl.signing.SigningKey(seed, encoder=nacl.encoding.Base64Encoder).verify_key.encode()
    k = {"ed": (seed, f"v=DKIM1; k=ed25519; p={base64.b64encode(ed_pub).decode()}")}
    for bits in (2048, 1024, 512):
        pem, pub = rsa_key(tmp, bits)
        k[f"r{bits}"] = (pem, f"v=DKIM1; k=rsa; p={pub}")
    k["revoked"] = (k["r2048"][0], "v=DKIM1; k=rsa; p=")
    k["wrongk"] = (k["r2048"][0], k["r2048"][1].replace("k=rsa", "k=ed25519"))
    k["nosuch"] = (k["r2048"][0], None)
    return k


@pytest.fixture(scope="module")
def dns(keys):
    dead = free_udp_port("127.0.0.1")  # nothing listens there: a forward that fails
    records = [txt_record(f"{sel}._domainkey.{DOMAIN.decode()}", text)
               for sel, (_, text) in keys.items() if text is not None]
    # example.test's other names do not exist; servfail.test's questions go nowhere
    records += ["--local=/example.test/", f"--server=/servfail.test/127.0.0.1#{dead}"]
    with dnsmasq(records) as address:
        yield address, txt_lookup(address)


def sign(keys, selector, msg=MESSAGE, canon=(b"relaxed", b"relaxed"), length=False,
         domain=DOMAIN, **kw):
    """msg with dkimpy's signature above it."""
    algorithm = b"ed25519-sha256" if selector == "ed" else b"rsa-sha256"
    return dkim.sign(msg, selector.encode(), domain, keys[selector][0], canonicalize=canon,
                     signature_algorithm=algorithm, length=length, **kw) + msg


def sign_with_tags(keys, tags, msg=MESSAGE):
    """msg with an Ed25519 signature carrying the extra tags given, which dkim.sign cannot
    write; made by dkimpy's own header signing."""
    d = dkim.DKIM(msg, signature_algorithm=b"ed25519-sha256")
    d.hasher = dkim.HASH_ALGORITHMS[b"ed25519-sha256"]
    pk = nacl.signing.SigningKey(keys["ed"][0], encoder=nacl.encoding.Base64Encoder)
    canon = dkim.CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
    bh = base64.b64encode(hashlib.sha256(canon.canonicalize_body(d.body)).digest())
    names = [b"from", b"subject", b"date"]
    fields = [(b"v", b"1"), (b"a", b"ed25519-sha256"), (b"c", b"relaxed/relaxed"),
              (b"d", DOMAIN), (b"s", b"ed"), *tags, (b"h", b" : ".join(names)), (b"bh", bh),
              (b"b", b"0" * 60)]
    return b"DKIM-Signature: " + d.gen_header(fields, names, canon, b"DKIM-Signature", pk) + msg


def verify(msg, resolver):
    """estafeta dkim verify's lines for msg."""
    p = subprocess.run([ESTAFETA, "dkim", "verify", "--resolver", resolver], input=msg,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().splitlines()


def dkimpy_passes(msg, dnsfunc):
    """dkimpy's verdict on each signature of msg."""
    d = dkim.DKIM(msg)
    count = len(re.findall(rb"(?im)^dkim-signature:", msg.split(b"\r\n\r\n")[0]))
    out = []
    for i in range(count):
        try:
            out.append(bool(d.verify(idx=i, dnsfunc=dnsfunc)))
        except (dkim.DKIMException, dns_resolver.NoAnswer, dns_resolver.NXDOMAIN,
                dns_resolver.LifetimeTimeout, dns_resolver.NoNameservers):
            out.append(False)
    return out


def check(msg, dns, *expected):
    """Each signature's line starts with expected's, and passes exactly when dkimpy's does."""
    address, dnsfunc = dns
    lines = verify(msg, address)
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected):
        assert line.startswith(want), (line, want)
    assert [l.startswith("dkim=pass ") for l in lines] == dkimpy_passes(msg, dnsfunc), lines
    return lines


@pytest.mark.parametrize("selector,canon,length", [
    ("r2048", (b"relaxed", b"relaxed"), False),
    ("r2048", (b"simple", b"simple"), False),
    ("r2048", (b"relaxed", b"simple"), True),
    ("r2048", (b"simple", b"relaxed"), True),
    ("ed", (b"relaxed", b"relaxed"), False),
    ("ed", (b"simple", b"simple"), True),
    ("r1024", (b"relaxed", b"relaxed"), False),
])
def test_independent_signatures_pass(keys, dns, selector, canon, length):
    msg = sign(keys, selector, canon=canon, length=length)
    bits = {"ed": 256, "r2048": 2048, "r1024": 1024}[selector]
    a = "ed25519-sha256" if selector == "ed" else "rsa-sha256"
    line = check(msg, dns, f"dkim=pass header.d=example.test header.s={selector} header.a={a} "
                           f"({bits}-bit key)")[0]
    assert line.endswith(f"({bits}-bit key)")


def test_lf_line_ends_are_read_as_crlf(keys, dns):
    msg = sign(keys, "ed", canon=(b"simple", b"simple"))
    lines = verify(msg.replace(b"\r\n", b"\n"), dns[0])
    assert lines == ["dkim=pass header.d=example.test header.s=ed header.a=ed25519-sha256 "
                     "(256-bit key)"]


@pytest.mark.parametrize("selector", ["r2048", "ed"])
@pytest.mark.parametrize("canon", [(b"relaxed", b"relaxed"), (b"simple", b"simple")])
def test_tampered_messages_fail(keys, dns, selector, canon):
    # From signed once more than it occurs, so that no From can be added unnoticed
    msg = sign(keys, selector, canon=canon,
               include_headers=[b"from", b"from", b"to", b"subject", b"date", b"message-id"])
    sig, rest = msg.split(b"From: Alice", 1)
    rest = b"From: Alice" + rest
    b_value = re.search(rb"[;\s]b=\s*([A-Za-z0-9+/])", sig)
    other = b"A" if b_value.group(1) != b"A" else b"B"
    tampered = {
        "body hash did not verify": sig + rest.replace(b"noon", b"one"),
        "signature did not verify": sig + rest.replace(b"Subject: Lunch", b"Subject: Dinner"),
    }
    added_from = sig + b"From: <mallory@example.test>\r\n" + rest
    altered_b = sig[:b_value.start(1)] + other + sig[b_value.end(1):] + rest
    for reason, m in tampered.items():
        assert check(m, dns, "dkim=fail ")[0].endswith(f"({reason})")
    for m in (added_from, altered_b):
        assert check(m, dns, "dkim=fail ")[0].endswith("(signature did not verify)")


def test_body_length_leaves_the_rest_unsigned(keys, dns):
    msg = sign(keys, "r2048", length=True) + b"P.S. appended by a list\r\n"
    line = check(msg, dns, "dkim=pass header.d=example.test header.s=r2048")[0]
    assert line.endswith("(2048-bit key; l= leaves part of the body unsigned)")
    # only empty lines appended: nothing unsigned (they are not part of the canonical body)
    line = check(sign(keys, "ed", length=True) + b"\r\n\r\n", dns, "dkim=pass ")[0]
    assert line.endswith("(256-bit key)")


def test_weak_revoked_and_mismatched_keys(keys, dns):
    check(sign(keys, "r512"), dns,
          "dkim=fail header.d=example.test header.s=r512 header.a=rsa-sha256 "
          "(RSA key under 1024 bits (RFC 8301))")
    check(sign(keys, "revoked"), dns, "dkim=permerror header.d=example.test header.s=revoked "
                                      "header.a=rsa-sha256 (key revoked)")
    check(sign(keys, "wrongk"), dns, "dkim=permerror header.d=example.test header.s=wrongk "
                                     "header.a=rsa-sha256 (key type (k=) does not match a=)")
    check(sign(keys, "nosuch"), dns, "dkim=permerror header.d=example.test header.s=nosuch "
                                     "header.a=rsa-sha256 (no key for signature)")


def test_signature_tags_checked(keys, dns):
    future = int(__import__("time").time()) + 86400
    check(sign_with_tags(keys, [(b"t", b"1700000000"), (b"x", str(future).encode())]), dns,
          "dkim=pass header.d=example.test header.s=ed")
    check(sign_with_tags(keys, [(b"t", b"1600000000"), (b"x", b"1600086400")]), dns,
          "dkim=permerror header.d=example.test header.s=ed header.a=ed25519-sha256 (expired)")
    check(sign_with_tags(keys, [(b"i", b"alice@other.test")]), dns,
          "dkim=permerror header.d=example.test header.s=ed header.a=ed25519-sha256 "
          "(i= is not in the domain of d=)")
    check(sign_with_tags(keys, [(b"i", b"alice@mail.example.test")]), dns, "dkim=pass ")
    # rsa-sha1 is refused whatever the key says (RFC 8301 3.1)
    sha1 = dkim.sign(MESSAGE, b"r2048", DOMAIN, keys["r2048"][0],
                     signature_algorithm=b"rsa-sha1") + MESSAGE
    lines = verify(sha1, dns[0])
    assert lines == ["dkim=fail header.d=example.test header.s=r2048 header.a=rsa-sha1 "
                     "(rsa-sha1 is not accepted (RFC 8301))"]


def test_two_signatures_and_none(keys, dns):
    both = sign(keys, "ed", msg=sign(keys, "r2048"))
    check(both, dns, "dkim=pass header.d=example.test header.s=ed",
          "dkim=pass header.d=example.test header.s=r2048")
    assert verify(MESSAGE, dns[0]) == ["dkim=none"]


def test_dns_failures_are_temperror(keys, dns):
    msg = sign(keys, "ed")
    dead = f"127.0.0.1:{free_udp_port('127.0.0.1')}"
    assert verify(msg, dead) == ["dkim=temperror header.d=example.test header.s=ed "
                                 "header.a=ed25519-sha256 (key lookup failed)"]
    servfail = sign(keys, "ed", domain=b"servfail.test")
    check(servfail, dns, "dkim=temperror header.d=servfail.test header.s=ed "
                         "header.a=ed25519-sha256 (key lookup failed)")


def test_usage_errors(dns):
    p = subprocess.run([ESTAFETA, "dkim", "verify", "--resolver", "not an address"],
                       input=MESSAGE, capture_output=True)
    assert p.returncode == 2 and p.stderr.count(b"\n") == 1 and b"--resolver" in p.stderr
    p = subprocess.run([ESTAFETA, "dkim", "verify", "extra"], input=MESSAGE, capture_output=True)
    assert p.returncode == 2 and b"dkim verify" in p.stderr


def test_estafeta_signed_mail_verifies(signing):
    """What an instance signs on its way out (Ed25519 and RSA-2048, relaxed/relaxed) passes,
    as it does with dkimpy; a changed body fails both."""
    a, b, dnsfunc = signing
    submit(a, "alice@a.test", "bob@b.test", "signed here", "checked by estafeta\r\n")
    raw = received(b, "bob@b.test", 1)
    resolver = a.cli("config", "get", "dns.resolvers").strip()
    for msg, verdict in ((raw, "pass"), (raw.replace(b"checked by", b"changed by"), "fail")):
        lines = verify(msg, resolver)
        assert sorted(l.split()[0] for l in lines) == [f"dkim={verdict}"] * 2, lines
        assert all(" header.d=a.test " in l for l in lines)
        assert [l.startswith("dkim=pass ") for l in lines] == dkimpy_passes(msg, dnsfunc)
