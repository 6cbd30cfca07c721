"""ETRN (RFC 1985) on one instance: only for the domains smtp.etrn_domains names (459 for any
other), the same answer whether mail is queued for the node or not (no 251 that would say
what is queued), a limit per client address (458 past it, for every node), and the store's
write done off the event loop."""
import os
import smtplib
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from conftest import RawSMTP  # noqa: E402

ALICE = "alice@example.test"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: every attempt fails and the mail stays queued
    return port


def etrn(inst, node, source=None):
    c = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30,
                     source_address=(source, 0) if source else None)
    c.ehlo("backup.test")
    code, text = c.docmd("ETRN", node)
    c.quit()
    return code, text.decode()


def queued(inst):
    return [l.split("\t") for l in inst.cli("queue", "list").splitlines() if l]


def test_etrn_policy_same_answer_and_rate_limit(server):
    server.stop()
    server.config("smtp.etrn_domains", "held.test, other.test")
    server.config("smtp.etrn_max_per_ip", "7")
    server.config("relayhost", f"[127.0.0.1]:{closed_port()}")
    server.config("queue.retry_schedule", "1h")
    server.start()

    # nothing queued yet for held.test
    empty = etrn(server, "held.test")
    assert empty[0] == 250, empty
    c = server.smtp("submission")
    c.login(ALICE, server.passwords[ALICE])
    c.sendmail(ALICE, ["someone@held.test"], b"Subject: for held\r\n\r\nkept for the backup MX\r\n")
    c.quit()
    deadline = time.time() + 20
    while not (queued(server) and queued(server)[0][4] == "1"):
        assert time.time() < deadline, queued(server)
        time.sleep(0.1)
    # the same answer now that mail waits, and it did release it
    held = etrn(server, "held.test")
    assert held == empty
    deadline = time.time() + 10
    while "smtp etrn node=held.test recipients=1" not in server.read_log():
        assert time.time() < deadline, server.read_log()
        time.sleep(0.1)
    # a subdomain of a listed domain, with or without "@", answers as its parent does
    assert etrn(server, "@held.test")[0] == 250
    assert etrn(server, "mx.other.test") == (250, empty[1].replace("held.test", "mx.other.test"))

    # a domain we hold no mail for is refused, our own local domain too; the answer says why
    code, text = etrn(server, "elsewhere.test")
    assert code == 459 and text.startswith("4.7.1 Node elsewhere.test not allowed"), text
    assert etrn(server, "example.test")[0] == 459
    assert etrn(server, "notheld.test")[0] == 459       # a suffix, not a subdomain

    # seven requests counted (refused ones too): the eighth is past the limit, whatever the node
    code, text = etrn(server, "held.test")
    assert code == 458 and text.startswith("4.7.0 Unable to queue messages for node held.test"), text
    assert etrn(server, "elsewhere.test")[0] == 458
    # the session goes on after a refusal
    r = RawSMTP("127.0.0.1", server.port("smtp"))
    r.cmd("EHLO backup.test")
    assert r.cmd("ETRN held.test")[0] == 458
    assert r.cmd("NOOP")[0] == 250
    r.close()
    # another client address has its own count
    assert etrn(server, "held.test", source="127.0.0.2") == empty
