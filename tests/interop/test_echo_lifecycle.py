"""Start-up errors, signals, graceful shutdown with live sessions, restart on
the same port at once."""

import os
import signal
import socket
import subprocess
import time

import pytest

from interop_util import (
    Server, condense, describe,
    assert_one_line_error, connect, is_closed_by_peer, recv_all, recv_exact,
    run, wait_until,
)


def echo_roundtrip(sock, data=b"ping"):
    sock.sendall(data)
    assert recv_exact(sock, len(data), timeout=10) == data


def connect_refused(addr):
    try:
        s = connect(addr, timeout=3)
    except (ConnectionRefusedError, FileNotFoundError, ConnectionResetError):
        # Reset: the connection reached the backlog as the listener closed.
        return True
    s.close()
    return False


# ------------------------------------------------------------------ signals

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_idle_server_exits_0(start_server, sig):
    srv = start_server("--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0")
    t0 = time.monotonic()
    assert srv.stop(sig, timeout=10) == 0, srv.stderr()
    assert time.monotonic() - t0 < 3, "idle server took long to exit"


def test_sigterm_right_after_addresses_printed(sockit_bin):
    """Once the addresses are printed, SIGTERM is a clean shutdown (exit 0),
    never the default action of the signal: a supervisor may stop the
    server the moment it is up."""
    for _ in range(8):
        srv = Server([sockit_bin, "echo", "serve", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                      "--print-address"], expect=2)
        srv.assert_clean_exit(timeout=10)


def test_sigterm_with_live_sessions(start_server, sockdir):
    """On SIGTERM: stop accepting; live sessions keep working for the grace
    period; then they are closed and the process exits 0."""
    path = os.path.join(sockdir, "g.sock")
    srv = start_server("--tcp", "127.0.0.1:0", "--unix", path, "--shutdown-grace", "3")
    live = [connect(srv.tcp) for _ in range(3)] + [connect(srv.unix)]
    for s in live:
        echo_roundtrip(s)
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    # new connections are no longer accepted
    assert wait_until(lambda: connect_refused(srv.tcp), timeout=1.5), \
        "TCP listener still accepting after SIGTERM"
    assert wait_until(lambda: connect_refused(srv.unix), timeout=1.5), \
        "Unix listener still accepting after SIGTERM"
    # live sessions still served during the grace period
    for s in live:
        echo_roundtrip(s, b"during grace")
    assert srv.alive(), "server exited while sessions were live and the grace period ran"
    # ... and closed when it ends
    for s in live:
        assert is_closed_by_peer(s, timeout=8), "live session not closed after the grace period"
    rc = srv.wait(timeout=10)
    elapsed = time.monotonic() - t0
    assert rc == 0, srv.stderr()
    assert 2.5 <= elapsed <= 8, f"exited {elapsed:.2f}s after SIGTERM with a 3 s grace"
    for s in live:
        s.close()


def test_sigterm_exits_when_last_session_ends(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--shutdown-grace", "30")
    s = connect(srv.tcp)
    echo_roundtrip(s)
    srv.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    echo_roundtrip(s, b"still served")
    t0 = time.monotonic()
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == b""
    s.close()
    rc = srv.wait(timeout=10)
    assert rc == 0, srv.stderr()
    assert time.monotonic() - t0 < 5, "server waited for the grace period with no session left"


def test_sigterm_during_heavy_traffic(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--shutdown-grace", "1")
    socks = [connect(srv.tcp) for _ in range(20)]
    blob = os.urandom(200_000)
    for s in socks:
        s.setblocking(False)
        try:
            s.send(blob)
        except BlockingIOError:
            pass
    srv.send_signal(signal.SIGTERM)
    rc = srv.wait(timeout=15)
    assert rc == 0, srv.stderr()
    for s in socks:
        s.close()


# ------------------------------------------------------------------ restart

def test_restart_on_same_port_at_once(start_server):
    """Sessions the server closed leave TIME_WAIT on its port; a new server must
    still bind it at once (SO_REUSEADDR)."""
    first = start_server("--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--mode", "hello",
                         "--shutdown-grace", "1")
    tport, uport = first.tcp.port, first.udp.port
    # the server closes these first ('exit'), so it holds the TIME_WAIT
    for _ in range(3):
        s = connect(first.tcp)
        assert recv_exact(s, 9) == b"Welcome!\n"
        s.sendall(b"exit\n")
        assert recv_all(s) == b""
        s.close()
    live = connect(first.tcp)  # closed by the grace period
    assert recv_exact(live, 9) == b"Welcome!\n"
    assert first.stop(timeout=15) == 0, first.stderr()
    live.close()

    second = start_server("--tcp", f"127.0.0.1:{tport}", "--udp", f"127.0.0.1:{uport}",
                          "--mode", "hello")
    assert second.tcp.port == tport and second.udp.port == uport
    s = connect(second.tcp)
    assert recv_exact(s, 9) == b"Welcome!\n"
    s.sendall(b"again\n")
    assert recv_exact(s, len(b"Hello, again!\n")) == b"Hello, again!\n"
    s.close()


def test_restart_on_same_unix_path(start_server, sockdir):
    path = os.path.join(sockdir, "r.sock")
    first = start_server("--unix", path)
    s = connect(first.unix)
    echo_roundtrip(s)
    s.close()
    assert first.stop() == 0, first.stderr()
    second = start_server("--unix", path)
    s = connect(second.unix)
    echo_roundtrip(s, b"second life")
    s.close()


def test_port_in_use_tcp(sockit_bin):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        r = run([sockit_bin, "echo", "serve", "--tcp", f"127.0.0.1:{port}", "--print-address"],
                timeout=20)
    finally:
        holder.close()
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr, must_contain=(str(port),))
    assert r.stdout == b""


def test_port_in_use_by_another_sockit(start_server, sockit_bin):
    """Two servers must not share a port silently (SO_REUSEPORT between
    separate processes would split the traffic)."""
    first = start_server("--tcp", "127.0.0.1:0")
    second = subprocess.Popen([sockit_bin, "echo", "serve", "--tcp", first.tcp.text,
                               "--print-address"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = second.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        second.kill()
        out, err = second.communicate()
        pytest.fail(f"a second server bound {first.tcp.text} too and kept running "
                    f"(printed {out!r}): the port is shared silently")
    assert second.returncode == 1, (second.returncode, out, condense(err.decode(errors="replace")))
    assert_one_line_error(err)


def test_port_in_use_udp(sockit_bin):
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    try:
        r = run([sockit_bin, "echo", "serve", "--udp", f"127.0.0.1:{port}", "--print-address"],
                timeout=20)
    finally:
        holder.close()
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr)


def test_unix_path_in_use_by_live_server(start_server, sockit_bin, sockdir):
    path = os.path.join(sockdir, "busy.sock")
    first = start_server("--unix", path)
    r = run([sockit_bin, "echo", "serve", "--unix", path, "--print-address"], timeout=20)
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr)
    # the first server is not disturbed (its socket file was not stolen)
    s = connect(first.unix)
    echo_roundtrip(s)
    s.close()


def test_partial_bind_failure_binds_nothing(sockit_bin):
    """When one of several addresses fails, the server exits 1 instead of
    running on the others."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        r = run([sockit_bin, "echo", "serve", "--tcp", "127.0.0.1:0", "--tcp",
                 f"127.0.0.1:{port}", "--print-address"], timeout=20)
    finally:
        holder.close()
    assert r.returncode == 1, describe(r)
    assert_one_line_error(r.stderr, must_contain=(str(port),), allow_logs=True)


# ------------------------------------------------------------------ bad arguments

BAD_ARGS = [
    ["--tcp", "bad:address:here"],
    ["--tcp", "127.0.0.1:"],
    ["--tcp", "127.0.0.1:99999"],
    ["--tcp", "127.0.0.1:-1"],
    ["--tcp", "127.0.0.1:12ab"],
    ["--tcp", "[::1:80"],
    ["--tcp", "ftp://127.0.0.1:21"],
    ["--tcp", "udp://127.0.0.1:0"],
    ["--udp", "tcp://127.0.0.1:0"],
    ["--udp", "127.0.0.1:70000"],
    ["--unix", ""],
    ["--unix", "unix:"],
    ["--unix", "/tmp/" + "x" * 200 + ".sock"],
    ["--tcp", "127.0.0.1:0", "--mode", "shout"],
    ["--tcp", "127.0.0.1:0", "--max-connections", "many"],
    ["--tcp", "127.0.0.1:0", "--idle-timeout", "-5"],
    ["--tcp", "127.0.0.1:0", "--log-level", "loud"],
    ["--tcp", "127.0.0.1:0", "--no-such-option"],
    ["--tcp", "127.0.0.1:0", "--reply", "unbalanced {msg"],
    ["--tcp", "127.0.0.1:0", "--reply", "{nosuchfield}"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=lambda a: " ".join(a)[:40])
def test_bad_arguments_exit_2(sockit_bin, args):
    t0 = time.monotonic()
    r = run([sockit_bin, "echo", "serve", *args, "--print-address"], timeout=20)
    assert r.returncode == 2, describe(r)
    assert_one_line_error(r.stderr)
    assert r.stdout == b"", "printed an address although start-up failed"
    assert time.monotonic() - t0 < 10


def test_bad_endpoint_message_names_it(sockit_bin):
    r = run([sockit_bin, "echo", "serve", "--tcp", "127.0.0.1:99999", "--print-address"],
            timeout=20)
    assert r.returncode == 2, describe(r)
    assert_one_line_error(r.stderr, must_contain=("99999",))
