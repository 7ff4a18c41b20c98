"""sockit get over FTPS, as curl does it: ftps:// is implicit TLS (vsftpd
with implicit_ssl=YES), --ssl-reqd makes ftp:// switch to TLS with AUTH TLS
(vsftpd requiring TLS and session reuse on data connections); exit 64 when
the server cannot do TLS, 60 for an untrusted certificate; -c resumes."""

import os

import pytest

from ftp_client_util import Vsftpd
from get_util import get

DATA = os.urandom(2 * 1024 * 1024 + 3)


def fill(root):
    (root / "pub").mkdir()
    (root / "pub" / "file.bin").write_bytes(DATA)
    os.chmod(root / "pub", 0o755)
    os.chmod(root / "pub" / "file.bin", 0o644)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    started = []
    try:
        out = {}
        for kind in ("implicit", "explicit", None):
            root = tmp_path_factory.mktemp(f"anon_{kind}")
            fill(root)
            server = Vsftpd(str(tmp_path_factory.mktemp(f"vsftpd_{kind}")), str(root), tls=kind, local=False)
            started.append(server)
            out[kind] = server
        yield out
    finally:
        for server in started:
            server.stop()


def test_ftps_url_is_implicit_tls(servers, tmp_path):
    server = servers["implicit"]
    out = tmp_path / "file.bin"
    r = get("--cacert", server.ca, "-o", str(out), server.url("/pub/file.bin", scheme="ftps"))
    assert r.rc == 0 and out.read_bytes() == DATA, r
    # The same server named by host name: the certificate names localhost too.
    r = get("--cacert", server.ca, f"ftps://localhost:{server.port}/pub/file.bin")
    assert (r.rc, r.stdout) == (0, DATA), r
    r = get(server.url("/pub/file.bin", scheme="ftps"))
    assert r.rc == 60 and "certificate" in r.err(), r
    r = get("-k", server.url("/pub/file.bin", scheme="ftps"))
    assert (r.rc, r.stdout) == (0, DATA), r


def test_ssl_reqd_is_explicit_tls_with_session_reuse(servers, tmp_path):
    server = servers["explicit"]
    out = tmp_path / "file.bin"
    r = get("--ssl-reqd", "--cacert", server.ca, "-o", str(out), server.url("/pub/file.bin"))
    assert r.rc == 0 and out.read_bytes() == DATA, r
    log = server.protocol_log()
    assert "AUTH TLS" in log and "PROT P" in log
    assert "session reuse required" not in log
    # Resumed over TLS.
    (tmp_path / ".again.bin.sockit-part").write_bytes(DATA[:777_777])
    r = get("-c", "--ssl-reqd", "--cacert", server.ca, "-o", str(tmp_path / "again.bin"),
            server.url("/pub/file.bin"))
    assert r.rc == 0 and (tmp_path / "again.bin").read_bytes() == DATA, r
    assert "REST 777777" in server.protocol_log()
    # Without --ssl-reqd, this vsftpd refuses the clear login (curl's 67).
    r = get(server.url("/pub/file.bin"))
    assert r.rc == 67 and "530" in r.err(), r


def test_ssl_reqd_against_a_server_without_tls(servers, tmp_path):
    server = servers[None]
    r = get("--ssl-reqd", "-o", str(tmp_path / "x"), server.url("/pub/file.bin"))
    assert r.rc == 64 and "refused TLS" in r.err(), r
    assert not (tmp_path / "x").exists()
    r = get(server.url("/pub/file.bin"))
    assert (r.rc, r.stdout) == (0, DATA), r
