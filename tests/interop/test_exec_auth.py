"""sockit exec: tokens, the auth timeout, the delay and the lockout; what the
server refuses at start; the token never reaches commands."""

import time

import pytest

import frame_client
from exec_util import (  # noqa: F401  (fixtures)
    TOKEN, WRONG_TOKEN, exec_home, exec_server, run_server_to_exit,
)
from interop_util import assert_one_line_error, is_closed_by_peer, recv_until_closed


def auth_error(srv, token):
    """The FrameError a handshake with `token` ends in."""
    with srv.connect() as s:
        with pytest.raises(frame_client.FrameError) as e:
            frame_client.handshake(s, token)
        # ERROR is the last frame: the server closes
        assert is_closed_by_peer(s, timeout=5)
    return e.value


# ------------------------------------------------------------------ client side

def test_right_token_from_env_and_from_file(exec_server, exec_home):
    srv = exec_server()
    assert srv.client("echo", "env").stdout == b"env\n"
    f = exec_home.write("client-token", TOKEN + "\n")
    r = srv.client("echo", "file", opts=["--token-file", f], token=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"file\n"
    # the file wins over the environment
    r = srv.client("echo", "file", opts=["--token-file", f], token=WRONG_TOKEN)
    assert r.returncode == 0, r.stderr


def test_wrong_token(exec_server):
    srv = exec_server()
    r = srv.client("echo", "never", token=WRONG_TOKEN)
    assert r.returncode == 255
    assert r.stdout == b""
    line = assert_one_line_error(r.stderr)
    assert "token" in line or "auth" in line, line
    assert srv.count("auth_failed") == 1
    assert srv.count("run") == 0


def test_wrong_token_in_file(exec_server, exec_home):
    srv = exec_server()
    f = exec_home.write("bad-token", WRONG_TOKEN)
    r = srv.client("echo", "never", opts=["--token-file", f], token=None)
    assert r.returncode == 255
    assert_one_line_error(r.stderr)


def test_missing_token(exec_server):
    """No --token-file and no SOCKIT_TOKEN: one line naming both, exit 255,
    and nothing reaches the server."""
    srv = exec_server()
    r = srv.client("echo", "never", token=None)
    assert r.returncode == 255, r.stderr
    assert r.stdout == b""
    line = assert_one_line_error(r.stderr, must_contain=("token",))
    assert "SOCKIT_TOKEN" in line and "--token-file" in line, line
    assert srv.count("authenticated") == 0 and srv.count("auth_failed") == 0


def test_unreadable_token_file_is_a_usage_error(exec_server, exec_home):
    srv = exec_server()
    r = srv.client("true", opts=["--token-file", exec_home.path("no-such-file")], token=None)
    assert r.returncode in (2, 255)
    assert_one_line_error(r.stderr, must_contain=("no-such-file",))


def test_wrong_token_answered_after_the_delay(exec_server):
    srv = exec_server("--auth-delay-ms", "600")
    t0 = time.monotonic()
    e = auth_error(srv, WRONG_TOKEN)
    assert e.name == "auth_failed" and e.code == 6
    assert time.monotonic() - t0 >= 0.55
    # the right token is not delayed
    t0 = time.monotonic()
    with srv.session():
        pass
    assert time.monotonic() - t0 < 0.5


def test_token_with_trailing_newline_stripped_but_not_prefix(exec_server):
    srv = exec_server()
    assert auth_error(srv, TOKEN + "x").name == "auth_failed"
    assert auth_error(srv, TOKEN[:-1]).name == "auth_failed"
    assert auth_error(srv, "").name == "auth_failed"


# ------------------------------------------------------------------ slow clients

def test_silent_connection_closed_after_auth_timeout(exec_server):
    srv = exec_server("--auth-timeout", "1")
    with srv.connect() as s:
        t0 = time.monotonic()
        data, how = recv_until_closed(s, timeout=8)
        elapsed = time.monotonic() - t0
    assert 0.8 <= elapsed < 5, f"closed after {elapsed:.2f}s with --auth-timeout 1"
    # no frame can have been started: either nothing or an ERROR timeout
    if data:
        ftype, length = data[0], int.from_bytes(data[1:5], "big")
        assert ftype == frame_client.ERROR
        assert frame_client.parse_error(data[5:5 + length])[0] == 8


def test_hello_without_auth_gets_error_timeout(exec_server):
    srv = exec_server("--auth-timeout", "1")
    with srv.connect() as s:
        frame_client.send_frame(s, frame_client.HELLO, frame_client.hello_payload())
        assert frame_client.expect(s, frame_client.HELLO)[:6] == b"SOCKIT"
        t0 = time.monotonic()
        with pytest.raises(frame_client.FrameError) as e:
            frame_client.expect(s, frame_client.AUTH_OK)
        assert e.value.name == "timeout"
        assert 0.5 <= time.monotonic() - t0 < 5
        assert is_closed_by_peer(s, timeout=5)


def test_slow_clients_do_not_block_others(exec_server):
    srv = exec_server("--auth-timeout", "2")
    idle = [srv.connect() for _ in range(10)]
    try:
        t0 = time.monotonic()
        r = srv.client("echo", "fast")
        assert r.stdout == b"fast\n"
        assert time.monotonic() - t0 < 5
    finally:
        for s in idle:
            s.close()


def test_auth_timeout_does_not_apply_after_auth(exec_server):
    srv = exec_server("--auth-timeout", "1")
    r = srv.client("sleep 2; echo survived")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"survived\n"


# ------------------------------------------------------------------ lockout

def test_lockout_after_max_auth_failures(exec_server):
    srv = exec_server("--max-auth-failures", "3")
    for _ in range(3):
        assert auth_error(srv, WRONG_TOKEN).name == "auth_failed"
    e = auth_error(srv, TOKEN)  # even the right token
    assert (e.code, e.name) == (7, "locked_out")
    assert e.message.strip()
    r = srv.client("echo", "never")
    assert r.returncode == 255
    assert_one_line_error(r.stderr, must_contain=("locked_out",))
    assert srv.count("locked_out") >= 2


def test_lockout_is_per_ip(exec_server, exec_home):
    """A locked-out TCP address does not lock out a Unix-socket client."""
    path = exec_home.path("l.sock")
    srv = exec_server("--listen", "127.0.0.1:0", "--listen", f"unix:{path}", "--max-auth-failures", "2")
    tcp = srv.server.of_kind("tcp")[0]
    for _ in range(2):
        with frame_client.connect(tcp) as s:
            with pytest.raises(frame_client.FrameError):
                frame_client.handshake(s, WRONG_TOKEN)
    with frame_client.connect(tcp) as s:
        with pytest.raises(frame_client.FrameError) as e:
            frame_client.handshake(s, TOKEN)
        assert e.value.name == "locked_out"
    with frame_client.connect(path) as s:
        frame_client.handshake(s, TOKEN)
        res = frame_client.run(s, ["echo", "unix"])
        assert res.stdout == b"unix\n"


def test_success_resets_the_failure_count(exec_server):
    srv = exec_server("--max-auth-failures", "3")
    for _ in range(2):
        assert auth_error(srv, WRONG_TOKEN).name == "auth_failed"
    with srv.session():
        pass
    for _ in range(2):
        assert auth_error(srv, WRONG_TOKEN).name == "auth_failed"
    with srv.session() as s:
        assert frame_client.run(s, ["true"]).value == 0


# ------------------------------------------------------------------ server start

def test_server_refuses_to_start_without_a_token(exec_home):
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0")
    assert r.returncode == 2, r.stderr
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=("token",), allow_logs=True)


@pytest.mark.parametrize("how", ["file", "env"])
def test_server_refuses_a_short_token(exec_home, how):
    short = "a" * 15
    if how == "file":
        r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0",
                               "--token-file", exec_home.write("short", short + "\n"))
    else:
        r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", env_token=short)
    assert r.returncode == 2, r.stderr
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=("16",), allow_logs=True)


def test_server_accepts_a_16_byte_token(exec_server):
    token = "b" * 16
    srv = exec_server(token=token)
    r = srv.client("echo", "ok", token=token)
    assert r.returncode == 0, r.stderr


def test_server_refuses_an_empty_or_missing_token_file(exec_home):
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--token-file", exec_home.write("empty", "\n"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, allow_logs=True)
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--token-file", exec_home.path("missing"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, must_contain=("missing",), allow_logs=True)


@pytest.mark.parametrize("address", ["0.0.0.0:0", "[::]:0"])
def test_server_refuses_a_non_loopback_address_without_tls(exec_home, address):
    r = run_server_to_exit(exec_home, "--listen", address, "--token-file", exec_home.token_file)
    assert r.returncode == 2, r.stderr
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=("TLS",), allow_logs=True)


def test_server_refuses_non_loopback_among_loopback(exec_home):
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--listen", "0.0.0.0:0",
                           "--token-file", exec_home.token_file)
    assert r.returncode == 2, r.stderr
    assert r.stdout == b""


def test_token_from_env_is_not_visible_to_commands(exec_server):
    srv = exec_server(token_via="env")
    r = srv.client("echo ${SOCKIT_TOKEN:-unset}; env | grep -c SOCKIT_TOKEN || true")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"unset\n0\n"


def test_client_token_is_not_passed_to_the_command(exec_server):
    srv = exec_server()
    r = srv.client("echo ${SOCKIT_TOKEN:-unset}")
    assert r.stdout == b"unset\n"
