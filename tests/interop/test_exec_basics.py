"""sockit exec: output byte for byte (100 MiB with SHA-256, binary, both
streams), exit statuses, the shell, --dir, Unix sockets."""

import hashlib
import os
import select
import socket
import subprocess
import time

import pytest

import frame_client
from exec_util import (  # noqa: F401  (fixtures)
    exec_home, exec_server, run_client, sha256_file, write_random_file,
)
from interop_util import assert_one_line_error


# ------------------------------------------------------------------ output

def test_100_mib_of_output_with_sha256(exec_server, exec_home):
    srv = exec_server()
    size = 100 * 1024 * 1024
    src = write_random_file(exec_home.path("big.bin"), size)
    dst = exec_home.path("big.out")
    with open(dst, "wb") as out:
        r = srv.client("cat", src, stdout=out, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    assert os.path.getsize(dst) == size
    assert sha256_file(dst) == sha256_file(src)


def test_100_mib_generated_remotely_hash_computed_remotely(exec_server, exec_home):
    """The remote side hashes what it writes (tee to sha256sum on stderr); the
    client's stdout must hash the same."""
    srv = exec_server()
    # tee writes the data to fd 3 (the command's stdout) and a copy to sha256sum
    cmd = ("head -c 104857600 /dev/urandom | { tee /dev/fd/3 | sha256sum >&2; } 3>&1",)
    proc = srv.popen(*cmd)
    h, n = hashlib.sha256(), 0
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, err
    assert n == 100 * 1024 * 1024
    assert err.decode().split()[0] == h.hexdigest()


def test_binary_output_all_byte_values(exec_server, exec_home):
    srv = exec_server()
    data = bytes(range(256)) * 300 + bytes(reversed(range(256)))
    f = exec_home.write("bytes.bin", data)
    r = srv.client("cat", f)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data
    # the same on stderr
    r = srv.client(f"cat {f} >&2")
    assert r.returncode == 0
    assert r.stdout == b""
    assert r.stderr == data


def test_binary_output_through_frames(exec_server, exec_home):
    srv = exec_server()
    data = bytes(range(256))
    f = exec_home.write("bytes.bin", data)
    with srv.session() as s:
        res = frame_client.run(s, ["cat", f])
    assert (res.how, res.value) == (frame_client.EXITED, 0)
    assert res.stdout == data
    for ftype, payload in res.frames:
        assert len(payload) <= frame_client.DATA_FRAME_MAX


def test_stdout_and_stderr_kept_apart(exec_server):
    srv = exec_server()
    n = 3000
    r = srv.client(f"i=0; while [ $i -lt {n} ]; do i=$((i+1)); echo out$i; echo err$i >&2; done")
    assert r.returncode == 0
    assert r.stdout == b"".join(b"out%d\n" % i for i in range(1, n + 1))
    assert r.stderr == b"".join(b"err%d\n" % i for i in range(1, n + 1))


def test_output_is_forwarded_as_produced_and_in_order(exec_server):
    """Frames come as the command writes, in the order written across streams."""
    srv = exec_server()
    with srv.session() as s:
        res = frame_client.run(s, "echo one; sleep 0.4; echo two >&2; sleep 0.4; echo three")
    assert (res.how, res.value) == (frame_client.EXITED, 0)
    data = [(t, p) for t, p in res.frames if t in (frame_client.STDOUT, frame_client.STDERR)]
    assert data == [(frame_client.STDOUT, b"one\n"), (frame_client.STDERR, b"two\n"),
                    (frame_client.STDOUT, b"three\n")]


def test_first_output_arrives_before_the_command_ends(exec_server):
    srv = exec_server()
    proc = srv.popen("echo first; sleep 4; echo second")
    try:
        t0 = time.monotonic()
        r, _, _ = select.select([proc.stdout], [], [], 3)
        assert r, "no output within 3 s from a command that printed at once"
        assert proc.stdout.readline() == b"first\n"
        assert time.monotonic() - t0 < 3
        out, err = proc.communicate(timeout=20)
        assert out == b"second\n"
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ exit status

@pytest.mark.parametrize("code", [0, 1, 2, 42, 255])
def test_exit_code(exec_server, code):
    srv = exec_server()
    r = srv.client(f"echo x; exit {code}")
    assert r.returncode == code, r.stderr
    assert r.stdout == b"x\n"


def test_command_not_found_is_127(exec_server):
    srv = exec_server()
    r = srv.client("no-such-command-xyz")
    assert r.returncode == 127
    assert b"no-such-command-xyz" in r.stderr and b"not found" in r.stderr


@pytest.mark.parametrize("sig", [9, 15, 2, 11])
def test_death_by_signal_is_128_plus_n(exec_server, sig):
    srv = exec_server()
    r = srv.client(f"echo before; kill -{sig} $$; echo after")
    assert r.returncode == 128 + sig, r.stderr
    assert r.stdout == b"before\n"
    # the command killed itself: not a kill by the server, no "killed:" reason
    assert b"remote command killed" not in r.stderr


# ------------------------------------------------------------------ shell, dir, unix

def test_argument_vector_joined_with_spaces_through_the_shell(exec_server):
    """As ssh does: the arguments are joined with spaces and given to sh -c."""
    srv = exec_server()
    r = srv.client("echo", "a", "b  c", "$((6*7))")
    assert r.returncode == 0
    assert r.stdout == b"a b c 42\n"


def test_dir_sets_the_working_directory(exec_server, exec_home):
    d = exec_home.path("workdir")
    os.makedirs(d)
    srv = exec_server("--dir", d)
    r = srv.client("pwd")
    assert r.returncode == 0
    assert r.stdout.decode().strip() == os.path.realpath(d)


def test_unix_socket_listener(exec_server, exec_home):
    path = exec_home.path("exec.sock")
    srv = exec_server("--listen", f"unix:{path}")
    assert srv.addr.kind == "unix" and srv.addr.path == path
    r = srv.client("echo", "over-unix", input=b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"over-unix\n"
    data = os.urandom(1024 * 1024)
    r = srv.client("cat", input=data)
    assert r.stdout == data
    with srv.session() as s:
        res = frame_client.run(s, "exit 5")
    assert (res.how, res.value) == (frame_client.EXITED, 5)


def test_tcp_and_unix_listeners_together(exec_server, exec_home):
    path = exec_home.path("both.sock")
    srv = exec_server("--listen", "127.0.0.1:0", "--listen", f"unix:{path}")
    kinds = sorted(a.kind for a in srv.server.addresses)
    assert kinds == ["tcp", "unix"]
    for a in srv.server.addresses:
        address = f"unix:{a.path}" if a.kind == "unix" else a.hostport
        r = run_client(exec_home, address, "echo", a.kind)
        assert r.returncode == 0, r.stderr
        assert r.stdout == a.kind.encode() + b"\n"


# ------------------------------------------------------------------ client usage, connection failures

def test_client_usage_errors_exit_2(exec_home):
    for args in ([], ["--no-such-option", "127.0.0.1:1", "--", "true"], ["--connect-timeout", "-1", "127.0.0.1:1"]):
        r = subprocess.run([os.environ["SOCKIT_BIN"], "exec", *args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=exec_home.client_env(), timeout=20)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stdout == b"" or b"Usage" in r.stdout
        assert r.stderr.strip(), args


def test_client_connection_refused_is_255(exec_home):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    holder.close()  # nothing listens there now
    t0 = time.monotonic()
    r = run_client(exec_home, f"127.0.0.1:{port}", "true", timeout=20)
    assert r.returncode == 255
    assert_one_line_error(r.stderr, must_contain=(str(port),))
    assert time.monotonic() - t0 < 10
    r = run_client(exec_home, f"unix:{exec_home.path('nobody.sock')}", "true", timeout=20)
    assert r.returncode == 255
    assert_one_line_error(r.stderr, must_contain=("nobody.sock",))


def test_client_connect_timeout(exec_home):
    """A listener that never accepts (backlog full): --connect-timeout bounds the wait."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(0)
    port = holder.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue; further SYNs are dropped
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        time.sleep(0.2)
        t0 = time.monotonic()
        r = run_client(exec_home, f"127.0.0.1:{port}", "true", opts=["--connect-timeout", "1"], timeout=30)
        elapsed = time.monotonic() - t0
        assert r.returncode == 255, r.stderr
        assert_one_line_error(r.stderr)
        assert elapsed < 8, f"--connect-timeout 1 took {elapsed:.1f}s"
    finally:
        for f in fillers:
            f.close()
        holder.close()
