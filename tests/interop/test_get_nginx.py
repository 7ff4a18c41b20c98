"""sockit get against nginx (started by the test on loopback ports): https
with a CA the test makes, a certificate that does not match or is not
trusted, a redirect chain from http to https, gzip, a Unix socket, byte
ranges, --split against a rate-limited location, and both kinds of proxy."""

import os
import time

import pytest

from get_util import Nginx, TunnelProxy, get


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    big = os.urandom(8 * 1024 * 1024 + 5)
    (root / "big.bin").write_bytes(big)
    (root / "page.txt").write_bytes(b"".join(b"the page, line %d\n" % i for i in range(5000)))
    nginx = Nginx(str(tmp_path_factory.mktemp("nginx")), str(root))
    yield nginx, root, big
    nginx.stop()


def test_https_with_the_ca_and_without(site):
    nginx, root, _ = site
    page = (root / "page.txt").read_bytes()
    r = get("--cacert", nginx.ca, nginx.url("/page.txt", tls=True, host="localhost"))
    assert (r.rc, r.stdout) == (0, page), r
    r = get(nginx.url("/page.txt", tls=True, host="localhost"))
    assert r.rc == 60 and "certificate" in r.err(), r
    r = get("-k", nginx.url("/page.txt", tls=True, host="localhost"))
    assert (r.rc, r.stdout) == (0, page), r


def test_a_certificate_for_another_name_is_refused(site):
    nginx, _, _ = site
    # The certificate names localhost, not 127.0.0.1.
    r = get("--cacert", nginx.ca, nginx.url("/page.txt", tls=True, host="127.0.0.1"))
    assert r.rc == 60, r
    assert r.stdout == b""


def test_a_redirect_chain_from_http_to_https(site):
    nginx, root, _ = site
    r = get("--cacert", nginx.ca, nginx.url("/hop1", host="localhost"))
    assert (r.rc, r.stdout) == (0, (root / "page.txt").read_bytes()), r


def test_gzip_from_nginx(site):
    nginx, root, _ = site
    page = (root / "page.txt").read_bytes()
    r = get("--compressed", "-v", nginx.url("/page.txt"))
    assert r.rc == 0 and r.stdout == page, r
    assert "< Content-Encoding: gzip" in r.err(), r


def test_unix_socket(site):
    nginx, root, _ = site
    r = get("--unix-socket", nginx.unix, "http://localhost/page.txt")
    assert (r.rc, r.stdout) == (0, (root / "page.txt").read_bytes()), r


def test_resume_against_nginx(site, tmp_path):
    nginx, _, big = site
    out = tmp_path / "big.bin"
    (tmp_path / ".big.bin.sockit-part").write_bytes(big[:3_000_000])
    r = get("-c", "-o", str(out), nginx.url("/big.bin"))
    assert r.rc == 0 and out.read_bytes() == big, r


def test_split_beats_a_per_connection_rate_limit(site, tmp_path):
    """/slow/ is limited to 2 MiB/s per connection: four ranges at once get
    the 8 MiB in about a quarter of the time. (Only the result is checked
    here; the speed is for bench/.)"""
    nginx, _, big = site
    out = tmp_path / "big.bin"
    r = get("--split", "4", "-o", str(out), nginx.url("/slow/big.bin"))
    assert r.rc == 0 and out.read_bytes() == big, r


def test_through_proxies(site):
    nginx, root, _ = site
    page = (root / "page.txt").read_bytes()
    proxy = TunnelProxy()
    try:
        r = get(nginx.url("/page.txt"), env={"http_proxy": proxy.url()})
        assert (r.rc, r.stdout) == (0, page), r
        assert proxy.seen[-1] == f"GET {nginx.url('/page.txt')} HTTP/1.1", proxy.seen
        r = get("--cacert", nginx.ca, nginx.url("/page.txt", tls=True, host="localhost"),
                env={"https_proxy": proxy.url()})
        assert (r.rc, r.stdout) == (0, page), r
        assert proxy.seen[-1] == f"CONNECT localhost:{nginx.https_port} HTTP/1.1", proxy.seen
        seen = len(proxy.seen)
        r = get(nginx.url("/page.txt"), env={"http_proxy": proxy.url(), "no_proxy": "127.0.0.1"})
        assert r.rc == 0 and len(proxy.seen) == seen, "no_proxy goes direct"
    finally:
        proxy.close()
