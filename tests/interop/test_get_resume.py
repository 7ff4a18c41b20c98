"""sockit get when transfers break: a cut connection keeps its part and -c
resumes it with Range and If-Range; a changed file starts over; --retry
resumes by itself; stalls and --max-time end with 28; a wrong
Content-Length never makes a whole file; huge heads; --split and --parallel."""

import os
import socket
import time

import pytest

from get_util import Origin, get, ranged, response

DATA = os.urandom(3 * 1024 * 1024 + 123)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def cut_after(n, data=DATA, etag='"v1"'):
    """A route that sends the head and `n` bytes of the body, then closes."""
    def route(req, conn):
        whole = ranged(req, data, etag=etag)
        head, _, body = whole.partition(b"\r\n\r\n")
        conn.sendall(head + b"\r\n\r\n" + body[:n])
        return False
    return route


def test_a_cut_keeps_the_part_and_c_resumes_it(origin, tmp_path):
    out = tmp_path / "big.bin"
    origin.raw_routes["/big"] = cut_after(1_000_000)
    r = get("-o", str(out), origin.url("/big"))
    assert r.rc == 18, r
    part = tmp_path / ".big.bin.sockit-part"
    assert "-c" in r.err() and part.stat().st_size == 1_000_000 and not out.exists(), r
    del origin.raw_routes["/big"]
    origin.routes["/big"] = lambda req: ranged(req, DATA)
    r = get("-c", "-o", str(out), origin.url("/big"))
    assert r.rc == 0, r
    assert out.read_bytes() == DATA
    last = origin.requests[-1]
    assert last.header("range") == "bytes=1000000-" and last.header("if-range") == '"v1"', vars(last)
    assert os.listdir(tmp_path) == ["big.bin"]


def test_a_changed_file_starts_over(origin, tmp_path):
    out = tmp_path / "f"
    origin.raw_routes["/f"] = cut_after(500_000)
    assert get("-o", str(out), origin.url("/f")).rc == 18
    del origin.raw_routes["/f"]
    new = os.urandom(len(DATA))
    origin.routes["/f"] = lambda req: ranged(req, new, etag='"v2"')  # If-Range "v1" no longer matches: 200
    r = get("-c", "-o", str(out), origin.url("/f"))
    assert r.rc == 0 and out.read_bytes() == new, r


def test_c_continues_a_file_another_tool_left(origin, tmp_path):
    out = tmp_path / "f"
    out.write_bytes(DATA[:777])
    origin.routes["/f"] = lambda req: ranged(req, DATA)
    r = get("-c", "-o", str(out), origin.url("/f"))
    assert r.rc == 0 and out.read_bytes() == DATA, r
    assert origin.requests[-1].header("range") == "bytes=777-"
    r = get("-c", "-o", str(out), origin.url("/f"))
    assert r.rc == 0 and out.read_bytes() == DATA, "already complete: a 416 that agrees"


def test_retry_resumes_by_itself(origin, tmp_path):
    cuts = []

    def route(req, conn):
        if len(cuts) < 2:
            cuts.append(1)
            return cut_after(400_000 * len(cuts))(req, conn)
        conn.sendall(ranged(req, DATA))
        return True
    origin.raw_routes["/r"] = route
    out = tmp_path / "r"
    r = get("--retry", "3", "--retry-delay", "0.1", "-o", str(out), origin.url("/r"))
    assert r.rc == 0 and out.read_bytes() == DATA, r
    ranges = [q.header("range") for q in origin.requests]
    assert ranges == [None, "bytes=400000-", "bytes=1200000-"], ranges


def test_a_longer_content_length_than_sent_is_partial(origin, tmp_path):
    origin.routes["/lie"] = lambda req: (response(200, b"x" * 100, length=1000), False)
    out = tmp_path / "lie"
    r = get("-o", str(out), origin.url("/lie"))
    assert r.rc == 18 and "100 of 1000" in r.err(), r
    assert not out.exists()


def test_stall_and_max_time(origin):
    def silent(req, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(8)
        return False
    origin.raw_routes["/silent"] = silent
    start = time.monotonic()
    r = get("--stall-timeout", "1", origin.url("/silent"))
    assert r.rc == 28 and "nothing arrived" in r.err(), r
    assert time.monotonic() - start < 6
    start = time.monotonic()
    r = get("--max-time", "1", origin.url("/silent"))
    assert r.rc == 28 and "--max-time" in r.err(), r
    assert time.monotonic() - start < 6


def test_heads_up_to_the_limit(origin):
    big = [("X-Filler-%d" % i, "y" * 1000) for i in range(100)]  # ~100 KiB
    origin.routes["/big-head"] = lambda req: response(200, b"ok", big)
    r = get(origin.url("/big-head"))
    assert (r.rc, r.stdout) == (0, b"ok"), r
    huge = [("X-Filler-%d" % i, "y" * 1000) for i in range(1000)]  # ~1 MiB
    origin.routes["/huge-head"] = lambda req: response(200, b"ok", huge)
    r = get(origin.url("/huge-head"))
    assert r.rc == 56 and "larger than the limit" in r.err(), r


def test_split_fetches_ranges_at_once(origin, tmp_path):
    origin.routes["/s"] = lambda req: ranged(req, DATA)
    out = tmp_path / "s"
    r = get("--split", "3", "-o", str(out), origin.url("/s"))
    assert r.rc == 0 and out.read_bytes() == DATA, r
    ranges = sorted(q.header("range") or "" for q in origin.requests if q.method == "GET")
    assert len(ranges) == 3 and all(x.startswith("bytes=") for x in ranges), ranges
    assert origin.connections >= 3


def test_split_falls_back_to_one_stream_without_ranges(origin, tmp_path):
    origin.routes["/s"] = lambda req: ranged(req, DATA, ranges=False)
    out = tmp_path / "s"
    r = get("--split", "4", "-o", str(out), origin.url("/s"))
    assert r.rc == 0 and out.read_bytes() == DATA, r
    gets = [q for q in origin.requests if q.method == "GET"]
    assert len(gets) == 1 and gets[0].header("range") is None


def test_parallel_downloads(origin, tmp_path):
    files = {f"/f{i}": os.urandom(200_000 + i) for i in range(8)}
    for path, data in files.items():
        origin.routes[path] = (lambda d: lambda req: response(200, d))(data)
    r = get("--parallel", "4", "-O", *[origin.url(p) for p in files], cwd=tmp_path)
    assert r.rc == 0, r
    for path, data in files.items():
        assert (tmp_path / path[1:]).read_bytes() == data
    assert origin.connections <= 4
