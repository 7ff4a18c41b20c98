"""sockit chat against peers that misbehave: one that never acknowledges,
malformed, oversized and empty datagrams, duplicates, messages out of order
(and one whose predecessor never comes), terminal escapes, and a hand-written
IP Messenger client (presence, GBK without UTF8OPT)."""

import socket
import time

import pytest

from chat_util import Chat

SENDMSG_CHECK = 0x20 | 0x100
UTF8 = 0x800000


def packet(number, command, extra, user="py", host="pc"):
    head = f"1:{number}:{user}:{host}:{command}:".encode()
    return head + (extra.encode() if isinstance(extra, str) else extra)


def parse(data):
    version, number, user, host, command, extra = data.split(b":", 5)
    return int(number), int(command), extra


@pytest.fixture
def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    yield s
    s.close()


def acks(sock, n, timeout=5.0):
    """The next n RECVMSG numbers sockit sent to `sock` (other packets skipped)."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            number, command, extra = parse(sock.recv(65536))
        except socket.timeout:
            break
        if command & 0xFF == 0x21:
            got.append(int(extra.split(b"\0")[0]))
    return got


def test_a_peer_that_never_acknowledges_fails_and_nothing_hangs(sockit_bin, client):
    me = f"127.0.0.1:{client.getsockname()[1]}"
    chat = Chat(sockit_bin, "--to", me, "--timeout", "1", name="alice")
    try:
        started = time.monotonic()
        chat.send("one", "two")
        failed = chat.wait_events("failed", 2, timeout=10)
        assert time.monotonic() - started < 5
        assert failed[0].startswith(f"1 {me} no acknowledgement in 1s (")
        assert failed[1].startswith(f"2 {me} no acknowledgement in 1s (")
        assert chat.events("delivered") == []
        # It did retry: the same packet number more than once, with growing gaps.
        seen = {}
        client.settimeout(0.2)
        try:
            while True:
                number, command, extra = parse(client.recv(65536))
                if command & 0xFF == 0x20:
                    seen.setdefault(number, 0)
                    seen[number] += 1
        except socket.timeout:
            pass
        assert seen and max(seen.values()) >= 3, seen
        assert chat.finish(timeout=10) == 1
    finally:
        chat.kill()


def test_malformed_oversized_and_empty_datagrams(sockit_bin, client):
    chat = Chat(sockit_bin, name="bob")
    to = ("127.0.0.1", chat.port)
    me = f"127.0.0.1:{client.getsockname()[1]}"
    try:
        for data in [b"", b"\n", b"x" * 9000, b"1:abc:u:h:32:not a packet", b"\xff\xfe bad utf8",
                     b"1:5:u:h:99999999999:too big a command", b"1:6:u:h:64:unsupported GETINFO",
                     b"evil \x1b[2J\x1b]0;title\x07 end", b"1:7:u:h:33:", b"\0\0\0"]:
            client.sendto(data, to)
        client.sendto(packet(8, SENDMSG_CHECK | UTF8, "still alive"), to)
        assert acks(client, 1) == [8]
        received = chat.wait_for(lambda ls: [l for l in ls if l.endswith("still alive")])
        assert received == ["received py still alive"]
        shown = chat.events("received")
        R = "\ufffd"
        assert shown == [f"{me} 1:abc:u:h:32:not a packet", f"{me} {R}{R} bad utf8",
                         f"{me} 1:5:u:h:99999999999:too big a command",
                         f"{me} evil {R}[2J{R}]0;title{R} end", f"{me} {R}{R}{R}", "py still alive"]
        assert "oversized" in chat.stderr()
        assert chat.finish() == 0
    finally:
        chat.kill()


def test_duplicates_are_shown_once_and_acknowledged_each_time(sockit_bin, client):
    chat = Chat(sockit_bin, name="bob")
    to = ("127.0.0.1", chat.port)
    try:
        for _ in range(3):
            client.sendto(packet(100, SENDMSG_CHECK | UTF8, "only once"), to)
        assert acks(client, 3) == [100, 100, 100]
        client.sendto(packet(101, SENDMSG_CHECK | UTF8, "next"), to)
        assert acks(client, 1) == [101]
        chat.wait_line("received py next")
        assert chat.events("received") == ["py only once", "py next"]
        assert chat.finish() == 0
    finally:
        chat.kill()


def test_order_is_restored_from_prev_tags_and_a_missing_one_is_skipped(sockit_bin, client):
    chat = Chat(sockit_bin, "--hold", "0.5", name="bob")
    to = ("127.0.0.1", chat.port)
    try:
        for number, prev in ((12, 11), (11, 10), (10, 0)):
            client.sendto(packet(number, SENDMSG_CHECK | UTF8, f"m{number}\0sockit-prev={prev}"), to)
        assert sorted(acks(client, 3)) == [10, 11, 12]
        chat.wait_events("received", 3)
        assert chat.events("received") == ["py m10", "py m11", "py m12"]
        # 13 never comes: 14 is held, then shown when the hold runs out.
        started = time.monotonic()
        client.sendto(packet(14, SENDMSG_CHECK | UTF8, "m14\0sockit-prev=13"), to)
        assert acks(client, 1) == [14]
        chat.wait_line("received py m14", timeout=5)
        assert time.monotonic() - started >= 0.4
        # A restarted sender (prev=0 again) is shown at once.
        client.sendto(packet(15, SENDMSG_CHECK | UTF8, "m15\0sockit-prev=0"), to)
        chat.wait_line("received py m15")
        assert chat.finish() == 0
    finally:
        chat.kill()


def test_an_ip_messenger_client_presence_and_gbk(sockit_bin, client):
    chat = Chat(sockit_bin, name="bob")
    to = ("127.0.0.1", chat.port)
    me = f"127.0.0.1:{client.getsockname()[1]}"
    try:
        # BR_ENTRY without UTF8OPT, nickname in GBK: an old client.
        client.sendto(packet(1, 0x01, "老王".encode("gbk") + b"\0group"), to)
        number, command, extra = parse(client.recv(65536))
        assert command & 0xFF == 0x03  # ANSENTRY
        assert extra.split(b"\0")[0] == b"bob"
        chat.wait_line(f"joined 老王 {me}")
        client.sendto(packet(2, SENDMSG_CHECK, "你好".encode("gbk")), to)
        assert acks(client, 1) == [2]
        chat.wait_line("received 老王 你好")
        # The answer goes back in GBK, without UTF8OPT, and wants a RECVMSG.
        chat.send("/to 老王", "收到")
        while True:
            number, command, extra = parse(client.recv(65536))
            if command & 0xFF == 0x20:
                break
        assert command & 0x100 and not command & UTF8
        assert extra.split(b"\0")[0] == "收到".encode("gbk")
        client.sendto(packet(3, 0x21, str(number)), to)
        chat.wait_line("delivered 1 老王")
        client.sendto(packet(4, 0x02, ""), to)  # BR_EXIT
        chat.wait_line(f"left 老王 {me}")
        assert chat.finish() == 0
    finally:
        chat.kill()
