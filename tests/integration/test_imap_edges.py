"""What RFC 9051 and RFC 3501 ask at the edges, where a server is easy to get subtly wrong:
sequence sets of any length, a mailbox deleted under a session that has it selected, NUL
octets (only BINARY carries them), commands that fail without side effects, INBOX in any case
as a level above others, names no mailbox may have, LSUB's \\Noselect parents, message/global
parts, OLDNAME when a name is normalized, header field names as strings and "[" in
keywords. Raw sockets, to see every response."""
import os
import re
import sys
import unicodedata

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, mailbox, raw  # noqa: E402,F401


def login(inst, enable=None):
    r = raw(inst)
    assert r.cmd("a", f"LOGIN {ALICE} {inst.passwords[ALICE]}")[-1].startswith("a OK")
    if enable:
        assert r.cmd("b", f"ENABLE {enable}")[0] == f"* ENABLED {enable}"
    return r


def append(r, tag, folder, data, binary=False):
    r.send(f"{tag} APPEND {folder} {'~' if binary else ''}{{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    return r.until(tag)


def test_long_sequence_sets(mailbox):
    """The grammar bounds no sequence set: 1,200 ranges fit in one command line."""
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX")
    scattered = ",".join(str(n) for n in range(1, 2400, 2))
    assert len(scattered) > 5000
    lines = r.cmd("c", f"UID FETCH {scattered} (FLAGS)")
    assert lines[-1] == "c OK UID FETCH completed", lines[-1]
    assert [l.split()[1] for l in lines[:-1]] == ["1", "3"], lines  # UIDs 1 and 3 of 1..3
    assert r.cmd("d", f"UID STORE {scattered} +FLAGS.SILENT (\\Flagged)")[-1].startswith("d OK")
    assert r.cmd("e", f"UID SEARCH UID {scattered}")[0] == "* SEARCH 1 3"
    assert r.cmd("f", "SEARCH FLAGGED")[0] == "* SEARCH 1 3"


def delete_in_another_session(inst):
    other = login(inst)
    assert other.cmd("x", "DELETE Doomed")[-1] == "x OK DELETE completed"


def delete_and_create_again(inst):
    """A new mailbox under the old name is another mailbox (new UIDVALIDITY): the one
    selected is gone all the same."""
    other = login(inst)
    assert other.cmd("x", "DELETE Doomed")[-1] == "x OK DELETE completed"
    assert other.cmd("y", "CREATE Doomed")[-1] == "y OK CREATE completed"
    assert append(other, "z", "Doomed", b"Subject: new\r\n\r\nbody\r\n")[-1].startswith("z OK")


def delete_with_the_command_line(inst):
    inst.cli("mailbox", "del", ALICE, "Doomed")


DELETERS = [delete_in_another_session, delete_and_create_again, delete_with_the_command_line]


def doomed_selected(inst, enable=None):
    """A session with Doomed (two messages) selected."""
    r = login(inst, enable)
    assert r.cmd("b", "CREATE Doomed")[-1].startswith("b OK")
    for i in range(2):
        assert append(r, f"c{i}", "Doomed", f"Subject: d{i}\r\n\r\nbody\r\n".encode())[-1].startswith(f"c{i} OK")
    assert r.cmd("d", "SELECT Doomed")[-1].startswith("d OK [READ-WRITE]")
    return r


@pytest.mark.parametrize("delete", DELETERS, ids=lambda f: f.__name__)
def test_mailbox_deleted_under_a_session(mailbox, delete):
    """One rule whoever deletes the selected mailbox: before the next command the session
    learns that its messages are gone. Where expunges may not be announced (FETCH, STORE,
    SEARCH, COPY) a command that needs them is NO [NONEXISTENT]; the next NOOP announces
    every message expunged; the session stays selected, on an empty mailbox, where a command
    on no message is fine and one that needs the mailbox is still NO [NONEXISTENT]."""
    r = doomed_selected(mailbox)
    delete(mailbox)
    assert r.cmd("e", "FETCH 1:* UID") == ["e NO [NONEXISTENT] The mailbox was deleted meanwhile"]
    assert r.cmd("f", "STORE 1 +FLAGS (\\Seen)")[-1].startswith("f NO [NONEXISTENT]")
    assert r.cmd("g", "SEARCH ALL")[-1].startswith("g NO [NONEXISTENT]")
    assert r.cmd("h", "COPY 1:2 INBOX")[-1].startswith("h NO [NONEXISTENT]")
    # the next command that may announce expunges says that both messages are gone
    assert r.cmd("i", "NOOP") == ["* 1 EXPUNGE", "* 1 EXPUNGE", "i OK Noop completed"]
    assert r.cmd("j", "UID FETCH 1:* UID") == ["j OK UID FETCH completed"]  # nothing to fetch
    assert r.cmd("k", "UID MOVE 1:* INBOX")[-1].startswith("k OK")
    assert r.cmd("l", "EXPUNGE") == ["l NO [NONEXISTENT] The mailbox was deleted meanwhile"]
    assert r.cmd("m", "SEARCH ALL")[-1].startswith("m NO [NONEXISTENT]")
    assert r.cmd("n", "NOOP") == ["n OK Noop completed"]  # still selected: no BAD
    # another mailbox can be selected as usual
    assert r.cmd("o", "SELECT INBOX")[-1].startswith("o OK")


@pytest.mark.parametrize("delete", DELETERS, ids=lambda f: f.__name__)
def test_mailbox_deleted_under_a_session_in_idle(mailbox, delete):
    """A session in IDLE hears of it without sending anything: VANISHED after QRESYNC."""
    r = doomed_selected(mailbox, "QRESYNC")
    r.send("e IDLE\r\n")
    assert r.line().startswith("+ ")
    delete(mailbox)
    assert r.line() == "* VANISHED 1:2"  # the wake of another session, or IDLE's timer
    r.send("DONE\r\n")
    assert r.until("e") == ["e OK IDLE terminated"]
    assert r.cmd("f", "UID FETCH 1:* FLAGS") == ["f OK UID FETCH completed"]
    assert r.cmd("g", "UID EXPUNGE 1:*") == ["g NO [NONEXISTENT] The mailbox was deleted meanwhile"]


def test_deleting_the_selected_mailbox_says_closed(mailbox):
    r = login(mailbox)
    r.cmd("b", "CREATE Here")
    r.cmd("c", "SELECT Here")
    assert r.cmd("d", "DELETE Here") == ["* OK [CLOSED] The selected mailbox was deleted",
                                         "d OK DELETE completed"]
    assert r.cmd("e", "FETCH 1 UID")[-1].startswith("e BAD")  # nothing selected any more


def test_nul_only_in_binary(mailbox):
    r = login(mailbox)
    msg = b"Subject: nul\r\n\r\nbefore\x00after\r\n"
    assert append(r, "b", "INBOX", msg)[-1].startswith("b BAD")  # CHAR8 excludes NUL
    assert append(r, "c", "INBOX", msg, binary=True)[-1].startswith("c OK [APPENDUID")
    r.cmd("d", "SELECT INBOX")
    r.send("e FETCH 4 (RFC822.SIZE BODY.PEEK[])\r\n")
    head = r.line()
    assert head == f"* 4 FETCH (RFC822.SIZE {len(msg)} BODY[] {{{len(msg)}}}", head
    while len(r.buf) < len(msg):
        r.buf += r.sock.recv(65536)
    assert r.buf[:len(msg)] == msg.replace(b"\x00", b"\x80")
    r.buf = r.buf[len(msg):]
    assert r.until("e")[-1] == "e OK FETCH completed"
    r.send("f FETCH 4 BINARY.PEEK[1]\r\n")
    assert r.line() == "* 4 FETCH (BINARY[1] ~{14}"  # the octets as they are, in a literal8
    assert r.buf.startswith(b"before\x00after\r\n")


def test_bad_select_keeps_the_selected_mailbox(mailbox):
    r = login(mailbox, "QRESYNC")  # which has a reselect say CLOSED
    r.cmd("c", "SELECT INBOX")
    lines = r.cmd("d", "SELECT (INBOX)")  # no mailbox name by syntax
    assert lines == ["d BAD Invalid mailbox name"], lines  # no CLOSED either
    assert r.cmd("e", "FETCH 1 UID")[0] == "* 1 FETCH (UID 1)"
    assert r.cmd("f", "SELECT Nope")[-1].startswith("f NO")  # a failed SELECT leaves none
    assert r.cmd("g", "FETCH 1 UID")[-1].startswith("g BAD")


def test_names_inbox_and_failures_without_side_effects(mailbox):
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX")
    # INBOX in any case, as a level above others too
    assert r.cmd("c", "CREATE Inbox/sub")[-1] == "c OK CREATE completed"
    assert '* LIST (\\HasNoChildren) "/" "INBOX/sub"' in r.cmd("d", 'LIST "" "inbox/*"')
    assert r.cmd("e", "STATUS inbox/sub (MESSAGES)")[0] == '* STATUS "INBOX/sub" (MESSAGES 0)'
    assert r.cmd("f", "COPY 1 inbox/sub")[-1].startswith("f OK [COPYUID")
    # a name no mailbox may have: NO, and never TRYCREATE
    assert r.cmd("g", 'CREATE "a*b"')[-1] == "g NO [CANNOT] Invalid mailbox name"
    assert r.cmd("h", 'COPY 1 "a*b"')[-1].startswith("h NO [CANNOT]")
    assert r.cmd("i", "COPY 1 Later")[-1].startswith("i NO [TRYCREATE]")
    # a RENAME that fails creates nothing; UNSUBSCRIBE of what is not subscribed is fine
    assert r.cmd("j", "RENAME Nope x/y/z")[-1].startswith("j NO [NONEXISTENT]")
    assert not any('"x' in l for l in r.cmd("k", 'LIST "" "*"'))
    assert r.cmd("l", "UNSUBSCRIBE Nope")[-1] == "l OK UNSUBSCRIBE completed"


def test_lsub_shows_unsubscribed_parents_as_noselect(mailbox):
    r = login(mailbox)
    r.cmd("b", "CREATE foo/bar")
    r.cmd("c", "SUBSCRIBE foo/bar")
    lines = r.cmd("d", 'LSUB "" "%"')
    assert '* LSUB (\\Noselect \\HasChildren) "/" "foo"' in lines, lines
    lines = r.cmd("e", 'LSUB "" "foo*"')
    assert lines == ['* LSUB (\\HasNoChildren) "/" "foo/bar"', "e OK LSUB completed"], lines


def test_message_global_is_an_encapsulated_message(mailbox):
    r = login(mailbox)
    inner = b"From: a@b.test\r\nSubject: inner\r\n\r\ninner body\r\n"
    msg = (b"Subject: outer\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n"
           b"\r\n--b\r\n\r\ntext\r\n--b\r\nContent-Type: message/global\r\n\r\n" + inner +
           b"--b--\r\n")
    assert append(r, "b", "INBOX", msg)[-1].startswith("b OK")
    r.cmd("c", "SELECT INBOX")
    line = r.cmd("d", "FETCH 4 BODYSTRUCTURE")[0]
    assert re.search(r'\("message" "global" NIL NIL NIL "7bit" \d+ \(NIL "inner" ', line), line
    lines = r.cmd("e", "FETCH 4 BODY.PEEK[2.HEADER]")
    assert lines[0].endswith("{%d}" % (inner.index(b"\r\n\r\n") + 4)), lines


def test_create_says_oldname_when_it_normalizes(mailbox):
    r = login(mailbox, "IMAP4rev2")
    nfd = unicodedata.normalize("NFD", "R\u00e9sum\u00e9").encode()
    r.send(b"c CREATE {%d+}\r\n" % len(nfd) + nfd + b"\r\n")
    lines = r.until("c")
    assert lines[-1] == "c OK CREATE completed"
    # the name stored (NFC) in the LIST, the one the client gave (NFD) as its OLDNAME
    nfc = unicodedata.normalize("NFC", "R\u00e9sum\u00e9").encode()
    assert lines[0] == '* LIST () "/" {%d}' % len(nfc), lines
    assert lines[1] == '%s ("OLDNAME" ({%d}' % (nfc.decode(), len(nfd)), lines
    assert lines[2] == nfd.decode() + "))", lines
    assert r.cmd("d", 'CREATE "Plain"') == ["d OK CREATE completed"]


def test_header_field_names_as_strings_and_keywords_with_brackets(mailbox):
    """header-fld-name is an astring, so a literal or a quoted string may name a field; "["
    is an ATOM-CHAR, so a keyword may hold one (only "]" is a resp-special)."""
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX")
    lines = r.cmd("c", 'FETCH 1 BODY.PEEK[HEADER.FIELDS ({7+}\r\nSubject "From")]')
    assert lines[0] == '* 1 FETCH (BODY[HEADER.FIELDS ("Subject" "From")] {40}', lines
    assert lines[1:4] == ["Subject: one", "From: x@elsewhere.test", ""], lines
    assert lines[-1] == "c OK FETCH completed", lines
    assert r.cmd("d", 'FETCH 1 BODY.PEEK[HEADER.FIELDS ("Sub ject")]')[-1].startswith("d BAD")
    assert r.cmd("e", "STORE 1 +FLAGS ([Label a[b)")[:-1] == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft [Label a[b)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft [Label a[b \\*)] "
        "Flags permitted",
        "* 1 FETCH (FLAGS (\\Recent [Label a[b))"]
    assert r.cmd("f", "SEARCH KEYWORD [label")[0] == "* SEARCH 1"
    assert r.cmd("g", "STORE 1 +FLAGS ([Label])")[-1].startswith("g BAD")
