"""The DNS records to publish: `estafeta dns records DOMAIN` prints them as zone-file lines,
read back here with Debian's python3-dnspython (an independent zone-file parser) and checked
against values computed here (the DKIM keys `dkim list` prints, the certificate's public-key
hash with python3-cryptography, the MTA-STS id from the policy text, the ports). Then a real
DNS server (dnsmasq) on loopback serves those records, and `estafeta dns check DOMAIN` must
find every one of them; with some removed or changed it must say which, and how.

The instance is example.test (hostname mx.example.test) with the documentation addresses
192.0.2.10 and 2001:db8::10 given with --ip, its DKIM keys from `estafeta dkim keygen`, the
self-signed certificate `estafeta init` made, and POP3 without TLS switched off (port 0).
"""
import base64
import hashlib
import os
import re
import subprocess

import dns.name
import dns.rdatatype
import dns.reversename
import dns.zone
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from test_outbound import dnsmasq

DOMAIN = "example.test"
HOST = "mx." + DOMAIN
IPS = ["192.0.2.10", "2001:db8::10"]


def dkim_records(inst):
    """{owner: text} of the TXT lines `dkim list DOMAIN` prints, each record's strings joined."""
    records = {}
    for line in inst.cli("dkim", "list", DOMAIN).splitlines():
        m = re.match(r'\t(\S+) IN TXT (.*)$', line)
        if m:
            records[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
    return records


@pytest.fixture
def inst(instance_factory):
    inst = instance_factory(domain=DOMAIN)
    inst.config("pop3.port", 0)
    inst.cli("dkim", "keygen", DOMAIN)
    return inst


def records_zone(inst, *extra):
    """The output of `dns records` and the zone dnspython reads from it."""
    out = inst.cli("dns", "records", DOMAIN, *[a for ip in IPS for a in ("--ip", ip)], *extra)
    zone = dns.zone.from_text(out, origin=DOMAIN + ".", relativize=False, check_origin=False)
    return out, zone


def rdatas(zone, name, rdtype):
    rds = zone.get_rdataset(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
    return list(rds) if rds is not None else []


def txt(zone, name):
    return [b"".join(r.strings).decode() for r in rdatas(zone, name, "TXT")]


def spki_sha256(inst):
    with open(os.path.join(inst.dir, "tls", "cert.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def test_records_are_valid_zone_lines_with_the_right_values(inst):
    out, zone = records_zone(inst)
    assert all(r.ttl == 3600 for _, r in zone.iterate_rdatasets())
    assert [(r.preference, r.exchange.to_text()) for r in rdatas(zone, DOMAIN + ".", "MX")] == \
        [(10, HOST + ".")]
    assert [r.address for r in rdatas(zone, HOST + ".", "A")] == [IPS[0]]
    assert [r.address for r in rdatas(zone, HOST + ".", "AAAA")] == [IPS[1]]
    assert txt(zone, DOMAIN + ".") == [f"v=spf1 mx ip4:{IPS[0]} ip6:{IPS[1]} -all"]
    keys = dkim_records(inst)
    assert len(keys) == 2
    for owner, record in keys.items():
        assert txt(zone, owner) == [record]
    assert txt(zone, f"_dmarc.{DOMAIN}.") == [f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{DOMAIN}"]
    assert txt(zone, f"_smtp._tls.{DOMAIN}.") == [f"v=TLSRPTv1; rua=mailto:postmaster@{DOMAIN}"]
    # the MTA-STS id is the policy's hash: the policy is in the comments
    policy = "".join(line[4:] + "\n" for line in out.splitlines() if line.startswith(";   "))
    assert policy == f"version: STSv1\nmode: testing\nmx: {HOST}\nmax_age: 604800\n"
    assert txt(zone, f"_mta-sts.{DOMAIN}.") == \
        [f"v=STSv1; id={hashlib.sha256(policy.encode()).hexdigest()[:16]}"]
    assert f"https://mta-sts.{DOMAIN}/.well-known/mta-sts.txt" in out
    assert f"; mta-sts.{DOMAIN}. 3600 IN A {IPS[0]}" in out
    tlsa = rdatas(zone, f"_25._tcp.{HOST}.", "TLSA")
    assert [(r.usage, r.selector, r.mtype, r.cert.hex()) for r in tlsa] == [(3, 1, 1, spki_sha256(inst))]
    srv = {s: [(r.priority, r.weight, r.port, r.target.to_text())
               for r in rdatas(zone, f"_{s}._tcp.{DOMAIN}.", "SRV")]
           for s in ("submissions", "submission", "imaps", "imap", "pop3s", "pop3")}
    assert srv == {"submissions": [(0, 1, inst.port("submissions"), HOST + ".")],
                   "submission": [(0, 1, inst.port("submission"), HOST + ".")],
                   "imaps": [(0, 1, inst.port("imaps"), HOST + ".")],
                   "imap": [(0, 1, inst.port("imap"), HOST + ".")],
                   "pop3s": [(0, 1, inst.port("pop3s"), HOST + ".")],
                   "pop3": [(0, 0, 0, ".")]}  # RFC 6186 4: not offered
    for name in ("autoconfig", "autodiscover"):
        assert [r.target.to_text() for r in rdatas(zone, f"{name}.{DOMAIN}.", "CNAME")] == [HOST + "."]
    assert [(r.flags, r.tag, r.value) for r in rdatas(zone, DOMAIN + ".", "CAA")] == \
        [(0, b"issue", b"letsencrypt.org")]
    # each group of records comes after the comment saying what it is for
    assert all(block.startswith("; ") for block in out.split("\n\n"))


def test_records_without_addresses_keys_or_certificate_say_what_to_do(instance_factory):
    inst = instance_factory(domain=DOMAIN)  # listens on 127.0.0.1 only
    inst.config("tls.cert", "")
    inst.config("submissions.port", 0)
    inst.config("imaps.port", 0)
    inst.config("pop3s.port", 0)
    out = inst.cli("dns", "records", DOMAIN)
    zone = dns.zone.from_text(out, origin=DOMAIN + ".", relativize=False, check_origin=False)
    assert re.search(rf"^{re.escape(HOST)}\. 3600 IN A 192\.0\.2\.1 ; placeholder", out, re.M)
    assert "no public address" in out and f"--ip ADDRESS" in out
    assert txt(zone, DOMAIN + ".") == ["v=spf1 mx -all"]
    assert f"Make them with: estafeta dkim keygen {DOMAIN}" in out
    assert "no TLSA record, since no certificate is configured (tls.cert)" in out
    assert rdatas(zone, f"_25._tcp.{HOST}.", "TLSA") == []


def test_records_of_a_domain_that_is_not_local_is_an_error(inst):
    p = inst.cli("dns", "records", "other.test", check=False)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == ("estafeta: other.test is not a local domain; add it first "
                        "(estafeta domain add other.test)\n")
    p = inst.cli("dns", "records", DOMAIN, "--ip", "127.0.0.1", check=False)
    assert p.returncode == 2 and "--ip 127.0.0.1 is not a public" in p.stderr
    p = inst.cli("dns", "check", check=False)
    assert p.returncode == 2 and "usage: estafeta dns check DOMAIN" in p.stderr


def dnsmasq_options(zone):
    """dnsmasq options serving the records of zone, and the PTR of each address."""
    opts = ["--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/"]
    for name, rds in zone.iterate_rdatasets():
        n = name.to_text().rstrip(".")
        for r in rds:
            kind = dns.rdatatype.to_text(rds.rdtype)
            if kind == "MX":
                opts.append(f"--mx-host={n},{r.exchange.to_text().rstrip('.')},{r.preference}")
            elif kind in ("A", "AAAA"):
                opts.append(f"--host-record={n},{r.address}")
            elif kind == "TXT":
                opts.append(f"--txt-record={n}," + ",".join(s.decode() for s in r.strings))
            elif kind == "SRV" and r.port == 0:
                opts.append(f"--srv-host={n}")
            elif kind == "SRV":
                opts.append(f"--srv-host={n},{r.target.to_text().rstrip('.')},{r.port},"
                            f"{r.priority},{r.weight}")
            elif kind == "CNAME":
                opts.append(f"--cname={n},{r.target.to_text().rstrip('.')}")
            elif kind == "TLSA":
                opts.append(f"--dns-rr={n},52,{bytes([r.usage, r.selector, r.mtype]).hex()}{r.cert.hex()}")
            elif kind == "CAA":
                data = bytes([r.flags, len(r.tag)]) + r.tag + r.value  # RFC 8659 4.1
                opts.append(f"--dns-rr={n},257,{data.hex()}")
    # the policy host's addresses, printed as comments (another server may serve it)
    opts += [f"--address=/mta-sts.{DOMAIN}/{ip}" for ip in IPS]
    for ip in IPS:
        opts.append(f"--ptr-record={dns.reversename.from_address(ip).to_text().rstrip('.')},{HOST}")
    return opts


def check(inst, resolver):
    p = inst.cli("dns", "check", DOMAIN, *[a for ip in IPS for a in ("--ip", ip)],
                 "--resolver", resolver, check=False)
    assert p.stderr == "", p.stderr
    return p.returncode, p.stdout.splitlines()


def test_check_finds_what_records_printed_and_says_what_differs(inst):
    out, zone = records_zone(inst)
    opts = dnsmasq_options(zone)
    with dnsmasq(opts) as resolver:
        code, lines = check(inst, resolver)
    assert code == 0, "\n".join(lines)
    assert all(l.startswith("ok      ") for l in lines), lines
    names = [l.split()[1] + " " + l.split()[2].rstrip(":") for l in lines]
    # one line per record printed (mta-sts's address once) and per address's PTR
    printed = [f"{n.to_text().rstrip('.')} {dns.rdatatype.to_text(r.rdtype)}"
               for n, r in zone.iterate_rdatasets()]
    ptrs = [dns.reversename.from_address(ip).to_text().rstrip(".") + " PTR" for ip in IPS]
    assert sorted(names) == sorted(set(printed) - {f"mta-sts.{DOMAIN} AAAA", f"mta-sts.{DOMAIN} A"}
                                   | {f"mta-sts.{DOMAIN} A/AAAA"} | set(ptrs))
    assert f"ok      {ptrs[0].split()[0]} PTR: {HOST}. (and its address leads back: FCrDNS)" in lines
    assert f"ok      {DOMAIN} MX: 10 {HOST}." in lines

    # no _dmarc, another Ed25519 key, another MX host
    keys = dkim_records(inst)
    ed_owner = next(o for o, r in keys.items() if "k=ed25519" in r).rstrip(".")
    other_key = base64.b64encode(os.urandom(32)).decode()
    changed = [o for o in opts if not o.startswith(f"--txt-record=_dmarc.")
               and not o.startswith(f"--txt-record={ed_owner},")
               and not o.startswith(f"--mx-host=")]
    changed += [f"--txt-record={ed_owner},v=DKIM1; k=ed25519; p={other_key}",
                f"--mx-host={DOMAIN},mx.other.test,10", "--host-record=mx.other.test,192.0.2.99"]
    with dnsmasq(changed) as resolver:
        code, lines = check(inst, resolver)
    assert code == 1
    bad = [l for l in lines if not l.startswith("ok ")]
    assert bad == [
        f'differs {DOMAIN} MX: found "10 mx.other.test.", expected "10 {HOST}."',
        f'differs {ed_owner} TXT: found "v=DKIM1; k=ed25519; p={other_key}", expected '
        f'"{keys[ed_owner + "."]}" (another key: receivers cannot verify the signatures)',
        f'missing _dmarc.{DOMAIN} TXT: publish "v=DMARC1; p=quarantine; rua=mailto:postmaster@{DOMAIN}"',
    ]
