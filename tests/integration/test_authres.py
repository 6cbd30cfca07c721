"""Authentication-Results on received mail (RFC 8601): estafeta (hostname mx.example.test)
checks the reverse DNS of each port-25 client (iprev) and its HELO name against a real DNS
server (Debian's dnsmasq) on loopback, and writes what it found above its Received line.
Clients connect from chosen 127.0.0.x addresses; the header is read back over IMAP and parsed
with Debian's python3-authres, an independent implementation of RFC 8601.

DNS data (see RECORDS): 127.0.0.2's PTR is good.test, whose A record leads back; 127.0.0.3's
is liar.test, whose A record is another address; 127.0.0.4 has no PTR; 127.0.0.5 has two
PTR names of which only the second leads back.
"""
import email
import email.policy
import imaplib
import smtplib
import socket
import threading
import time

import authres
import pytest

from test_outbound import dnsmasq

OURS = "mx.example.test"
RECORDS = [
    "--local=/test/", "--local=/in-addr.arpa/",
    "--ptr-record=2.0.0.127.in-addr.arpa,good.test", "--host-record=good.test,127.0.0.2",
    "--ptr-record=3.0.0.127.in-addr.arpa,liar.test", "--host-record=liar.test,127.0.0.9",
    "--ptr-record=5.0.0.127.in-addr.arpa,one.test", "--host-record=one.test,127.0.0.8",
    "--ptr-record=5.0.0.127.in-addr.arpa,two.test", "--host-record=two.test,127.0.0.5",
]


@pytest.fixture
def mx(instance_factory):
    """A running instance for example.test (hostname mx.example.test) whose resolver is
    dnsmasq with RECORDS; alice can log in over IMAP."""
    with dnsmasq(RECORDS) as resolvers:
        inst = instance_factory()
        inst.add_user("alice@example.test")
        inst.add_user("bob@example.test")
        inst.config("dns.resolvers", resolvers)
        inst.config("auth.failure_delay", "0s")
        yield inst.start()


def send_from(inst, source_ip, helo, header="", body="Hello.\r\n"):
    """Sends a message to alice on port 25 from source_ip, saying EHLO helo."""
    c = smtplib.SMTP(inst.listen, inst.port("smtp"), timeout=30, source_address=(source_ip, 0))
    c.ehlo(helo)
    msg = (f"{header}From: <someone@elsewhere.test>\r\nTo: <alice@example.test>\r\n"
           f"Subject: from {source_ip}\r\n\r\n{body}")
    refused = c.sendmail("someone@elsewhere.test", ["alice@example.test"], msg.encode())
    assert refused == {}, refused
    c.quit()


def last_message(inst, user="alice@example.test"):
    """The newest message in user's INBOX, read over IMAP, as an email.message object."""
    c = inst.imap(user=user)
    c.select("INBOX", readonly=True)
    typ, data = c.search(None, "ALL")
    last = data[0].split()[-1]
    typ, data = c.fetch(last, "(BODY.PEEK[])")
    c.logout()
    return email.message_from_bytes(data[0][1], policy=email.policy.compat32)


def our_results(msg):
    """Our Authentication-Results fields (parsed by python3-authres) and the raw values."""
    fields = [" ".join(v.split()) for v in msg.get_all("Authentication-Results", [])]
    parsed = [authres.AuthenticationResultsHeader.parse("Authentication-Results: " + v)
              for v in fields]
    ours = [(p, v) for p, v in zip(parsed, fields) if p.authserv_id.lower() == OURS]
    return ours, parsed


def iprev_of(msg):
    """The iprev result of our one field: (result, policy.iprev, raw field value)."""
    ours, _ = our_results(msg)
    assert len(ours) == 1, ours
    header, raw = ours[0]
    # iprev first; SPF, DKIM, ARC and DMARC after it (test_dmarc.py and test_arc.py check those)
    assert [r.method for r in header.results] == ["iprev", "spf", "dkim", "arc", "dmarc"]
    r = header.results[0]
    props = {(p.type, p.name): p.value for p in r.properties}
    return r.result, props[("policy", "iprev")], raw


@pytest.mark.parametrize("source_ip,helo,result,comment", [
    # the PTR name's A record leads back; the HELO name is the client's
    ("127.0.0.2", "good.test", "pass", "(good.test; helo good.test resolves to the client)"),
    # the PTR name's A record is another address, and so is the HELO name's
    ("127.0.0.3", "liar.test", "fail",
     "(no PTR name leads back to the address; helo liar.test resolves, not to the client)"),
    # RFC 8601 2.7.3: no PTR data for the address is permerror
    ("127.0.0.4", "nowhere.test", "permerror", "(no PTR record; helo nowhere.test does not resolve)"),
    # of two PTR names the second leads back; an address literal is compared as it is
    ("127.0.0.5", "[127.0.0.5]", "pass", "(two.test; helo [127.0.0.5] resolves to the client)"),
])
def test_iprev_and_helo_results(mx, source_ip, helo, result, comment):
    send_from(mx, source_ip, helo)
    msg = last_message(mx)
    assert iprev_of(msg)[:2] == (result, source_ip)
    assert comment in iprev_of(msg)[2]
    # above the Received line we added (RFC 8601 4), below delivery's own Return-Path
    names = [k.lower() for k in msg.keys()]
    assert names[:4] == ["return-path", "delivered-to", "authentication-results", "received"]
    assert msg["Received"].startswith(f"from {helo} ([{source_ip}])")


def test_forged_results_with_our_id_are_removed_and_others_kept(mx):
    forged = (f"Authentication-Results: {OURS}; iprev=pass policy.iprev=192.0.2.66\r\n"
              "Authentication-Results: (sneaky) MX.Example.Test;\r\n\tspf=pass smtp.mailfrom=x@y.test\r\n"
              f"Authentication-Results: {OURS} 2; dkim=pass header.d=y.test\r\n"
              "Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=a@other.test\r\n")
    send_from(mx, "127.0.0.2", "good.test", header=forged)
    msg = last_message(mx)
    ours, parsed = our_results(msg)
    assert len(ours) == 1
    assert iprev_of(msg)[:2] == ("pass", "127.0.0.2")
    foreign = [p for p in parsed if p.authserv_id == "relay.other.test"]
    assert len(foreign) == 1 and foreign[0].results[0].method == "spf"
    assert len(parsed) == 2
    assert "Authentication-Results claiming mx.example.test" in mx.read_log()


def test_large_message_gets_the_field_and_keeps_its_body(mx):
    body = "".join(f"line {i:06d} of a message larger than the spool's buffer\r\n" for i in range(4000))
    send_from(mx, "127.0.0.3", "liar.test", body=body)
    msg = last_message(mx)
    assert iprev_of(msg)[:2] == ("fail", "127.0.0.3")
    assert msg.get_payload() == body


def test_submission_adds_none_and_removes_forged_ones(mx):
    # Mail from our own users is authenticated by AUTH, not by DNS: no check, no field of ours,
    # and one a user writes with our name does not reach the recipient.
    c = mx.smtp("submission")
    c.login("bob@example.test", mx.passwords["bob@example.test"])
    msg = (f"Authentication-Results: {OURS}; iprev=pass policy.iprev=192.0.2.66\r\n"
           "From: <bob@example.test>\r\nTo: <alice@example.test>\r\nSubject: inside\r\n\r\nhi\r\n")
    c.sendmail("bob@example.test", ["alice@example.test"], msg.encode())
    c.quit()
    got = last_message(mx)
    assert got["Subject"] == "inside"
    assert got.get_all("Authentication-Results") is None


def test_helo_changes_within_the_session(mx):
    # The check follows the last HELO; a message after a new EHLO reports the new name.
    c = smtplib.SMTP(mx.listen, mx.port("smtp"), timeout=30, source_address=("127.0.0.2", 0))
    c.ehlo("nowhere.test")
    c.ehlo("good.test")
    c.sendmail("someone@elsewhere.test", ["alice@example.test"],
               b"From: <someone@elsewhere.test>\r\nSubject: twice\r\n\r\nx\r\n")
    c.quit()
    result, ip, raw = iprev_of(last_message(mx))
    assert result == "pass"
    assert "helo good.test resolves to the client" in raw


def test_end_of_data_waits_a_bounded_time_without_blocking_others(instance_factory):
    # A resolver that never answers: the message waits for the checks at most 10 seconds,
    # gets temperror, and meanwhile the server goes on serving other clients.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.53", 0))
        inst = instance_factory()
        inst.add_user("alice@example.test")
        inst.config("dns.resolvers", "127.0.0.53:%d" % silent.getsockname()[1])
        inst.start()
        started = time.time()
        sender = threading.Thread(target=send_from, args=(inst, "127.0.0.2", "good.test"))
        sender.start()
        time.sleep(1)
        t = time.time()
        with inst.smtp() as other:
            assert other.noop()[0] == 250
        assert time.time() - t < 2
        sender.join()
        assert 9 < time.time() - started < 20
        result, ip, raw = iprev_of(last_message(inst))
        assert (result, ip) == ("temperror", "127.0.0.2")
        assert "(no DNS answer in time; helo good.test unresolved: no DNS answer in time)" in raw
