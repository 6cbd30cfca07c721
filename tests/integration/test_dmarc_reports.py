"""DMARC aggregate reports (draft-ietf-dmarc-aggregate-reporting-32) between two instances, on
the DNS of test_dmarc.py (Debian's dnsmasq on loopback).

b receives a message from a (passes SPF, DKIM and DMARC) and one forged by a third host with a
From of a.test (fails, to Junk). `estafeta dmarc send-reports` on b mails its report to a.test's
rua, dmarc@a.test; a reads it when it delivers it, and `estafeta dmarc reports a.test` shows
b's report with a pass record from a's address and a fail record from the forger's. The
report's XML is checked against the draft's schema with xmllint (Debian's libxml2-utils).
A policy domain whose rua points outside it gets its report only where the destination's DNS
says it takes them.
"""
import email
import email.policy
import gzip
import os
import re
import subprocess
import time

import pytest

from test_dkim_sign import submit
from test_dmarc import FORGER, folder_messages, forge, start_pair, wait_for
from test_outbound import dnsmasq

# the schema of the draft's Appendix A, as the draft publishes it
SCHEMA = os.path.join(os.path.dirname(__file__), "schemas", "dmarc-xml-0.2.xsd")
EXTERNAL = [
    # ext.test's reports go to a.test, which says it takes them
    "--txt-record=_dmarc.ext.test,v=DMARC1; p=quarantine; rua=mailto:dmarc@a.test",
    "--txt-record=ext.test._report._dmarc.a.test,v=DMARC1",
    # noauth.test's would too, but a.test never agreed
    "--txt-record=_dmarc.noauth.test,v=DMARC1; p=none; rua=mailto:dmarc@a.test",
]


@pytest.fixture
def pair(instance_factory):
    a, b, records = start_pair(instance_factory)
    with dnsmasq(records + EXTERNAL) as address:
        for inst, other in ((a, b), (b, a)):
            inst.config("dns.resolvers", address)
            inst.config("outbound.port", other.port("smtp"))
            inst.config("queue.retry_schedule", "1s")
        a.add_user("dmarc@a.test")
        yield a.start(), b.start()


def reports_of(inst, domain, want, timeout=30):
    """`estafeta dmarc reports DOMAIN` once it lists want reports: [(line, [record lines])]."""
    deadline = time.time() + timeout
    while True:
        out = inst.cli("dmarc", "reports", domain)
        reports = []
        for line in out.splitlines():
            if line.startswith("  "):
                reports[-1][1].append(line.strip())
            else:
                reports.append((line, []))
        if len(reports) >= want or time.time() > deadline:
            return reports
        time.sleep(0.2)


def attachment(msg):
    parts = [p for p in msg.walk() if p.get_content_type() == "application/gzip"]
    assert len(parts) == 1, [p.get_content_type() for p in msg.walk()]
    return parts[0].get_filename(), gzip.decompress(parts[0].get_payload(decode=True))


def test_report_of_b_reaches_a_and_is_shown(pair, tmp_path):
    a, b = pair
    submit(a, "alice@a.test", "bob@b.test", "hello b", "From one server to the other.\r\n")
    forge(b, "x@mail.evil.test", "ceo@a.test", "urgent transfer")
    wait_for(b, "bob@b.test", "INBOX", 1)
    wait_for(b, "bob@b.test", "Junk", 1)
    assert "making the reports" in b.cli("dmarc", "send-reports")
    wait_for(a, "dmarc@a.test", "INBOX", 1)
    (msg,) = [m for m in folder_messages(a, "dmarc@a.test", "INBOX")
              if "Report Domain: a.test" in " ".join(m["Subject"].split())]
    subject = " ".join(msg["Subject"].split())
    assert re.fullmatch(r"Report Domain: a\.test Submitter: mx\.b\.test Report-ID: <\S+>", subject)
    name, xml = attachment(msg)
    begin, end, _ = re.fullmatch(r"mx\.b\.test!a\.test!(\d+)!(\d+)!(\w+)\.xml\.gz", name).groups()
    assert int(begin) <= time.time() <= int(end) + 5
    path = tmp_path / "report.xml"
    path.write_bytes(xml)
    check = subprocess.run(["xmllint", "--noout", "--schema", SCHEMA, str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr + xml.decode()

    (report,) = reports_of(a, "a.test", 1)
    line, records = report
    assert line.startswith("mx.b.test id=") and "messages=2 pass=1 fail=1" in line, line
    assert sorted(records) == [
        "127.0.0.1 count=1 disposition=pass dkim=pass spf=pass header_from=a.test",
        f"{FORGER} count=1 disposition=quarantine dkim=fail spf=fail header_from=a.test",
    ]
    # the next run has nothing new to report for the period already sent
    assert "making the reports" in b.cli("dmarc", "send-reports")
    time.sleep(2)
    assert len(reports_of(a, "a.test", 2, timeout=2)) == 1


def test_external_destinations_need_their_consent(pair):
    a, b = pair
    forge(b, "x@mail.evil.test", "news@ext.test", "from ext")
    forge(b, "x@mail.evil.test", "news@noauth.test", "from noauth")
    wait_for(b, "bob@b.test", "Junk", 1)
    wait_for(b, "bob@b.test", "INBOX", 1)
    b.cli("dmarc", "send-reports")
    (report,) = reports_of(a, "ext.test", 1)
    assert "messages=1 pass=0 fail=1" in report[0]
    deadline = time.time() + 10
    while "does not say it takes" not in b.read_log() and time.time() < deadline:
        time.sleep(0.1)
    assert "domain=noauth.test to=<dmarc@a.test> skipped" in b.read_log()
    assert reports_of(a, "noauth.test", 1, timeout=1) == []


def test_messages_refused_with_550_are_reported(instance_factory):
    a, b, records = start_pair(instance_factory, enforce="reject")
    with dnsmasq(records) as address:
        for inst, other in ((a, b), (b, a)):
            inst.config("dns.resolvers", address)
            inst.config("outbound.port", other.port("smtp"))
            inst.config("queue.retry_schedule", "1s")
        a.add_user("dmarc@a.test")
        a.start()
        b.start()
        e = forge(b, "x@mail.evil.test", "ceo@a.test", "refused", expect_refusal=True)
        assert e.smtp_code == 550
        b.cli("dmarc", "send-reports")
        (report,) = reports_of(a, "a.test", 1)
        assert "messages=1 pass=0 fail=1" in report[0]
        assert report[1] == [
            f"{FORGER} count=1 disposition=reject dkim=fail spf=fail header_from=a.test"]


def test_reports_command_checks_its_arguments(pair):
    a, b = pair
    p = a.cli("dmarc", "reports", "a.test", "--since", "yesterday", check=False)
    assert p.returncode == 2 and "YYYY-MM-DD" in p.stderr
    assert a.cli("dmarc", "reports", "a.test", "--since", "2020-01-01") == ""
