"""Differential test of estafeta's IMAP FETCH answers against Dovecot's on the same messages.

Every .eml file of tests/integration/mime-corpus/ (CRLF line ends, 8-bit where it says so) is
APPENDed, with the same INTERNALDATE, to alice's INBOX on an estafeta instance and to ann's INBOX
on a private Dovecot (tests/integration/thirdparty.py). For each message both servers are asked,
one item per FETCH command, for:

    ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, BODY.PEEK[HEADER], BODY.PEEK[TEXT],
    BODY.PEEK[1], BODY.PEEK[1.MIME], BODY.PEEK[2] (when the message is a multipart with a
    second part), BINARY.SIZE[1] (when part 1 is a leaf: RFC 9051 6.4.5 allows BINARY only for
    media types other than multipart/*, message/rfc822 and message/global)

Where part 2 exists and whether part 1 is a leaf is read from Dovecot's BODYSTRUCTURE (the
reference), so both servers get exactly the same commands.

The answers are parsed (lists, atoms, NIL, strings) and compared exactly. The only normalisation
is the one IMAP itself makes: a string may be sent quoted or as a literal (RFC 3501 4.3, RFC 9051
4.3), so both forms of the same octets compare equal. Everything else counts: NIL against "",
atom against string, letter case inside strings and atoms, numbers, item names. A command that
fails is compared by its status (NO/BAD) and response code (e.g. [UNKNOWN-CTE]), not its text.

One parametrized test per message. Messages where estafeta differs from Dovecot are marked
xfail(strict=True) in KNOWN_DIFFERENCES, with the difference as the reason; a new difference
fails, and so does a known one that goes away (strict). test_summary checks that every message
was compared and that the messages and items that differ are exactly the documented ones, and
prints a table (pytest -s).

Both servers start once for the module (the whole run takes about 10 s): Dovecot through
ThirdParty, estafeta through conftest's Instance, set up as conftest's `server` fixture does
(which is function-scoped, so cannot serve a module-scoped fixture) and checked for sanitizer
reports the same way when it stops.
"""
import datetime
import imaplib
import os
import re
import shutil
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from conftest import Instance, insecure_tls  # noqa: E402

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mime-corpus")
MESSAGES = sorted(n for n in os.listdir(CORPUS) if n.endswith(".eml"))
ALICE = "alice@example.test"
ANN = "ann@other.test"
INTERNALDATE = datetime.datetime(2022, 4, 1, 12, 34, 56, tzinfo=datetime.timezone.utc)
ALWAYS = ["ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE", "BODY.PEEK[HEADER]",
          "BODY.PEEK[TEXT]", "BODY.PEEK[1]", "BODY.PEEK[1.MIME]"]

# The messages whose answers differ from Dovecot's (2.3.19): the items that differ and how. These
# cases are expected to fail (strict: one that starts to pass fails, and test_summary fails when
# the items that differ change).
BS = ("BODYSTRUCTURE", "BODY")
KNOWN_DIFFERENCES = {
    "01-plain-ascii.eml": (BS, (
        'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII: estafeta keeps the case, ("TEXT" "PLAIN" '
        '("CHARSET" "US-ASCII") ...), Dovecot answers ("text" "plain" ("charset" "us-ascii") ...) '
        "for a 7bit text/plain us-ascii message (its cached plain-7bit shortcut; it keeps the "
        "case of other types, see 26)")),
    "05-encoded-word-adjacent.eml": (("ENVELOPE",), (
        "subject: estafeta keeps the TAB between two encoded words of the header "
        '("...?=<TAB>=?UTF-8?Q?_mixed?=..."), Dovecot turns it into a space')),
    "06-address-display-names.eml": (("ENVELOPE",), (
        'cc: the display name "   " (only spaces, quoted): estafeta "   ", Dovecot ""')),
    "16-rfc2231-continuations.eml": (BS, (
        'Content-Type: text/plain; charset*=us-ascii\'en-us\'utf%2D8; format=flowed: '
        'estafeta ("charset*" "us-ascii\'en-us\'utf%2D8" "format" "flowed"), Dovecot '
        '("format" "flowed" "charset*" "us-ascii\'en-us\'utf%2D8" "charset" "us-ascii")')),
    "17-rfc2231-charset-lang.eml": (BS, (
        "the order of RFC 2231 parameters: estafeta keeps the header's (title* then name*), "
        "Dovecot puts name* first")),
    "25-long-folded-header.eml": (("ENVELOPE",), (
        "subject: where a continuation line starts with a TAB, estafeta keeps the TAB after "
        "unfolding, Dovecot has a space")),
    "26-uppercase-types-spaces.eml": (BS, (
        'body id and description with trailing spaces: estafeta "<UP1@Example.COM>" '
        'and "Spaced   description", Dovecot "<UP1@Example.COM>  " and '
        '"Spaced   description  "')),
    "27-duplicate-headers.eml": (("ENVELOPE", "BINARY.SIZE[1]"), (
        "two of each header: estafeta takes the first Date, Subject, Message-ID, From, Sender, "
        "Reply-To and To; Dovecot the last Date, Subject and Message-ID, and every address of "
        "both From, both To (and so Sender, Reply-To); BINARY.SIZE[1] 19 (first CTE, 7bit, as "
        "both BODYSTRUCTUREs say) against Dovecot's 12 (it decodes with the second, base64)")),
    "33-content-type-oddities.eml": (BS, (
        'Content-Type: text: estafeta "text" "plain", Dovecot "text" ""; '
        'Content-Type: image/ and Content-Type: /: estafeta ("text" "plain" ("charset" '
        '"us-ascii") ... lines), Dovecot ("" "" NIL ... no lines); the parameter "=bad": '
        'estafeta drops it, Dovecot ("" "bad")')),
    "35-dates-and-whitespace.eml": (("ENVELOPE",), (
        'subject "tab<TAB>separated<TAB>subject  ": estafeta keeps the TABs and trailing spaces, '
        'Dovecot "tab separated subject"')),
    "37-deeply-nested.eml": (("BODY.PEEK[1]", "BODY.PEEK[2]"), (
        "BODY[1] and BODY[2], multiparts nested in a multipart: estafeta ends them "
        'at their close delimiter ("--L2--", 374 octets; "--L2b--", 78), Dovecot adds the CRLF '
        "that comes before the outer delimiter (376; 80)")),
    "38-rfc822-no-body-and-global.eml": (BS + ("BODY.PEEK[1]",), (
        "a message/rfc822 part whose header has no empty line and ends at the boundary: "
        "estafeta size 57 and BODY[1] without the CRLF before the delimiter, Dovecot 59 with it")),
    "40-empty-header-values.eml": (("ENVELOPE",) + BS, (
        'Cc: ",": estafeta NIL, Dovecot '
        '((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")); empty Content-Type and '
        'Content-Transfer-Encoding: estafeta ("text" "plain" ("charset" "us-ascii") NIL NIL "" '
        '24 1), Dovecot ("" "" NIL NIL NIL "7bit" 24)')),
}


# -- parsing IMAP answers --

class Atom(str):
    """An IMAP atom (numbers and item names included), distinct from a string of the same text."""

    def __repr__(self):
        return "Atom(%s)" % str.__repr__(self)


def _reassemble(data):
    """The untagged FETCH lines as the server sent them, from imaplib's pieces: a (line,
    literal) tuple is a line ending in {n} and its literal; a bytes element right after a tuple
    continues that line; any other bytes element is a response line of its own."""
    out = b""
    prev_tuple, first = False, True
    for el in data:
        if el is None:
            continue
        if isinstance(el, tuple):
            if not prev_tuple and not first:
                out += b"\r\n"
            out += el[0] + b"\r\n" + el[1]
            prev_tuple = True
        else:
            if not prev_tuple and not first:
                out += b"\r\n"
            out += el
            prev_tuple = False
        first = False
    return out


def _parse_value(buf, i):
    """One value at buf[i:]: a list, NIL, a quoted string, a literal (bytes), or an atom."""
    c = buf[i:i + 1]
    if c == b"(":
        items, i = [], i + 1
        while True:
            while buf[i:i + 1] == b" ":
                i += 1
            if buf[i:i + 1] == b")":
                return items, i + 1
            if i >= len(buf):
                raise ValueError("unclosed list")
            v, i = _parse_value(buf, i)
            items.append(v)
    if c == b'"':
        out, i = bytearray(), i + 1
        while True:
            ch = buf[i:i + 1]
            if ch == b"":
                raise ValueError("unclosed quoted string")
            if ch == b"\\":
                out += buf[i + 1:i + 2]
                i += 2
            elif ch == b'"':
                return bytes(out), i + 1
            else:
                out += ch
                i += 1
    m = re.compile(rb"~?\{(\d+)\+?\}\r\n").match(buf, i)
    if m:
        n = int(m.group(1))
        start = m.end()
        if start + n > len(buf):
            raise ValueError("short literal")
        return bytes(buf[start:start + n]), start + n
    # An atom, brackets and what they enclose included (BODY[1.MIME], BINARY.SIZE[1]).
    j, depth = i, 0
    while j < len(buf):
        ch = buf[j:j + 1]
        if ch == b"[":
            depth += 1
        elif ch == b"]":
            depth -= 1
        elif depth == 0 and ch in (b" ", b"(", b")", b"\r", b"\n"):
            break
        j += 1
    if j == i:
        raise ValueError("unexpected %r at %d" % (buf[i:i + 20], i))
    word = buf[i:j].decode("utf-8", "backslashreplace")
    return (None if word == "NIL" else Atom(word)), j


def parse_fetch(data):
    """[(sequence number, [name, value, name, value, ...]), ...] of untagged FETCH data."""
    buf = _reassemble(data)
    out, i = [], 0
    while i < len(buf):
        while buf[i:i + 2] == b"\r\n":
            i += 2
        if i >= len(buf):
            break
        m = re.compile(rb"(\d+) ").match(buf, i)
        if not m:
            raise ValueError("no sequence number at %r" % buf[i:i + 40])
        items, i = _parse_value(buf, m.end())
        if not isinstance(items, list):
            raise ValueError("FETCH data is not a list: %r" % buf[m.start():m.start() + 80])
        out.append((int(m.group(1)), items))
    return out, buf


def fetch(client, seq, item):
    """(parsed answer, raw text) for one item of message seq. The parsed answer is the flat list
    of names and values of every FETCH response for seq, or ("NO"/"BAD", response code)."""
    client.untagged_responses.pop("FETCH", None)
    try:
        typ, data = client.fetch(str(seq), "(%s)" % item)
    except imaplib.IMAP4.abort:
        raise  # the connection is gone: nothing more to compare
    except imaplib.IMAP4.error as e:
        return ("BAD", None), "BAD " + str(e)
    if typ != "OK":
        text = (data[0] or b"") if data else b""
        m = re.match(rb"\[([^\]]*)\]", text)
        code = m.group(1).decode() if m else None
        return (typ, code), typ + " " + text.decode("utf-8", "replace")
    responses, raw = parse_fetch([d for d in data if d is not None])
    pairs = []
    for n, items in responses:
        if n == seq:
            pairs += items
    return pairs, raw.decode("utf-8", "backslashreplace")


def structure_facts(bodystructure):
    """(has part 2, part 1 is a leaf) from a parsed BODYSTRUCTURE value. A multipart is a list
    whose first elements are its parts (lists), then its subtype and extension data; part 1 of a
    message that is not a multipart is its body (RFC 3501 6.4.5, RFC 9051 6.4.5.1)."""
    def multipart(body):
        return isinstance(body, list) and bool(body) and isinstance(body[0], list)
    if multipart(bodystructure):
        children = []
        for x in bodystructure:
            if not isinstance(x, list):
                break
            children.append(x)
        has2, part1 = len(children) >= 2, children[0]
    else:
        has2, part1 = False, bodystructure
    if multipart(part1):
        return has2, False
    media = tuple(x.decode("ascii", "replace").lower() if isinstance(x, bytes) else ""
                  for x in part1[:2])
    return has2, media not in (("message", "rfc822"), ("message", "global"))


# -- the servers --

def _start_estafeta():
    """An instance as conftest's `server` fixture makes it (alice and bob, no auth delay)."""
    root = tempfile.mkdtemp(prefix="estafeta-test-")
    os.chmod(root, 0o755)
    inst = Instance(root)
    inst.add_user(ALICE)
    inst.add_user("bob@example.test")
    inst.config("auth.failure_delay", "0s")
    return inst.start()


def _stop_estafeta(inst):
    code = inst.stop()
    log = inst.read_log() if os.path.exists(inst.log_path) else ""
    shutil.rmtree(inst.root, ignore_errors=True)
    assert "Sanitizer" not in log and "runtime error" not in log, log
    assert code in (None, 0), f"serve exited with {code}:\n{log}"


def _append_all(client, corpus):
    for name in MESSAGES:
        typ, data = client.append("INBOX", None, INTERNALDATE, corpus[name])
        assert typ == "OK", (name, data)
    typ, data = client.select("INBOX")
    assert typ == "OK" and int(data[0]) == len(MESSAGES), data


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """{message: [(item, estafeta's parsed answer, Dovecot's, estafeta's raw, Dovecot's raw)]}"""
    if not (os.path.exists("/usr/sbin/dovecot") and os.path.exists("/usr/sbin/postfix")):
        pytest.skip("dovecot-imapd and postfix are not installed")
    from thirdparty import ThirdParty
    corpus = {}
    for name in MESSAGES:
        with open(os.path.join(CORPUS, name), "rb") as f:
            corpus[name] = f.read()
    started = time.time()
    results = {}
    with ThirdParty(str(tmp_path_factory.mktemp("dovecot"))) as tp:
        inst = _start_estafeta()
        try:
            est = inst.imap(user=ALICE)
            dov = imaplib.IMAP4("127.0.0.1", tp.imap_port, timeout=30)
            dov.starttls(ssl_context=insecure_tls())
            dov.login(ANN, tp.users[ANN])
            _append_all(est, corpus)
            _append_all(dov, corpus)
            for seq, name in enumerate(MESSAGES, 1):
                rows = []
                dov_bs = None
                for item in ALWAYS:
                    e, e_raw = fetch(est, seq, item)
                    d, d_raw = fetch(dov, seq, item)
                    if item == "BODYSTRUCTURE":
                        assert isinstance(d, list) and len(d) == 2, d_raw
                        dov_bs = d[1]
                    rows.append((item, e, d, e_raw, d_raw))
                has2, leaf1 = structure_facts(dov_bs)
                extra = (["BODY.PEEK[2]"] if has2 else []) + (["BINARY.SIZE[1]"] if leaf1 else [])
                for item in extra:
                    e, e_raw = fetch(est, seq, item)
                    d, d_raw = fetch(dov, seq, item)
                    rows.append((item, e, d, e_raw, d_raw))
                results[name] = rows
            est.logout()
            dov.logout()
        finally:
            _stop_estafeta(inst)
    results["__seconds__"] = time.time() - started
    return results


def _differences(rows):
    return [r for r in rows if r[1] != r[2]]


def _show(v, n=120):
    """A parsed value written back the IMAP way (literals as quoted strings), for messages."""
    if v is None:
        return "NIL"
    if isinstance(v, list):
        return "(" + " ".join(_show(x, n) for x in v) + ")"
    if isinstance(v, bytes):
        s = v.decode("utf-8", "backslashreplace")
        s = '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") \
            .replace("\n", "\\n").replace("\t", "\\t") + '"'
        return s if len(s) <= n else s[:n] + '..."'
    return str(v)


def leaf_differences(a, b, path=""):
    """[(path, estafeta's value, Dovecot's value)]: where two parsed answers part, as deep as
    their shapes agree (a path like 2.0.6 indexes nested lists)."""
    if type(a) is list and type(b) is list and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += leaf_differences(x, y, f"{path}.{i}" if path else str(i))
        return out
    if a == b and type(a) is type(b):
        return []
    return [(path or "-", _show(a), _show(b))]


def _clip(s, n=3000):
    return s if len(s) <= n else s[:n] + " ...(%d more)" % (len(s) - n)


def _params():
    for name in MESSAGES:
        known = KNOWN_DIFFERENCES.get(name)
        marks = ([pytest.mark.xfail(strict=True, raises=AssertionError,
                                    reason=", ".join(known[0]) + ": " + known[1])]
                 if known else [])
        yield pytest.param(name, marks=marks, id=name[:-4])


@pytest.mark.parametrize("name", list(_params()))
def test_fetch_matches_dovecot(compared, name):
    diffs = _differences(compared[name])
    report = []
    for item, e, d, e_raw, d_raw in diffs:
        report.append(f"{item}:\n  estafeta: {_clip(e_raw)}\n  dovecot:  {_clip(d_raw)}")
        report += [f"    at {path}: estafeta {x}, dovecot {y}"
                   for path, x, y in leaf_differences(e, d)[:20]]
    if diffs:
        raise AssertionError(f"{name} differs from Dovecot in {len(diffs)} item(s):\n"
                             + "\n".join(report))


def test_summary(compared):
    """Every message and item compared; the messages and items that differ are the known ones."""
    names = [n for n in compared if not n.startswith("__")]
    assert names == MESSAGES and 25 <= len(names) <= 40
    items = sum(len(compared[n]) for n in names)
    differing = {n: tuple(r[0] for r in _differences(compared[n])) for n in names}
    differing = {n: v for n, v in differing.items() if v}
    print(f"\n{len(names)} messages, {items} items compared with Dovecot in "
          f"{compared['__seconds__']:.1f} s; {len(differing)} message(s) differ:")
    for n, its in differing.items():
        print(f"  {n}: {', '.join(its)}")
    unknown = sorted(set(KNOWN_DIFFERENCES) - set(names))
    assert not unknown, f"KNOWN_DIFFERENCES names messages not in the corpus: {unknown}"
    expected = {n: tuple(sorted(v[0])) for n, v in KNOWN_DIFFERENCES.items()}
    got = {n: tuple(sorted(v)) for n, v in differing.items()}
    changed = {n: (got.get(n), expected.get(n)) for n in set(got) | set(expected)
               if got.get(n) != expected.get(n)}
    assert not changed, "items that differ (now, documented): " + repr(changed)
