"""--raw: plain bytes to and from netcat (OpenBSD nc), both directions and
both roles (sockit listening or connecting). The receiver still writes to a
part name and renames at a clean end of stream."""

import os
import subprocess

import pytest

from transfer_util import (  # noqa: F401  (kit is a fixture)
    MIB, big_file, free_port, kit, names, parse_summary, same_content, wait_listening,
)

def nc(*args, stdin=None, stdout=subprocess.PIPE, timeout=60):
    return subprocess.run(["nc", *args], stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)


def nc_popen(*args, stdin=None, stdout=None):
    return subprocess.Popen(["nc", *args], stdin=stdin if stdin is not None else subprocess.DEVNULL,
                            stdout=stdout if stdout is not None else subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def finish(proc, timeout=60):
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"nc still running {timeout}s later: {proc.stderr.read()!r}")
    return proc.returncode


@pytest.mark.parametrize("size", [0, 1, 20 * MIB], ids=["0B", "1B", "20MiB"])
def test_recv_raw_takes_bytes_from_nc(kit, size):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src.bin"), size)
    out = os.path.join(shm, "in", "got.bin")
    rx = kit.listen("recv", "--raw", out)
    with open(src, "rb") as f:
        r = nc("-N", "127.0.0.1", str(rx.port), stdin=f)
    assert r.returncode == 0, r.stderr
    got = rx.wait()
    assert got.rc == 0, got
    s = parse_summary(got.summary())
    assert s["files"] == 1, got
    assert names(os.path.join(shm, "in")) == {"got.bin"}, "no part name may stay"
    assert same_content(src, out)


def test_send_raw_writes_bytes_to_nc_listening(kit):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src.bin"), 20 * MIB + 3)
    out = os.path.join(shm, "out.bin")
    port = free_port()
    with open(out, "wb") as f:
        listener = nc_popen("-l", "127.0.0.1", str(port), stdout=f)
    try:
        assert wait_listening(port), "nc -l never listened"
        sent = kit.send(f"127.0.0.1:{port}", src, opts=["--raw"])
        assert sent.rc == 0, sent
        assert finish(listener) == 0
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert parse_summary(sent.summary())["files"] == 1, sent
    assert same_content(src, out)


def test_send_raw_listening_to_nc_connecting(kit):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src.bin"), 5 * MIB + 1)
    out = os.path.join(shm, "out.bin")
    tx = kit.send_listen(src, opts=["--raw"])
    with open(out, "wb") as f:
        r = nc("127.0.0.1", str(tx.port), stdout=f)
    assert r.returncode == 0, r.stderr
    sent = tx.wait()
    assert sent.rc == 0, sent
    assert same_content(src, out)


def test_recv_raw_connecting_to_nc_listening(kit):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src.bin"), 5 * MIB + 1)
    out = os.path.join(shm, "in", "got.bin")
    port = free_port()
    with open(src, "rb") as f:
        listener = nc_popen("-N", "-l", "127.0.0.1", str(port), stdin=f)
    try:
        assert wait_listening(port), "nc -l never listened"
        got = kit.run("recv", "--raw", out, f"127.0.0.1:{port}")
        assert got.rc == 0, got
        assert finish(listener) == 0
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert names(os.path.join(shm, "in")) == {"got.bin"}
    assert same_content(src, out)


def test_recv_raw_does_not_replace_a_file_without_overwrite(kit):
    out = kit.file("in/got.bin", b"precious\n")
    st = os.stat(out)
    rx = kit.listen("recv", "--raw", out)
    p = subprocess.run(["nc", "-N", "127.0.0.1", str(rx.port)], input=b"intruder\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr
    got = rx.wait()
    assert got.rc == 255, got
    assert any("exists" in l for l in got.lines()), got
    with open(out, "rb") as f:
        assert f.read() == b"precious\n"
    assert os.stat(out).st_ino == st.st_ino
    assert names(kit.path("in")) == {"got.bin"}, "the part is removed"


def test_recv_raw_overwrite_replaces_it(kit):
    out = kit.file("in/got.bin", b"old\n")
    rx = kit.listen("recv", "--raw", out, "--overwrite")
    p = subprocess.run(["nc", "-N", "127.0.0.1", str(rx.port)], input=b"new contents\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr
    got = rx.wait()
    assert got.rc == 0, got
    with open(out, "rb") as f:
        assert f.read() == b"new contents\n"
    assert names(kit.path("in")) == {"got.bin"}


def test_send_raw_takes_exactly_one_file(kit):
    a, b = kit.file("a", b"a"), kit.file("b", b"b")
    done = kit.send("127.0.0.1:9", a, b, opts=["--raw"], timeout=30)
    assert done.rc == 2, done
    assert any("one file" in l for l in done.lines()), done
