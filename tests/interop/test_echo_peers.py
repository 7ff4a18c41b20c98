"""Real peers (nc, socat, Python socket) against `sockit echo serve`, and the
`sockit echo` client against socat and sockit servers, over TCP, UDP, Unix."""

import os
import re
import socket

import pytest

from interop_util import (
    describe,
    assert_one_line_error, connect, free_port, recv_all, run, udp_socket,
)

LINES = b"hello\nworld\n\xff\x00binary\tbytes\r\n"


def test_print_address_format(start_server, sockdir):
    path = os.path.join(sockdir, "e.sock")
    srv = start_server("--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--tcp", "[::1]:0",
                       "--unix", path)
    texts = [a.text for a in srv.addresses]
    assert sum(1 for t in texts if re.fullmatch(r"tcp://127\.0\.0\.1:\d+", t)) == 1, texts
    assert sum(1 for t in texts if re.fullmatch(r"udp://127\.0\.0\.1:\d+", t)) == 1, texts
    assert sum(1 for t in texts if re.fullmatch(r"tcp://\[::1\]:\d+", t)) == 1, texts
    assert f"unix:{path}" in texts
    for a in srv.addresses:
        if a.port is not None:
            assert a.port != 0, f"port 0 printed instead of the bound port: {a}"
    # the printed ports are really bound
    for a in srv.of_kind("tcp"):
        s = connect(a)
        s.sendall(b"x")
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"x"
        s.close()
    assert os.path.exists(path)


# ------------------------------------------------------------------ nc

def test_nc_tcp(start_server):
    srv = start_server("--tcp", "127.0.0.1:0")
    r = run(["nc", "-N", "127.0.0.1", str(srv.tcp.port)], input=LINES, timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == LINES


def test_nc_tcp_ipv6(start_server):
    srv = start_server("--tcp", "[::1]:0")
    assert srv.tcp.host == "::1"
    r = run(["nc", "-N", "-6", "::1", str(srv.tcp.port)], input=LINES, timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == LINES


def test_nc_udp(start_server):
    srv = start_server("--udp", "127.0.0.1:0")
    r = run(["nc", "-u", "-w1", "127.0.0.1", str(srv.udp.port)], input=b"ping\n", timeout=20)
    assert r.stdout == b"ping\n", r.stderr


def test_nc_unix(start_server, sockdir):
    path = os.path.join(sockdir, "e.sock")
    srv = start_server("--unix", path)
    assert srv.unix.path == path
    r = run(["nc", "-N", "-U", path], input=LINES, timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == LINES


# ------------------------------------------------------------------ socat

def test_socat_tcp_large(start_server):
    srv = start_server("--tcp", "127.0.0.1:0")
    data = os.urandom(2 * 1024 * 1024)
    r = run(["socat", "-t", "10", "-", f"TCP:{srv.tcp.hostport}"], input=data, timeout=60)
    assert r.returncode == 0, describe(r)
    assert len(r.stdout) == len(data)
    assert r.stdout == data


def test_socat_udp(start_server):
    srv = start_server("--udp", "127.0.0.1:0")
    r = run(["socat", "-t", "1", "-", f"UDP:{srv.udp.hostport}"], input=b"datagram\n", timeout=20)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"datagram\n"


def test_socat_unix(start_server, sockdir):
    path = os.path.join(sockdir, "e.sock")
    start_server("--unix", path)
    data = os.urandom(300_000)
    r = run(["socat", "-t", "10", "-", f"UNIX-CONNECT:{path}"], input=data, timeout=60)
    assert r.returncode == 0, describe(r)
    assert r.stdout == data


# ------------------------------------------------------------------ Python socket

def test_python_tcp_all_byte_values(start_server):
    srv = start_server("--tcp", "127.0.0.1:0")
    s = connect(srv.tcp)
    data = bytes(range(256)) * 4
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == data
    s.close()


def test_python_tcp_pingpong(start_server):
    """Tutorial shape: send a chunk, recv(1024), repeat on one connection."""
    srv = start_server("--tcp", "127.0.0.1:0")
    s = connect(srv.tcp)
    for i in range(50):
        msg = f"message {i}".encode()
        s.send(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(1024)
            assert chunk, "server closed mid-conversation"
            got += chunk
        assert got == msg
    s.close()


def test_python_udp(start_server):
    srv = start_server("--udp", "127.0.0.1:0")
    s = udp_socket(srv.udp)
    for size in (0, 1, 1024, 8000, 65507):
        data = os.urandom(size)
        s.sendto(data, srv.udp.sockaddr)
        reply, peer = s.recvfrom(70000)
        assert reply == data, f"datagram of {size} bytes not echoed unchanged"
        assert peer == srv.udp.sockaddr
    s.close()


def test_python_udp_ipv6(start_server):
    srv = start_server("--udp", "[::1]:0")
    assert srv.udp.text.startswith("udp://[::1]:")
    s = udp_socket(srv.udp)
    s.sendto(b"six", srv.udp.sockaddr)
    assert s.recvfrom(100)[0] == b"six"
    s.close()


def test_python_unix(start_server, sockdir):
    path = os.path.join(sockdir, "e.sock")
    srv = start_server("--unix", path)
    s = connect(srv.unix)
    data = os.urandom(100_000)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == data
    s.close()


def test_unix_path_with_scheme(start_server, sockdir):
    path = os.path.join(sockdir, "s.sock")
    srv = start_server("--unix", f"unix:{path}")
    assert srv.unix.path == path
    s = connect(srv.unix)
    s.sendall(b"scheme")
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == b"scheme"
    s.close()


def test_scheme_addresses(start_server):
    srv = start_server("--tcp", "tcp://127.0.0.1:0", "--udp", "udp://127.0.0.1:0")
    s = connect(srv.tcp)
    s.sendall(b"t")
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == b"t"
    u = udp_socket(srv.udp)
    u.sendto(b"u", srv.udp.sockaddr)
    assert u.recv(10) == b"u"


def test_many_listeners_one_process(start_server, sockdir):
    paths = [os.path.join(sockdir, f"{i}.sock") for i in range(2)]
    srv = start_server("--tcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                       "--unix", paths[0], "--unix", paths[1])
    assert len(srv.of_kind("tcp")) == 2 and len(srv.of_kind("unix")) == 2
    for a in srv.of_kind("tcp") + srv.of_kind("unix"):
        s = connect(a)
        s.sendall(a.text.encode())
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == a.text.encode()
        s.close()


# ------------------------------------------------------------------ sockit echo client

def test_client_against_socat_tcp(sockit_bin, socat_echo):
    peer = socat_echo("tcp")
    data = os.urandom(500_000)
    r = run([sockit_bin, "echo", f"127.0.0.1:{peer.port}"], input=data, timeout=60)
    assert r.returncode == 0, describe(r)
    assert r.stdout == data


def test_client_against_socat_tcp_scheme(sockit_bin, socat_echo):
    peer = socat_echo("tcp")
    r = run([sockit_bin, "echo", peer.address], input=LINES, timeout=30)
    assert r.returncode == 0, describe(r)
    assert r.stdout == LINES


def test_client_against_socat_unix(sockit_bin, socat_echo, sockdir):
    peer = socat_echo("unix", os.path.join(sockdir, "socat.sock"))
    r = run([sockit_bin, "echo", peer.address], input=LINES, timeout=30)
    assert r.returncode == 0, describe(r)
    assert r.stdout == LINES


def test_client_against_socat_udp(sockit_bin, socat_echo):
    peer = socat_echo("udp")
    r = run([sockit_bin, "echo", peer.address], input=b"one\ntwo\nthree\n", timeout=30)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"one\ntwo\nthree\n"


def test_client_udp_flag(sockit_bin, socat_echo):
    peer = socat_echo("udp")
    r = run([sockit_bin, "echo", f"127.0.0.1:{peer.port}", "--udp"], input=b"flag\n", timeout=30)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"flag\n"


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_client_against_sockit_stream(sockit_bin, start_server, sockdir, kind):
    path = os.path.join(sockdir, "e.sock")
    srv = start_server("--tcp", "127.0.0.1:0") if kind == "tcp" else start_server("--unix", path)
    (addr,) = srv.addresses
    data = os.urandom(200_000)
    r = run([sockit_bin, "echo", addr.text], input=data, timeout=60)
    assert r.returncode == 0, describe(r)
    assert r.stdout == data


def test_client_against_sockit_udp_hello(sockit_bin, start_server):
    srv = start_server("--udp", "127.0.0.1:0", "--mode", "hello")
    r = run([sockit_bin, "echo", srv.udp.text], input=b"Michael\nTracy\n", timeout=30)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"Hello, Michael!\nHello, Tracy!\n"


def test_client_refused(sockit_bin):
    port = free_port()  # nothing listens there now
    r = run([sockit_bin, "echo", f"127.0.0.1:{port}"], input=b"x\n", timeout=30)
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr)
    assert r.stdout == b""


def test_client_unix_missing(sockit_bin, sockdir):
    r = run([sockit_bin, "echo", f"unix:{sockdir}/nobody.sock"], input=b"x\n", timeout=30)
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr)


def test_client_udp_no_reply_times_out(sockit_bin):
    # a bound UDP socket that never answers
    quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quiet.bind(("127.0.0.1", 0))
    quiet.settimeout(5)
    port = quiet.getsockname()[1]
    try:
        r = run([sockit_bin, "echo", f"udp://127.0.0.1:{port}", "--timeout", "1"],
                input=b"anyone?\n", timeout=30)
        assert quiet.recv(100).rstrip(b"\n") == b"anyone?", "client did not send the datagram"
    finally:
        quiet.close()
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr)


def test_client_bad_address(sockit_bin):
    r = run([sockit_bin, "echo", "no-port-here"], input=b"", timeout=30)
    assert r.returncode == 2, describe(r)
    assert_one_line_error(r.stderr)
