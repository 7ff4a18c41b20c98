"""sockit exec: stdin streamed to the command, end of input included; -n."""

import hashlib
import os
import subprocess
import time

from exec_util import exec_home, exec_server  # noqa: F401  (fixtures)


# ------------------------------------------------------------------ stdin

def test_stdin_cat_round_trip(exec_server):
    srv = exec_server()
    data = os.urandom(5 * 1024 * 1024 + 7)
    r = srv.client("cat", input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


def test_stdin_eof_reaches_the_command(exec_server):
    srv = exec_server()
    r = srv.client("wc -c; echo after-eof", input=b"x" * 100_001)
    assert r.returncode == 0
    assert r.stdout.split() == [b"100001", b"after-eof"]
    r = srv.client("cat; echo done", input=b"")
    assert r.returncode == 0
    assert r.stdout == b"done\n"


def test_stdin_from_a_regular_file(exec_server, exec_home):
    srv = exec_server()
    data = os.urandom(300_000)
    f = exec_home.write("in.bin", data)
    with open(f, "rb") as fin:
        r = srv.client("sha256sum", stdin=fin)
    assert r.returncode == 0
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_tar_pipe_copies_a_tree(exec_server, exec_home):
    srv = exec_server()
    src = exec_home.path("src-tree")
    os.makedirs(os.path.join(src, "sub", "deeper"))
    files = {
        "a.txt": b"hello\n",
        "empty": b"",
        "sub/b.bin": os.urandom(2 * 1024 * 1024),
        "sub/deeper/c": bytes(range(256)) * 10,
    }
    for name, data in files.items():
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    os.chmod(os.path.join(src, "a.txt"), 0o751)
    dst = exec_home.path("dst-tree")
    os.makedirs(dst)
    tar = subprocess.Popen(["tar", "c", "-C", src, "."], stdout=subprocess.PIPE)
    r = srv.client("tar", "x", "-C", dst, stdin=tar.stdout)
    tar.stdout.close()
    assert tar.wait(timeout=30) == 0
    assert r.returncode == 0, r.stderr
    for name, data in files.items():
        with open(os.path.join(dst, name), "rb") as f:
            assert f.read() == data, name
    assert os.stat(os.path.join(dst, "a.txt")).st_mode & 0o777 == 0o751
    got = sorted(os.path.relpath(os.path.join(d, f), dst) for d, _, fs in os.walk(dst) for f in fs)
    assert got == sorted(files)


def test_dash_n_gives_the_command_eof_at_once(exec_server):
    """-n: stdin is not read; the command gets end of input at once."""
    srv = exec_server()
    t0 = time.monotonic()
    r = srv.client("cat; echo done", opts=["-n"], input=b"must not be read\n", timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"done\n"
    assert time.monotonic() - t0 < 8


def test_dash_n_leaves_stdin_unread(exec_server, exec_home):
    srv = exec_server()
    rfd, wfd = os.pipe()
    os.write(wfd, b"keep me")
    try:
        with os.fdopen(rfd, "rb") as fin:
            r = srv.client("echo ran", opts=["-n"], stdin=fin, timeout=20)
            assert r.returncode == 0, r.stderr
            assert r.stdout == b"ran\n"
            os.close(wfd)
            wfd = None
            assert fin.read() == b"keep me"
    finally:
        if wfd is not None:
            os.close(wfd)


def test_command_that_ignores_stdin(exec_server):
    """Input the command never reads does not keep it (or the client) alive."""
    srv = exec_server()
    r = srv.client("echo ok", input=os.urandom(3 * 1024 * 1024), timeout=30)
    assert r.returncode == 0
    assert r.stdout == b"ok\n"


def test_command_that_exits_later_without_reading_stdin(exec_server):
    srv = exec_server()
    r = srv.client("sleep 1; echo ok", input=os.urandom(6 * 1024 * 1024), timeout=30)
    assert r.returncode == 0
    assert r.stdout == b"ok\n"


def test_command_reading_part_of_stdin(exec_server):
    srv = exec_server()
    data = os.urandom(4 * 1024 * 1024)
    r = srv.client("head -c 1000 | wc -c", input=data, timeout=30)
    assert r.returncode == 0
    assert r.stdout.strip() == b"1000"
