"""SEARCH over decoded text (RFC 3501 6.4.4) and FETCH BINARY (RFC 9051 6.4.5): BODY and TEXT
see quoted-printable and base64 undone, charsets converted and HTML reduced to text, never the
raw encoding nor non-text attachments; the full-text index answers needles of three characters
and more, shorter ones are searched in the messages; SENTBEFORE/SENTON/SENTSINCE read the Date
field; BINARY gives parts decoded."""
import base64
import os
import sqlite3
import sys
import time

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


def indexed_counts(server):
    """(message files waiting for the indexer, rows in the full-text index, its own file)."""
    db = sqlite3.connect(f"file:{os.path.join(server.data, 'estafeta.db')}?mode=ro", uri=True)
    ix = sqlite3.connect(f"file:{os.path.join(server.data, 'index.db')}?mode=ro", uri=True)
    try:
        return (db.execute("SELECT count(*) FROM bodies WHERE indexed = 0").fetchone()[0],
                ix.execute("SELECT count(*) FROM search_text").fetchone()[0])
    finally:
        db.close()
        ix.close()


def wait_indexed(server, rows, seconds=10):
    deadline = time.time() + seconds
    while indexed_counts(server) != (0, rows):
        assert time.time() < deadline, indexed_counts(server)
        time.sleep(0.05)


def fill(server, index=True):
    for m in (QP, LATIN1, PLAIN):
        deliver(server, ALICE, None, raw_message=m)
    server.wait_for_messages(ALICE, 3)
    if index:  # else the searches may meet messages the indexer has not reached
        wait_indexed(server, 3)
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
    # the header keys: the index narrows, the field decides
    assert search(r, 'SUBJECT "drinks"') == ["1"]
    assert search(r, 'FROM "drinks"') == []             # in the header, not in From
    assert search(r, 'SUBJECT "grüße"') == ["2"]
    assert search(r, 'FROM "c@b"') == ["3"]
    # fields a copy has for its recipient alone are searched too
    assert search(r, f'HEADER Delivered-To "{ALICE}"') == ["1", "2", "3"]


def test_index_caught_up_at_start(server):
    """What is not indexed when serve starts (a crash, an index lost: index.db is derived data
    a copy of the data folder may leave out) is indexed then; meanwhile searches read those
    messages, so the answers never change."""
    fill(server)
    server.stop()
    for name in ("index.db", "index.db-wal", "index.db-shm"):
        if os.path.exists(os.path.join(server.data, name)):
            os.unlink(os.path.join(server.data, name))
    server.start()
    r = raw(server)
    r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    assert search(r, 'BODY "café"') == ["1"]
    wait_indexed(server, 3)
    assert search(r, 'BODY "café"') == ["1"]
    assert search(r, 'TEXT "grüße"') == ["2"]


def test_index_follows_expunge_and_copy(server):
    r = fill(server)
    r.cmd("c", "COPY 1 Archive")
    r.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.cmd("e", "EXPUNGE")
    assert search(r, 'BODY "café"') == []
    r.cmd("f", "SELECT Archive")
    assert search(r, 'BODY "café"') == ["1"]             # the copy shares the indexed text
    # once no folder refers to the file, its index rows go too, when the indexer next works
    r.cmd("g", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.cmd("h", "EXPUNGE")
    deliver(server, ALICE, None, raw_message=PLAIN)
    wait_indexed(server, 3)


def test_sent_keys_read_the_date_field(server):
    r = fill(server)
    assert search(r, "SENTON 2-Mar-2026") == ["1"]
    assert search(r, "SENTON 15-Jan-1999") == ["2"]      # RFC 5322 4.3: 99 is 1999
    assert search(r, "SENTBEFORE 1-Jan-2000") == ["2"]
    since = search(r, "SENTSINCE 1-Mar-2026")
    assert "1" in since and "2" not in since             # 3 has no Date: its arrival counts
    assert "3" in since
    assert r.cmd("x", "SEARCH SENTON 32-Mar-2026")[-1].startswith("x BAD")


BINARY = ("From: a@b.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=q\r\n\r\n"
          "--q\r\nContent-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9=\r\n au lait\r\n"
          "--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          + base64.encodebytes(b"\x00\x01binary\xff\x00").decode().replace("\n", "\r\n")
          + "--q\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n"
          "--q--\r\n")


def read_literal(r, line):
    """The octets of the literal announced at the end of line ({n} or ~{n})."""
    n = int(line[line.rindex("{") + 1:-1])
    while len(r.buf) < n:
        r.buf += r.sock.recv(65536)
    data, r.buf = r.buf[:n], r.buf[n:]
    return data


def test_fetch_binary(server):
    """RFC 9051 6.4.5: BINARY gives a part decoded (a literal8 when it holds NUL), BINARY.SIZE
    its decoded size, partial ranges count decoded octets, PEEK leaves \\Seen alone, and an
    unknown transfer encoding is NO [UNKNOWN-CTE]."""
    deliver(server, ALICE, None, raw_message=BINARY)
    server.wait_for_messages(ALICE, 1)
    r = raw(server)
    r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")
    assert "BINARY" in r.cmd("b", "CAPABILITY")[0].split()
    r.cmd("c", "SELECT INBOX")
    r.send("d FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])\r\n")
    line = r.line()
    assert line.startswith("* 1 FETCH (BINARY[2] ~{10}"), line
    assert read_literal(r, line) == b"\x00\x01binary\xff\x00"
    rest = r.until("d")
    assert rest[0] == " BINARY.SIZE[2] 10)" and rest[-1].startswith("d OK"), rest
    r.send("e FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[1]<5.3>)\r\n")
    line = r.line()
    assert line == "* 1 FETCH (BINARY[1] {13}", line
    assert read_literal(r, line) == "café au lait".encode()
    line = r.line()
    assert line == " BINARY[1]<5> {3}", line                # decoded octets 5..7
    assert read_literal(r, line) == b" au"
    assert r.until("e")[-1].startswith("e OK")
    assert "\\Seen" not in r.cmd("f", "FETCH 1 FLAGS")[0]
    assert r.cmd("g", "FETCH 1 BINARY[3]")[-1].startswith("g NO [UNKNOWN-CTE]")
    assert r.cmd("h", "FETCH 1 BINARY[1.MIME]")[-1].startswith("h BAD")
    assert r.cmd("i", "FETCH 1 BINARY.SIZE[1]<0.1>")[-1].startswith("i BAD")
    r.send("j FETCH 1 BINARY[2]\r\n")
    read_literal(r, r.line())
    assert r.until("j")[-1].startswith("j OK")
    assert "\\Seen" in r.cmd("k", "FETCH 1 FLAGS")[0]      # without PEEK: read


def test_structure_is_kept_with_the_index(server):
    """The indexer keeps each message's ENVELOPE, BODY and BODYSTRUCTURE: FETCH of those alone
    reads no file and parses nothing, and answers exactly what parsing the message gives."""
    r = fill(server)
    db = sqlite3.connect(f"file:{os.path.join(server.data, 'estafeta.db')}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT count(*) FROM bodies WHERE bodystructure IS NULL OR envelope IS NULL "
                          "OR body_structure IS NULL").fetchone()[0] == 0
    finally:
        db.close()
    kept = r.cmd("c", "FETCH 1:3 (ENVELOPE BODY BODYSTRUCTURE)")
    # BINARY.SIZE needs the message itself, so this one is parsed
    parsed = r.cmd("d", "FETCH 1:3 (ENVELOPE BODY BODYSTRUCTURE BINARY.SIZE[1])")
    assert kept[-1].startswith("c OK") and parsed[-1].startswith("d OK")
    assert len(kept) == len(parsed) == 4
    for k, p in zip(kept[:3], parsed[:3]):
        assert k.endswith(")") and p.startswith(k[:-1] + " BINARY.SIZE[1] "), (k, p)
    assert "(NIL \"quoted-printable\"" in kept[0] or "QUOTED-PRINTABLE" in kept[0].upper()


def test_old_instance_index_moves_to_its_own_file(server):
    """An instance from before index.db (schema version 2: the index inside estafeta.db, every
    message marked indexed) is upgraded at start: the old table goes, the messages are indexed
    again into index.db, and searches answer the same all along."""
    fill(server)
    server.stop()
    for name in ("index.db", "index.db-wal", "index.db-shm"):
        if os.path.exists(os.path.join(server.data, name)):
            os.unlink(os.path.join(server.data, name))
    db = sqlite3.connect(os.path.join(server.data, "estafeta.db"))
    db.executescript(
        "CREATE VIRTUAL TABLE search_text USING fts5(header, body, tokenize = 'trigram');"
        "CREATE TRIGGER bodies_search_gone AFTER DELETE ON bodies BEGIN "
        "  DELETE FROM search_text WHERE rowid = old.id; END;"
        "INSERT INTO search_text (rowid, header, body) SELECT id, '', 'stale text' FROM bodies;"
        "DELETE FROM meta WHERE name = 'index_epoch';"
        "UPDATE bodies SET indexed = 1;"
        "DROP TABLE submissions; DROP TABLE held_senders; DROP INDEX queue_sender;"
        "ALTER TABLE queue DROP COLUMN held;"
        "DROP TABLE subscriptions; ALTER TABLE folders DROP COLUMN recent_uid;"
        "ALTER TABLE folders ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 1;"
        "ALTER TABLE domains DROP COLUMN quota_storage; ALTER TABLE domains DROP COLUMN quota_messages;"
        "ALTER TABLE accounts DROP COLUMN quota_storage; ALTER TABLE accounts DROP COLUMN quota_messages;"
        "ALTER TABLE queue DROP COLUMN local_origin; DROP TABLE dkim_keys;"
        "DROP TABLE dmarc_report_records; DROP TABLE dmarc_reports; DROP TABLE dmarc_observations;"
        "ALTER TABLE queue DROP COLUMN arc_results;"
        "PRAGMA user_version = 2;")
    db.close()
    server.start()
    r = raw(server)
    r.cmd("a", f"LOGIN {ALICE} {server.passwords[ALICE]}")
    r.cmd("b", "SELECT INBOX")
    assert search(r, 'BODY "café"') == ["1"]
    assert search(r, 'BODY "stale"') == []
    wait_indexed(server, 3)
    assert search(r, 'BODY "café"') == ["1"]
    assert search(r, 'TEXT "grüße"') == ["2"]
    db = sqlite3.connect(f"file:{os.path.join(server.data, 'estafeta.db')}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 9
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'search_text%'"
                          ).fetchone()[0] == 0
    finally:
        db.close()
