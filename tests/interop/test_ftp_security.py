"""Attacks on sockit ftp serve: traversal, symlinks out of the root, FTP
bounce (PORT elsewhere or to a low port), passive-port theft from another
address, anonymous writes, brute force, long lines, commands before login,
slow clients."""

import ftplib
import io
import os
import socket
import time

import pytest

from ftp_util import command, control, fetch, login, make_tree, start_ftp
from interop_util import connect, is_closed_by_peer, recv_until, rmtree, short_tempdir


@pytest.fixture
def tree():
    base = short_tempdir()
    yield make_tree(base)
    rmtree(base)



def test_traversal_stays_inside_the_root(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    for name in ["../secret.txt", "/../secret.txt", "sub/../../secret.txt", "/../../../../etc/passwd",
                 "..\\secret.txt"]:
        with pytest.raises(ftplib.error_perm, match="550"):
            fetch(ftp, name)
    ftp.cwd("../../..")
    assert ftp.pwd() == "/"
    assert sorted(ftp.nlst()) == ["hello.txt", "sub"]  # still the root
    ftp.quit()


def test_symlink_pointing_out_is_refused(start_server, tree):
    os.symlink(os.path.join(os.path.dirname(tree), "secret.txt"), os.path.join(tree, "escape.txt"))
    os.symlink(os.path.dirname(tree), os.path.join(tree, "up"))
    os.symlink("../secret.txt", os.path.join(tree, "rel.txt"))
    os.symlink("hello.txt", os.path.join(tree, "inside.txt"))
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    for name in ["escape.txt", "up/secret.txt", "rel.txt"]:
        with pytest.raises(ftplib.error_perm, match="550"):
            fetch(ftp, name)
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.cwd("up")
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.size("escape.txt")
    assert fetch(ftp, "inside.txt") == b"hello, ftp\n"  # a link that stays inside works
    ftp.quit()


def test_port_to_a_foreign_address_or_low_port_is_refused(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    # 127.0.0.2 is the foreign address: tests name only loopback addresses.
    for arg in ["127,0,0,2,39,16", "127,0,0,3,39,16", "127,0,0,1,0,21", "127,0,0,1,3,255"]:
        with pytest.raises(ftplib.error_perm, match="500"):
            ftp.sendcmd("PORT " + arg)
    with pytest.raises(ftplib.error_perm, match="500"):
        ftp.sendcmd("EPRT |1|127.0.0.2|10000|")
    with pytest.raises(ftplib.error_perm, match="501"):
        ftp.sendcmd("PORT 1,2,3")
    assert ftp.sendcmd("PORT 127,0,0,1,39,16").startswith("200")  # its own address, port 10000
    ftp.quit()
    assert "event=port_refused" in srv.stderr()


def test_passive_connection_from_another_address_is_refused(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    ftp.voidcmd("TYPE I")
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    thief = socket.create_connection((host, port), timeout=5, source_address=("127.0.0.2", 0))
    ftp.sock.sendall(b"RETR hello.txt\r\n")
    assert ftp.getresp().startswith("150")
    # The thief is closed without data; the real client is still accepted.
    thief.settimeout(5)
    assert thief.recv(100) == b""
    thief.close()
    real = socket.create_connection((host, port), timeout=5)
    data = b""
    while chunk := real.recv(65536):
        data += chunk
    real.close()
    assert data == b"hello, ftp\n"
    assert ftp.voidresp().startswith("226")
    ftp.quit()
    assert "event=data_refused from=127.0.0.2" in srv.stderr()


def test_passive_accept_times_out(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    ftp.sendcmd("PASV")
    ftp.sock.sendall(b"RETR hello.txt\r\n")
    assert ftp.getresp().startswith("150")
    start = time.monotonic()
    with pytest.raises(ftplib.error_temp, match="425"):
        ftp.voidresp()
    assert time.monotonic() - start < 10
    ftp.quit()


def test_anonymous_cannot_write(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    ftp = login(srv.tcp)
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.storbinary("STOR new.txt", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.storbinary("APPE hello.txt", io.BytesIO(b"x"))
    for cmd in ["DELE hello.txt", "MKD d", "RMD sub", "RNFR hello.txt"]:
        with pytest.raises(ftplib.error_perm, match="550 Permission denied"):
            ftp.sendcmd(cmd)
    ftp.quit()
    assert sorted(os.listdir(tree)) == ["hello.txt", "sub"]


def test_commands_before_login_are_refused(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    s = control(srv.tcp)
    for line in [b"PWD", b"LIST", b"RETR hello.txt", b"PASV", b"CWD /", b"STOR x", b"SIZE hello.txt"]:
        assert command(s, line).startswith(b"530"), line
    assert command(s, b"PASS x").startswith(b"503")
    assert command(s, b"FEAT").startswith(b"211-")
    s.close()


def test_user_enumeration_gets_the_same_answer(start_server, tree, sockdir):
    srv = start_ftp(start_server, "--root", tree)
    s = control(srv.tcp)
    answers = {command(s, b"USER " + name) for name in [b"root", b"nobody-here", b"anonymous", b"admin"]}
    assert answers == {b"331 Please specify the password.\r\n"}
    s.close()


def test_brute_force_is_delayed_and_cut_off(start_server, tree):
    srv = start_ftp(start_server, "--root", tree, "--auth-delay-ms", "300", "--max-login-failures", "3",
                    "--max-ip-failures", "5")
    s = control(srv.tcp)
    for attempt in range(3):
        assert command(s, b"USER admin").startswith(b"331")
        start = time.monotonic()
        s.sendall(b"PASS guess%d\r\n" % attempt)
        answer = recv_until(s, b"\r\n")
        assert answer.startswith(b"530"), answer
        assert time.monotonic() - start >= 0.25
    assert is_closed_by_peer(s, 5)  # after 421 for the third failure
    s.close()
    # The IP has 3 failures; two more lock it out, then even connecting is refused.
    s = control(srv.tcp)
    for attempt in range(2):
        command(s, b"USER admin")
        s.sendall(b"PASS again\r\n")
        assert recv_until(s, b"\r\n").startswith(b"530")
    s.close()
    s = connect(srv.tcp)
    assert recv_until(s, b"\r\n").startswith(b"421")
    s.close()


def test_a_10000_character_line_is_refused(start_server, tree):
    srv = start_ftp(start_server, "--root", tree)
    s = control(srv.tcp)
    s.sendall(b"USER " + b"a" * 10_000 + b"\r\n")
    assert recv_until(s, b"\r\n").startswith(b"500 Command line too long")
    assert is_closed_by_peer(s, 5)
    s.close()


def test_login_and_idle_timeouts(start_server, tree):
    srv = start_ftp(start_server, "--root", tree, "--login-timeout", "1", "--idle-timeout", "1")
    s = control(srv.tcp)
    start = time.monotonic()
    assert recv_until(s, b"\r\n", timeout=5).startswith(b"421")
    assert 0.5 < time.monotonic() - start < 4
    assert is_closed_by_peer(s, 5)
    s.close()
    ftp = login(srv.tcp)
    time.sleep(1.5)
    with pytest.raises((EOFError, ftplib.error_temp, ConnectionError)):
        ftp.sendcmd("NOOP")
    ftp.close()


def test_slowloris_on_control_is_cut(start_server, tree):
    """A client trickling bytes of one line never completes it: the login timeout ends it."""
    srv = start_ftp(start_server, "--root", tree, "--login-timeout", "1")
    s = control(srv.tcp)
    start = time.monotonic()
    closed = False
    while time.monotonic() - start < 5:
        try:
            s.sendall(b"U")
        except OSError:
            closed = True
            break
        if is_closed_by_peer(s, 0.2):
            closed = True
            break
    assert closed and time.monotonic() - start < 4
    s.close()


def test_stalled_data_connection_is_cut(start_server, tree):
    with open(os.path.join(tree, "big.bin"), "wb") as f:
        f.write(os.urandom(32 << 20))
    os.chmod(os.path.join(tree, "big.bin"), 0o644)
    srv = start_ftp(start_server, "--root", tree, "--data-timeout", "1")
    ftp = login(srv.tcp)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn.recv(1000)  # then never read again
    start = time.monotonic()
    with pytest.raises(ftplib.error_temp, match="426"):
        ftp.voidresp()
    assert time.monotonic() - start < 8
    conn.close()
    assert ftp.sendcmd("NOOP").startswith("200")
    ftp.quit()


def test_max_per_ip(start_server, tree):
    srv = start_ftp(start_server, "--root", tree, "--max-per-ip", "2")
    a, b = control(srv.tcp), control(srv.tcp)
    c = connect(srv.tcp)
    assert recv_until(c, b"\r\n").startswith(b"421")
    for s in (a, b, c):
        s.close()
