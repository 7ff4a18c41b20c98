"""Limits and abuse: connection caps, per-IP cap, idle timeout, message size,
half-close, clients that vanish mid-write or never read."""

import os
import socket
import struct
import time

import pytest

from interop_util import (
    describe,
    TCP_ESTABLISHED, connect, is_closed_by_peer, recv_all, recv_exact, recv_until_closed,
    server_holds, tcp_state, wait_until,
)


def echo_roundtrip(sock, data=b"ping"):
    sock.sendall(data)
    assert recv_exact(sock, len(data), timeout=10) == data


def assert_refused(addr, source=None):
    """A refused client gets one `error: ...` line and then EOF."""
    s = connect(addr, source=source)
    try:
        data = recv_all(s, timeout=10)
    except ConnectionResetError:
        pytest.fail("refused client got a reset instead of an 'error: ' line")
    s.close()
    assert data.startswith(b"error: "), data
    assert data.endswith(b"\n") and data.count(b"\n") == 1, data
    return data


def connect_until_accepted(addr, timeout=5.0, **kw):
    """The server may need a moment to notice a closed session; retry."""
    deadline = time.monotonic() + timeout
    while True:
        s = connect(addr, **kw)
        try:
            echo_roundtrip(s, b"again")
            return s
        except (AssertionError, ConnectionError, socket.timeout):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# ------------------------------------------------------------------ connection caps

def test_max_connections_refusal_tcp(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--max-connections", "3")
    held = [connect(srv.tcp) for _ in range(3)]
    for s in held:
        echo_roundtrip(s)
    line = assert_refused(srv.tcp)
    assert b"busy" in line or b"too many" in line, line
    # the held ones are unaffected
    for s in held:
        echo_roundtrip(s, b"still here")
    # a freed slot is usable again
    held.pop().close()
    held.append(connect_until_accepted(srv.tcp))
    assert_refused(srv.tcp)
    for s in held:
        s.close()


def test_max_connections_refusal_unix(start_server, sockdir):
    srv = start_server("--unix", os.path.join(sockdir, "m.sock"), "--max-connections", "2")
    held = [connect(srv.unix) for _ in range(2)]
    for s in held:
        echo_roundtrip(s)
    assert_refused(srv.unix)
    held.pop().close()
    held.append(connect_until_accepted(srv.unix))
    for s in held:
        s.close()


def test_max_connections_counts_all_listeners(start_server, sockdir):
    srv = start_server("--tcp", "127.0.0.1:0", "--unix", os.path.join(sockdir, "c.sock"),
                       "--max-connections", "2")
    a = connect(srv.tcp)
    b = connect(srv.unix)
    echo_roundtrip(a)
    echo_roundtrip(b)
    assert_refused(srv.tcp)
    assert_refused(srv.unix)
    a.close()
    b.close()


def test_max_per_ip(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--max-per-ip", "2", "--max-connections", "100")
    held = [connect(srv.tcp, source=("127.0.0.1", 0)) for _ in range(2)]
    for s in held:
        echo_roundtrip(s)
    assert_refused(srv.tcp, source=("127.0.0.1", 0))
    # another source address on loopback is a different IP: still welcome
    other = [connect(srv.tcp, source=("127.0.0.2", 0)) for _ in range(2)]
    for s in other:
        echo_roundtrip(s)
    assert_refused(srv.tcp, source=("127.0.0.2", 0))
    held.pop().close()
    held.append(connect_until_accepted(srv.tcp, source=("127.0.0.1", 0)))
    for s in held + other:
        s.close()


# ------------------------------------------------------------------ idle timeout

IDLE_MODES = {
    "echo": ([], b"ping\n", b"ping\n"),
    "upper": (["--mode", "upper"], b"ping\n", b"PING\n"),
    "hello": (["--mode", "hello"], b"ping\n", b"Welcome!\nHello, ping!\n"),
    "reply": (["--reply", "<{msg}>"], b"ping\n", b"<ping>\n"),
}


@pytest.mark.parametrize("mode", list(IDLE_MODES))
def test_idle_timeout_closes_idle_connection(start_server, mode):
    args, send, want = IDLE_MODES[mode]
    srv = start_server("--tcp", "127.0.0.1:0", "--idle-timeout", "1", *args)
    s = connect(srv.tcp)
    s.sendall(send)
    assert recv_exact(s, len(want)) == want
    t0 = time.monotonic()
    assert is_closed_by_peer(s, timeout=6), "idle connection still open 6 s after a 1 s idle timeout"
    elapsed = time.monotonic() - t0
    assert elapsed >= 0.8, f"closed after {elapsed:.2f}s, before the 1 s idle timeout"
    s.close()


def test_idle_timeout_reset_by_traffic(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--idle-timeout", "1")
    s = connect(srv.tcp)
    t_end = time.monotonic() + 2.5
    while time.monotonic() < t_end:
        echo_roundtrip(s, b"keepalive")
        time.sleep(0.3)
    assert tcp_state(s) == TCP_ESTABLISHED
    echo_roundtrip(s, b"still alive")
    s.close()


@pytest.mark.parametrize("mode", ["echo", "hello"])
def test_idle_timeout_unix(start_server, sockdir, mode):
    srv = start_server("--unix", os.path.join(sockdir, "i.sock"), "--mode", mode,
                       "--idle-timeout", "1")
    s = connect(srv.unix)
    if mode == "hello":
        assert recv_exact(s, 9) == b"Welcome!\n"
    assert is_closed_by_peer(s, timeout=6), f"idle {mode} connection on Unix not closed"
    s.close()


# ------------------------------------------------------------------ message size

@pytest.mark.parametrize("mode", [["--mode", "hello"], ["--reply", "got {msg}"]])
def test_max_message_line_refused(start_server, mode):
    srv = start_server("--tcp", "127.0.0.1:0", "--max-message", "16", *mode)
    s = connect(srv.tcp)
    if mode[0] == "--mode":
        assert recv_exact(s, 9) == b"Welcome!\n"
    # exactly 16 bytes is fine
    s.sendall(b"a" * 16 + b"\n")
    expect = b"Hello, " + b"a" * 16 + b"!\n" if mode[0] == "--mode" else b"got " + b"a" * 16 + b"\n"
    assert recv_exact(s, len(expect)) == expect
    s.sendall(b"b" * 100 + b"\n")
    rest, _ = recv_until_closed(s, timeout=10)
    assert rest == b"error: message longer than 16 bytes\n"
    s.close()


def test_max_message_without_newline_refused(start_server):
    """A huge message with no newline must not be buffered without bound."""
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello", "--max-message", "1000",
                       "--pause-ms", "5000")
    s = connect(srv.tcp)
    assert recv_exact(s, 9) == b"Welcome!\n"
    try:
        s.sendall(b"z" * 200_000)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close while we are still writing
    t0 = time.monotonic()
    rest, _ = recv_until_closed(s, timeout=10)
    assert rest == b"error: message longer than 1000 bytes\n"
    assert time.monotonic() - t0 < 4, "waited for the pause before refusing an over-long message"
    s.close()


def test_max_message_udp_not_answered_or_error(start_server):
    """Over UDP an over-long datagram is a message too: it must not be answered as if fine."""
    srv = start_server("--udp", "127.0.0.1:0", "--mode", "hello", "--max-message", "8")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(b"x" * 50, srv.udp.sockaddr)
    try:
        reply = s.recv(1000)
    except socket.timeout:
        reply = None
    assert reply is None or reply.startswith(b"error: "), reply
    s.sendto(b"short", srv.udp.sockaddr)
    s.settimeout(5)
    assert s.recv(1000) == b"Hello, short!"
    s.close()


def test_echo_mode_streams_past_max_message(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--max-message", "16")
    data = os.urandom(1_000_000)
    s = connect(srv.tcp)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s, timeout=30) == data
    s.close()


# ------------------------------------------------------------------ half-close

@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_half_close_gets_everything_back(start_server, sockdir, kind):
    if kind == "tcp":
        srv = start_server("--tcp", "127.0.0.1:0")
    else:
        srv = start_server("--unix", os.path.join(sockdir, "h.sock"))
    (addr,) = srv.addresses
    data = os.urandom(3_000_000)
    s = connect(addr)
    # write everything while reading concurrently so neither side stalls
    s.setblocking(False)
    out = bytearray()
    pos = 0
    deadline = time.monotonic() + 30
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    shut = False
    while time.monotonic() < deadline:
        for key, ev in sel.select(1):
            if ev & selectors.EVENT_WRITE and not shut:
                try:
                    pos += s.send(data[pos:pos + 65536])
                except BlockingIOError:
                    pass
                if pos == len(data):
                    s.shutdown(socket.SHUT_WR)
                    shut = True
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                chunk = s.recv(65536)
                if not chunk:
                    assert shut, "server closed before we half-closed"
                    sel.close()
                    s.close()
                    assert len(out) == len(data)
                    assert out == data
                    return
                out += chunk
    pytest.fail(f"no EOF after half-close: got {len(out)} of {len(data)} bytes")


def test_half_close_upper_nc(start_server):
    from interop_util import run
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "upper")
    data = b"last words without newline"
    r = run(["nc", "-N", "127.0.0.1", str(srv.tcp.port)], input=data, timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"LAST WORDS WITHOUT NEWLINE"


def test_half_close_reply_partial(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--reply", "[{msg}]", "--pause-ms", "5000")
    s = connect(srv.tcp)
    s.sendall(b"one\r\ntwo")
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s, timeout=4) == b"[one]\r\n[two]"
    s.close()


# ------------------------------------------------------------------ misbehaving clients

def test_client_disconnects_mid_write(start_server):
    """Clients that close or reset while sending (and while the server is
    writing back) must not disturb the server or leak their slots."""
    srv = start_server("--tcp", "127.0.0.1:0", "--max-connections", "4")
    payload = os.urandom(4_000_000)
    for i in range(12):
        s = connect(srv.tcp)
        s.setblocking(False)
        sent = 0
        try:
            while sent < len(payload) // 2:
                try:
                    sent += s.send(payload[sent:sent + 65536])
                except BlockingIOError:
                    time.sleep(0.001)
                    if sent > 200_000:
                        break
        except (BrokenPipeError, ConnectionResetError):
            pytest.fail("server reset a well-behaved connection")
        if i % 2:
            # abortive close: RST
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    # all 4 slots must be free again, and the server works
    held = []
    for _ in range(4):
        held.append(connect_until_accepted(srv.tcp, timeout=10))
    for s in held:
        echo_roundtrip(s, os.urandom(100_000))
        s.close()
    assert srv.alive()


def test_client_disconnects_mid_read_hello(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello")
    for _ in range(10):
        s = connect(srv.tcp)
        s.sendall(b"name\n" * 20000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    s = connect(srv.tcp)
    assert recv_exact(s, 9) == b"Welcome!\n"
    s.sendall(b"ok\n")
    assert recv_exact(s, 11) == b"Hello, ok!\n"
    s.close()


def test_client_that_never_reads(start_server):
    """A client that writes but never reads fills the server's send path. The
    server keeps serving everyone else, and closes the stuck one at the idle
    timeout."""
    srv = start_server("--tcp", "127.0.0.1:0", "--idle-timeout", "2")
    stuck = connect(srv.tcp)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.setblocking(False)
    chunk = os.urandom(65536)
    total = 0
    deadline = time.monotonic() + 5
    last_progress = time.monotonic()
    # write until both directions are full (no progress for 300 ms)
    while time.monotonic() < deadline and time.monotonic() - last_progress < 0.3:
        try:
            total += stuck.send(chunk)
            last_progress = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)
    assert total > 100_000, f"only {total} bytes accepted before blocking"
    stalled_at = last_progress
    key = (stuck.getsockname(), stuck.getpeername())
    assert server_holds(srv.pid, key=key), "server dropped the stuck client at once"

    # others are served promptly meanwhile
    for i in range(5):
        t0 = time.monotonic()
        s = connect(srv.tcp, timeout=5)
        echo_roundtrip(s, f"other {i}".encode() * 1000)
        s.close()
        assert time.monotonic() - t0 < 1.5, "other clients are slowed down by the stuck one"

    # the stuck client is closed around the idle timeout
    assert wait_until(lambda: not server_holds(srv.pid, key=key), timeout=8, interval=0.1), \
        "stuck client still connected long after the 2 s idle timeout"
    closed_after = time.monotonic() - stalled_at
    assert closed_after >= 1.0, f"stuck client closed after only {closed_after:.2f}s"
    stuck.close()


def test_urgent_data_and_half_close_behind_a_read(start_server):
    """recv stops short at an urgent mark with data behind it, and returns the
    data before a FIN that has already arrived. Neither brings a new epoll
    edge, so a read that took "short" for "drained" would wait forever (the
    echo loop's DrainingBuffer asks the kernel, TCP_INQ, instead). Both cases,
    with everything queued before the server looks: the in-band bytes come
    back at once, in order, the urgent byte stays out of band, then EOF."""
    import signal
    srv = start_server("--tcp", "127.0.0.1:0")
    s = connect(srv.tcp)
    echo_roundtrip(s, b"warm")  # the session is waiting in its read
    os.kill(srv.pid, signal.SIGSTOP)
    try:
        s.sendall(b"hello")
        s.send(b"X", socket.MSG_OOB)
        s.sendall(b"world")
        time.sleep(0.2)
    finally:
        os.kill(srv.pid, signal.SIGCONT)
    assert recv_exact(s, 10, timeout=10) == b"helloworld"
    echo_roundtrip(s, b"still here")

    os.kill(srv.pid, signal.SIGSTOP)
    try:
        s.sendall(b"last words")
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.2)
    finally:
        os.kill(srv.pid, signal.SIGCONT)
    assert recv_until_closed(s, timeout=10) == (b"last words", "eof")
    s.close()
