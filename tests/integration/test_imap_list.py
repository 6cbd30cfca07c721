"""LIST-EXTENDED and LIST-STATUS (RFC 9051 6.3.9, from RFC 5258 and 5819), SPECIAL-USE
selection (RFC 6154): selection options, several patterns, RETURN (SUBSCRIBED CHILDREN
SPECIAL-USE STATUS (...)), and the errors. Raw sockets, as imaplib has no LIST options."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, mailbox, raw  # noqa: E402,F401


def name_of(line):
    return line.rsplit(" ", 1)[1].strip('"')


def login(inst):
    r = raw(inst)
    assert r.cmd("a", f"LOGIN {ALICE} {inst.passwords[ALICE]}")[-1].startswith("a OK")
    return r


def test_list_status_and_subscribed(mailbox):
    r = login(mailbox)
    caps = r.cmd("b", "CAPABILITY")[0].split()
    assert "LIST-EXTENDED" in caps and "LIST-STATUS" in caps
    r.cmd("c", "CREATE Work/Reports")
    r.cmd("d", "UNSUBSCRIBE Junk")
    lines = r.cmd("e", 'LIST "" (INBOX Work*) RETURN (STATUS (MESSAGES UNSEEN) SUBSCRIBED)')
    assert lines[-1] == "e OK LIST completed", lines
    body = lines[:-1]
    assert body[0].startswith('* LIST (\\HasNoChildren') and name_of(body[0]) == "INBOX", body
    assert body[1] == '* STATUS "INBOX" (MESSAGES 3 UNSEEN 3)', body
    names = [name_of(l) for l in body if l.startswith("* LIST")]
    assert names == ["INBOX", "Work", "Work/Reports"], body
    work = [l for l in body if l.startswith("* LIST") and name_of(l) == "Work"][0]
    assert "\\HasChildren" in work
    # every LIST line is followed by the STATUS of its mailbox
    assert [l for l in body if l.startswith("* STATUS")] == [
        '* STATUS "INBOX" (MESSAGES 3 UNSEEN 3)', '* STATUS "Work" (MESSAGES 0 UNSEEN 0)',
        '* STATUS "Work/Reports" (MESSAGES 0 UNSEEN 0)']
    lines = r.cmd("f", 'LIST (SUBSCRIBED) "" "*"')
    listed = [name_of(l) for l in lines if l.startswith("* LIST")]
    assert "Junk" not in listed and "INBOX" in listed, lines
    assert all("\\Subscribed" in l for l in lines if l.startswith("* LIST")), lines


def test_special_use_selection(mailbox):
    r = login(mailbox)
    lines = r.cmd("b", 'LIST (SPECIAL-USE) "" "*"')
    found = {name_of(l): l for l in lines if l.startswith("* LIST")}
    assert set(found) == {"Sent", "Drafts", "Trash", "Junk", "Archive"}, lines
    assert "\\Sent" in found["Sent"] and "\\Junk" in found["Junk"]


def test_list_errors_and_delimiter(mailbox):
    r = login(mailbox)
    assert r.cmd("b", 'LIST "" ""')[0] == '* LIST (\\Noselect) "/" ""'
    assert r.cmd("c", 'LIST (BOGUS) "" "*"')[-1].startswith("c BAD")
    assert r.cmd("d", 'LIST (RECURSIVEMATCH) "" "*"')[-1].startswith("d BAD")
    assert r.cmd("e", 'LIST "" "*" RETURN (STATUS (NOPE))')[-1].startswith("e BAD")
    assert r.cmd("f", 'LIST "" "*" RETURN')[-1].startswith("f BAD")
    assert r.cmd("g", 'LSUB "" (INBOX)')[-1].startswith("g BAD")
    assert r.cmd("h", 'LIST "" "*" RETURN (CHILDREN SPECIAL-USE)')[-1] == "h OK LIST completed"
