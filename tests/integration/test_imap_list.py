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


def test_rename_inbox_moves_its_messages(mailbox):
    """RFC 3501 6.3.5: RENAME INBOX moves every message into the new mailbox; INBOX stays,
    empty, and new mail still arrives there. A rename creates missing superiors and refuses
    to move a mailbox below itself."""
    r = login(mailbox)
    lines = r.cmd("b", "RENAME INBOX Old/2026")
    assert lines[-1] == "b OK RENAME completed", lines
    assert r.cmd("c", "STATUS INBOX (MESSAGES)")[0] == '* STATUS "INBOX" (MESSAGES 0)'
    assert r.cmd("d", "STATUS Old/2026 (MESSAGES)")[0] == '* STATUS "Old/2026" (MESSAGES 3)'
    assert any(name_of(l) == "Old" for l in r.cmd("e", 'LIST "" Old'))
    r.cmd("f", "SELECT Old/2026")
    assert "Subject: two" in "\n".join(r.cmd("g", "FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]"))
    assert r.cmd("h", "RENAME Old Old/Deeper")[-1].startswith("h NO [CANNOT]")
    assert r.cmd("i", "RENAME Old/2026 INBOX")[-1].startswith("i NO [ALREADYEXISTS]")
