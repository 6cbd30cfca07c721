"""One test per rule of RFC 3501 / RFC 9051 and the extension RFCs that a strict protocol checker
found broken, each named after the rule, so that a regression names what it breaks. Raw sockets,
to see every response in order."""
import base64
import email
import os
import re
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
        "* 1 FETCH (FLAGS (\\Recent Urgent))"], lines
    # told once: the same keyword on another message is no news
    assert r.cmd("d", "STORE 2 +FLAGS (urgent)")[0] == "* 2 FETCH (FLAGS (\\Recent urgent))"
    # a keyword set by APPEND, seen in the selected mailbox through FETCH
    data = b"Subject: kw\r\n\r\nx\r\n"
    r.send(f"e APPEND INBOX ($Label1) {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    assert r.until("e")[-1].startswith("e OK")
    lines = r.cmd("f", "FETCH 4 FLAGS")
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent $Label1)", lines
    assert lines[2] == "* 4 FETCH (FLAGS (\\Recent $Label1))", lines
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


def flags_of(lines):
    """{sequence number: set of flags} from FETCH responses."""
    out = {}
    for line in lines:
        if " FETCH (" in line and "FLAGS (" in line:
            out[int(line.split()[1])] = set(line.split("FLAGS (")[1].split(")")[0].split())
    return out


def test_rfc3501_2_3_2_recent_belongs_to_the_first_session(mailbox):
    """\\Recent: the first session to select a mailbox after messages arrive holds them as
    recent (SELECT's RECENT, FETCH FLAGS, SEARCH RECENT/NEW/OLD); EXAMINE does not take them;
    STATUS counts what no session took; what a session copies into a mailbox is recent there."""
    lurker = login(mailbox)
    assert "RECENT 3" in lurker.cmd("a", "STATUS INBOX (RECENT)")[0]
    ex = lurker.cmd("b", "EXAMINE INBOX")
    assert "* 3 RECENT" in ex, ex
    r = login(mailbox)
    sel = r.cmd("b", "SELECT INBOX")
    assert "* 3 RECENT" in sel, sel  # EXAMINE took none
    assert all("\\Recent" in f for f in flags_of(r.cmd("c", "FETCH 1:* FLAGS")).values())
    assert r.cmd("d", "SEARCH RECENT")[0] == "* SEARCH 1 2 3"
    r.cmd("e", "STORE 1 +FLAGS.SILENT (\\Seen)")
    assert r.cmd("f", "SEARCH NEW")[0] == "* SEARCH 2 3"
    assert r.cmd("g", "SEARCH OLD")[0] == "* SEARCH"
    # FLAGS replaced by STORE: \Recent is the session's, not the client's to remove
    assert "\\Recent" in flags_of(r.cmd("h", "STORE 2 FLAGS (\\Flagged)"))[2]
    # a second session gets none of them, and STATUS counts none left
    other = login(mailbox)
    assert "RECENT 0" in other.cmd("b", "STATUS INBOX (RECENT)")[0]
    sel = other.cmd("c", "SELECT INBOX")
    assert "* 0 RECENT" in sel, sel
    assert not any("\\Recent" in f for f in flags_of(other.cmd("d", "FETCH 1:* FLAGS")).values())
    assert other.cmd("e", "SEARCH RECENT")[0] == "* SEARCH"
    assert other.cmd("f", "SEARCH OLD")[0] == "* SEARCH 1 2 3"
    other.cmd("g", "LOGOUT")
    # a new arrival goes to the first session told of it
    append(lurker, "c", "INBOX", b"Subject: late\r\n\r\nx\r\n")
    assert "* 4 EXISTS" in r.cmd("i", "NOOP")
    assert "\\Recent" in flags_of(r.cmd("j", "FETCH 4 FLAGS"))[4]
    # copied into another mailbox: recent there, for the first session that selects it
    r.cmd("k", "COPY 1:2 Archive")
    archive = login(mailbox)
    assert "* 2 RECENT" in archive.cmd("b", "SELECT Archive")
    assert "* 0 RECENT" in login(mailbox).cmd("b", "SELECT Archive")


def test_rfc9051_e_imap4rev2_sessions_neither_see_nor_take_recent(mailbox):
    rev2 = login(mailbox, "IMAP4rev2")
    sel = rev2.cmd("c", "SELECT INBOX")
    assert not any("RECENT" in line for line in sel), sel
    assert not any("\\Recent" in f for f in flags_of(rev2.cmd("d", "FETCH 1:* FLAGS")).values())
    r = login(mailbox)
    assert "* 3 RECENT" in r.cmd("b", "SELECT INBOX")


def test_rfc3501_6_3_6_subscriptions_are_names_of_their_own(mailbox):
    """CREATE subscribes nothing; DELETE keeps the subscription (LIST (SUBSCRIBED) shows it
    \\NonExistent, RFC 5258 3.4; LSUB shows it); a parent is \\Subscribed only when it is
    itself; RECURSIVEMATCH gives a parent whose child alone is subscribed CHILDINFO and no
    \\Subscribed; LSUB "%" gives that parent \\Noselect."""
    r = login(mailbox)
    for name in ("a", "a/b", "x", "x/y"):
        r.cmd("c", f"CREATE {name}")
    assert r.cmd("d", 'LSUB "" "a*"') == ["d OK LSUB completed"]  # CREATE subscribed nothing
    for name in ("a/b", "x", "x/y"):
        r.cmd("e", f"SUBSCRIBE {name}")
    assert r.cmd("f", "DELETE x/y")[-1] == "f OK DELETE completed"
    lines = r.cmd("g", 'LIST (SUBSCRIBED) "" "*"')
    assert '* LIST (\\HasChildren) "/" "a"' not in lines
    assert not any(l.endswith('"a"') for l in lines), lines  # a itself is not subscribed
    assert '* LIST (\\HasNoChildren \\Subscribed) "/" "a/b"' in lines, lines
    assert '* LIST (\\NonExistent \\Subscribed) "/" "x/y"' in lines, lines
    lines = r.cmd("h", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    assert '* LIST (\\HasChildren) "/" "a" ("CHILDINFO" ("SUBSCRIBED"))' in lines, lines
    assert '* LIST (\\HasNoChildren \\Subscribed) "/" "x" ("CHILDINFO" ("SUBSCRIBED"))' in lines, lines
    lines = r.cmd("i", 'LSUB "" "%"')
    assert '* LSUB (\\Noselect \\HasChildren) "/" "a"' in lines, lines
    assert '* LSUB (\\HasNoChildren) "/" "x"' in lines, lines
    assert '* LSUB (\\Noselect) "/" "x/y"' in r.cmd("j", 'LSUB "" "*"')
    # unsubscribing the name of a deleted folder works, and then it is gone
    assert r.cmd("k", "UNSUBSCRIBE x/y")[-1] == "k OK UNSUBSCRIBE completed"
    assert not any("x/y" in l for l in r.cmd("l", 'LIST (SUBSCRIBED) "" "*"'))
    # a rename carries the subscription along
    r.cmd("m", "RENAME a/b a/c")
    assert '* LIST (\\HasNoChildren \\Subscribed) "/" "a/c"' in r.cmd("n", 'LIST (SUBSCRIBED) "" "a/*"')


def test_rfc7162_4_command_lines_of_64_kib(mailbox, instance_factory):
    """RFC 7162 4 (updating RFC 2683 3.2.1.5): command lines far over 1000 octets, literals
    apart, as long ID values or UID sets make them. After login estafeta takes 64 KiB
    (imap.max_line_length), before it 8 KiB; a longer line gets a tagged BAD (RFC 3501 9: a
    syntax error) and the session goes on, its literals skipped with it."""
    server = mailbox
    r = raw(server)
    # before login: 8 KiB
    r.send('a ID ("name" "' + "x" * 9000 + '")\r\n')
    assert r.line() == "a BAD [TOOBIG] Command line or literal too long"
    assert r.cmd("b", 'ID ("name" "' + "x" * 1000 + '")')[-1] == "b OK ID completed"
    assert r.cmd("c", f"LOGIN {ALICE} {server.passwords[ALICE]}")[-1].startswith("c OK")
    # after: 64 KiB, in an ID value and in a UID set of many ranges
    lines = r.cmd("d", 'ID ("name" "' + "x" * 65000 + '")')
    assert lines[-1] == "d OK ID completed", lines
    r.cmd("e", "SELECT INBOX")
    uids = ",".join(str(n) for n in range(1, 23000, 2))
    assert 60000 < len(uids) < 65000
    lines = r.cmd("f", f"UID FETCH {uids} (FLAGS)")
    assert lines[-1] == "f OK UID FETCH completed", lines[-1]
    assert [line.split()[1] for line in lines[:-1]] == ["1", "3"], lines
    # longer: BAD, and the next command is answered
    r.send("g NOOP " + "x" * 70000 + "\r\nh NOOP\r\n")
    assert r.until("h") == ["g BAD [TOOBIG] Command line or literal too long", "h OK Noop completed"]
    # a non-synchronizing literal at its end is skipped with it: what it holds is no command
    r.send('i ID ("name" "' + "x" * 70000 + '" "k" {10+}\r\nj LOGOUT\r\n)\r\nk NOOP\r\n')
    assert r.until("k") == ["i BAD [TOOBIG] Command line or literal too long", "k OK Noop completed"]
    # a synchronizing one gets the BAD instead of "+", so the client gives the command up
    r.send('l ID ("name" "' + "x" * 70000 + '" "k" {10}\r\n')
    assert r.line() == "l BAD [TOOBIG] Command line or literal too long"
    assert r.cmd("m", "NOOP") == ["m OK Noop completed"]
    # a literal too big for a command that cannot stream it is skipped the same way
    r.send('n ID ("name" {100000+}\r\n' + "o LOGOUT\r\n" * 10000 + ')\r\np NOOP\r\n')
    assert r.until("p") == ["n BAD [TOOBIG] Command line or literal too long", "p OK Noop completed"]
    # inside IDLE such a line is no DONE
    r.send("q IDLE\r\n")
    assert r.line().startswith("+ ")
    r.send("x" * 70000 + "\r\nr NOOP\r\n")
    assert r.until("r") == ["q BAD Expected DONE", "r OK Noop completed"]
    # a SASL response over the bound is a malformed response (RFC 9051 6.2.2): AUTHENTICATE
    # ends with BAD, and the session goes on to log in, at the first step or a later one
    a = raw(server)
    a.send("s AUTHENTICATE PLAIN\r\n")
    assert a.line().startswith("+")
    a.send("A" * 9000 + "\r\nt NOOP\r\n")
    assert a.until("t") == ["s BAD [TOOBIG] Authentication response too long", "t OK Noop completed"]
    a.send("u AUTHENTICATE LOGIN\r\n")
    assert a.line().startswith("+ ")
    a.send(base64.b64encode(ALICE.encode()) + b"\r\n")
    assert a.line().startswith("+ ")
    a.send("A" * 9000 + "\r\n")
    assert a.line() == "u BAD [TOOBIG] Authentication response too long"
    cred = base64.b64encode(f"\0{ALICE}\0{server.passwords[ALICE]}".encode()).decode()
    assert a.cmd("v", "AUTHENTICATE PLAIN " + cred)[-1].startswith("v OK")
    # the bound is a setting
    inst = instance_factory()
    inst.add_user(ALICE)
    inst.config("imap.max_line_length", 100000)
    inst.start()
    r = raw(inst)
    assert r.cmd("a", f"LOGIN {ALICE} {inst.passwords[ALICE]}")[-1].startswith("a OK")
    assert r.cmd("b", 'ID ("name" "' + "x" * 90000 + '")')[-1] == "b OK ID completed"


def response_bytes(r, tag, text):
    """The untagged responses to one command as sent, literals read whole; the tagged OK
    checked."""
    r.send(f"{tag} {text}\r\n")
    data = b""
    while True:
        while b"\r\n" not in r.buf:
            r.buf += r.sock.recv(65536)
        line, r.buf = r.buf.split(b"\r\n", 1)
        if line.startswith(tag.encode() + b" "):
            assert line.startswith(tag.encode() + b" OK"), line
            return data
        data += line + b"\r\n"
        m = re.search(rb"~?\{(\d+)\}$", line)
        if m:
            n = int(m.group(1))
            while len(r.buf) < n:
                r.buf += r.sock.recv(65536)
            data = data[:-2] + b"\r\n" + r.buf[:n]
            r.buf = r.buf[n:]


def fetch_data(r, tag, text):
    """The items of one FETCH response as {name: octets}; literals and literal8 read whole."""
    data = response_bytes(r, tag, text)
    items, at = {}, data.index(b"(") + 1
    while data[at:at + 1] not in (b")", b""):
        name = re.match(rb"[^ ]+", data[at:]).group(0)
        at += len(name) + 1
        m = re.match(rb"(~?)\{(\d+)\}\r\n", data[at:])
        if m:
            at += len(m.group(0))
            items[name.decode()] = data[at:at + int(m.group(2))]
            at += int(m.group(2))
        else:
            value = re.match(rb"[^ )]+", data[at:]).group(0)
            items[name.decode()] = value
            at += len(value)
        at += data[at:at + 1] == b" "
    return items


def test_rfc3516_4_binary_sizes_and_partials_count_decoded_octets(mailbox):
    """BINARY[part] is the part with its transfer encoding undone, BINARY.SIZE its length, and
    the origin and length of BINARY[part]<o.n> count the decoded octets (RFC 3516 4.1, 4.2;
    RFC 9051 6.4.5); base64 and quoted-printable parts give what Python's email package
    decodes from them."""
    text_lf = b"".join(b"line %d of a text written with LF line ends\n" % n for n in range(1, 6))
    octets = bytes(range(256)) * 2
    msg = (b"From: a@b.test\r\nSubject: decoded\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\n\r\nplain\r\ntext\r\n"
           b"--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(text_lf).replace(b"\n", b"\r\n") +
           b"--x\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"caf=C3=A9 au lait, a soft=\r\n break, a =3D sign, an encoded=0Aline feed and =\r\n"
           b"a hard line break\r\nand a last line that goes on long enough for the partials\r\n"
           b"--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(octets).replace(b"\n", b"\r\n") +
           b"--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: BASE64\r\n\r\n"
           + base64.encodebytes(text_lf[::-1]).replace(b"\n", b"\r\n") + b"--x--\r\n")
    r = login(mailbox)
    assert append(r, "b", "INBOX", msg)[-1].startswith("b OK")
    r.cmd("c", "SELECT INBOX")
    parts = email.message_from_bytes(msg).get_payload()
    for n in (2, 3, 4, 5):
        want = parts[n - 1].get_payload(decode=True)
        assert len(want) > 115
        got = fetch_data(r, "d", f"FETCH 4 (BINARY.SIZE[{n}] BINARY.PEEK[{n}] BINARY.PEEK[{n}]<10.10> "
                                 f"BINARY.PEEK[{n}]<15.100> BINARY.PEEK[{n}]<{len(want) - 3}.100>)")
        assert got[f"BINARY.SIZE[{n}]"] == str(len(want)).encode(), (n, got)
        assert got[f"BINARY[{n}]"] == want, n
        assert got[f"BINARY[{n}]<10>"] == want[10:20], n
        assert got[f"BINARY[{n}]<15>"] == want[15:115], n
        assert got[f"BINARY[{n}]<{len(want) - 3}>"] == want[-3:], n


def wire_strings(data):
    """The strings of responses as sent: [(form, octets, what precedes them)], where form is
    "quoted", "literal" or "literal8"."""
    out, at = [], 0
    while at < len(data):
        c = data[at:at + 1]
        if c == b'"':
            end, value = at + 1, b""
            while data[end:end + 1] != b'"':
                if data[end:end + 1] == b"\\":
                    end += 1
                value += data[end:end + 1]
                end += 1
            out.append(("quoted", value, data[max(0, at - 30):at]))
            at = end + 1
            continue
        m = re.match(rb"(~?)\{(\d+)\}\r\n", data[at:])
        if m:
            n, start = int(m.group(2)), at + len(m.group(0))
            out.append(("literal8" if m.group(1) else "literal", data[start:start + n],
                        data[max(0, at - 30):at]))
            at = start + n
            continue
        at += 1
    return out


def test_rfc9051_4_3_strings_with_cr_lf_nul_or_8bit_are_literals(mailbox):
    """A string holding CR, LF, NUL or (without UTF8=ACCEPT) 8-bit octets is never quoted
    (QUOTED-CHAR); it goes as a literal, whose CHAR8 may not be NUL either: only BINARY data
    may carry NUL, in a literal8 (RFC 3516 4.2, RFC 9051 4.3). ENVELOPE, BODYSTRUCTURE, body
    sections, BINARY, LIST and ID all keep to it."""
    msg = (b"From: =?utf-8?q?x?= \xc3\x89mile <emile@b.test>\r\nTo: a@b.test\r\n"
           b"Subject: nul\x00inside and caf\xc3\xa9\r\nMessage-ID: <a\x00b@c>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
           b"--x\r\nContent-Type: text/plain; name=\"r\xc3\xa9sum\xc3\xa9\"\r\n"
           b"Content-Description: two\r\n\r\nfirst line\r\nsecond line\r\n"
           b"--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(b"\x00\x01 binary \x00\r\n").replace(b"\n", b"\r\n") + b"--x--\r\n")
    r = login(mailbox)
    assert append(r, "b", "INBOX", msg, binary=True)[-1].startswith("b OK")
    assert r.cmd("c", "CREATE caf&AOk-")[-1].startswith("c OK")
    r.cmd("d", "SELECT INBOX")
    checked = {"quoted": 0, "literal": 0, "literal8": 0}
    for tag, text in [("e", "FETCH 4 (ENVELOPE BODYSTRUCTURE BODY.PEEK[] BODY.PEEK[HEADER])"),
                      ("f", "FETCH 4 (BINARY.PEEK[1] BINARY.PEEK[2])"),
                      ("g", 'LIST "" *'), ("h", 'ID ("name" "test")')]:
        for form, value, before in wire_strings(response_bytes(r, tag, text)):
            checked[form] += 1
            if form == "quoted":
                assert not re.search(rb"[\x00\r\n\x80-\xff]", value), (text, before, value)
            elif form == "literal":
                assert b"\x00" not in value, (text, before, value)
            else:
                assert before.endswith(b"BINARY[2] ") and b"\x00" in value, (text, before)
    assert checked["quoted"] > 10 and checked["literal"] >= 5 and checked["literal8"] == 1, checked
    env = dict((before[-8:], value) for form, value, before in
               wire_strings(response_bytes(r, "i", "FETCH 4 ENVELOPE")))
    assert b"nul\x80inside and caf\xc3\xa9" in env.values(), env  # NUL as 0x80, as Dovecot
    lines = fetch_data(r, "j", "FETCH 4 (BINARY.PEEK[1] BINARY.PEEK[2])")
    assert lines["BINARY[1]"] == b"first line\r\nsecond line", lines
    assert lines["BINARY[2]"] == b"\x00\x01 binary \x00\r\n", lines
    # UTF8=ACCEPT: the name in UTF-8, in a literal or a quoted string as the session allows
    u = login(mailbox, "UTF8=ACCEPT")
    names = [value for form, value, before in wire_strings(response_bytes(u, "c", 'LIST "" *'))]
    assert "café".encode() in names, names


def test_rfc3501_6_3_11_append_to_a_name_that_does_not_decode_is_no(mailbox):
    """APPEND's mailbox is a mailbox like SELECT's (mailbox = astring): a well-formed name of
    atom characters that names no mailbox gets NO, not BAD, in every session, as SELECT,
    EXAMINE and LIST with a wildcard after it do."""
    name = "!#$&'+,-.0123456789:;<=>?@^_`|[}"
    for enable in (None, "UTF8=ACCEPT", "IMAP4rev2"):
        r = login(mailbox, enable)
        lines = append(r, "c", name, b"Subject: x\r\n\r\nx\r\n")
        assert lines[-1].startswith("c NO ["), (enable, lines)
        assert r.cmd("d", f"SELECT {name}")[-1] == "d NO [NONEXISTENT] No such mailbox", enable
        assert r.cmd("e", f"EXAMINE {name}")[-1] == "e NO [NONEXISTENT] No such mailbox", enable
        assert r.cmd("f", f'LIST "" {name}%*') == ["f OK LIST completed"], enable
        assert r.cmd("g", f'LSUB "" {name}*%') == ["g OK LSUB completed"], enable
    # bad syntax stays BAD
    assert append(r, "h", "(x)", b"Subject: x\r\n\r\nx\r\n")[-1].startswith("h BAD")
    assert append(r, "i", "INBOX (\\Bogus)", b"Subject: x\r\n\r\nx\r\n")[-1].startswith("i BAD")
