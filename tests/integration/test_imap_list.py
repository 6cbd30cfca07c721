"""LIST-EXTENDED and LIST-STATUS (RFC 9051 6.3.9, from RFC 5258 and 5819), SPECIAL-USE
selection (RFC 6154): selection options, several patterns, RETURN (SUBSCRIBED CHILDREN
SPECIAL-USE STATUS (...)), and the errors. Raw sockets, as imaplib has no LIST options."""
import os
import sys

import pytest

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


def test_recursivematch_tells_childinfo(mailbox):
    """RFC 9051 6.3.9.6 (Example 9's case): a parent that matches the pattern but not the
    selection is listed with CHILDINFO when a descendant the pattern does not reach meets it."""
    r = login(mailbox)
    r.cmd("b", "CREATE Clients/Acme/2024")
    r.cmd("c", "CREATE Clients/Zeta")
    r.cmd("d", "SUBSCRIBE Clients/Acme/2024")  # CREATE subscribes nothing
    lines = r.cmd("e", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    clients = [l for l in lines if l.startswith("* LIST") and '"Clients"' in l]
    assert clients == ['* LIST (\\HasChildren) "/" "Clients" ("CHILDINFO" ("SUBSCRIBED"))'], lines
    # one level down: Acme has the subscribed child, Zeta nothing
    lines = r.cmd("f", 'LIST (SUBSCRIBED RECURSIVEMATCH) "Clients/" "%"')
    assert lines == ['* LIST (\\HasChildren) "/" "Clients/Acme" ("CHILDINFO" ("SUBSCRIBED"))',
                     "f OK LIST completed"], lines
    # where the child is listed itself, no CHILDINFO; without RECURSIVEMATCH, never
    lines = r.cmd("g", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "Clients*"')
    assert lines == ['* LIST (\\HasNoChildren \\Subscribed) "/" "Clients/Acme/2024"',
                     "g OK LIST completed"], lines
    lines = r.cmd("h", 'LIST (SUBSCRIBED) "" "%"')
    assert not any("Clients" in l or "CHILDINFO" in l for l in lines), lines


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


def test_mailbox_names_in_modified_utf7_and_utf8(mailbox):
    """Names are kept in UTF-8: a client without UTF8=ACCEPT speaks modified UTF-7 (RFC 3501
    5.1.3), one with it UTF-8 (RFC 6855); both see the same mailbox, and so does the admin."""
    r = login(mailbox)
    assert r.cmd("b", "CREATE Entw&APw-rfe")[-1] == "b OK CREATE completed"
    # not closed: well-formed, but no mailbox can have the name (RFC 9051 6.3.4: NO)
    assert r.cmd("c", "CREATE &Jjo")[-1] == "c NO [CANNOT] Invalid mailbox name"
    assert r.cmd("d", "CREATE &AGE-")[-1].startswith("d NO [CANNOT]")  # encodes "a"
    assert r.cmd("e", 'CREATE "Gr\xfc"')[-1].startswith("e BAD")   # 8-bit without UTF8=ACCEPT
    assert 'Entw&APw-rfe' in "\n".join(r.cmd("f", 'LIST "" "Entw*"'))
    u = login(mailbox)
    assert u.cmd("b", "ENABLE UTF8=ACCEPT")[0] == "* ENABLED UTF8=ACCEPT"
    u.send('c CREATE "Gr\u00fc\u00dfe"\r\n'.encode())
    assert u.until("c")[-1] == "c OK CREATE completed"
    assert any("Entwürfe" in l for l in u.cmd("d", 'LIST "" "*"'))
    assert any('"Gr&APwA3w-e"' in l for l in r.cmd("g", 'LIST "" "Gr*"'))
    assert r.cmd("h", "SELECT Gr&APwA3w-e")[-1].startswith("h OK")
    mailbox.cli("mailbox", "list", ALICE, "Entwürfe")  # the admin names it in UTF-8 ...
    with pytest.raises(Exception):
        mailbox.cli("mailbox", "list", ALICE, "Entw&APw-rfe")  # ... not in modified UTF-7
    # after UTF8=ACCEPT: APPEND UTF8 (~{n}) takes 8-bit headers; CHARSET in SEARCH is refused
    msg = "Subject: Grüße\r\nFrom: a@b.test\r\n\r\nbody\r\n".encode()
    u.send(f"e APPEND INBOX UTF8 (~{{{len(msg)}+}}\r\n".encode() + msg + b")\r\n")
    assert u.until("e")[-1].startswith("e OK [APPENDUID"), "APPEND UTF8"
    u.cmd("f", "SELECT INBOX")
    assert u.cmd("g", "SEARCH CHARSET UTF-8 ALL")[-1].startswith("g BAD")
    assert u.cmd("h", 'SEARCH SUBJECT "Grüße"')[0] == "* SEARCH 4"


def test_status_size_and_deleted(mailbox):
    """STATUS SIZE (RFC 8438, RFC 9051 6.3.11) is the octets FETCH RFC822.SIZE gives, summed;
    DELETED counts the messages flagged \\Deleted; both go in LIST-STATUS too."""
    r = login(mailbox)
    assert "STATUS=SIZE" in r.cmd("b", "CAPABILITY")[0].split()
    r.cmd("c", "SELECT INBOX")
    sizes = [int(l.split("RFC822.SIZE ")[1].rstrip(")")) for l in r.cmd("d", "FETCH 1:* RFC822.SIZE")[:-1]]
    r.cmd("e", "STORE 2:3 +FLAGS (\\Deleted)")
    lines = r.cmd("f", "STATUS INBOX (SIZE DELETED MESSAGES)")
    assert lines[0] == f'* STATUS "INBOX" (SIZE {sum(sizes)} DELETED 2 MESSAGES 3)', lines
    lines = r.cmd("g", 'LIST "" "Trash" RETURN (STATUS (SIZE DELETED))')
    assert '* STATUS "Trash" (SIZE 0 DELETED 0)' in lines, lines
    r.cmd("h", "EXPUNGE")
    assert r.cmd("i", "STATUS INBOX (SIZE DELETED)")[0] == f'* STATUS "INBOX" (SIZE {sizes[0]} DELETED 0)'
