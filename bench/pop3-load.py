#!/usr/bin/python3
"""bench/pop3-load.py: the POP3 client of bench/pop3.sh.

    pop3-load.py measure HOST PORT USER PASSWORD [REPEAT]
        Logs in REPEAT+1 times (USER/PASS, STAT, UIDL of the whole maildrop, QUIT) and times each
        from connect to the end of the UIDL listing; the first is reported apart (cold). Then one
        session retrieves every message (RETR 1..n, PIPELINING with 32 commands in flight, which
        both servers announce) and times it from the first RETR to the last byte. Prints
        "result key=value ..." for the script.
    pop3-load.py export HOST PORT USER PASSWORD MAILDIR
        Copies the maildrop into MAILDIR/cur/, one file per message with LF line ends (as a
        Maildir holds them), so another server serves exactly the same messages.

A plain socket client, not poplib: reading line by line in Python would measure the client.
"""
import os
import socket
import sys
import time

WINDOW = 32


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.line()  # greeting

    def fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("server closed the connection")
        if self.pos > 1 << 20:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += chunk

    def line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos:end])
                self.pos = end + 2
                return line
            self.fill()

    def ok(self):
        line = self.line()
        if not line.startswith(b"+OK"):
            raise RuntimeError("server said: " + line.decode("utf-8", "replace"))
        return line

    def body(self):
        """A multi-line body up to CRLF.CRLF, still byte-stuffed."""
        if self.buf[self.pos:self.pos + 3] == b".\r\n":
            self.pos += 3
            return b""
        searched = 0  # octets after pos already searched; fill() may move pos, not this
        while True:
            end = self.buf.find(b"\r\n.\r\n", self.pos + max(0, searched - 4))
            if end >= 0:
                data = bytes(self.buf[self.pos:end + 2])
                self.pos = end + 5
                return data
            searched = len(self.buf) - self.pos
            self.fill()

    def send(self, text):
        self.sock.sendall(text.encode())

    def login(self, user, password):
        self.send(f"USER {user}\r\n")
        self.ok()
        self.send(f"PASS {password}\r\n")
        self.ok()

    def quit(self):
        self.send("QUIT\r\n")
        self.ok()
        self.sock.close()


def session(host, port, user, password):
    """Connect, log in, STAT, UIDL; returns (seconds, message count)."""
    started = time.perf_counter()
    c = Client(host, port)
    c.login(user, password)
    c.send("STAT\r\n")
    count = int(c.ok().split()[1])
    c.send("UIDL\r\n")
    c.ok()
    listing = c.body()
    elapsed = time.perf_counter() - started
    if listing.count(b"\r\n") != count:
        raise RuntimeError("UIDL listed %d messages, STAT said %d" % (listing.count(b"\r\n"), count))
    c.quit()
    return elapsed, count


def retrieve_all(host, port, user, password, count, handle=None):
    c = Client(host, port)
    c.login(user, password)
    octets = 0
    started = time.perf_counter()
    sent = 0
    for n in range(1, count + 1):
        while sent < count and sent < n - 1 + WINDOW:
            sent += 1
            c.send(f"RETR {sent}\r\n")
        c.ok()
        data = c.body()
        octets += len(data)
        if handle is not None:
            handle(n, data)
    elapsed = time.perf_counter() - started
    c.quit()
    return elapsed, octets


def measure(host, port, user, password, repeat="5"):
    cold, count = session(host, port, user, password)
    warm = sorted(session(host, port, user, password)[0] for _ in range(int(repeat)))
    retr_s, octets = retrieve_all(host, port, user, password, count)
    print("result messages=%d login_cold_ms=%.1f login_ms=%.1f retr_s=%.3f octets=%d mb_s=%.1f "
          "msg_s=%.0f" % (count, cold * 1000, warm[len(warm) // 2] * 1000, retr_s, octets,
                          octets / retr_s / 1e6, count / retr_s))


def export(host, port, user, password, maildir):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    _, count = session(host, port, user, password)

    def write(n, data):
        text = data.replace(b"\r\n..", b"\r\n.")
        if text.startswith(b".."):
            text = text[1:]
        text = text.replace(b"\r\n", b"\n")
        # S= and W= (the size with CRLF) as Dovecot names the files it delivers itself, so it
        # need not read a file to learn its size.
        name = "%d.M%dP0.bench,S=%d,W=%d:2," % (1700000000 + n, n, len(text),
                                                len(text) + text.count(b"\n"))
        with open(os.path.join(maildir, "cur", name), "wb") as f:
            f.write(text)

    retrieve_all(host, port, user, password, count, write)
    print("exported %d messages to %s" % (count, maildir))


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "measure":
        measure(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "export":
        export(*sys.argv[2:])
    else:
        sys.exit(__doc__)
