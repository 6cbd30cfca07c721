"""SEARCH over decoded text (RFC 3501 6.4.4): BODY and TEXT see quoted-printable and base64
undone, charsets converted and HTML reduced to text, never the raw encoding nor non-text
attachments; the full-text index answers needles of three characters and more, shorter ones
are searched in the messages; SENTBEFORE/SENTON/SENTSINCE read the Date field."""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_imap import ALICE, deliver, raw  # noqa: E402

QP = ("From: a@b.test\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nSubject: drinks\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "un caf=C3=A9 au lait, s'il vous pla=C3=AEt\r\n")
LATIN1 = ("From: b@b.test\r\nDate: 15 Jan 99 08:00 EST (obsolete two-digit year)\r\n"
          "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=x\r\n\r\n"
          "--x\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n"
          + base64.encodebytes("<p>Viele <b>Grüße</b> aus Zürich &amp; Bern</p>".encode("latin-1")).decode()
          .replace("\n", "\r\n")
          + "--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          + base64.encodebytes(b"topsecret payload").decode().replace("\n", "\r\n")
          + "--x--\r\n")
PLAIN = "From: c@b.test\r\nSubject: plain\r\n\r\nNothing to see, just ab.\r\n"


def fill(server):
    for m in (QP, LATIN1, PLAIN):
        deliver(server, ALICE, None, raw_message=m)
    server.wait_for_messages(ALICE, 3)
    r = raw(server)
    r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    return r


def search(r, criteria):
    lines = r.cmd("s", "SEARCH " + criteria)
    assert lines[-1].startswith("s OK"), lines
    return lines[0][len("* SEARCH"):].split()


def test_body_and_text_see_decoded_text(server):
    r = fill(server)
    assert search(r, 'BODY "café"') == ["1"]             # quoted-printable undone
    assert search(r, 'BODY "CAFÉ AU"') == ["1"]          # any case
    assert search(r, 'BODY "C3=A9"') == []               # never the raw encoding
    assert search(r, 'BODY "Grüße aus Zürich & Bern"') == ["2"]  # base64, Latin-1, HTML
    assert search(r, 'BODY "<b>"') == []                 # tags are not text
    assert search(r, 'TEXT "topsecret"') == []           # non-text attachments left out
    assert search(r, 'BODY "drinks"') == []              # BODY: not the header
    assert search(r, 'TEXT "drinks"') == ["1"]           # TEXT: header and body
    assert search(r, 'TEXT "grüße"') == ["2"]            # the decoded encoded-word subject
    assert search(r, 'BODY "ab"') == ["3"]               # two characters: searched, not indexed
    assert search(r, 'OR BODY "lait" BODY "Bern"') == ["1", "2"]
    assert search(r, 'NOT BODY "lait"') == ["2", "3"]


def test_index_follows_expunge_and_copy(server):
    r = fill(server)
    r.cmd("c", "COPY 1 Archive")
    r.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.cmd("e", "EXPUNGE")
    assert search(r, 'BODY "café"') == []
    r.cmd("f", "SELECT Archive")
    assert search(r, 'BODY "café"') == ["1"]             # the copy shares the indexed text


def test_sent_keys_read_the_date_field(server):
    r = fill(server)
    assert search(r, "SENTON 2-Mar-2026") == ["1"]
    assert search(r, "SENTON 15-Jan-1999") == ["2"]      # RFC 5322 4.3: 99 is 1999
    assert search(r, "SENTBEFORE 1-Jan-2000") == ["2"]
    since = search(r, "SENTSINCE 1-Mar-2026")
    assert "1" in since and "2" not in since             # 3 has no Date: its arrival counts
    assert "3" in since
    assert r.cmd("x", "SEARCH SENTON 32-Mar-2026")[-1].startswith("x BAD")
