"""One test per rule of RFC 3501 / RFC 9051 and the extension RFCs that a strict protocol checker
found broken, each named after the rule, so that a regression names what it breaks. Raw sockets,
to see every response in order."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, mailbox, raw  # noqa: E402,F401
from test_imap_edges import append, login  # noqa: E402


def test_rfc3501_7_2_6_new_keyword_announced_with_flags_before_fetch(mailbox):
    """A keyword new to the mailbox comes in untagged FLAGS and PERMANENTFLAGS before the FETCH
    that shows it; SELECT's FLAGS lists the keywords already in use."""
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX")
    lines = r.cmd("c", "STORE 1 +FLAGS (Urgent)")
    assert lines[:3] == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent \\*)] Flags permitted",
        "* 1 FETCH (FLAGS (Urgent))"], lines
    # told once: the same keyword on another message is no news
    assert r.cmd("d", "STORE 2 +FLAGS (urgent)")[0] == "* 2 FETCH (FLAGS (urgent))"
    # a keyword set by APPEND, seen in the selected mailbox through FETCH
    data = b"Subject: kw\r\n\r\nx\r\n"
    r.send(f"e APPEND INBOX ($Label1) {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    assert r.until("e")[-1].startswith("e OK")
    lines = r.cmd("f", "FETCH 4 FLAGS")
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent $Label1)", lines
    assert lines[2] == "* 4 FETCH (FLAGS ($Label1))", lines
    # another session sets a keyword: announced to this one before its FETCH
    other = login(mailbox)
    other.cmd("b", "SELECT INBOX")
    sel = other.cmd("c", "SELECT INBOX")
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent $Label1)" in sel, sel
    assert any("PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent $Label1 \\*)"
               in line for line in sel), sel
    other.cmd("d", "STORE 3 +FLAGS (Later)")
    lines = r.cmd("g", "NOOP")
    at = next(i for i, line in enumerate(lines) if "Later" in line)
    assert lines[at].startswith("* FLAGS (") and "FETCH" in lines[at + 2], lines
    # EXAMINE: keywords listed, none permanent
    ex = other.cmd("e", "EXAMINE INBOX")
    assert "* OK [PERMANENTFLAGS ()] Flags permitted" in ex, ex


def test_rfc3501_envelope_name_from_comment_after_addr_spec(mailbox):
    """From: user@domain (Real Name) gives the name "Real Name" in ENVELOPE, as every client
    shows it (the RFC 822 habit)."""
    r = login(mailbox)
    msg = (b"From: user@domain.org (Real Name)\r\nTo: a@b.test, (only) c@d.test (Cee \\(x\\))\r\n"
           b"Subject: c\r\n\r\nbody\r\n")
    assert append(r, "b", "INBOX", msg)[-1].startswith("b OK")
    r.cmd("c", "SELECT INBOX")
    env = r.cmd("d", "FETCH 4 ENVELOPE")[0]
    assert '(("Real Name" NIL "user" "domain.org"))' in env, env
    assert '((NIL NIL "a" "b.test")("Cee (x)" NIL "c" "d.test"))' in env, env


def test_rfc3501_6_4_4_search_address_written_with_comments(mailbox):
    """SEARCH FROM/TO on a full address matches it however it is written: comments inside the
    address are not part of it."""
    r = login(mailbox)
    msg = (b"From: Ann <ann (the boss)@ (her) example.org>\r\n"
           b"To: <user-from (comment)@ (comment) domain.org>\r\nSubject: s\r\n\r\nbody\r\n")
    assert append(r, "b", "INBOX", msg)[-1].startswith("b OK")
    r.cmd("c", "SELECT INBOX")
    assert r.cmd("d", "SEARCH TO user-from@domain.org")[0] == "* SEARCH 4"
    assert r.cmd("e", 'SEARCH FROM "Ann <ann@example.org>"')[0] == "* SEARCH 4"
    assert r.cmd("f", "SEARCH FROM boss")[0] == "* SEARCH 4"  # the written form still counts
    assert r.cmd("g", "SEARCH TO nobody@domain.org")[0] == "* SEARCH"


def test_rfc3501_9_uid_4294967295_is_a_number_not_star(mailbox):
    """Only "*" means the largest UID in use; 4294967295 is a UID like any other."""
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX")
    assert r.cmd("c", "UID SEARCH UID 5:4294967295")[0] == "* SEARCH"
    assert r.cmd("d", "UID SEARCH UID 5:*")[0] == "* SEARCH 3"  # 5:* is 3:5 when 3 is the largest
    assert r.cmd("e", "UID FETCH 4:4294967295 UID") == ["e OK UID FETCH completed"]
    assert r.cmd("f", "FETCH 4294967295 UID")[-1].startswith("f BAD")


def test_rfc4731_3_2_esearch_modseq_of_the_messages_returned(mailbox):
    """With MIN or MAX alone the MODSEQ is that of the message returned; with ALL or COUNT the
    highest of all matches."""
    r = login(mailbox, "CONDSTORE")
    r.cmd("b", "SELECT INBOX")
    for n in (3, 1, 2):  # message 2 gets the highest modseq, message 3 the lowest of the three
        r.cmd(f"s{n}", f"STORE {n} +FLAGS (\\Flagged)")
    mod = {int(l.split()[1]): int(l.split("MODSEQ (")[1].split(")")[0])
           for l in r.cmd("c", "FETCH 1:3 MODSEQ")[:-1]}
    assert mod[2] > mod[1] > mod[3]
    assert r.cmd("d", "SEARCH RETURN (MIN) MODSEQ 1")[0] == f'* ESEARCH (TAG "d") MIN 1 MODSEQ {mod[1]}'
    assert r.cmd("e", "SEARCH RETURN (MAX) MODSEQ 1")[0] == f'* ESEARCH (TAG "e") MAX 3 MODSEQ {mod[3]}'
    assert r.cmd("f", "SEARCH RETURN (MIN MAX) MODSEQ 1")[0] == \
        f'* ESEARCH (TAG "f") MIN 1 MAX 3 MODSEQ {mod[1]}'
    assert r.cmd("g", "SEARCH RETURN (MIN COUNT) MODSEQ 1")[0] == \
        f'* ESEARCH (TAG "g") MIN 1 COUNT 3 MODSEQ {mod[2]}'


def test_rfc3501_5_1_3_names_that_do_not_decode_name_no_mailbox(mailbox):
    """A name of atom characters whose modified UTF-7 does not decode is well-formed (mailbox =
    astring): SELECT and STATUS answer NO, LIST matches nothing and answers OK, CREATE NO."""
    name = "!#$&'+,-.0123456789:;<=>?@^_`|[}"
    r = login(mailbox)
    assert r.cmd("b", f"SELECT {name}")[-1] == "b NO [NONEXISTENT] No such mailbox"
    assert r.cmd("c", f"STATUS {name} (MESSAGES)")[-1] == "c NO [NONEXISTENT] No such mailbox"
    assert r.cmd("d", f'LIST "" {name}%*') == ["d OK LIST completed"]
    assert r.cmd("e", f'LIST "" ({name} INBOX)')[-1] == "e OK LIST completed"
    assert r.cmd("f", f"CREATE {name}")[-1] == "f NO [CANNOT] Invalid mailbox name"
    assert r.cmd("g", f"COPY 1 {name}")[-1].startswith("g BAD")  # nothing selected
    r.cmd("h", "SELECT INBOX")
    assert r.cmd("i", f"COPY 1 {name}")[-1] == "i NO [CANNOT] Invalid mailbox name"
    assert r.cmd("j", "NOOP")[-1] == "j OK Noop completed"  # the session goes on
