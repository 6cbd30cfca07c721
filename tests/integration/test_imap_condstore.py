"""CONDSTORE and QRESYNC (RFC 7162) and ESEARCH (RFC 9051 6.4.4): modseqs in FETCH, STORE and
SEARCH, CHANGEDSINCE and UNCHANGEDSINCE, HIGHESTMODSEQ in SELECT and STATUS, resynchronising
with SELECT (QRESYNC ...) and UID FETCH (CHANGEDSINCE n VANISHED), VANISHED instead of EXPUNGE,
and SEARCH RETURN (MIN MAX COUNT ALL). Raw sockets, since imaplib knows none of these."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, deliver, mailbox, raw  # noqa: E402,F401


def login(inst):
    r = raw(inst)
    assert r.cmd("a", f"LOGIN {ALICE} {inst.passwords[ALICE]}")[-1].startswith("a OK")
    return r


def modseqs(lines):
    """{uid: modseq} from FETCH responses that carry both."""
    out = {}
    for l in lines:
        m = re.search(r"UID (\d+)", l)
        q = re.search(r"MODSEQ \((\d+)\)", l)
        if m and q:
            out[int(m.group(1))] = int(q.group(1))
    return out


def highest(lines):
    for l in lines:
        m = re.search(r"HIGHESTMODSEQ (\d+)", l)
        if m:
            return int(m.group(1))
    raise AssertionError(f"no HIGHESTMODSEQ in {lines}")


def test_capabilities_and_enable(mailbox):
    r = login(mailbox)
    caps = r.cmd("b", "CAPABILITY")[0]
    for cap in ("CONDSTORE", "QRESYNC", "ESEARCH"):
        assert cap in caps.split(), caps
    assert r.cmd("c", "ENABLE CONDSTORE QRESYNC X-UNKNOWN") == [
        "* ENABLED CONDSTORE QRESYNC", "c OK Enable completed"]
    assert r.cmd("d", "ENABLE QRESYNC")[0] == "* ENABLED"  # already on: nothing new


def test_select_and_status_tell_highestmodseq(mailbox):
    r = login(mailbox)
    status = r.cmd("b", "STATUS INBOX (MESSAGES HIGHESTMODSEQ)")
    hm = highest(status)
    sel = r.cmd("c", "SELECT INBOX (CONDSTORE)")
    assert highest(sel) == hm and sel[-1].startswith("c OK [READ-WRITE]")
    fetch = r.cmd("d", "FETCH 1:* (UID MODSEQ)")
    ms = modseqs(fetch)
    assert len(ms) == 3 and max(ms.values()) <= hm


def test_changedsince_and_unchangedsince(mailbox):
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX (CONDSTORE)")
    before = modseqs(r.cmd("c", "UID FETCH 1:* (UID MODSEQ)"))
    since = max(before.values())
    # flags changed by another session get a new modseq, seen with CHANGEDSINCE
    other = login(mailbox)
    other.cmd("b", "SELECT INBOX")
    other.cmd("c", "STORE 2 +FLAGS.SILENT (\\Flagged)")
    lines = r.cmd("d", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {since})")
    # the answer, and maybe an unsolicited update before it: both of message 2 alone
    changed = [l for l in lines if l.startswith("* ") and " FETCH (" in l]
    assert changed and all(l.startswith("* 2 FETCH (") and "\\Flagged" in l and "MODSEQ (" in l
                           for l in changed), lines
    new_modseq = modseqs(changed)[2]
    assert new_modseq > since
    # a conditional store on a message changed since: refused, reported in MODIFIED
    lines = r.cmd("e", f"UID STORE 1:3 (UNCHANGEDSINCE {since}) +FLAGS.SILENT (\\Seen)")
    assert lines[-1] == "e OK [MODIFIED 2] UID STORE completed", lines
    stored = modseqs(lines)
    assert set(stored) == {1, 3} and all(v > new_modseq for v in stored.values()), lines
    flags = r.cmd("f", "UID FETCH 2 (FLAGS)")[0]
    assert "\\Seen" not in flags and "MODSEQ" in flags  # CONDSTORE on: FLAGS with MODSEQ
    # UNCHANGEDSINCE 0 on a message never fails? It does: every modseq is above 0
    assert r.cmd("g", "STORE 1 (UNCHANGEDSINCE 0) +FLAGS (x)")[-1] == "g OK [MODIFIED 1] STORE completed"
    assert r.cmd("h", "STORE 1 (UNCHANGEDSINCE x) +FLAGS (x)")[-1].startswith("h BAD")


def test_search_modseq_and_esearch(mailbox):
    r = login(mailbox)
    r.cmd("b", "SELECT INBOX")
    ms = modseqs(r.cmd("c", "UID FETCH 1:* (UID MODSEQ)"))
    top = max(ms.values())
    lines = r.cmd("d", f"SEARCH MODSEQ {top}")
    assert lines[0] == f"* SEARCH 3 (MODSEQ {top})", lines
    assert r.cmd("e", f"SEARCH MODSEQ {top + 100}")[0] == "* SEARCH"
    assert r.cmd("f", "UID SEARCH RETURN (MIN MAX COUNT ALL) ALL")[0] == \
        '* ESEARCH (TAG "f") UID MIN 1 MAX 3 COUNT 3 ALL 1:3'
    assert r.cmd("g", "SEARCH RETURN () SUBJECT two")[0] == '* ESEARCH (TAG "g") ALL 2'
    assert r.cmd("h", "SEARCH RETURN (COUNT) SUBJECT nothing-like-this")[0] == \
        '* ESEARCH (TAG "h") COUNT 0'
    assert r.cmd("i", "SEARCH RETURN (BOGUS) ALL")[-1].startswith("i BAD")
    assert r.cmd("j", "SEARCH MODSEQ")[-1].startswith("j BAD")


def test_searchres_saves_and_reuses_the_result(mailbox):
    """SEARCH RETURN (SAVE) keeps the result as "$" (RFC 9051 6.4.4.1), usable by number or UID."""
    r = login(mailbox)
    assert "SEARCHRES" in r.cmd("a", "CAPABILITY")[0].split()
    r.cmd("b", "SELECT INBOX")
    assert r.cmd("c", "FETCH $ (UID)") == ["c OK FETCH completed"]  # empty after SELECT
    # SAVE alone answers nothing but OK
    assert r.cmd("d", "SEARCH RETURN (SAVE) NOT SUBJECT one") == ["d OK SEARCH completed"]
    assert r.cmd("e", "FETCH $ (UID)")[:2] == ["* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"]
    assert r.cmd("f", "UID SEARCH UID $")[0] == "* SEARCH 2 3"
    assert r.cmd("g", "SEARCH $ SUBJECT menu")[0] == "* SEARCH 3"
    # MIN alone keeps only the minimum; with COUNT, everything found
    assert r.cmd("h", "SEARCH RETURN (SAVE MIN) ALL")[0] == '* ESEARCH (TAG "h") MIN 1'
    assert r.cmd("i", "UID SEARCH $")[0] == "* SEARCH 1"
    r.cmd("j", "UID SEARCH RETURN (SAVE MAX COUNT) ALL")
    assert r.cmd("k", "SEARCH $")[0] == "* SEARCH 1 2 3"
    # a BAD leaves "$" as it was; a NO empties it
    assert r.cmd("l", "SEARCH RETURN (SAVE) FROBNICATE")[-1].startswith("l BAD")
    assert r.cmd("m", "SEARCH $")[0] == "* SEARCH 1 2 3"
    assert r.cmd("n", "SEARCH RETURN (SAVE) CHARSET KOI8-R ALL")[-1].startswith("n NO [BADCHARSET")
    assert r.cmd("o", "SEARCH $")[0] == "* SEARCH"
    # expunged messages leave "$"; a new SELECT empties it
    r.cmd("p", "SEARCH RETURN (SAVE) ALL")
    r.cmd("q", "STORE 2 +FLAGS.SILENT (\\Deleted)")
    r.cmd("s", "EXPUNGE")
    assert r.cmd("t", "UID FETCH $ (UID)")[:2] == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)"]
    assert r.cmd("u", "STORE $ -FLAGS.SILENT (\\Seen)")[-1].startswith("u OK")
    r.cmd("v", "SELECT INBOX")
    assert r.cmd("w", "SEARCH $")[0] == "* SEARCH"


def test_qresync_select_and_vanished(mailbox):
    r = login(mailbox)
    r.cmd("b", "ENABLE QRESYNC")
    sel = r.cmd("c", "SELECT INBOX")
    uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", " ".join(sel)).group(1))
    known = highest(sel)
    r.cmd("d", "LOGOUT")
    # meanwhile: message 1 expunged, 3 flagged, one new message
    other = login(mailbox)
    other.cmd("b", "SELECT INBOX")
    other.cmd("c", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    other.cmd("d", "EXPUNGE")
    other.cmd("e", "STORE 2 +FLAGS.SILENT (\\Answered)")  # old message 3
    deliver(mailbox, ALICE, "fourth\r\n", "four")
    mailbox.wait_for_messages(ALICE, 3)
    r = login(mailbox)
    r.cmd("b", "ENABLE QRESYNC")
    sel = r.cmd("c", f"SELECT INBOX (QRESYNC ({uidvalidity} {known} 1:10))")
    assert "* VANISHED (EARLIER) 1" in sel, sel
    changed = [l for l in sel if " FETCH (" in l]
    assert {int(re.search(r"UID (\d+)", l).group(1)) for l in changed} == {3, 4}, sel
    assert any("\\Answered" in l and "MODSEQ" in l for l in changed), sel
    # an expunge in this session now reads VANISHED, not EXPUNGE
    r.cmd("d", "UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    lines = r.cmd("e", "EXPUNGE")
    assert lines == ["* VANISHED 2", "e OK EXPUNGE completed"], lines
    # UID FETCH CHANGEDSINCE with VANISHED
    lines = r.cmd("f", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")
    assert lines[0] == "* VANISHED (EARLIER) 1:2", lines
    assert r.cmd("g", f"FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")[-1].startswith("g BAD")
    # selecting again while selected announces the closed mailbox first
    sel = r.cmd("h", "EXAMINE INBOX")
    assert sel[0] == "* OK [CLOSED] Previous mailbox closed", sel
    # a wrong UIDVALIDITY resynchronises nothing
    sel = r.cmd("i", f"SELECT INBOX (QRESYNC ({uidvalidity + 1} {known}))")
    assert not any("VANISHED" in l or " FETCH " in l for l in sel), sel


def test_qresync_parameter_needs_enable(mailbox):
    r = login(mailbox)
    assert r.cmd("b", "SELECT INBOX (QRESYNC (1 1))")[-1].startswith("b BAD")
    r.cmd("c", "ENABLE QRESYNC")
    assert r.cmd("d", "SELECT INBOX (QRESYNC (1))")[-1].startswith("d BAD")
    assert r.cmd("e", "SELECT INBOX (QRESYNC (0 1))")[-1].startswith("e BAD")
    assert r.cmd("f", "SELECT INBOX (BOGUS)")[-1].startswith("f BAD")
    assert r.cmd("g", "NOOP")[-1].startswith("g OK")
