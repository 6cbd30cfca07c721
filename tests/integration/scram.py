"""A SCRAM-SHA-256 client (RFC 5802 with SHA-256 per RFC 7677) for the integration tests.

Python's smtplib, imaplib and poplib speak no SCRAM, so the tests bring their own client, in
pure Python (hashlib, hmac, base64, secrets), to drive the server's AUTH SCRAM-SHA-256 the way
a real client would. It refuses what a careful client refuses: a server nonce that does not
extend ours, a missing or wrong server signature.

    client = ScramClient("user@example.org", "pencil")
    smtp.auth("SCRAM-SHA-256", client.smtp_authobject)   # smtplib (initial response)
    imap.authenticate("SCRAM-SHA-256", client.respond)     # imaplib
    client.respond(challenge)                             # by hand, e.g. POP3 AUTH

respond() takes each decoded server challenge (bytes) and returns the decoded response; after
the server's final message client.verified is True. It raises ScramError on anything wrong.

RFC 7677's example exchange, byte for byte (run this file, or call self_check(), to check it):

>>> c = ScramClient("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
>>> c.respond(b"")
b'n,,n=user,r=rOprNGfwEbeRWgbNEkqO'
>>> c.respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
...           b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
b'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
>>> c.respond(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
b''
>>> c.verified
True
>>> try:
...     ScramClient("user", "pencil", nonce="abc").final_message(b"r=xyz,s=QUJD,i=4096")
... except ScramError as e:
...     print(e)
server nonce does not extend ours
"""

import base64
import doctest
import hashlib
import hmac
import secrets
import stringprep
import sys
import unicodedata


class ScramError(Exception):
    """The exchange cannot go on: the server's message is wrong, or it failed to prove itself."""


def saslprep(text):
    """RFC 4013 SASLprep of a stored string, as RFC 5802 section 2.2 asks of the password."""
    text = "".join(" " if stringprep.in_table_c12(ch) else ch
                   for ch in text if not stringprep.in_table_b1(ch))
    text = unicodedata.normalize("NFKC", text)
    prohibited = (stringprep.in_table_a1, stringprep.in_table_c12, stringprep.in_table_c21_c22,
                  stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
                  stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9)
    if any(check(ch) for ch in text for check in prohibited):
        raise ScramError("password holds a character SASLprep prohibits")
    # RFC 3454 section 6: right-to-left text must be wholly so, and start and end so.
    if any(stringprep.in_table_d1(ch) for ch in text) and (
            any(stringprep.in_table_d2(ch) for ch in text)
            or not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1]))):
        raise ScramError("password mixes bidirectional text")
    return text


def saslname(name):
    """saslname = 1*(value-safe-char / "=2C" / "=3D")   (RFC 5802 section 7)"""
    return name.replace("=", "=3D").replace(",", "=2C")


def _hmac(key, msg):
    return hmac.digest(key, msg, "sha256")


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _unb64(text):
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ScramError("bad base64 %r from the server" % text) from None


class ScramClient:
    """One SCRAM-SHA-256 exchange as a client; see the module's documentation."""

    def __init__(self, username, password, nonce=None, authzid=""):
        self.password = saslprep(password).encode("utf-8")
        # 18 random bytes, as the server adds: base64 is printable and free of ','.
        self.nonce = nonce or _b64(secrets.token_bytes(18))
        # "n": we do not bind to the channel (no -PLUS).
        self.gs2_header = "n," + ("a=" + saslname(authzid) if authzid else "") + ","
        self.first_bare = "n=" + saslname(username) + ",r=" + self.nonce
        self.verified = False
        self._server_signature = None
        self._step = self.first_message

    def respond(self, challenge):
        """Answers one decoded server challenge (bytes) with the decoded response (bytes)."""
        step, self._step = self._step, self._fail_after_end
        return step(challenge)

    def smtp_authobject(self, challenge=None):
        """smtplib's authobject: sends the first message as the AUTH command's initial response."""
        return self.respond(challenge or b"").decode("utf-8")

    def first_message(self, challenge=b""):
        """client-first-message = gs2-header client-first-message-bare"""
        if challenge:
            raise ScramError("SCRAM starts with the client; the server sent %r" % challenge)
        self._step = self.final_message
        return (self.gs2_header + self.first_bare).encode("utf-8")

    def final_message(self, server_first):
        """server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
                                  ["," extensions]
        Returns client-final-message = "c=" base64(gs2-header) "," nonce "," proof."""
        attrs = server_first.decode("utf-8").split(",")
        if len(attrs) < 3 or [a[:2] for a in attrs[:3]] != ["r=", "s=", "i="]:
            raise ScramError("malformed server-first-message %r" % server_first)
        nonce, salt, iterations = attrs[0][2:], attrs[1][2:], attrs[2][2:]
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise ScramError("server nonce does not extend ours")
        if not iterations.isdigit() or int(iterations) < 1:
            raise ScramError("bad iteration count %r" % iterations)
        salted = hashlib.pbkdf2_hmac("sha256", self.password,
                                     _unb64(salt), int(iterations))
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=" + _b64(self.gs2_header.encode("utf-8")) + ",r=" + nonce
        auth_message = ",".join((self.first_bare, server_first.decode("utf-8"),
                                 without_proof)).encode("utf-8")
        signature = _hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self._server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        self._step = self.verify
        return (without_proof + ",p=" + _b64(proof)).encode("ascii")

    def verify(self, server_final):
        """server-final-message = (server-error / verifier) ["," extensions]
        Checks verifier = "v=" base64(ServerSignature); returns the empty response."""
        value = server_final.decode("utf-8").split(",")[0]
        if value.startswith("e="):
            raise ScramError("server reports " + value[2:])
        if not value.startswith("v=") or not hmac.compare_digest(
                _unb64(value[2:]), self._server_signature):
            raise ScramError("server signature does not match: the server is not who it says")
        self.verified = True
        return b""

    def _fail_after_end(self, challenge):
        raise ScramError("challenge %r after the exchange ended" % challenge)


def self_check():
    """Runs this module's examples (RFC 7677's exchange); raises AssertionError on a mismatch."""
    result = doctest.testmod(sys.modules[__name__])
    assert result.attempted > 0 and result.failed == 0, result


if __name__ == "__main__":
    self_check()
    print("scram.py: RFC 7677 example exchange OK")
