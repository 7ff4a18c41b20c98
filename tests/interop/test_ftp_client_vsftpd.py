"""sockit ftp against vsftpd, started by the test in the foreground on
loopback ports: anonymous listing and downloads (the anonymous root is not
writable by the ftp user, as vsftpd demands), a local user's login and file
commands, mget/mput globs, resume both ways, active mode, and explicit FTPS
with require_ssl_reuse=YES (every data connection must resume the control
connection's TLS session, or vsftpd refuses it)."""

import os
import re

import pytest

from ftp_client_util import SystemUser, Vsftpd, ftp, one_line_error
from interop_util import rmtree, short_tempdir

BIG = os.urandom(3 * 1024 * 1024 + 17)


def fill(root):
    (root / "pub" / "sub").mkdir(parents=True)
    (root / "hello.txt").write_bytes(b"hello from vsftpd\n")
    (root / "pub" / "big.bin").write_bytes(BIG)
    (root / "pub" / "a1.txt").write_bytes(b"first a\n")
    (root / "pub" / "a2.txt").write_bytes(b"second a\n" * 1000)
    (root / "pub" / "b.dat").write_bytes(b"not an a\n")
    (root / "pub" / "sub" / "a3.txt").write_bytes(b"in a folder\n")
    for path in root.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("anon")
    fill(root)
    server = Vsftpd(str(tmp_path_factory.mktemp("vsftpd")), str(root), upload=str(root / "upload"))
    yield server, root
    server.stop()


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("anon_tls")
    fill(root)
    server = Vsftpd(str(tmp_path_factory.mktemp("vsftpd_tls")), str(root), upload=str(root / "upload"),
                    tls="explicit")
    yield server, root
    server.stop()


@pytest.fixture
def local_user():
    # vsftpd changes into the home as that user: every folder above it must
    # be searchable, which pytest's 0700 folders are not.
    base = short_tempdir()
    os.chmod(base, 0o755)
    user = SystemUser(os.path.join(base, "home"))
    yield user
    user.remove()
    rmtree(base)


def test_anonymous_ls_and_get(site, tmp_path):
    server, root = site
    r = ftp(server.url(), "-e", "ls")
    assert r.rc == 0, r
    names = [line.split()[-1] for line in r.stdout.decode().splitlines()]
    assert "hello.txt" in names and "pub" in names, r
    r = ftp(server.url(), "-e", "get hello.txt -")
    assert (r.rc, r.stdout) == (0, b"hello from vsftpd\n"), r
    r = ftp(server.url("/pub/"), "-e", "pwd; get big.bin; nlist", cwd=tmp_path)
    assert r.rc == 0, r
    lines = r.stdout.decode().splitlines()
    assert lines[0].endswith("/pub"), r
    assert sorted(lines[1:]) == ["a1.txt", "a2.txt", "b.dat", "big.bin", "sub"], r
    assert (tmp_path / "big.bin").read_bytes() == BIG
    assert os.listdir(tmp_path) == ["big.bin"]  # the part file was renamed
    r = ftp(server.url(), "-e", "size pub/big.bin")
    assert (r.rc, r.stdout) == (0, b"%d\n" % len(BIG)), r


def test_a_missing_file_fails_with_one_line_and_leaves_nothing(site, tmp_path):
    server, _ = site
    r = ftp(server.url(), "-e", "get nope.txt; get hello.txt", cwd=tmp_path)
    assert r.rc == 1, r
    assert "550" in one_line_error(r) and "nope.txt" in r.err()
    assert os.listdir(tmp_path) == []  # and the command after it did not run


def test_local_user_login_and_file_commands(site, local_user, tmp_path):
    server, _ = site
    data = os.urandom(200_000)
    (tmp_path / "up.bin").write_bytes(data)
    url = f"ftp://{local_user.name}:{local_user.password}@127.0.0.1:{server.port}/"
    r = ftp(url, "-e", "pwd; put up.bin; size up.bin; mkdir d; rename up.bin d/moved.bin; ls d", cwd=tmp_path)
    assert r.rc == 0, r
    out = r.stdout.decode().splitlines()
    assert out[0] == local_user.home and out[1] == str(len(data)), r
    assert out[2].split()[-1] == "moved.bin", r
    with open(os.path.join(local_user.home, "d", "moved.bin"), "rb") as f:
        assert f.read() == data
    r = ftp(url, "-e", "get d/moved.bin back.bin; delete d/moved.bin; rmdir d; ls", cwd=tmp_path)
    assert (r.rc, r.stdout) == (0, b""), r
    assert (tmp_path / "back.bin").read_bytes() == data
    assert os.listdir(local_user.home) == []

    bad = f"ftp://{local_user.name}:wrong@127.0.0.1:{server.port}/"
    r = ftp(bad, "-e", "ls")
    assert r.rc == 1 and "530" in one_line_error(r), r


def test_mget_and_mput_globs(site, tmp_path):
    server, root = site
    down = tmp_path / "down"
    down.mkdir()
    r = ftp(server.url(), "-e", "mget pub/a*.txt", cwd=down)
    assert r.rc == 0, r
    assert sorted(os.listdir(down)) == ["a1.txt", "a2.txt"]  # not b.dat, not sub/a3.txt
    for name in ("a1.txt", "a2.txt"):
        assert (down / name).read_bytes() == (root / "pub" / name).read_bytes()
    r = ftp(server.url("/pub/"), "-e", "mget *.zip", cwd=down)
    assert r.rc == 1 and "no remote file matches" in one_line_error(r), r

    up = tmp_path / "up"
    up.mkdir()
    sent = {f"u{i}.up": os.urandom(10_000 + i) for i in range(3)}
    for name, data in sent.items():
        (up / name).write_bytes(data)
    (up / "other.txt").write_bytes(b"not matched\n")
    r = ftp(server.url("/upload/"), "-e", "mput *.up", cwd=up)
    assert r.rc == 0, r
    for name, data in sent.items():
        assert (root / "upload" / name).read_bytes() == data
    assert not (root / "upload" / "other.txt").exists()
    r = ftp(server.url("/upload/"), "-e", "mput *.none", cwd=up)
    assert r.rc == 1 and "no local file matches" in one_line_error(r), r


def test_resume_both_ways(site, local_user, tmp_path):
    server, _ = site
    part = tmp_path / ".big.bin.sockit-part"
    part.write_bytes(BIG[:1_000_000])
    r = ftp(server.url("/pub/"), "-e", "get -c big.bin", cwd=tmp_path)
    assert r.rc == 0, r
    assert (tmp_path / "big.bin").read_bytes() == BIG and not part.exists()
    assert "REST 1000000" in server.protocol_log()

    # An upload that stopped half way: put -c sends only the rest.
    (tmp_path / "up.bin").write_bytes(BIG)
    half = os.path.join(local_user.home, "up.bin")
    with open(half, "wb") as f:
        f.write(BIG[:2_000_000])
    entry = __import__("pwd").getpwnam(local_user.name)
    os.chown(half, entry.pw_uid, entry.pw_gid)
    url = f"ftp://{local_user.name}:{local_user.password}@127.0.0.1:{server.port}/"
    r = ftp(url, "-e", "reput up.bin", cwd=tmp_path)
    assert r.rc == 0, r
    with open(half, "rb") as f:
        assert f.read() == BIG
    assert "REST 2000000" in server.protocol_log()


def test_active_mode(site, tmp_path):
    server, root = site
    r = ftp("--active", server.url("/pub/"), "-e", "ls; get a2.txt", cwd=tmp_path)
    assert r.rc == 0, r
    assert "a2.txt" in r.stdout.decode()
    assert (tmp_path / "a2.txt").read_bytes() == (root / "pub" / "a2.txt").read_bytes()
    assert re.search(r'"(EPRT|PORT) ', server.protocol_log())


def test_tls_asked_of_a_server_without_it(site):
    server, _ = site
    r = ftp("--tls", server.url(), "-e", "ls")
    assert r.rc == 1 and "refused TLS" in one_line_error(r), r


def test_ftps_with_session_reuse(tls_site, tmp_path):
    server, root = tls_site
    up = os.urandom(500_000)
    (tmp_path / "up.bin").write_bytes(up)
    # Many data connections on one login: each must resume the session.
    r = ftp("--tls", "--cacert", server.ca, server.url(),
            "-e", "ls; cd pub; get big.bin; mget a*.txt; cd ../upload; put up.bin; ls; status", cwd=tmp_path)
    assert r.rc == 0, r
    assert (tmp_path / "big.bin").read_bytes() == BIG
    assert (tmp_path / "a1.txt").read_bytes() == (root / "pub" / "a1.txt").read_bytes()
    assert (root / "upload" / "up.bin").read_bytes() == up
    assert "over TLS" in r.stdout.decode(), r
    log = server.protocol_log()
    assert "AUTH TLS" in log and "PROT P" in log, log
    assert "session reuse required" not in log

    r = ftp("--tls", "-k", server.url("/pub/"), "-e", "get a1.txt -")
    assert (r.rc, r.stdout) == (0, b"first a\n"), r
    r = ftp("--tls", server.url(), "-e", "ls")  # the test's CA is not trusted
    assert r.rc == 1 and "certificate" in one_line_error(r), r
    r = ftp(server.url(), "-e", "ls")  # vsftpd wants TLS of everyone here
    assert r.rc == 1 and "530" in one_line_error(r), r
