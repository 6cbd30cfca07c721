"""Local delivery: accounts, aliases, distribution lists, plus-addressing, catch-all, and one
stored copy of a message however many mailboxes it reaches."""
import os


def send(inst, rcpts, subject="x", sender="carol@remote.test"):
    with inst.smtp() as c:
        return c.sendmail(sender, rcpts, f"Subject: {subject}\r\n\r\nbody\r\n".encode())


def test_new_account_has_the_standard_folders(server):
    for folder in ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert server.mailbox("alice@example.test", folder) == []


def test_alias_list_plus_and_catchall(server):
    server.add_user("carol@example.test")
    server.cli("alias", "add", "team@example.test", "alice@example.test", "staff@example.test")
    server.cli("list", "add", "staff@example.test", "bob@example.test", "alice@example.test",
               "carol@example.test")
    # team -> alice + staff(bob, alice, carol): alice once.
    send(server, ["team@example.test"], "team")
    for user in ("alice", "bob", "carol"):
        rows = server.mailbox(f"{user}@example.test")
        assert [r[5] for r in rows] == ["team"], user
    delivered_to = [line for line in server.message("alice@example.test", 1).split(b"\r\n")
                    if line.startswith(b"Delivered-To:")]
    assert delivered_to == [b"Delivered-To: alice@example.test"]

    send(server, ["alice+shopping@example.test"], "plus")
    assert server.mailbox("alice@example.test")[-1][5] == "plus"

    with server.smtp() as c:
        c.mail("carol@remote.test")
        assert c.rcpt("whoever@example.test")[0] == 550
    server.cli("alias", "add", "@example.test", "carol@example.test")
    send(server, ["whoever@example.test"], "catchall")
    assert server.mailbox("carol@example.test")[-1][5] == "catchall"
    # The catch-all does not take mail for existing addresses.
    send(server, ["bob@example.test"], "direct")
    assert server.mailbox("bob@example.test")[-1][5] == "direct"
    assert [r[5] for r in server.mailbox("carol@example.test")] == ["team", "catchall"]


def test_duplicate_recipients_get_one_copy(server):
    send(server, ["alice@example.test", "ALICE@example.test", "alice+x@example.test"], "dup")
    assert len(server.mailbox("alice@example.test")) == 1


def test_alias_loop_is_refused_not_looped(server):
    server.cli("alias", "add", "loop1@example.test", "loop2@example.test")
    server.cli("alias", "add", "loop2@example.test", "loop1@example.test")
    with server.smtp() as c:
        c.mail("carol@remote.test")
        code, text = c.rcpt("loop1@example.test")
        assert code == 550 and b"expands to no mailbox" in text
    server.cli("alias", "add", "loop2@example.test", "bob@example.test")
    send(server, ["loop1@example.test"], "loop")
    assert [r[5] for r in server.mailbox("bob@example.test")] == ["loop"]


def test_alias_to_remote_address_is_accepted_on_port_25(server):
    server.cli("alias", "add", "fwd@example.test", "someone@elsewhere.test", "bob@example.test")
    assert send(server, ["fwd@example.test"], "forward") == {}
    assert [r[5] for r in server.mailbox("bob@example.test")] == ["forward"]


def test_one_message_file_for_many_mailboxes(server):
    for i in range(5):
        server.add_user(f"user{i}@example.test")
    messages_dir = os.path.join(server.data, "messages")

    def files():
        return sum(len(f) for _, _, f in os.walk(messages_dir))

    before = files()
    send(server, [f"user{i}@example.test" for i in range(5)], "shared")
    assert files() == before + 1
    bodies = {server.message(f"user{i}@example.test", 1).split(b"\r\nReceived:", 1)[1] for i in range(5)}
    assert len(bodies) == 1


def test_uids_ascend_and_survive_restart(server):
    for i in range(3):
        send(server, ["alice@example.test"], f"m{i}")
    server.stop()
    server.start()
    send(server, ["alice@example.test"], "after restart")
    rows = server.mailbox("alice@example.test")
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert rows[-1][5] == "after restart"
