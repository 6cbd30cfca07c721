"""SORT and THREAD (RFC 5256), SORT=DISPLAY (RFC 5957) and ESORT (RFC 5267) over raw sockets,
one test per rule: the base subject of 2.1, the sent date of 2.2, each sort key, REVERSE, the
search criteria SEARCH takes, UID SORT and UID THREAD, both threading algorithms, the
RETURN options answered with ESEARCH, and the errors."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, raw  # noqa: E402


def message(subject="s", date=None, frm="x@elsewhere.test", to=None, cc=None, msgid=None,
            irt=None, refs=None, body="body"):
    lines = [f"From: {frm}"]
    for name, value in (("To", to), ("Cc", cc), ("Date", date), ("Message-ID", msgid),
                        ("In-Reply-To", irt), ("References", refs)):
        if value is not None:
            lines.append(f"{name}: {value}")
    if subject is not None:
        lines.append(f"Subject: {subject}")
    return "\r\n".join(lines) + "\r\n\r\n" + body + "\r\n"


def session(server, messages):
    """A session with INBOX selected holding messages, given as (text, internal date)."""
    r = raw(server)
    assert r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")[-1].startswith("a OK")
    for i, m in enumerate(messages):
        text, when = m if isinstance(m, tuple) else (m, "01-Jan-2026 10:00:00 +0000")
        data = text.encode()
        r.send(f'p{i} APPEND INBOX "{when}" {{{len(data)}+}}\r\n'.encode() + data + b"\r\n")
        assert r.until(f"p{i}")[-1].startswith(f"p{i} OK")
    assert r.cmd("b", "SELECT INBOX")[-1].startswith("b OK")
    return r


def sort(r, args, uid=False):
    lines = r.cmd("s", ("UID SORT " if uid else "SORT ") + args)
    assert lines[-1].startswith("s OK"), lines
    data = [x for x in lines if x.startswith("* SORT")]
    assert len(data) == 1, lines
    return [int(n) for n in data[0][len("* SORT"):].split()]


def thread(r, args, uid=False):
    lines = r.cmd("t", ("UID THREAD " if uid else "THREAD ") + args)
    assert lines[-1].startswith("t OK"), lines
    data = [x for x in lines if x.startswith("* THREAD")]
    assert len(data) == 1, lines
    return data[0][len("* THREAD"):].strip()


def test_capabilities_name_sort_thread_display_and_esort(server):
    r = raw(server)
    r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")
    caps = [x for x in r.cmd("c", "CAPABILITY") if x.startswith("* CAPABILITY")][0].split()
    for cap in ("SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"):
        assert cap in caps


def test_base_subject_rfc5256_2_1(server):
    """2.1: encoded words decoded, re/fw/fwd leaders, blobs, "(fwd)" trailers and "[fwd: ...]"
    removed; what is left is compared without regard to case."""
    r = session(server, [
        message("Re: [list] Fwd: delta"),                 # 1 -> delta
        message("=?UTF-8?Q?Alpha?="),                     # 2 -> Alpha (encoded word)
        message("[fwd: Charlie] (fwd)"),                  # 3 -> Charlie
        message("RE:  re[x]:  bravo   (fwd)  "),          # 4 -> bravo
        message("[only a blob]"),                         # 5 -> [only a blob]: the blob stays
        message(None),                                    # 6 -> "" (no Subject): first
    ])
    assert sort(r, "(SUBJECT) UTF-8 ALL") == [6, 2, 4, 3, 1, 5]


def test_sent_date_rfc5256_2_2(server):
    """2.2: the Date field normalised to UTC; without a Date that parses, the internal date;
    equal dates keep mailbox order."""
    r = session(server, [
        (message("a", date="Sun, 31 Dec 2000 16:01:33 -0800"), "01-Jan-2026 10:00:00 +0000"),
        (message("b", date="Mon, 1 Jan 2001 00:01:00 +0000"), "01-Jan-2026 10:00:00 +0000"),
        (message("c", date="not a date"), "15-Jun-1999 10:00:00 +0000"),
        (message("d"), "02-Jan-2001 00:00:00 +0000"),
        (message("e", date="1 Jan 2001 00:01:00 +0000"), "01-Jan-2026 10:00:00 +0000"),
    ])
    # 1 is 00:01:33 UTC on 1 Jan 2001: after 2 and 5 (00:01:00), before 4 (2 Jan)
    assert sort(r, "(DATE) UTF-8 ALL") == [3, 2, 5, 1, 4]


def test_arrival_and_size_rfc5256_3(server):
    """ARRIVAL is the internal date and time; SIZE the message's octets."""
    r = session(server, [
        (message("a", body="x" * 300), "01-Jan-2026 10:00:00 +0000"),
        (message("b", body="x" * 100), "01-Jan-2026 09:00:00 +0000"),
        (message("c", body="x" * 200), "01-Jan-2026 09:30:00 +0100"),
    ])
    assert sort(r, "(ARRIVAL) US-ASCII ALL") == [3, 2, 1]
    assert sort(r, "(SIZE) US-ASCII ALL") == [2, 3, 1]


def test_reverse_turns_one_criterion_only_rfc5256_3(server):
    """REVERSE reverses the criterion after it, never the implicit sequence-number order."""
    r = session(server, [message("same"), message("other"), message("same")])
    assert sort(r, "(REVERSE SUBJECT) UTF-8 ALL") == [1, 3, 2]
    assert sort(r, "(SUBJECT REVERSE ARRIVAL) UTF-8 ALL") == [2, 1, 3]


def test_address_keys_are_addr_mailbox_rfc5256_3(server):
    """FROM, TO and CC sort on the addr-mailbox of the first address; a missing field is the
    empty string, which sorts first."""
    r = session(server, [
        message(frm="Zed <mike@a.test>", to="x@z.test, a@a.test", cc="c@x.test"),
        message(frm="Adam <zulu@a.test>", to="b@a.test"),
        message(frm="alpha@z.test (Zorro)", to="Group: c@a.test;"),
    ])
    assert sort(r, "(FROM) UTF-8 ALL") == [3, 1, 2]
    assert sort(r, "(TO) UTF-8 ALL") == [2, 3, 1]
    assert sort(r, "(CC) UTF-8 ALL") == [2, 3, 1]


def test_display_keys_rfc5957_4(server):
    """DISPLAYFROM and DISPLAYTO sort on the decoded display name, else mailbox@host."""
    r = session(server, [
        message(frm="Zed <alpha@a.test>", to="=?UTF-8?Q?Bob?= <zz@a.test>"),
        message(frm="beta@a.test", to="aa@a.test"),
        message(frm="=?ISO-8859-1?Q?Adam?= <zulu@a.test>", to="Carl <bb@a.test>"),
    ])
    assert sort(r, "(DISPLAYFROM) UTF-8 ALL") == [3, 2, 1]
    assert sort(r, "(DISPLAYTO) UTF-8 ALL") == [2, 1, 3]


def test_search_criteria_and_uid_sort_rfc5256_3(server):
    """SORT takes SEARCH's criteria; UID SORT answers UIDs and reads its criteria the same way."""
    r = session(server, [message("c"), message("b", body="needle"), message("a"),
                         message("d", body="needle")])
    r.cmd("x", "STORE 1 +FLAGS (\\Seen)")
    assert sort(r, "(SUBJECT) UTF-8 UNSEEN") == [3, 2, 4]
    assert sort(r, "(SUBJECT) UTF-8 BODY needle") == [2, 4]
    assert sort(r, "(SUBJECT) UTF-8 NOT 2:3") == [1, 4]
    fetch = r.cmd("f", "FETCH 1:4 (UID)")
    uids = [int(re.search(r"UID (\d+)", x).group(1)) for x in fetch if " FETCH (" in x]
    assert sort(r, "(SUBJECT) UTF-8 ALL", uid=True) == [uids[2], uids[1], uids[0], uids[3]]
    assert sort(r, "(SUBJECT) UTF-8 TEXT \"not in mailbox\"") == []


def test_charset_is_mandatory_and_checked_rfc5256_3(server):
    r = session(server, [message("a")])
    assert r.cmd("s", "SORT (SUBJECT) KOI8-R ALL")[-1].startswith("s NO [BADCHARSET")
    assert r.cmd("s", "SORT (SUBJECT) ALL")[-1].startswith("s BAD")        # ALL taken as charset
    assert r.cmd("s", "SORT (SUBJECT BOGUS) UTF-8 ALL")[-1].startswith("s BAD")
    assert r.cmd("s", "SORT (REVERSE) UTF-8 ALL")[-1].startswith("s BAD")
    assert r.cmd("s", "SORT SUBJECT UTF-8 ALL")[-1].startswith("s BAD")
    assert r.cmd("t", "THREAD BOGUS UTF-8 ALL")[-1].startswith("t BAD")
    assert r.cmd("t", "THREAD REFERENCES KOI8-R ALL")[-1].startswith("t NO [BADCHARSET")
    assert r.cmd("n", "NOOP")[-1].startswith("n OK")


def test_charset_stays_mandatory_after_utf8_accept_rfc6855_3(server):
    """RFC 6855 3 forbids CHARSET in SEARCH once UTF8=ACCEPT is on; SORT and THREAD still
    take theirs."""
    r = session(server, [message("b"), message("a")])
    assert r.cmd("e", "ENABLE UTF8=ACCEPT")[-1].startswith("e OK")
    assert r.cmd("x", "SEARCH CHARSET UTF-8 ALL")[-1].startswith("x BAD")
    assert sort(r, "(SUBJECT) UTF-8 ALL") == [2, 1]
    assert thread(r, "ORDEREDSUBJECT UTF-8 ALL") == "(1)(2)"


def test_modseq_key_rfc7162_3_1_5(server):
    """With a MODSEQ search key, SORT tells the highest mod-sequence of what it found."""
    r = session(server, [message("b"), message("a")])
    r.cmd("x", "STORE 2 +FLAGS (\\Flagged)")
    fetch = r.cmd("f", "FETCH 1:2 (MODSEQ)")
    modseqs = [int(re.search(r"MODSEQ \((\d+)\)", x).group(1)) for x in fetch if " FETCH (" in x]
    lines = r.cmd("s", "SORT (SUBJECT) UTF-8 MODSEQ 1")
    assert lines[0] == f"* SORT 2 1 (MODSEQ {max(modseqs)})", lines
    lines = r.cmd("s", "SORT RETURN (MIN) (SUBJECT) UTF-8 MODSEQ 1")
    assert lines[0] == f'* ESEARCH (TAG "s") MIN 2 MODSEQ {modseqs[1]}', lines


def test_esort_return_options_rfc5267_3(server):
    """SORT RETURN (MIN MAX COUNT ALL): ESEARCH with the first and last in sort order and ALL
    as a sequence set in sort order."""
    r = session(server, [message("d"), message("c"), message("b"), message("a"), message("e")])
    lines = r.cmd("s", "SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL")
    assert lines[-1].startswith("s OK"), lines
    assert lines[0] == '* ESEARCH (TAG "s") MIN 4 MAX 5 COUNT 5 ALL 4,3,2,1,5', lines
    lines = r.cmd("s", "SORT RETURN () (REVERSE SUBJECT) UTF-8 ALL")
    assert lines[0] == '* ESEARCH (TAG "s") ALL 5,1:4', lines
    lines = r.cmd("u", "UID SORT RETURN (COUNT) (SUBJECT) UTF-8 ALL")
    assert lines[0] == '* ESEARCH (TAG "u") UID COUNT 5', lines
    assert r.cmd("s", "SORT RETURN (BOGUS) (SUBJECT) UTF-8 ALL")[-1].startswith("s BAD")


def test_sort_return_save_rfc5182(server):
    """RETURN (SAVE) keeps SORT's result as "$" (a set: its order does not matter), and with
    MIN or MAX alone only those; SAVE alone sends no ESEARCH."""
    r = session(server, [message("d"), message("c"), message("b"), message("a"), message("e")])
    lines = r.cmd("s", "SORT RETURN (SAVE) (SUBJECT) UTF-8 2:4")
    assert lines == ["s OK SORT completed"], lines
    assert [x for x in r.cmd("f", "SEARCH $") if x.startswith("* SEARCH")] == ["* SEARCH 2 3 4"]
    lines = r.cmd("s", "SORT RETURN (SAVE MIN) (SUBJECT) UTF-8 ALL")
    assert lines[0] == '* ESEARCH (TAG "s") MIN 4', lines
    assert [x for x in r.cmd("f", "SEARCH $") if x.startswith("* SEARCH")] == ["* SEARCH 4"]


def test_thread_orderedsubject_rfc5256_3(server):
    """ORDEREDSUBJECT: one thread per base subject, sorted by date inside; the first message
    is the parent of all the others; threads in the order of their first messages."""
    r = session(server, [
        message("Re: lunch", date="2 Jan 2026 10:00:00 +0000"),    # 1
        message("news", date="1 Jan 2026 12:00:00 +0000"),         # 2
        message("lunch", date="1 Jan 2026 11:00:00 +0000"),        # 3
        message("Fwd: lunch", date="3 Jan 2026 10:00:00 +0000"),   # 4
        message("re: news", date="1 Jan 2026 13:00:00 +0000"),     # 5
        message("alone", date="5 Jan 2026 10:00:00 +0000"),        # 6
    ])
    assert thread(r, "ORDEREDSUBJECT UTF-8 ALL") == "(3 (1)(4))(2 5)(6)"
    assert thread(r, "ORDEREDSUBJECT US-ASCII SUBJECT nothing-matches") == ""


def test_thread_references_rfc5256_3(server):
    """REFERENCES: parents from References (else In-Reply-To), a missing parent kept as a
    dummy whose children are siblings, and threads of the same base subject gathered."""
    r = session(server, [
        message("topic", date="1 Jan 2026 10:00:00 +0000", msgid="<a@x>"),               # 1
        message("Re: topic", date="1 Jan 2026 11:00:00 +0000", msgid="<b@x>",
                refs="<a@x>"),                                                           # 2
        message("Re: topic", date="1 Jan 2026 12:00:00 +0000", msgid="<c@x>",
                refs="<a@x> <b@x>"),                                                     # 3
        message("Re: gone", date="2 Jan 2026 10:00:00 +0000", msgid="<d@x>",
                irt="<\"missing\"@x> (the parent)"),                                     # 4
        message("Re: gone", date="2 Jan 2026 11:00:00 +0000", msgid="<e@x>",
                refs="<missing@x>"),                                                     # 5
        message("Re: topic", date="1 Jan 2026 13:00:00 +0000", msgid="<f@x>",
                refs="<a@x>"),                                                           # 6
        message("other", date="3 Jan 2026 10:00:00 +0000", msgid="<g@x>"),               # 7
        message("Re: other", date="3 Jan 2026 11:00:00 +0000", msgid="<h@x>"),           # 8
    ])
    # 4 and 5 share the dummy <missing@x> (its quoting normalised); 8, a reply by subject
    # alone, joins 7
    assert thread(r, "REFERENCES UTF-8 ALL") == "(1 (2 3)(6))((4)(5))(7 8)"
    fetch = r.cmd("f", "FETCH 1:8 (UID)")
    uids = [int(re.search(r"UID (\d+)", x).group(1)) for x in fetch if " FETCH (" in x]
    assert thread(r, "REFERENCES UTF-8 7:8", uid=True) == f"({uids[6]} {uids[7]})"


def test_long_answer_is_whole_rfc5256_4(server):
    """A SORT of many messages (read from the store in several batches) arrives whole, in
    the order of their subjects."""
    r = raw(server)
    r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")
    count = 1500
    for i in range(count):
        data = message(f"m{count - i:05d}").encode()
        r.send(f"p APPEND INBOX {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    for i in range(count):
        assert r.until("p")[-1].startswith("p OK")
    r.cmd("b", "SELECT INBOX")
    numbers = sort(r, "(SUBJECT) UTF-8 ALL")
    assert numbers == list(range(count, 0, -1))


def test_pipelined_commands_wait_for_the_answer_rfc3501_5_5(server):
    """The keys are read off the loop while the session waits: a command pipelined behind a
    SORT is answered after it, in order, and a client that leaves mid-SORT harms nobody."""
    r = session(server, [message("b"), message("a")])
    r.send("s SORT (SUBJECT) UTF-8 ALL\r\nt THREAD REFERENCES UTF-8 ALL\r\nn NOOP\r\n")
    lines = r.until("n")
    tagged = [x.split()[0] for x in lines if not x.startswith("*")]
    assert tagged == ["s", "t", "n"], lines
    assert "* SORT 2 1" in lines and "* THREAD (1)(2)" in lines
    r.send("g SORT (SUBJECT) UTF-8 ALL\r\n")
    r.close()
    other = session(server, [])
    assert sort(other, "(ARRIVAL) UTF-8 ALL") == [1, 2]
