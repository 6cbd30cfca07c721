"""SPF (RFC 7208) as `estafeta spf check` evaluates it, against a real DNS server (Debian's
dnsmasq) on loopback serving a zone of SPF records, and compared with Debian's python3-spf
(pyspf), an independent implementation, asked the same questions of the same server. Each
case also names the result the RFC gives, so the test holds even where both could be wrong.

The zone (see RECORDS): one domain per feature: every mechanism, include and redirect, the
macros, the limits of 4.6.4 (10 DNS terms, 2 void lookups, 10 MX names), several records,
syntax errors and IPv6. Names outside .test and the reverse zones are refused by dnsmasq (it
has no upstream), which is the DNS error behind temperror.
"""
import ipaddress
import subprocess

import dns.resolver
import pytest
import spf

from conftest import ESTAFETA
from test_outbound import dnsmasq


def nibbles(ip):
    """%{i} of an IPv6 address: its 32 nibbles, dotted, most significant first (7.3)."""
    return ".".join(ipaddress.IPv6Address(ip).exploded.replace(":", ""))


def txt(name, record):
    return f"--txt-record={name},{record}"


RECORDS = [
    "--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/",
    txt("all.test", "v=spf1 -all"),
    txt("soft.test", "v=spf1 ~all"),
    txt("neutral.test", "v=spf1 ?all"),
    txt("empty.test", "v=spf1"),
    txt("ip.test", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"),
    txt("case.test", "V=SPF1 IP4:192.0.2.0/24 -ALL"),
    # a: the domain's own address, another name's /24, the domain's AAAA as a /64
    txt("a.test", "v=spf1 a a:other.a.test/24 a//64 -all"),
    "--host-record=a.test,198.51.100.1,2001:db8:a::1",
    "--host-record=other.a.test,203.0.113.130",
    txt("mx.test", "v=spf1 mx -all"),
    "--mx-host=mx.test,mx1.mx.test,10", "--mx-host=mx.test,mx2.mx.test,20",
    "--host-record=mx1.mx.test,198.51.100.21", "--host-record=mx2.mx.test,198.51.100.22,2001:db8:22::1",
    txt("mx11.test", "v=spf1 mx +all"),
    *[f"--mx-host=mx11.test,m{n}.mx11.test,{n}" for n in range(11)],
    # ptr: 192.0.2.77's name leads back to it; 192.0.2.78's name is a liar's
    txt("ptr.test", "v=spf1 ptr -all"),
    "--host-record=host.ptr.test,192.0.2.77",
    "--ptr-record=78.2.0.192.in-addr.arpa,liar.ptr.test", "--host-record=liar.ptr.test,192.0.2.99",
    txt("exists.test", "v=spf1 exists:%{i}._spf.%{d} -all"),
    "--host-record=192.0.2.10._spf.exists.test,127.0.0.2",
    f"--host-record={nibbles('2001:db8::10')}._spf.exists.test,127.0.0.2",
    txt("macro.test", "v=spf1 a:%{l}.users.%{d} -all"),
    "--host-record=alice.users.macro.test,192.0.2.50",
    txt("include.test", "v=spf1 include:ip.test include:neutral.test ~all"),
    txt("include-none.test", "v=spf1 include:nx.test -all"),
    txt("include-perm.test", "v=spf1 include:syntax.test -all"),
    txt("include-temp.test", "v=spf1 include:example.org -all"),
    txt("redirect.test", "v=spf1 redirect=ip.test"),
    txt("redirect-none.test", "v=spf1 redirect=nx.test"),
    txt("redirect-all.test", "v=spf1 ?all redirect=ip.test"),
    txt("redirect-macro.test", "v=spf1 redirect=%{l}.r.test"),
    txt("bob.r.test", "v=spf1 ip4:192.0.2.0/25 -all"),
    txt("exp.test", "v=spf1 ip4:192.0.2.1 -all exp=why.exp.test"),
    txt("why.exp.test", "%{i} may not send mail for %{d} as %{l}"),
    txt("exp-broken.test", "v=spf1 -all exp=nx.test"),
    # void lookups: two are allowed, the third is a permerror
    txt("void2.test", "v=spf1 a:nx1.void.test a:nx2.void.test +all"),
    txt("void3.test", "v=spf1 a:nx1.void.test a:nx2.void.test a:nx3.void.test +all"),
    "--host-record=l.limit.test,198.51.100.250",
    txt("limit10.test", "v=spf1 " + " ".join(["a:l.limit.test"] * 10) + " -all"),
    txt("limit11.test", "v=spf1 " + " ".join(["a:l.limit.test"] * 11) + " -all"),
    txt("limit-inc.test", "v=spf1 " + " ".join(["a:l.limit.test"] * 9) + " include:limit2.test -all"),
    txt("limit2.test", "v=spf1 a:l.limit.test -all"),
    txt("multi.test", "v=spf1 -all"), txt("multi.test", "v=spf1 +all"),
    txt("other.test", "google-site-verification=abc"), txt("other.test", "v=spf1 -all"),
    txt("norecord.test", "just some text"),
    txt("syntax.test", "v=spf1 ip4:192.0.2.1/33 -all"),
    txt("unknown-mech.test", "v=spf1 foo:bar -all"),
    txt("twice.test", "v=spf1 redirect=ip.test redirect=all.test"),
    txt("modifier.test", "v=spf1 moo=cow ip4:192.0.2.0/24 -all"),
    txt("toplabel.test", "v=spf1 a:museum -all"),
    txt("badmacro.test", "v=spf1 exists:%{z}.test -all"),
    txt("temp.test", "v=spf1 a:host.example.org -all"),
    txt("loop.test", "v=spf1 include:loop.test -all"),
    txt("rloop.test", "v=spf1 redirect=rloop.test"),
    txt("ptrdomain.test", "v=spf1 ptr:ptr.test -all"),
    txt("nullmx.test", "v=spf1 mx ?all"), "--mx-host=nullmx.test,.,0",
    txt("pmacro.test", "v=spf1 exists:%{p}.ok.pmacro.test -all"),
    "--host-record=host.ptr.test.ok.pmacro.test,127.0.0.2",
    txt("helo.test", "v=spf1 a -all"), "--host-record=helo.test,192.0.2.60",
]

# (ip, sender, helo, the result RFC 7208 gives, why)
CASES = [
    ("192.0.2.1", "x@all.test", "h.test", "fail", "-all"),
    ("192.0.2.1", "x@soft.test", "h.test", "softfail", "~all"),
    ("192.0.2.1", "x@neutral.test", "h.test", "neutral", "?all"),
    ("192.0.2.1", "x@empty.test", "h.test", "neutral", "4.7: no term matched"),
    ("192.0.2.5", "x@ip.test", "h.test", "pass", "ip4"),
    ("198.51.100.5", "x@ip.test", "h.test", "fail", "ip4 outside, ip6 never for IPv4"),
    ("2001:db8:1::1", "x@ip.test", "h.test", "pass", "ip6"),
    ("2001:db9::1", "x@ip.test", "h.test", "fail", "ip6 outside"),
    ("::ffff:192.0.2.5", "x@ip.test", "h.test", "pass", "IPv4-mapped is IPv4"),
    ("192.0.2.5", "x@case.test", "h.test", "pass", "names are case-insensitive"),
    ("198.51.100.1", "x@a.test", "h.test", "pass", "a"),
    ("203.0.113.5", "x@a.test", "h.test", "pass", "a:domain/24"),
    ("198.51.100.2", "x@a.test", "h.test", "fail", "a is /32 by default"),
    ("2001:db8:a::99", "x@a.test", "h.test", "pass", "a//64 against AAAA"),
    ("2001:db8:b::1", "x@a.test", "h.test", "fail", "a//64 outside"),
    ("198.51.100.22", "x@mx.test", "h.test", "pass", "mx, second exchange"),
    ("2001:db8:22::1", "x@mx.test", "h.test", "pass", "mx over AAAA"),
    ("198.51.100.23", "x@mx.test", "h.test", "fail", "mx outside"),
    ("192.0.2.1", "x@mx11.test", "h.test", "permerror", "4.6.4: more than 10 MX names"),
    ("192.0.2.77", "x@ptr.test", "h.test", "pass", "ptr validated"),
    ("192.0.2.78", "x@ptr.test", "h.test", "fail", "ptr name does not lead back"),
    ("192.0.2.79", "x@ptr.test", "h.test", "fail", "no ptr name"),
    ("192.0.2.10", "x@exists.test", "h.test", "pass", "exists:%{i}._spf.%{d}"),
    ("192.0.2.11", "x@exists.test", "h.test", "fail", "exists finds nothing"),
    ("2001:db8::10", "x@exists.test", "h.test", "pass", "%{i} as IPv6 nibbles"),
    ("192.0.2.50", "alice@macro.test", "h.test", "pass", "%{l}"),
    ("192.0.2.50", "bob@macro.test", "h.test", "fail", "%{l}, another user"),
    ("192.0.2.5", "x@include.test", "h.test", "pass", "include of pass"),
    ("10.0.0.1", "x@include.test", "h.test", "softfail", "include fail and neutral do not match"),
    ("10.0.0.1", "x@include-none.test", "h.test", "permerror", "5.2: include of none"),
    ("10.0.0.1", "x@include-perm.test", "h.test", "permerror", "5.2: include of permerror"),
    ("10.0.0.1", "x@include-temp.test", "h.test", "temperror", "5.2: include of temperror"),
    ("192.0.2.5", "x@redirect.test", "h.test", "pass", "redirect"),
    ("10.0.0.1", "x@redirect.test", "h.test", "fail", "redirect's fail"),
    ("10.0.0.1", "x@redirect-none.test", "h.test", "permerror", "6.1: redirect to none"),
    ("10.0.0.1", "x@redirect-all.test", "h.test", "neutral", "all ends before redirect"),
    ("192.0.2.5", "bob@redirect-macro.test", "h.test", "pass", "redirect=%{l}.r.test"),
    ("192.0.2.200", "bob@redirect-macro.test", "h.test", "fail", "redirect=%{l}.r.test"),
    ("192.0.2.200", "x@exp.test", "h.test", "fail", "fail with exp"),
    ("192.0.2.1", "x@exp.test", "h.test", "pass", "exp unused"),
    ("192.0.2.200", "x@exp-broken.test", "h.test", "fail", "6.2: an exp that fails is ignored"),
    ("192.0.2.1", "x@void2.test", "h.test", "pass", "two void lookups"),
    ("192.0.2.1", "x@void3.test", "h.test", "permerror", "4.6.4: a third void lookup"),
    ("192.0.2.1", "x@limit10.test", "h.test", "fail", "ten DNS terms"),
    ("192.0.2.1", "x@limit11.test", "h.test", "permerror", "4.6.4: an eleventh"),
    ("192.0.2.1", "x@limit-inc.test", "h.test", "permerror", "4.6.4: include and its terms count"),
    ("192.0.2.1", "x@multi.test", "h.test", "permerror", "4.5: two SPF records"),
    ("192.0.2.1", "x@other.test", "h.test", "fail", "4.5: other TXT records do not count"),
    ("192.0.2.1", "x@norecord.test", "h.test", "none", "4.5: no SPF record"),
    ("192.0.2.1", "x@nx.test", "h.test", "none", "4.3: no such domain"),
    ("192.0.2.1", "x@syntax.test", "h.test", "permerror", "4.6: /33"),
    ("192.0.2.1", "x@unknown-mech.test", "h.test", "permerror", "4.6: unknown mechanism"),
    ("192.0.2.1", "x@twice.test", "h.test", "permerror", "6: redirect twice"),
    ("192.0.2.1", "x@modifier.test", "h.test", "pass", "6: unknown modifiers are ignored"),
    ("192.0.2.1", "x@toplabel.test", "h.test", "permerror", "7.1: a domain-spec ends in a top label"),
    ("192.0.2.1", "x@badmacro.test", "h.test", "permerror", "7.1: unknown macro letter"),
    ("192.0.2.1", "x@temp.test", "h.test", "temperror", "5: a DNS error"),
    ("192.0.2.1", "x@loop.test", "h.test", "permerror", "4.6.4: an include of itself runs out of lookups"),
    ("192.0.2.1", "x@rloop.test", "h.test", "permerror", "4.6.4: a redirect to itself likewise"),
    ("192.0.2.77", "x@ptrdomain.test", "h.test", "pass", "ptr:domain, a validated name below it"),
    ("192.0.2.1", "x@nullmx.test", "h.test", "neutral", "a null MX names no host"),
    ("192.0.2.77", "x@pmacro.test", "h.test", "pass", "%{p}, the validated name"),
    ("192.0.2.78", "x@pmacro.test", "h.test", "fail", "%{p} is unknown without one"),
    ("192.0.2.60", "", "helo.test", "pass", "2.3: the null sender checks HELO"),
    ("192.0.2.61", "", "helo.test", "fail", "2.3: the null sender checks HELO"),
]


@pytest.fixture(scope="module")
def resolver():
    with dnsmasq(RECORDS) as address:
        yield address


def estafeta_spf(resolver, ip, sender, helo):
    """estafeta spf check's result word, its whole output."""
    out = subprocess.run([ESTAFETA, "spf", "check", "--ip", ip, "--sender", sender, "--helo", helo,
                          "--resolver", resolver], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("spf="), out.stdout
    return first.split()[0][len("spf="):], out.stdout


def pyspf(resolver, ip, sender, helo):
    """python3-spf's (result, explanation), its dnspython asking the same dnsmasq."""
    host, port = resolver.split(":")
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    r.lifetime = 10
    dns.resolver.default_resolver = r
    return spf.check2(i=ip, s=sender, h=helo, querytime=0, timeout=10)


@pytest.mark.parametrize("ip,sender,helo,expected,why", CASES,
                         ids=[f"{c[1] or c[2]}-{c[0]}" for c in CASES])
def test_spf_agrees_with_rfc_and_pyspf(resolver, ip, sender, helo, expected, why):
    ours, output = estafeta_spf(resolver, ip, sender, helo)
    theirs, _ = pyspf(resolver, ip, sender, helo)
    assert ours == expected, f"{why}: estafeta says {output!r}"
    assert theirs == expected, f"{why}: pyspf says {theirs}"
    identity = f"smtp.mailfrom={sender}" if sender else f"smtp.helo={helo}"
    assert output.splitlines()[0].endswith(" " + identity)


def test_explanation_of_a_fail(resolver):
    """exp= (6.2): the TXT record it names, expanded, with the fail; pyspf gives the same text."""
    ours, output = estafeta_spf(resolver, "192.0.2.200", "carol@exp.test", "h.test")
    theirs, explanation = pyspf(resolver, "192.0.2.200", "carol@exp.test", "h.test")
    assert (ours, theirs) == ("fail", "fail")
    assert explanation == "192.0.2.200 may not send mail for exp.test as carol"
    assert output.splitlines()[1] == "explanation: " + explanation


def test_bad_arguments_fail_with_a_message(resolver):
    for args in (["--ip", "192.0.2", "--sender", "x@ip.test"], ["--sender", "x@ip.test"],
                 ["--ip", "192.0.2.1", "--sender", "no-domain"], ["--ip", "192.0.2.1", "--sender", ""]):
        out = subprocess.run([ESTAFETA, "spf", "check", *args, "--resolver", resolver],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 2, (args, out.stdout)
        assert out.stdout == "" and out.stderr.startswith("estafeta: "), out.stderr
        assert len(out.stderr.splitlines()) == 1
