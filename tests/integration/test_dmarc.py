"""DMARC (draft-ietf-dmarc-dmarcbis-41) on received mail, with SPF and DKIM underneath, against
a real DNS server (Debian's dnsmasq) on loopback.

Instance a (a.test, 127.0.0.1) signs its mail with the keys `estafeta dkim keygen` made and is
a.test's MX, which a.test's SPF record authorizes; instance b (b.test, 127.0.0.2) receives.
Mail between them passes SPF, DKIM and DMARC. A third host (127.0.0.3) forges: mail with a
From of a.test (p=reject) goes to Junk, or is refused with 550 5.7.1 under
dmarc.enforce=reject; the policies of other domains exercise relaxed and strict alignment,
p=none and test mode (t=y). Our Authentication-Results fields are parsed with Debian's
python3-authres.
"""
import email
import email.policy
import smtplib
import time

import authres
import pytest

from test_dkim_sign import submit, txt_records
from test_outbound import DNS_RECORDS, dnsmasq

FORGER = "127.0.0.3"
POLICIES = [
    "--txt-record=a.test,v=spf1 mx -all",
    "--txt-record=_dmarc.a.test,v=DMARC1; p=reject; rua=mailto:dmarc@a.test",
    # evil.test's own mail: its bounces come from mail.evil.test, which SPF authorizes
    "--txt-record=mail.evil.test,v=spf1 ip4:127.0.0.3 -all",
    "--txt-record=_dmarc.evil.test,v=DMARC1; p=reject",
    # the same with strict SPF alignment
    "--txt-record=mail.strict.test,v=spf1 ip4:127.0.0.3 -all",
    "--txt-record=_dmarc.strict.test,v=DMARC1; p=quarantine; aspf=s",
    "--txt-record=_dmarc.lax.test,v=DMARC1; p=none",
    "--txt-record=_dmarc.trial.test,v=DMARC1; p=reject; t=y",
    "--txt-record=_dmarc.q.test,v=DMARC1; p=quarantine",
]


def start_pair(instance_factory, enforce=None):
    a = instance_factory(domain="a.test", listen="127.0.0.1")
    b = instance_factory(domain="b.test", listen="127.0.0.2")
    a.add_user("alice@a.test")
    b.add_user("bob@b.test")
    records = txt_records(a.cli("dkim", "keygen", "a.test"))
    keys = [f"--txt-record={name}," + ",".join(strings) for name, strings in records.items()]
    if enforce is not None:
        b.config("dmarc.enforce", enforce)
    return a, b, DNS_RECORDS + POLICIES + keys


@pytest.fixture
def pair(instance_factory):
    a, b, records = start_pair(instance_factory)
    with dnsmasq(records) as address:
        for inst, other in ((a, b), (b, a)):
            inst.config("dns.resolvers", address)
            inst.config("outbound.port", other.port("smtp"))
            inst.config("queue.retry_schedule", "1s")
        yield a.start(), b.start()


def forge(inst, mail_from, header_from, subject, expect_refusal=False):
    """Sends inst a message on port 25 from the forger's address."""
    c = smtplib.SMTP(inst.listen, inst.port("smtp"), timeout=30, source_address=(FORGER, 0))
    c.ehlo("forger.test")
    msg = (f"From: <{header_from}>\r\nTo: <bob@b.test>\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '.')}@forger.test>\r\n\r\nPay now.\r\n")
    if expect_refusal:
        with pytest.raises(smtplib.SMTPDataError) as e:
            c.sendmail(mail_from, ["bob@b.test"], msg.encode())
        c.quit()
        return e.value
    assert c.sendmail(mail_from, ["bob@b.test"], msg.encode()) == {}
    c.quit()
    return None


def folder_messages(inst, user, folder):
    """Every message of the folder, read over IMAP, as email.message objects."""
    c = inst.imap(user=user)
    c.select(folder, readonly=True)
    typ, data = c.search(None, "ALL")
    out = []
    for num in data[0].split():
        typ, msg = c.fetch(num, "(BODY.PEEK[])")
        out.append(email.message_from_bytes(msg[0][1], policy=email.policy.compat32))
    c.logout()
    return out


def by_subject(inst, user, folder, subject):
    found = [m for m in folder_messages(inst, user, folder) if m["Subject"] == subject]
    assert len(found) == 1, [m["Subject"] for m in folder_messages(inst, user, folder)]
    return found[0]


def results(msg, authserv_id="mx.b.test"):
    """Our one Authentication-Results field: {method: [(result, {ptype.property: value})]}."""
    fields = [" ".join(v.split()) for v in msg.get_all("Authentication-Results", [])]
    parsed = [authres.AuthenticationResultsHeader.parse("Authentication-Results: " + v)
              for v in fields]
    ours = [p for p in parsed if p.authserv_id.lower() == authserv_id]
    assert len(ours) == 1, fields
    out = {}
    for r in ours[0].results:
        props = {f"{p.type}.{p.name}": p.value for p in r.properties}
        out.setdefault(r.method, []).append((r.result, props))
    return out


def wait_for(inst, user, folder, count, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(folder_messages(inst, user, folder)) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{folder} of {user} has fewer than {count} messages")


def test_mail_between_two_servers_passes_spf_dkim_and_dmarc(pair):
    a, b = pair
    submit(a, "alice@a.test", "bob@b.test", "hello b", "From one server to the other.\r\n")
    wait_for(b, "bob@b.test", "INBOX", 1)
    r = results(by_subject(b, "bob@b.test", "INBOX", "hello b"))
    assert r["spf"] == [("pass", {"smtp.mailfrom": "alice@a.test"})]
    assert sorted(x[1]["header.a"] for x in r["dkim"]) == ["ed25519-sha256", "rsa-sha256"]
    assert all(res == "pass" and p["header.d"] == "a.test" for res, p in r["dkim"])
    assert r["dmarc"] == [("pass", {"header.from": "a.test", "policy.dmarc": "reject"})]
    assert folder_messages(b, "bob@b.test", "Junk") == []


def test_forged_from_fails_dmarc_and_goes_to_junk(pair):
    a, b = pair
    forge(b, "x@mail.evil.test", "ceo@a.test", "urgent transfer")
    wait_for(b, "bob@b.test", "Junk", 1)
    r = results(by_subject(b, "bob@b.test", "Junk", "urgent transfer"))
    # SPF passes for evil.test's own domain, which is not a.test's
    assert r["spf"] == [("pass", {"smtp.mailfrom": "x@mail.evil.test"})]
    assert r["dkim"] == [("none", {})]
    assert r["dmarc"] == [("fail", {"header.from": "a.test", "policy.dmarc": "reject"})]
    assert folder_messages(b, "bob@b.test", "INBOX") == []
    assert "dmarc=fail header.from=a.test: to Junk" in b.read_log()


@pytest.mark.parametrize("mail_from,author,folder,result", [
    # relaxed SPF alignment: mail.evil.test and evil.test share evil.test as their
    # Organizational Domain (the tree walk finds _dmarc.evil.test)
    ("bounce@mail.evil.test", "news@evil.test", "INBOX", "pass"),
    # strict alignment (aspf=s) asks for the very domain: p=quarantine applies
    ("bounce@mail.strict.test", "news@strict.test", "Junk", "fail"),
    # p=none: noted, delivered as usual
    ("x@mail.evil.test", "boss@lax.test", "INBOX", "fail"),
    # a domain without a DMARC record: DMARC does not apply
    ("x@mail.evil.test", "someone@nodmarc.test", "INBOX", "none"),
    # t=y: the policy one level lower, p=reject as quarantine
    ("x@mail.evil.test", "boss@trial.test", "Junk", "fail"),
    # a subdomain without a record of its own takes a.test's policy (no sp: p)
    ("x@mail.evil.test", "billing@news.a.test", "Junk", "fail"),
])
def test_alignment_and_policies(pair, mail_from, author, folder, result):
    a, b = pair
    subject = f"from {author}"
    forge(b, mail_from, author, subject)
    wait_for(b, "bob@b.test", folder, 1)
    r = results(by_subject(b, "bob@b.test", folder, subject))
    assert r["dmarc"][0][0] == result, r
    assert r["dmarc"][0][1]["header.from"] == author.split("@")[1]


def test_enforce_reject_refuses_p_reject_and_quarantines_the_rest(instance_factory):
    a, b, records = start_pair(instance_factory, enforce="reject")
    with dnsmasq(records) as address:
        b.config("dns.resolvers", address)
        b.start()
        e = forge(b, "x@mail.evil.test", "ceo@a.test", "refused", expect_refusal=True)
        assert e.smtp_code == 550 and e.smtp_error.startswith(b"5.7.1 ")
        assert b"DMARC" in e.smtp_error and b"a.test" in e.smtp_error
        # p=quarantine, and p=reject in test mode, go to Junk
        forge(b, "x@mail.evil.test", "boss@q.test", "quarantined")
        forge(b, "x@mail.evil.test", "boss@trial.test", "on trial")
        wait_for(b, "bob@b.test", "Junk", 2)
        assert folder_messages(b, "bob@b.test", "INBOX") == []
        assert "dmarc=fail header.from=a.test policy=reject" in b.read_log()


def test_enforce_none_delivers_to_inbox(instance_factory):
    a, b, records = start_pair(instance_factory, enforce="none")
    with dnsmasq(records) as address:
        b.config("dns.resolvers", address)
        b.start()
        forge(b, "x@mail.evil.test", "ceo@a.test", "noted only")
        wait_for(b, "bob@b.test", "INBOX", 1)
        r = results(by_subject(b, "bob@b.test", "INBOX", "noted only"))
        assert r["dmarc"][0][0] == "fail"
        assert folder_messages(b, "bob@b.test", "Junk") == []
