"""hello, upper and --reply modes, driven the way the tutorials' clients drive
them (one send, no newline, recv(1024)) and by line-oriented peers."""

import os
import random
import socket
import time

from interop_util import (
    connect, describe, recv_all, recv_exact, recv_until, run, udp_socket, upper_ascii,
)


# ------------------------------------------------------------------ hello

def test_hello_tutorial_client(start_server):
    """Seed 001's client, line for line: recv the greeting, send each name
    with no newline and recv(1024) the answer, then send 'exit'."""
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello")
    s = connect(srv.tcp)
    assert s.recv(1024) == b"Welcome!\n"
    for name in [b"Michael", b"Tracy", b"Sarah"]:
        s.send(name)
        assert s.recv(1024) == b"Hello, " + name + b"!"
    s.send(b"exit")
    assert recv_all(s, timeout=5) == b"", "server did not close after 'exit'"
    s.close()


def test_hello_tutorial_client_unix(start_server, sockdir):
    path = os.path.join(sockdir, "h.sock")
    srv = start_server("--unix", path, "--mode", "hello")
    s = connect(srv.unix)
    assert s.recv(1024) == b"Welcome!\n"
    s.send(b"Michael")
    assert s.recv(1024) == b"Hello, Michael!"
    s.send(b"exit")
    assert recv_all(s, timeout=5) == b""


def test_hello_lines_keep_their_line_endings(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello")
    s = connect(srv.tcp)
    assert recv_exact(s, 9) == b"Welcome!\n"
    # several lines in one segment (the "sticky packet" case), mixed endings
    s.sendall(b"Michael\nTracy\r\nSarah\n")
    want = b"Hello, Michael!\nHello, Tracy!\r\nHello, Sarah!\n"
    assert recv_exact(s, len(want)) == want
    s.sendall(b"exit\n")
    assert recv_all(s, timeout=5) == b""


def test_hello_lines_split_at_random(start_server):
    """Lines cut into random pieces sent back to back still give one reply per line."""
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello", "--pause-ms", "2000")
    rng = random.Random(862)
    names = [f"name{i}-{'x' * rng.randrange(0, 300)}".encode() for i in range(200)]
    stream = b"".join(n + b"\n" for n in names)
    s = connect(srv.tcp)
    assert recv_exact(s, 9) == b"Welcome!\n"
    pos = 0
    while pos < len(stream):
        n = rng.randrange(1, 700)
        s.sendall(stream[pos:pos + n])
        pos += n
    want = b"".join(b"Hello, " + n + b"!\n" for n in names)
    assert recv_exact(s, len(want), timeout=30) == want
    s.close()


def test_hello_nc(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello")
    r = run(["nc", "-N", "127.0.0.1", str(srv.tcp.port)], input=b"Michael\nexit\nignored\n",
            timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"Welcome!\nHello, Michael!\n"


def test_hello_pause_joins_pieces(start_server):
    """Bytes without a newline are one message only once the peer pauses for
    --pause-ms: two pieces sent 100 ms apart with a 1500 ms pause are one name."""
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello", "--pause-ms", "1500")
    s = connect(srv.tcp)
    assert recv_exact(s, 9) == b"Welcome!\n"
    t0 = time.monotonic()
    s.sendall(b"Mich")
    time.sleep(0.1)
    s.sendall(b"ael")
    assert s.recv(1024) == b"Hello, Michael!"
    elapsed = time.monotonic() - t0
    assert elapsed >= 1.4, f"answered after {elapsed:.2f}s, before the 1.5 s pause"
    s.close()


def test_hello_udp(start_server):
    srv = start_server("--udp", "127.0.0.1:0", "--mode", "hello")
    s = udp_socket(srv.udp)
    for name in [b"Michael", b"Tracy"]:
        s.sendto(name, srv.udp.sockaddr)
        assert s.recvfrom(1024)[0] == b"Hello, " + name + b"!", "no Welcome over UDP, no newline"
    s.close()


def test_hello_half_close_answers_pending_partial(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello", "--pause-ms", "5000")
    s = connect(srv.tcp)
    s.sendall(b"Michael\nTracy")
    s.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    assert recv_all(s, timeout=10) == b"Welcome!\nHello, Michael!\nHello, Tracy!"
    assert time.monotonic() - t0 < 4, "half-close waited for the pause instead of answering"
    s.close()


# ------------------------------------------------------------------ upper

def test_upper_tutorial_client(start_server):
    """Seed 003: send(data), recv(1024) -> data.upper()."""
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "upper")
    s = connect(srv.tcp)
    for msg in [b"hello", b"socket programming", b"MiXeD 123 !?"]:
        s.send(msg)
        assert s.recv(1024) == upper_ascii(msg)
    s.close()


def test_upper_udp_tutorial_client(start_server):
    srv = start_server("--udp", "127.0.0.1:0", "--mode", "upper")
    s = udp_socket(srv.udp)
    s.sendto(b"udp hello", srv.udp.sockaddr)
    data, addr = s.recvfrom(1024)
    assert data == b"UDP HELLO"
    assert addr == srv.udp.sockaddr
    s.close()


def test_upper_utf8_only_ascii_changes(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "upper")
    text = "héllo wörld, straße, привет, 日本語, ǆ émoji 🎉 abc-xyz\n".encode()
    s = connect(srv.tcp)
    s.sendall(text)
    s.shutdown(socket.SHUT_WR)
    got = recv_all(s)
    assert got == upper_ascii(text)
    assert got.decode() == "HéLLO WöRLD, STRAßE, привет, 日本語, ǆ éMOJI 🎉 ABC-XYZ\n"


def test_upper_all_bytes_no_boundaries(start_server):
    """upper needs no message boundaries: a stream with no newline at all,
    in odd-sized pieces, comes back whole with only a-z changed."""
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "upper", "--max-message", "16")
    rng = random.Random(3)
    data = bytes(range(256)) * 40 + os.urandom(100_000)
    data = data.replace(b"\n", b"")  # not even one line
    s = connect(srv.tcp)
    pos = 0
    while pos < len(data):
        n = rng.randrange(1, 5000)
        s.sendall(data[pos:pos + n])
        pos += n
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s, timeout=30) == upper_ascii(data)


def test_upper_socat_unix(start_server, sockdir):
    path = os.path.join(sockdir, "u.sock")
    start_server("--unix", path, "--mode", "upper")
    r = run(["socat", "-t", "5", "-", f"UNIX-CONNECT:{path}"], input=b"quiet please\n", timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"QUIET PLEASE\n"


def test_upper_nc_udp(start_server):
    srv = start_server("--udp", "127.0.0.1:0", "--mode", "upper")
    r = run(["nc", "-u", "-w1", "127.0.0.1", str(srv.udp.port)], input=b"shout\n", timeout=20)
    assert r.stdout == b"SHOUT\n", r.stderr


def test_upper_client(sockit_bin, start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "upper")
    r = run([sockit_bin, "echo", srv.tcp.text], input="ça va? ok\n".encode(), timeout=30)
    assert r.returncode == 0, describe(r)
    assert r.stdout == "çA VA? OK\n".encode()


# ------------------------------------------------------------------ --reply

TEMPLATE = "Received msg: {msg} from {peer}"


def test_reply_tutorial_client(start_server):
    """Seed 002: one send of the message, recv(500), the server's formatted answer."""
    srv = start_server("--tcp", "127.0.0.1:0", "--reply", TEMPLATE)
    s = connect(srv.tcp)
    s.send(b"hi there")
    ip, port = s.getsockname()[:2]
    assert s.recv(500) == f"Received msg: hi there from {ip}:{port}".encode()
    s.close()


def test_reply_lines(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--reply", "<{msg}>")
    s = connect(srv.tcp)
    s.sendall(b"a\nbb\r\n\n")
    want = b"<a>\n<bb>\r\n<>\n"
    assert recv_exact(s, len(want)) == want
    s.close()


def test_reply_literal_braces(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--reply", "{{msg}} {{{msg}}} {{peer}}")
    s = connect(srv.tcp)
    s.sendall(b"x\n")
    want = b"{msg} {x} {peer}\n"
    assert recv_exact(s, len(want)) == want
    s.close()


def test_reply_udp(start_server):
    srv = start_server("--udp", "127.0.0.1:0", "--reply", TEMPLATE)
    s = udp_socket(srv.udp)
    s.bind(("127.0.0.1", 0))
    ip, port = s.getsockname()
    s.sendto(b"hello udp", srv.udp.sockaddr)
    assert s.recvfrom(1024)[0] == f"Received msg: hello udp from {ip}:{port}".encode()
    s.close()


def test_reply_ipv6_peer(start_server):
    srv = start_server("--tcp", "[::1]:0", "--reply", "{peer}")
    s = connect(srv.tcp)
    s.sendall(b"x\n")
    port = s.getsockname()[1]
    got = recv_until(s, b"\n")
    assert got in (f"[::1]:{port}\n".encode(), f"::1:{port}\n".encode()), got
    s.close()


def test_reply_unix_peer(start_server, sockdir):
    path = os.path.join(sockdir, "r.sock")
    srv = start_server("--unix", path, "--reply", "{msg} from {peer}")
    s = connect(srv.unix)
    s.sendall(b"m\n")
    got = recv_until(s, b"\n")
    assert got in (f"m from {path}\n".encode(), b"m from unix\n"), got
    s.close()


def test_reply_socat_tcp(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--reply", "ok: {msg}")
    r = run(["socat", "-t", "5", "-", f"TCP:{srv.tcp.hostport}"], input=b"one\ntwo\n", timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"ok: one\nok: two\n"


def test_reply_utf8_message(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--reply", "[{msg}]")
    msg = "来自 消息 ✓".encode()
    s = connect(srv.tcp)
    s.sendall(msg + b"\n")
    assert recv_until(s, b"\n") == b"[" + msg + b"]\n"
    s.close()
