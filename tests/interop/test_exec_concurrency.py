"""sockit exec under concurrent load: 50 clients at once, each with its own
output; the server stays responsive while they run."""

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import frame_client as fc
from exec_util import exec_home, exec_server, finish, server_children  # noqa: F401  (fixtures)


def test_50_concurrent_clients(exec_server):
    srv = exec_server("--max-per-ip", "100")
    n = 50
    procs = [srv.popen(f"sleep 1; echo value-{i}-$(({i}*{i}+7))") for i in range(n)]
    # while they all sleep, the server answers a quick command at once
    t0 = time.monotonic()
    with srv.session() as s:
        res = fc.run(s, ["echo", "responsive"])
    assert res.stdout == b"responsive\n"
    quick = time.monotonic() - t0
    results = [finish(p, timeout=60) for p in procs]
    for i, (p, (out, err)) in enumerate(zip(procs, results)):
        assert p.returncode == 0, (i, err)
        assert out == f"value-{i}-{i * i + 7}\n".encode(), (i, out, err)
    assert quick < 5, f"a quick command took {quick:.2f}s while {n} others ran"
    assert srv.count("authenticated") == n + 1
    assert srv.server.alive()


def test_50_concurrent_frame_sessions_with_stdin(exec_server):
    """Each session pushes its own data through `sha256sum`; no mix-ups."""
    srv = exec_server("--max-per-ip", "100")
    blobs = [os.urandom(100_000 + i) for i in range(50)]

    def one(i):
        with srv.session(timeout=60) as s:
            res = fc.run(s, "sleep 0.2; sha256sum", stdin=blobs[i])
            again = fc.run(s, ["echo", str(i)])
        return res, again

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    for i, (res, again) in enumerate(results):
        assert (res.how, res.value) == (fc.EXITED, 0), res
        assert res.stdout.split()[0].decode() == hashlib.sha256(blobs[i]).hexdigest()
        assert again.stdout == f"{i}\n".encode()
    assert time.monotonic() - t0 < 45


def test_concurrent_output_heavy_commands(exec_server):
    srv = exec_server("--max-per-ip", "100")
    size = 4 * 1024 * 1024

    def one(i):
        with srv.session(timeout=60) as s:
            return fc.run(s, f"head -c {size} /dev/zero | tr '\\0' '{chr(ord('a') + i)}'")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(10)))
    for i, res in enumerate(results):
        assert res.value == 0
        assert len(res.stdout) == size
        assert res.stdout == chr(ord("a") + i).encode() * size


def test_many_short_connections_in_a_row(exec_server):
    srv = exec_server()
    t0 = time.monotonic()
    for i in range(40):
        with srv.session() as s:
            assert fc.run(s, ["echo", str(i)]).stdout == f"{i}\n".encode()
    assert time.monotonic() - t0 < 40
    # every command was reaped: no zombies left under the server
    children = server_children(srv.pid)
    assert children == [], children


def test_one_slow_client_does_not_delay_a_fast_one(exec_server):
    srv = exec_server()
    slow = srv.popen("sleep 5; echo slow")
    try:
        time.sleep(0.3)
        t0 = time.monotonic()
        r = srv.client("echo", "fast")
        assert r.stdout == b"fast\n"
        assert time.monotonic() - t0 < 3
        out, err = finish(slow, timeout=30)
        assert out == b"slow\n"
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()
