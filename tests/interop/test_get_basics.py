"""sockit get against an origin whose every byte the test decides: bodies
by length, chunked and until the close; redirects and their method rules;
error statuses that leave no file; keep-alive; compression; -I -i -v --raw;
credentials; POST; custom headers."""

import os
import time

import pytest

from get_util import Origin, get, gzipped, ranged, response


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def test_a_page_to_stdout_and_to_files(origin, tmp_path):
    origin.routes["/a.txt"] = lambda req: response(200, b"hello\n")
    origin.routes["/"] = lambda req: response(200, b"<html>index</html>\n")
    r = get(origin.url("/a.txt"))
    assert (r.rc, r.stdout) == (0, b"hello\n"), r
    assert r.stderr == b"", r
    r = get("-o", str(tmp_path / "out.txt"), origin.url("/a.txt"))
    assert r.rc == 0 and (tmp_path / "out.txt").read_bytes() == b"hello\n", r
    r = get("-O", origin.url("/a.txt"), origin.url("/"), cwd=tmp_path)
    assert r.rc == 0, r
    assert (tmp_path / "a.txt").read_bytes() == b"hello\n"
    assert (tmp_path / "index.html").read_bytes() == b"<html>index</html>\n"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "index.html", "out.txt"], "no part file stays"


def test_chunked_and_close_delimited_bodies(origin):
    body = os.urandom(100_000)
    origin.routes["/chunked"] = lambda req: response(200, body, chunked=True)
    origin.routes["/close"] = lambda req: (b"HTTP/1.0 200 OK\r\n\r\n" + body, False)
    for path in ("/chunked", "/close"):
        r = get(origin.url(path))
        assert r.rc == 0 and r.stdout == body, (path, r)


def test_keep_alive_carries_several_urls_on_one_connection(origin):
    origin.routes["/n"] = lambda req: response(200, req.target.encode() + b"\n")
    urls = [origin.url(f"/n?{i}") for i in range(5)]
    r = get(*urls)
    assert r.rc == 0, r
    assert r.stdout == b"".join(f"/n?{i}\n".encode() for i in range(5))
    assert origin.connections == 1, f"{origin.connections} connections for 5 URLs on one host"


def test_redirects_follow_the_method_rules(origin):
    origin.routes["/start"] = lambda req: response(301, b"", [("Location", "/second")])
    origin.routes["/second"] = lambda req: response(302, b"moved", [("Location", origin.url("/third"))])
    origin.routes["/third"] = lambda req: response(307, b"", [("Location", "final?x=1")])
    origin.routes["/final"] = lambda req: response(200, f"{req.method} {req.target} {req.body!r}".encode())
    r = get(origin.url("/start"))
    assert (r.rc, r.stdout) == (0, b"GET /final?x=1 b''"), r
    # POST: 301 turns it into GET; 307 keeps POST and its body.
    origin.routes["/keep"] = lambda req: response(307, b"", [("Location", "/final")])
    r = get("-d", "a=1", origin.url("/keep"))
    assert (r.rc, r.stdout) == (0, b"POST /final b'a=1'"), r
    r = get("-d", "a=1", origin.url("/start"))
    assert r.stdout.startswith(b"GET /final"), r
    # 303 turns a PUT into a GET.
    origin.routes["/see"] = lambda req: response(303, b"", [("Location", "/final")])
    r = get("-X", "PUT", "-d", "x", origin.url("/see"))
    assert r.stdout.startswith(b"GET /final"), r


def test_redirect_loops_and_limits(origin):
    origin.routes["/a"] = lambda req: response(302, b"", [("Location", "/b")])
    origin.routes["/b"] = lambda req: response(302, b"", [("Location", "/a")])
    r = get(origin.url("/a"))
    assert r.rc == 47 and "loop" in r.err(), r
    for i in range(5):
        origin.routes[f"/c{i}"] = (lambda i: lambda req: response(301, b"", [("Location", f"/c{i + 1}")]))(i)
    origin.routes["/c5"] = lambda req: response(200, b"end")
    assert get(origin.url("/c0")).stdout == b"end"
    r = get("--max-redirs", "2", origin.url("/c0"))
    assert r.rc == 47 and "more than 2 redirects" in r.err(), r
    r = get("--max-redirs", "0", origin.url("/c0"))
    assert r.rc == 0 and r.stdout == b"", "with redirects off the 301 is the answer"


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_exits_22_and_leaves_no_file(origin, tmp_path, status):
    origin.routes["/x"] = lambda req: response(status, b"error page\n")
    out = tmp_path / "x"
    r = get("-o", str(out), origin.url("/x"))
    assert r.rc == 22, r
    assert f"{status}" in r.err() and r.err().count("\n") == 1, r
    assert os.listdir(tmp_path) == [], "no file, no part file"
    r = get(origin.url("/x"))
    assert (r.rc, r.stdout) == (22, b""), r
    r = get("--keep-error-body", "-o", str(out), origin.url("/x"))
    assert r.rc == 22 and out.read_bytes() == b"error page\n", r


def test_retry_on_503_then_success(origin):
    calls = []

    def flaky(req):
        calls.append(1)
        return response(503, b"busy") if len(calls) < 3 else response(200, b"at last\n")
    origin.routes["/flaky"] = flaky
    r = get("--retry", "1", "--retry-delay", "0.1", origin.url("/flaky"))
    assert r.rc == 22 and len(calls) == 2, r
    calls.clear()
    r = get("--retry", "3", "--retry-delay", "0.1", origin.url("/flaky"))
    assert (r.rc, r.stdout) == (0, b"at last\n"), r
    assert r.err().count("retrying") == 2, r


def test_compressed_bodies(origin):
    text = b"".join(b"line %d\n" % i for i in range(20000))

    def maybe_gzip(req):
        if "gzip" in req.header("accept-encoding", ""):
            return response(200, gzipped(text), [("Content-Encoding", "gzip")])
        return response(200, text)
    origin.routes["/text"] = maybe_gzip
    origin.routes["/always"] = lambda req: response(200, gzipped(text), [("Content-Encoding", "gzip")])
    origin.routes["/broken"] = lambda req: response(200, gzipped(text)[:-100] + b"x" * 100,
                                                    [("Content-Encoding", "gzip")])
    origin.routes["/br"] = lambda req: response(200, b"???", [("Content-Encoding", "br")])
    r = get("--compressed", origin.url("/text"))
    assert (r.rc, r.stdout) == (0, text), r
    assert get(origin.url("/text")).stdout == text
    assert get(origin.url("/always")).stdout == gzipped(text), "not asked: saved as sent"
    r = get("--compressed", origin.url("/broken"))
    assert r.rc == 61, r
    assert get("--compressed", origin.url("/br")).rc == 61


def test_head_include_verbose_and_raw(origin):
    origin.routes["/p"] = lambda req: response(200, b"body\n", [("X-Test", "yes")], chunked=True)
    r = get("-I", origin.url("/p"))
    assert r.rc == 0 and r.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and b"X-Test: yes\r\n" in r.stdout, r
    assert r.stdout.endswith(b"\r\n\r\n") and b"body" not in r.stdout, r
    assert origin.requests[-1].method == "HEAD"
    r = get("-i", origin.url("/p"))
    assert r.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and r.stdout.endswith(b"\r\n\r\nbody\n"), r
    r = get("-v", origin.url("/p"))
    assert r.stdout == b"body\n"
    assert "> GET /p HTTP/1.1" in r.err() and "< HTTP/1.1 200 OK" in r.err() and "< X-Test: yes" in r.err(), r
    r = get("--raw", origin.url("/p"))
    assert r.stdout == response(200, b"body\n", [("X-Test", "yes")], chunked=True), r


def test_credentials_and_headers(origin):
    other = Origin()
    try:
        origin.routes["/who"] = lambda req: response(200, (req.header("authorization") or "-").encode())
        origin.routes["/away"] = lambda req: response(302, b"", [("Location", other.url("/who"))])
        other.routes["/who"] = lambda req: response(200, (req.header("authorization") or "-").encode())
        r = get("-u", "ann:s3cret", origin.url("/who"))
        assert r.stdout == b"Basic YW5uOnMzY3JldA==", r
        r = get("-u", "ann:s3cret", origin.url("/away"))
        assert r.stdout == b"-", "credentials must not follow a redirect to another origin"
        r = get(origin.url("/who").replace("http://", "http://bob:pw@"))
        assert r.stdout == b"Basic Ym9iOnB3", r
    finally:
        other.close()
    origin.routes["/h"] = lambda req: response(200, f"{req.header('x-one')}|{req.header('user-agent')}".encode())
    r = get("-H", "X-One: 1", "-H", "User-Agent: mine/2", origin.url("/h"))
    assert r.stdout == b"1|mine/2", r
    r = get("-H", "X-Bad: a\r\nX-Smuggled: 1", origin.url("/h"))
    assert r.rc == 2 and origin.requests[-1].header("x-smuggled") is None, r


def test_content_disposition_names_the_file_only_with_J(origin, tmp_path):
    origin.routes["/dl"] = lambda req: response(200, b"report", [
        ("Content-Disposition", 'attachment; filename="../../evil.txt"')])
    r = get("-O", "-J", origin.url("/dl"), cwd=tmp_path)
    assert r.rc == 0, r
    assert os.listdir(tmp_path) == ["evil.txt"], "the name, never its path"
    r = get("-O", origin.url("/dl"), cwd=tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["dl", "evil.txt"]


def test_bad_urls_and_unreachable_servers(origin):
    r = get("http://127.0.0.1:99999/")
    assert r.rc == 3 and "port" in r.err(), r
    r = get("gopher://127.0.0.1/")
    assert r.rc == 1 and "gopher" in r.err(), r
    port = origin.port
    origin.close()
    r = get(f"http://127.0.0.1:{port}/")
    assert r.rc == 7 and "refused" in r.err(), r


def test_a_terminal_shows_the_bar_with_rate_and_eta(origin, tmp_path):
    from test_progress_tty import run_on_pty
    data = os.urandom(8 * 1024 * 1024)

    def slow(req, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data))
        for i in range(0, len(data), 256 * 1024):
            conn.sendall(data[i:i + 256 * 1024])
            time.sleep(0.02)
        return True
    origin.raw_routes["/slow.bin"] = slow
    out = tmp_path / "slow.bin"
    status, shown = run_on_pty([os.environ["SOCKIT_BIN"], "get", "-o", str(out), origin.url("/slow.bin")])
    assert status == 0, shown
    assert out.read_bytes() == data
    assert "\r" in shown and "slow.bin" in shown and "%" in shown and "/s" in shown and "ETA" in shown, shown
    status, shown = run_on_pty([os.environ["SOCKIT_BIN"], "get", "-q", "-o", str(out), origin.url("/slow.bin")])
    assert (status, shown) == (0, ""), shown
