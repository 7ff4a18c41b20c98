"""sockit exec: --timeout, --max-output, process groups killed on disconnect,
Ctrl-C forwarding, SIGTERM of the server while commands run."""

import contextlib
import signal
import socket
import subprocess
import threading
import time

import pytest

import frame_client
from exec_util import (  # noqa: F401  (fixtures)
    TOKEN, assert_gone, check_no_sanitizer, exec_home, exec_server, finish, kill_marker, remote_pids, unique_marker,
)
from interop_util import assert_one_line_error, wait_until


@pytest.fixture
def marker():
    m = unique_marker()
    yield m
    kill_marker(m)


def wait_for_remote(marker, count=1, timeout=10.0, exclude=()):
    ok = wait_until(lambda: len(remote_pids(marker, exclude)) >= count, timeout, interval=0.05)
    assert ok, f"expected {count} remote processes with {marker!r}, found {remote_pids(marker, exclude)}"


# ------------------------------------------------------------------ --timeout

def test_timeout_kills_the_command(exec_server, marker):
    srv = exec_server("--timeout", "1")
    t0 = time.monotonic()
    r = srv.client(f"echo started; sleep {marker} & sleep {marker}")
    elapsed = time.monotonic() - t0
    assert r.returncode == 128 + 9, r.stderr
    assert r.stdout == b"started\n"
    lines = [l for l in r.stderr.decode().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("sockit:") and "timeout" in lines[0], r.stderr
    assert 0.9 <= elapsed < 8, f"killed after {elapsed:.2f}s with --timeout 1"
    assert_gone(marker)  # the background job too: the whole group
    assert 'reason="timeout"' in srv.log()


def test_timeout_reason_in_exit_frame(exec_server):
    srv = exec_server("--timeout", "1")
    with srv.session() as s:
        res = frame_client.run(s, "sleep 30")
        assert (res.how, res.value) == (frame_client.SIGNALED, 9)
        assert res.reason == "timeout"
        # the connection goes on, and the timer starts again for the next command
        res = frame_client.run(s, "sleep 0.2; echo quick")
        assert (res.how, res.value, res.stdout) == (frame_client.EXITED, 0, b"quick\n")


def test_timeout_does_not_touch_a_quick_command(exec_server):
    srv = exec_server("--timeout", "3")
    r = srv.client("sleep 0.3; echo fine")
    assert r.returncode == 0
    assert r.stdout == b"fine\n"
    assert b"killed" not in r.stderr


# ------------------------------------------------------------------ --max-output

def test_max_output_exact_bytes_then_killed(exec_server):
    limit = 100_000
    srv = exec_server("--max-output", str(limit))
    r = srv.client("yes")
    assert r.returncode == 128 + 9, r.stderr
    assert len(r.stdout) == limit
    assert r.stdout == (b"y\n" * limit)[:limit]
    lines = [l for l in r.stderr.decode().splitlines() if l.strip()]
    assert len(lines) == 1 and "output limit" in lines[0], r.stderr


def test_max_output_counts_stdout_and_stderr(exec_server):
    limit = 50_000
    srv = exec_server("--max-output", str(limit))
    with srv.session() as s:
        res = frame_client.run(s, "yes out & yes err >&2")
    assert (res.how, res.value) == (frame_client.SIGNALED, 9)
    assert res.reason == "output limit"
    assert len(res.stdout) + len(res.stderr) == limit
    assert set(res.stdout.split(b"\n")) <= {b"out", b"ou", b"o", b""}
    assert set(res.stderr.split(b"\n")) <= {b"err", b"er", b"e", b""}


def test_output_just_under_the_limit_is_not_killed(exec_server):
    limit = 100_000
    srv = exec_server("--max-output", str(limit))
    r = srv.client(f"head -c {limit} /dev/zero")
    assert r.returncode == 0, r.stderr
    assert r.stdout == bytes(limit)
    # the limit is per command: the next one has its own
    with srv.session() as s:
        for _ in range(2):
            res = frame_client.run(s, f"head -c {limit - 10} /dev/zero")
            assert (res.how, res.value, len(res.stdout)) == (frame_client.EXITED, 0, limit - 10)


# ------------------------------------------------------------------ disconnect

def test_client_sigkill_kills_the_remote_process_tree(exec_server, marker):
    srv = exec_server()
    proc = srv.popen(f"sh -c 'sleep {marker} & sleep {marker}'")
    try:
        wait_for_remote(marker, count=2, exclude=(proc.pid,))
        proc.kill()
        proc.wait()
        assert_gone(marker, timeout=5, exclude=(proc.pid,))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert srv.server.alive()
    assert srv.client("echo", "still-serving").stdout == b"still-serving\n"


def test_closing_a_frame_connection_kills_the_group(exec_server, marker):
    srv = exec_server()
    with srv.session() as s:
        s.sendall(frame_client.encode(frame_client.RUN, frame_client.run_payload(
            f"sleep {marker} & sleep {marker} & wait")))
        wait_for_remote(marker, count=2)
    assert_gone(marker, timeout=5)


def test_background_job_left_by_a_finished_command_is_killed(exec_server, marker):
    """docs/exec.md: when the command exits, what is left of its group dies too."""
    srv = exec_server()
    r = srv.client(f"sleep {marker} >/dev/null 2>&1 & echo done")
    assert r.returncode == 0
    assert r.stdout == b"done\n"
    assert_gone(marker, timeout=5)


def test_client_disconnect_while_output_is_blocked(exec_server, marker):
    """A command blocked writing to a client that does not read dies when the
    client goes away."""
    srv = exec_server()
    s = srv.connect()
    frame_client.handshake(s, TOKEN)
    s.sendall(frame_client.encode(frame_client.RUN, frame_client.run_payload(f"yes {marker}")))
    wait_for_remote(marker)
    time.sleep(0.5)  # let the socket buffers fill
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # with unread data: a reset
    assert_gone(marker, timeout=5)


# ------------------------------------------------------------------ Ctrl-C

def test_ctrl_c_reaches_the_remote_command(exec_server):
    srv = exec_server()
    proc = srv.popen("trap 'echo got INT; exit 7' INT; echo ready; while :; do sleep 0.1; done")
    try:
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGINT)
        out, err = finish(proc, timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 7, err
    assert out == b"got INT\n"


def test_ctrl_c_without_trap_is_130(exec_server, marker):
    srv = exec_server()
    proc = srv.popen(f"echo ready; sleep {marker}")
    try:
        assert proc.stdout.readline() == b"ready\n"
        # Wait for sleep itself (sh -c and sleep both carry the marker): dash
        # running -c catches SIGINT, and one that lands between the echo and
        # the fork stays pending until sleep ends (seen under load; a local
        # terminal's Ctrl-C has the same window).
        wait_for_remote(marker, count=2, exclude=(proc.pid,))
        proc.send_signal(signal.SIGINT)
        out, err = finish(proc, timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert_gone(marker)


def test_three_ctrl_c_disconnect_and_kill(exec_server, marker):
    """A command that ignores INT: the third Ctrl-C gives up, which kills it."""
    srv = exec_server()
    proc = srv.popen(f"trap '' INT; echo ready; sleep {marker} & wait; sleep {marker}")
    try:
        assert proc.stdout.readline() == b"ready\n"
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.3)
        out, err = finish(proc, timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 255, err
    assert_gone(marker, timeout=5, exclude=(proc.pid,))


def test_ctrl_c_gets_through_while_stdin_is_blocked(exec_server):
    """The command reads no stdin while the client has plenty to send: the
    connection must still carry the SIGNAL."""
    srv = exec_server()
    proc = srv.popen("trap 'echo got INT; exit 3' INT; echo ready; while :; do sleep 0.1; done",
                     stdin=subprocess.PIPE)
    feeder_done = threading.Event()

    def feed():
        try:
            for _ in range(64):
                proc.stdin.write(b"\0" * (1 << 20))
        except (BrokenPipeError, ValueError, OSError):
            pass
        finally:
            feeder_done.set()

    feeder = threading.Thread(target=feed, daemon=True)
    try:
        assert proc.stdout.readline() == b"ready\n"
        feeder.start()
        time.sleep(1.5)  # the client's stdin stream stalls against the server
        proc.send_signal(signal.SIGINT)
        assert wait_until(lambda: proc.poll() is not None, 15), "client still running 15 s after Ctrl-C"
        check_no_sanitizer(proc.stderr.read())
        assert proc.returncode == 3
        assert proc.stdout.read() == b"got INT\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            proc.stdin.close()


def test_signal_frame_terminates(exec_server):
    srv = exec_server()
    with srv.session() as s:
        s.sendall(frame_client.encode(frame_client.RUN, frame_client.run_payload("echo up; exec sleep 30")))
        assert frame_client.expect(s, frame_client.STDOUT) == b"up\n"
        frame_client.send_signal(s, 15)
        res = frame_client.collect(s)
        assert (res.how, res.value, res.reason) == (frame_client.SIGNALED, 15, "")


# ------------------------------------------------------------------ server SIGTERM

def test_server_sigterm_while_a_command_runs_leaves_no_orphan(exec_server, marker):
    srv = exec_server("--shutdown-grace", "1")
    s = srv.connect()
    frame_client.handshake(s, TOKEN)
    s.sendall(frame_client.encode(frame_client.RUN, frame_client.run_payload(
        f"sleep {marker} & sleep {marker}")))
    wait_for_remote(marker, count=2)
    t0 = time.monotonic()
    srv.server.send_signal(signal.SIGTERM)
    rc = srv.server.wait(timeout=15)
    assert rc == 0, srv.log()[-3000:]
    assert time.monotonic() - t0 < 8
    assert_gone(marker, timeout=5)
    s.close()


def test_client_exits_when_the_server_is_stopped_under_it(exec_server, marker):
    """The connection closes while the command runs: the client says so and
    exits 255 (it must not hang)."""
    srv = exec_server("--shutdown-grace", "0.5")
    proc = srv.popen(f"echo ready; sleep {marker}")
    try:
        assert proc.stdout.readline() == b"ready\n"
        srv.server.send_signal(signal.SIGTERM)
        assert srv.server.wait(timeout=15) == 0
        out, err = finish(proc, timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 255, err
    assert_one_line_error(err)
    assert_gone(marker, exclude=(proc.pid,))


def test_client_with_stdin_pipe_exits_when_the_server_is_stopped(exec_server, marker):
    srv = exec_server("--shutdown-grace", "0.5")
    proc = srv.popen(f"echo ready; sleep {marker}", stdin=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        srv.server.send_signal(signal.SIGTERM)
        assert srv.server.wait(timeout=15) == 0
        assert wait_until(lambda: proc.poll() is not None, 10), "client still running after the server left"
        assert proc.returncode == 255
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
