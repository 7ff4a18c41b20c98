"""sockit ftp serve against Python's ftplib: every command, passive and
active, IPv4 and IPv6, anonymous read-only by default."""

import ftplib
import io
import os
import socket

import pytest

from ftp_util import login, make_tree, start_ftp
from interop_util import rmtree, short_tempdir


@pytest.fixture
def tree():
    base = short_tempdir()
    yield make_tree(base)
    rmtree(base)




def fetch(ftp, name):
    out = io.BytesIO()
    ftp.retrbinary("RETR " + name, out.write)
    return out.getvalue()


@pytest.mark.parametrize("passive", [True, False])
def test_anonymous_read_commands(start_server, tree, passive):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    ftp.set_pasv(passive)
    assert ftp.pwd() == "/"
    assert sorted(ftp.nlst()) == ["hello.txt", "sub"]
    lines = []
    ftp.retrlines("LIST", lines.append)
    assert any(l.startswith("-rw-r--r--") and l.endswith(" hello.txt") for l in lines), lines
    assert any(l.startswith("d") and l.endswith(" sub") for l in lines), lines
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    with open(os.path.join(tree, "sub", "inner.bin"), "rb") as f:
        assert fetch(ftp, "sub/inner.bin") == f.read()
    facts = dict(ftp.mlsd())
    assert facts["hello.txt"]["type"] == "file" and facts["hello.txt"]["size"] == "11"
    assert facts["sub"]["type"] == "dir"
    assert ftp.size("hello.txt") == 11
    assert ftp.sendcmd("MDTM hello.txt").startswith("213 ")
    assert ftp.sendcmd("MLST hello.txt").startswith("250-")
    ftp.cwd("sub/deeper")
    assert ftp.pwd() == "/sub/deeper"
    ftp.sendcmd("CDUP")
    assert ftp.pwd() == "/sub"
    ftp.cwd("/")
    assert ftp.sendcmd("SYST") == "215 UNIX Type: L8"
    assert "UTF8" in ftp.sendcmd("FEAT")
    assert ftp.sendcmd("OPTS UTF8 ON").startswith("200")
    assert ftp.sendcmd("NOOP").startswith("200")
    assert ftp.sendcmd("TYPE A").startswith("200")
    assert ftp.sendcmd("TYPE I").startswith("200")
    assert ftp.sendcmd("MODE S").startswith("200")
    assert ftp.sendcmd("STRU F").startswith("200")
    with pytest.raises(ftplib.error_perm, match="504"):
        ftp.sendcmd("MODE B")
    assert ftp.sendcmd("STAT").startswith("211-")
    assert "hello.txt" in ftp.sendcmd("STAT /")
    assert ftp.sendcmd("HELP").startswith("214-")
    with pytest.raises(ftplib.error_perm, match="500"):
        ftp.sendcmd("XYZZY")
    assert ftp.quit().startswith("221")


def test_rest_resumes_a_download(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    out = io.BytesIO()
    ftp.retrbinary("RETR hello.txt", out.write, rest=7)
    assert out.getvalue() == b"ftp\n"
    ftp.quit()


@pytest.mark.parametrize("passive", [True, False])
def test_ipv6_epsv_and_eprt(start_server, tree, passive):
    srv = start_ftp(start_server, "--listen", "[::1]:0", "--root", tree)
    ftp = login(srv.tcp)
    ftp.set_pasv(passive)  # ftplib uses EPSV/EPRT on IPv6
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert "hello.txt" in ftp.nlst()
    with pytest.raises(ftplib.error_temp, match="425"):
        ftp.sendcmd("PASV")  # PASV cannot name an IPv6 address
    ftp.quit()


def test_epsv_on_ipv4(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    ftp.af = socket.AF_INET6  # makes ftplib use EPSV on an IPv4 connection
    ftp.set_pasv(True)
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()


def test_abort_mid_transfer(start_server, tree):
    with open(os.path.join(tree, "big.bin"), "wb") as f:
        f.write(os.urandom(64 << 20))
    os.chmod(os.path.join(tree, "big.bin"), 0o644)
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    assert len(conn.recv(65536)) > 0
    # ABOR with Telnet IP/DM first and its last byte as urgent data (ftplib)
    ftp.sock.sendall(b"\xff\xf4\xff\xf2")
    resp = ftp.abort()
    assert resp[:3] in ("426", "226"), resp
    if resp.startswith("426"):
        assert ftp.getresp().startswith("226")
    conn.close()
    assert ftp.sendcmd("NOOP").startswith("200")  # the session goes on
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()


def test_many_sessions_at_once(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    sessions = [login(srv.tcp) for _ in range(30)]
    for ftp in sessions:
        assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    for ftp in sessions:
        ftp.quit()


def test_xferlog(start_server, tree):
    log = os.path.join(os.path.dirname(tree), "xferlog")
    srv = start_ftp(start_server, "--root", tree, "--xferlog", log)
    ftp = login(srv.tcp)
    fetch(ftp, "hello.txt")
    ftp.quit()
    srv.stop()
    fields = open(log).read().split()
    # ctime (5 fields), seconds, host, bytes, path, type, _, direction, access, user, ftp, 0, *, c
    assert fields[6:] == ["127.0.0.1", "11", "/hello.txt", "b", "_", "o", "a", "anonymous", "ftp", "0", "*", "c"], fields
