"""Bounds on what one client may take: connections per address, idle time."""
import time


def test_connections_per_address(instance_factory):
    inst = instance_factory()
    inst.config("smtp.max_connections_per_ip", "2")
    inst.start()
    # the start's readiness probe must be gone before counting (each protocol counts its own)
    deadline = time.time() + 5
    while "smtp disconnect" not in inst.read_log():
        assert time.time() < deadline
        time.sleep(0.02)
    first, second = inst.raw(), inst.raw()
    assert first.greeting[0] == 220 and second.greeting[0] == 220
    third = inst.raw()
    assert third.greeting == (421, ["4.7.0 mx.example.test Too many connections from your address"])
    assert third.closed()
    first.cmd("QUIT")
    assert first.closed()
    time.sleep(0.2)
    assert inst.raw().greeting[0] == 220


def test_idle_timeout(instance_factory):
    inst = instance_factory()
    inst.config("smtp.timeout", "1s")
    inst.start()
    raw = inst.raw()
    raw.cmd("EHLO client.test")
    time.sleep(1.5)
    assert raw.reply() == (421, ["4.4.2 mx.example.test Error: timeout exceeded"])
    assert raw.closed()
