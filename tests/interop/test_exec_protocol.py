"""The exec protocol on the wire (docs/protocol/frames.md), spoken with the
Python frame client and raw sockets: pipelining, errors, bad peers, several
commands per connection, flow control."""

import shutil
import socket
import struct
import subprocess
import time

import pytest

import frame_client as fc
from exec_util import (  # noqa: F401  (fixtures)
    TOKEN, assert_gone, exec_home, exec_server, kill_marker, remote_pids, unique_marker,
)
from interop_util import is_closed_by_peer, recv_until_closed, wait_until


def error_of(sock, timeout=10):
    """Read frames until the connection closes; the last must be an ERROR:
    returns (code, message, frames before it)."""
    data, _how = recv_until_closed(sock, timeout=timeout)
    frames, i = [], 0
    while i + 5 <= len(data):
        ftype, length = struct.unpack("!BI", data[i:i + 5])
        frames.append((ftype, data[i + 5:i + 5 + length]))
        i += 5 + length
    assert i == len(data), f"trailing bytes after the frames: {data[i:]!r}"
    assert frames, "the server closed without an ERROR frame"
    ftype, payload = frames[-1]
    assert ftype == fc.ERROR, f"last frame is {ftype:#04x}, not ERROR: {frames}"
    code, message = fc.parse_error(payload)
    assert "\n" not in message.strip(), message
    return code, message, frames[:-1]


def authed(srv):
    s = srv.connect()
    fc.handshake(s, TOKEN)
    return s


def assert_still_serving(srv):
    with srv.session() as s:
        res = fc.run(s, ["echo", "alive"])
    assert res.stdout == b"alive\n"


# ------------------------------------------------------------------ the happy path

def test_hello_auth_run_pipelined_in_one_write(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(fc.encode(fc.HELLO, fc.hello_payload()) + fc.encode(fc.AUTH, TOKEN.encode())
                  + fc.encode(fc.RUN, fc.run_payload(["echo", "pipelined"])) + fc.encode(fc.STDIN))
        hello = fc.expect(s, fc.HELLO)
        assert hello == b"SOCKIT\x01exec"
        fc.expect(s, fc.AUTH_OK)
        res = fc.collect(s)
    assert (res.how, res.value, res.stdout, res.stderr) == (fc.EXITED, 0, b"pipelined\n", b"")


def test_everything_pipelined_including_stdin(exec_server):
    srv = exec_server()
    data = bytes(range(256)) * 100
    chunks = b"".join(fc.encode(fc.STDIN, data[i:i + 1000]) for i in range(0, len(data), 1000))
    with srv.connect() as s:
        s.sendall(fc.encode(fc.HELLO, fc.hello_payload()) + fc.encode(fc.AUTH, TOKEN.encode())
                  + fc.encode(fc.RUN, fc.run_payload(["cat"])) + chunks + fc.encode(fc.STDIN))
        fc.expect(s, fc.HELLO)
        fc.expect(s, fc.AUTH_OK)
        first = fc.collect(s)
        second = fc.run(s, "echo second")
    assert first.stdout == data and first.value == 0
    assert second.stdout == b"second\n"


def test_byte_at_a_time_delivery(exec_server):
    """Frames split at every byte (sticky packets, the other way round)."""
    srv = exec_server()
    msg = (fc.encode(fc.HELLO, fc.hello_payload()) + fc.encode(fc.AUTH, TOKEN.encode())
           + fc.encode(fc.RUN, fc.run_payload(["echo", "slow"])) + fc.encode(fc.STDIN))
    with srv.connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in msg:
            s.send(bytes([b]))
            time.sleep(0.002)
        fc.expect(s, fc.HELLO)
        fc.expect(s, fc.AUTH_OK)
        res = fc.collect(s)
    assert res.stdout == b"slow\n"


def test_higher_client_version_gets_version_1(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        assert fc.handshake(s, TOKEN, version=7) == 1
        assert fc.run(s, ["true"]).value == 0


def test_version_0_is_refused(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        fc.send_frame(s, fc.HELLO, fc.hello_payload(version=0))
        code, _, frames = error_of(s)
    assert fc.ERROR_NAMES[code] in ("unsupported_version", "malformed")
    assert frames == []


def test_two_commands_in_sequence_on_one_connection(exec_server):
    srv = exec_server()
    with srv.session() as s:
        r1 = fc.run(s, "echo one; exit 3")
        r2 = fc.run(s, ["cat"], stdin=b"two")
        r3 = fc.run(s, "no-such-command-qq")
    assert (r1.stdout, r1.value) == (b"one\n", 3)
    assert (r2.stdout, r2.value) == (b"two", 0)
    assert r3.value == 127
    assert srv.count("authenticated") == 1


def test_stdin_after_exit_is_ignored_and_next_run_works(exec_server):
    srv = exec_server()
    with srv.session() as s:
        res = fc.run(s, ["true"], eof=False)
        assert res.value == 0
        # late input for the finished command, with and without its EOF
        s.sendall(fc.encode(fc.STDIN, b"late input\n") * 5 + fc.encode(fc.STDIN))
        res = fc.run(s, ["cat"], stdin=b"fresh")
        assert (res.value, res.stdout) == (0, b"fresh")
        res = fc.run(s, "echo $((1+1))")
        assert res.stdout == b"2\n"


def test_stdin_frames_before_any_run_are_ignored(exec_server):
    srv = exec_server()
    with srv.session() as s:
        s.sendall(fc.encode(fc.STDIN, b"nobody\n") + fc.encode(fc.STDIN))
        res = fc.run(s, ["cat"], stdin=b"mine")
        assert res.stdout == b"mine"


def test_stdin_frame_of_the_maximum_size(exec_server):
    """Receivers take payloads up to 1 MiB even though senders keep to 64 KiB."""
    srv = exec_server()
    with srv.session() as s:
        s.sendall(fc.encode(fc.RUN, fc.run_payload("wc -c")) + fc.encode(fc.STDIN, b"z" * (1 << 20))
                  + fc.encode(fc.STDIN))
        res = fc.collect(s)
    assert res.stdout.strip() == b"1048576"


def test_command_line_form_and_argv_form(exec_server):
    srv = exec_server()
    with srv.session() as s:
        a = fc.run(s, ["printf", "%s,", "a", "b"], form=fc.ARGV)
        b = fc.run(s, "printf '%s|' 'a b' c", form=fc.COMMAND_LINE)
    assert a.stdout == b"a,b,"
    assert b.stdout == b"a b|c|"


def test_empty_arguments_allowed_in_argv(exec_server):
    srv = exec_server("--no-shell")
    with srv.session() as s:
        res = fc.run(s, ["printf", "[%s]", "", "x", ""])
    assert res.stdout == b"[][x][]"


def test_run_while_running_is_unexpected(exec_server):
    srv = exec_server()
    with authed(srv) as s:
        s.sendall(fc.encode(fc.RUN, fc.run_payload("sleep 5")) + fc.encode(fc.RUN, fc.run_payload("true")))
        code, _, frames = error_of(s)
    assert fc.ERROR_NAMES[code] == "unexpected"
    assert_still_serving(srv)


def test_signal_frame_with_a_bad_number_is_malformed(exec_server):
    srv = exec_server()
    with authed(srv) as s:
        s.sendall(fc.encode(fc.RUN, fc.run_payload("sleep 5")) + fc.encode(fc.SIGNAL, b"\x0b"))
        code, _, _ = error_of(s)
    assert fc.ERROR_NAMES[code] == "malformed"


def test_signal_without_a_command_is_harmless(exec_server):
    srv = exec_server()
    with srv.session() as s:
        fc.send_signal(s, 9)
        assert fc.run(s, ["echo", "ok"]).stdout == b"ok\n"


# ------------------------------------------------------------------ bad peers

def test_oversized_frame_header_before_auth(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(struct.pack("!BI", fc.HELLO, (1 << 20) + 1))
        code, _, frames = error_of(s)
    assert (code, fc.ERROR_NAMES[code]) == (2, "too_large")
    assert frames == []
    assert_still_serving(srv)


def test_oversized_frame_header_after_auth(exec_server):
    srv = exec_server()
    with authed(srv) as s:
        s.sendall(struct.pack("!BI", fc.STDIN, 0xFFFFFFFF))
        code, _, _ = error_of(s)
    assert fc.ERROR_NAMES[code] == "too_large"
    assert_still_serving(srv)


def test_oversized_auth_frame(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(fc.encode(fc.HELLO, fc.hello_payload()) + struct.pack("!BI", fc.AUTH, 50 << 20))
        code, _, frames = error_of(s)
    assert fc.ERROR_NAMES[code] == "too_large"


@pytest.mark.parametrize("cut", [1, 3, 5, 9])
def test_truncated_frame_then_close(exec_server, cut):
    srv = exec_server()
    whole = fc.encode(fc.HELLO, fc.hello_payload())
    with srv.connect() as s:
        s.sendall(whole[:cut])
    with authed(srv) as s:
        msg = fc.encode(fc.RUN, fc.run_payload("echo x"))
        s.sendall(msg[:cut])
    assert_still_serving(srv)
    assert srv.server.alive()


def test_truncated_frame_while_a_command_runs(exec_server):
    srv = exec_server()
    marker = unique_marker()
    try:
        with authed(srv) as s:
            s.sendall(fc.encode(fc.RUN, fc.run_payload(f"sleep {marker}")) + fc.encode(fc.STDIN, b"abc")[:6])
            assert wait_until(lambda: bool(remote_pids(marker)), 10)
        assert_gone(marker)
    finally:
        kill_marker(marker)
    assert_still_serving(srv)


def test_garbage_gets_one_plain_text_line(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(b"\xde\xad\xbe\xef" * 8)
        data, _ = recv_until_closed(s, timeout=10)
    text = data.decode("utf-8")  # plain text, not a frame
    assert text.endswith("\n") and text.count("\n") == 1, data
    assert "sockit" in text and "exec" in text
    assert_still_serving(srv)


def test_typed_text_gets_one_plain_text_line(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(b"ls\n")
        data, _ = recv_until_closed(s, timeout=10)
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    data.decode("utf-8")  # plain text
    assert b"sockit" in data


def test_nc_gets_one_plain_text_line(exec_server):
    nc = shutil.which("nc")
    assert nc, "nc (netcat-openbsd) comes from scripts/install-deps"
    srv = exec_server()
    r = subprocess.run(f"printf 'ls\\n' | {nc} -q 3 127.0.0.1 {srv.addr.port} || "
                       f"printf 'ls\\n' | {nc} 127.0.0.1 {srv.addr.port}", shell=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    out = r.stdout
    assert out.count(b"\n") == 1 and out.endswith(b"\n"), (r.stdout, r.stderr)
    assert b"sockit" in out


def test_auth_as_first_frame_is_not_frames(exec_server):
    """The first byte must be 0x01 (HELLO); anything else is answered in text."""
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(fc.encode(fc.AUTH, TOKEN.encode()))
        data, _ = recv_until_closed(s, timeout=10)
    assert data.endswith(b"\n") and data[:1] != b"\x02"
    assert srv.count("authenticated") == 0


def test_wrong_service_name(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        with pytest.raises(fc.FrameError) as e:
            fc.handshake(s, TOKEN, service="echo")
        assert (e.value.code, e.value.name) == (4, "wrong_service")
        assert is_closed_by_peer(s, 5)
    assert srv.count("authenticated") == 0


def test_hello_with_bad_magic_is_malformed(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        fc.send_frame(s, fc.HELLO, b"SOCKET\x01exec")
        code, _, frames = error_of(s)
    assert fc.ERROR_NAMES[code] == "malformed"
    assert frames == []


def test_run_before_auth(exec_server):
    srv = exec_server()
    with srv.connect() as s:
        s.sendall(fc.encode(fc.HELLO, fc.hello_payload()) + fc.encode(fc.RUN, fc.run_payload(["id"])))
        code, _, frames = error_of(s)
    assert fc.ERROR_NAMES[code] == "unexpected"
    assert [t for t, _ in frames] in ([], [fc.HELLO])
    assert srv.count("run") == 0


@pytest.mark.parametrize("payload", [b"", b"\x07echo", b"\x00", b"\x00\x00echo", b"\x01echo\x00x"],
                         ids=["empty", "bad-form", "no-program", "empty-program", "line-with-nul"])
def test_malformed_run(exec_server, payload):
    srv = exec_server()
    with authed(srv) as s:
        fc.send_frame(s, fc.RUN, payload)
        code, _, frames = error_of(s)
    assert fc.ERROR_NAMES[code] == "malformed"
    assert frames == []
    assert srv.count("run") == 0
    assert_still_serving(srv)


@pytest.mark.parametrize("ftype", [0x11, 0x14, 0x16, 0x30, 0x7F], ids=hex)
def test_unexpected_frame_type_after_auth(exec_server, ftype):
    srv = exec_server()
    with authed(srv) as s:
        fc.send_frame(s, ftype, b"x")
        code, _, _ = error_of(s)
    assert fc.ERROR_NAMES[code] in ("unexpected", "malformed")


@pytest.mark.parametrize("ftype", [0x00, 0x80, 0xFF], ids=hex)
def test_reserved_frame_type_is_malformed(exec_server, ftype):
    srv = exec_server()
    with authed(srv) as s:
        fc.send_frame(s, ftype, b"")
        code, _, _ = error_of(s)
    assert fc.ERROR_NAMES[code] == "malformed"


def test_error_frame_from_the_client_ends_the_session(exec_server):
    srv = exec_server()
    with authed(srv) as s:
        fc.send_frame(s, fc.ERROR, struct.pack("!H", 10) + b"client gives up")
        assert is_closed_by_peer(s, 5)
    assert_still_serving(srv)


def test_idle_connection_closed_with_error_timeout(exec_server):
    srv = exec_server("--idle-timeout", "1")
    with authed(srv) as s:
        t0 = time.monotonic()
        code, _, _ = error_of(s, timeout=10)
    assert fc.ERROR_NAMES[code] == "timeout"
    assert 0.8 <= time.monotonic() - t0 < 6


def test_busy_when_max_connections_reached(exec_server):
    srv = exec_server("--max-connections", "1")
    with authed(srv):
        with srv.connect() as s2:
            code, _, _ = error_of(s2)
        assert fc.ERROR_NAMES[code] == "busy"
    assert wait_until(lambda: _can_run(srv), 5)


def test_busy_when_max_per_ip_reached(exec_server):
    srv = exec_server("--max-per-ip", "2")
    with authed(srv), authed(srv):
        with srv.connect() as s3:
            code, _, _ = error_of(s3)
        assert fc.ERROR_NAMES[code] == "busy"
        r = srv.client("true")
        assert r.returncode == 255
        assert b"busy" in r.stderr


def _can_run(srv):
    try:
        assert_still_serving(srv)
        return True
    except (fc.FrameError, EOFError, OSError):
        return False


# ------------------------------------------------------------------ flow control

def test_client_that_stops_reading_does_not_stall_others(exec_server):
    srv = exec_server()
    marker = unique_marker()
    stalled = []
    try:
        for _ in range(3):
            s = authed(srv)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(fc.encode(fc.RUN, fc.run_payload(f"yes {marker}")) + fc.encode(fc.STDIN))
            stalled.append(s)
        time.sleep(1.0)  # buffers fill up; the commands block
        for i in range(5):
            t0 = time.monotonic()
            with srv.session() as s:
                res = fc.run(s, ["echo", f"other-{i}"])
            assert res.stdout == f"other-{i}\n".encode()
            assert time.monotonic() - t0 < 5
        r = srv.client("head -c 3000000 /dev/zero | wc -c")
        assert r.stdout.strip() == b"3000000"
        # the stalled ones are still intact: reading resumes the stream
        s = stalled[0]
        s.settimeout(10)
        ftype, payload = fc.recv_frame(s)
        while ftype not in (fc.STDOUT, fc.STDERR, fc.EXIT, fc.ERROR):  # a later protocol's frames
            ftype, payload = fc.recv_frame(s)
        assert ftype == fc.STDOUT and payload.startswith(marker.encode()[:len(payload)])
    finally:
        for s in stalled:
            s.close()
        assert_gone(marker)
        kill_marker(marker)


def test_unread_output_is_not_buffered_without_bound(exec_server):
    """docs/exec.md: a client that does not read makes the command wait,
    never the server buffer it: the server's memory stays flat."""
    srv = exec_server()
    with authed(srv) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(fc.encode(fc.RUN, fc.run_payload("head -c 2000000000 /dev/zero")))
        time.sleep(1.0)
        rss1 = _rss_kib(srv.pid)
        time.sleep(2.0)
        rss2 = _rss_kib(srv.pid)
        assert rss2 - rss1 < 64 * 1024, f"server RSS grew from {rss1} to {rss2} KiB with a stalled reader"


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
