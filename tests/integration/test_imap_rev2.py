"""IMAP4rev2 (RFC 9051) beside IMAP4rev1: both advertised, and a client that sends
"ENABLE IMAP4rev2" gets rev2's answers (Appendix A): a LIST response instead of RECENT and
UNSEEN at SELECT, CLOSED when another mailbox was selected, ESEARCH for every SEARCH, mailbox
names in UTF-8 (normalized, with OLDNAME when a client's spelling differs) and UID in every
unsolicited FETCH. A session that does not enable it keeps IMAP4rev1's answers. Raw sockets:
imaplib speaks IMAP4rev1 only."""
import os
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, mailbox, raw  # noqa: E402,F401

CAFE_NFC = unicodedata.normalize("NFC", "Caf\u00e9")
CAFE_NFD = unicodedata.normalize("NFD", "Caf\u00e9")


def login(inst, rev2=True):
    r = raw(inst)
    assert r.cmd("a", f"LOGIN {ALICE} {inst.passwords[ALICE]}")[-1].startswith("a OK")
    if rev2:
        assert r.cmd("b", "ENABLE IMAP4rev2") == ["* ENABLED IMAP4rev2", "b OK Enable completed"]
    return r


def literal(text):
    """A mailbox name sent as a literal+ (non-synchronizing), as UTF-8 octets."""
    data = text.encode()
    return f"{{{len(data)}+}}\r\n".encode() + data


def test_both_revisions_advertised_and_enabled_once(mailbox):
    r = raw(mailbox)
    caps = r.cmd("a", "CAPABILITY")[0].split()
    assert {"IMAP4rev1", "IMAP4rev2", "ENABLE", "ESEARCH", "SEARCHRES", "LITERAL+"} <= set(caps)
    greeting_caps = r.greeting.split("[CAPABILITY ", 1)[1].split("]", 1)[0].split()
    assert {"IMAP4rev1", "IMAP4rev2"} <= set(greeting_caps), r.greeting
    r = login(mailbox)
    assert r.cmd("c", "ENABLE IMAP4rev2") == ["* ENABLED", "c OK Enable completed"]


def test_select_answers_list_not_recent_and_closed_on_reselect(mailbox):
    r = login(mailbox)
    lines = r.cmd("c", "SELECT inbox")
    assert lines[-1] == "c OK [READ-WRITE] SELECT completed"
    assert "* 3 EXISTS" in lines
    # the mailbox's attributes, and the name the client gave that is not how it is kept
    assert '* LIST (\\HasNoChildren) "/" "INBOX" ("OLDNAME" ("inbox"))' in lines, lines
    assert not any("RECENT" in l or "[UNSEEN" in l for l in lines), lines
    assert any(l.startswith("* OK [UIDNEXT 4]") for l in lines)
    assert any(l.startswith("* OK [UIDVALIDITY ") for l in lines)
    assert any(l.startswith("* OK [PERMANENTFLAGS (") for l in lines)
    lines = r.cmd("d", "EXAMINE Sent")
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed", lines
    assert '* LIST (\\HasNoChildren \\Sent) "/" "Sent"' in lines, lines
    assert lines[-1] == "d OK [READ-ONLY] EXAMINE completed"
    # IMAP4rev1 keeps RECENT and UNSEEN, and has no LIST or CLOSED
    old = login(mailbox, rev2=False)
    old.cmd("c", "SELECT INBOX")
    lines = old.cmd("d", "SELECT INBOX")
    assert "* 0 RECENT" in lines and "* OK [UNSEEN 1] First unseen" in lines, lines
    assert not any(l.startswith("* LIST") or "CLOSED" in l for l in lines), lines


def test_search_answers_esearch(mailbox):
    r = login(mailbox)
    r.cmd("c", "SELECT INBOX")
    assert r.cmd("d", "SEARCH SUBJECT two") == ['* ESEARCH (TAG "d") ALL 2', "d OK SEARCH completed"]
    assert r.cmd("e", "UID SEARCH ALL")[0] == '* ESEARCH (TAG "e") UID ALL 1:3'
    assert r.cmd("f", "SEARCH SUBJECT no-such-thing") == ['* ESEARCH (TAG "f")',
                                                          "f OK SEARCH completed"]
    # CHARSET stays allowed (it is UTF8=ACCEPT that forbids it), RETURN still chooses
    assert r.cmd("g", "SEARCH CHARSET UTF-8 BODY needle")[0] == '* ESEARCH (TAG "g") ALL 2'
    assert r.cmd("h", "SEARCH RETURN (COUNT) ALL")[0] == '* ESEARCH (TAG "h") COUNT 3'
    old = login(mailbox, rev2=False)
    old.cmd("c", "SELECT INBOX")
    assert old.cmd("d", "SEARCH SUBJECT two")[0] == "* SEARCH 2"


def test_mailbox_names_are_utf8_and_normalized(mailbox):
    r = login(mailbox)
    # a decomposed "e" + U+0301 is kept composed (Net-Unicode, RFC 5198)
    r.send(b"c CREATE " + literal(CAFE_NFD + "/Men\u00fc") + b"\r\n")
    assert r.until("c")[-1] == "c OK CREATE completed"
    lines = r.cmd("d", 'LIST "" "*"')
    listed = [lines[i + 1] for i, l in enumerate(lines) if l.startswith("* LIST") and l.endswith("}")]
    assert CAFE_NFC in listed and CAFE_NFC + "/Men\u00fc" in listed, lines
    assert CAFE_NFD not in listed
    # selecting by the decomposed spelling finds it and says how it is kept
    r.send(b"e SELECT " + literal(CAFE_NFD) + b"\r\n")
    lines = r.until("e")
    assert lines[-1] == "e OK [READ-WRITE] SELECT completed", lines
    at = next(i for i, l in enumerate(lines) if l.startswith("* LIST (\\HasChildren)"))
    assert lines[at + 1].startswith(CAFE_NFC + ' ("OLDNAME" ('), lines
    assert lines[at + 2] == CAFE_NFD + "))"
    # "&" is only a character in UTF-8 names; IMAP4rev1 sees modified UTF-7
    assert r.cmd("f", 'CREATE "R&D"')[-1] == "f OK CREATE completed"
    old = login(mailbox, rev2=False)
    names = " ".join(old.cmd("c", 'LIST "" "*"'))
    assert '"Caf&AOk-"' in names and '"Caf&AOk-/Men&APw-"' in names and '"R&-D"' in names, names
    # and its modified UTF-7 names mean the same mailboxes
    assert old.cmd("d", 'STATUS "Caf&AOk-" (MESSAGES)')[0] == '* STATUS "Caf&AOk-" (MESSAGES 0)'


def test_unsolicited_fetch_carries_uid(mailbox):
    r = login(mailbox)
    r.cmd("c", "SELECT INBOX")
    other = login(mailbox, rev2=False)
    other.cmd("c", "SELECT INBOX")
    other.cmd("d", "UID STORE 2 +FLAGS.SILENT (\\Flagged)")
    lines = r.cmd("d", "NOOP")
    assert "* 2 FETCH (UID 2 FLAGS (\\Flagged))" in lines, lines
