"""FTPS (RFC 4217) on sockit ftp serve: ftplib.FTP_TLS over every transfer
command (passive and active, IPv4 and IPv6, TLS 1.3 tickets and TLS 1.2
session ids), curl --ssl-reqd, lftp mirroring with TLS, the AUTH/PBSZ/PROT/CCC
replies, --require-tls, data connections that do not resume the control
connection's session, handshake timeouts, ABOR, stalls, uploads without
close_notify, the self-signed pair of --tls and the serve section.

Certificates come from a CA this file makes with openssl, for 127.0.0.1, ::1
and localhost, so every client verifies the server for real."""

import filecmp
import ftplib
import io
import os
import re
import socket
import ssl
import subprocess
import time

import pytest

from ftp_util import command, control, fetch, hash_password, make_tree, start_ftp, write_accounts
from interop_util import (connect, describe, is_closed_by_peer, recv_until, rmtree, run, short_tempdir,
                          wait_until)

PASSWORD = "tls pass"


# ------------------------------------------------------------------ certificates and helpers

def openssl(*args):
    r = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, f"openssl {args}: {r.stderr.decode()}"
    return r.stdout.decode()


@pytest.fixture(scope="module")
def pki():
    """A CA, and a server certificate it signed for 127.0.0.1, ::1 and localhost."""
    d = short_tempdir()
    p = lambda name: os.path.join(d, name)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2",
            "-subj", "/CN=sockit FTPS test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("req", *ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("server.ext"))
    yield {"ca": p("ca.pem"), "cert": p("server.pem"), "key": p("server.key"), "dir": d}
    rmtree(d)


@pytest.fixture
def setup(sockit_bin):
    base = short_tempdir()
    root = make_tree(base)
    accounts = write_accounts(os.path.join(base, "accounts.toml"), f"""
[anonymous]
[user.alice]
password = "{hash_password(sockit_bin, PASSWORD)}"
""")
    yield {"base": base, "root": root, "accounts": accounts}
    rmtree(base)


def start_tls(start_server, pki, setup, *args, listen="127.0.0.1:0"):
    return start_ftp(start_server, "--listen", listen, "--root", setup["root"], "--accounts",
                     setup["accounts"], "--tls-cert", pki["cert"], "--tls-key", pki["key"], *args)


class ReuseTLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS
    session: the standard recipe, since Python's ftplib does not (a server
    requiring reuse refuses it otherwise). `session_from` offers another
    connection's session instead; `reuse=False` offers none. A data
    connection that ends without close_notify raises (suppress_ragged_eofs
    off), so every transfer also checks the server closes TLS properly."""

    def __init__(self, *args, reuse=True, session_from=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.reuse = reuse
        self.session_from = session_from
        self.data_tls = []  # (version, session_reused) of each data connection

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = None
            if self.session_from is not None:
                session = self.session_from.sock.session
            elif self.reuse:
                session = self.sock.session
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session,
                                            suppress_ragged_eofs=False)
            self.data_tls.append((conn.version(), conn.session_reused))
        return conn, size


def client_context(pki, version="1.3"):
    ctx = ssl.create_default_context(cafile=pki["ca"])
    if version != "1.3":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if version == "1.2-ids":
        ctx.options |= ssl.OP_NO_TICKET  # TLS 1.2 resumption by session id (the server's cache)
    return ctx


def tls_login(addr, pki, user="alice", password=PASSWORD, version="1.3", prot_p=True, context=None,
              **kwargs):
    ftp = ReuseTLS(context=context or client_context(pki, version), timeout=15, **kwargs)
    ftp.connect(addr.host, addr.port)
    assert ftp.auth().startswith("234")
    ftp.login(user, password)
    if prot_p:
        assert ftp.prot_p().startswith("200")
    return ftp


def content(path):
    with open(path, "rb") as f:
        return f.read()


def drain(conn):
    """Reads a data connection to its end; a refused one may end in an error."""
    try:
        while conn.recv(65536):
            pass
    except (ssl.SSLError, OSError):
        pass
    conn.close()


# ------------------------------------------------------------------ ftplib over every transfer

@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_ftplib_tls_every_transfer(start_server, pki, setup, host, passive):
    listen = f"[{host}]:0" if ":" in host else f"{host}:0"
    srv = start_tls(start_server, pki, setup, "--require-tls", listen=listen)
    ftp = tls_login(srv.tcp, pki)
    ftp.set_pasv(passive)  # PASV/PORT on IPv4, EPSV/EPRT on IPv6
    assert ftp.sock.version() == "TLSv1.3"
    root = setup["root"]
    lines = []
    ftp.retrlines("LIST", lines.append)
    assert [l.split()[-1] for l in lines] == ["hello.txt", "sub"], lines
    assert lines[0].startswith("-rw-r--r--") and " 11 " in lines[0], lines
    assert sorted(ftp.nlst("sub")) == ["deeper", "inner.bin"]
    facts = dict(ftp.mlsd())
    assert facts["hello.txt"]["size"] == "11" and facts["sub"]["type"] == "dir"
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert fetch(ftp, "sub/inner.bin") == content(os.path.join(root, "sub", "inner.bin"))
    payload = os.urandom(1_500_000)
    assert ftp.storbinary("STOR up.bin", io.BytesIO(payload)).startswith("226")
    assert content(os.path.join(root, "up.bin")) == payload
    assert fetch(ftp, "up.bin", rest=1_000_000) == payload[1_000_000:]  # REST + RETR
    with open(os.path.join(root, "up.bin"), "r+b") as f:  # a cut upload, resumed
        f.truncate(500_000)
    assert ftp.storbinary("STOR up.bin", io.BytesIO(payload[500_000:]), rest=500_000).startswith("226")
    assert content(os.path.join(root, "up.bin")) == payload
    assert ftp.storbinary("APPE up.bin", io.BytesIO(b"tail")).startswith("226")
    assert content(os.path.join(root, "up.bin")) == payload + b"tail"
    # Nine data connections, every one TLS 1.3 and resuming the control's session.
    assert len(ftp.data_tls) == 9 and all(d == ("TLSv1.3", True) for d in ftp.data_tls), ftp.data_tls
    assert "PROT P" in ftp.sendcmd("STAT")
    assert ftp.quit().startswith("221")
    assert 'event=tls tls="TLSv1.3' in srv.stderr()


@pytest.mark.parametrize("version", ["1.3", "1.2-tickets", "1.2-ids"])
def test_session_resumption_with_tickets_and_session_ids(start_server, pki, setup, version):
    srv = start_tls(start_server, pki, setup, "--require-tls")
    ftp = tls_login(srv.tcp, pki, version=version)
    assert ftp.sock.version() == ("TLSv1.3" if version == "1.3" else "TLSv1.2")
    for _ in range(3):  # the same session, resumed again and again
        assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert sorted(ftp.nlst()) == ["hello.txt", "sub"]
    assert [reused for _, reused in ftp.data_tls] == [True] * 4, ftp.data_tls
    ftp.quit()


def test_auth_after_login_keeps_the_login(start_server, pki, setup):
    """As vsftpd: AUTH TLS may come after a clear login; the login stays."""
    srv = start_tls(start_server, pki, setup)
    ftp = ReuseTLS(context=client_context(pki), timeout=15)
    ftp.connect(srv.tcp.host, srv.tcp.port)
    ftp.login("alice", PASSWORD, secure=False)
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"  # clear: the server does not require TLS
    assert ftp.auth().startswith("234")
    assert ftp.pwd() == "/"
    ftp.prot_p()
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert ftp.data_tls == [("TLSv1.3", True)]
    ftp.quit()


def test_auth_ssl_protects_data_without_prot(start_server, pki, setup):
    """AUTH SSL (the old drafts, curl's first try) protects data at once, as in vsftpd."""
    srv = start_tls(start_server, pki, setup, "--require-tls")
    ftp = ReuseTLS(context=client_context(pki), timeout=15)
    ftp.connect(srv.tcp.host, srv.tcp.port)
    assert ftp.voidcmd("AUTH SSL").startswith("234")
    ftp.sock = ftp.context.wrap_socket(ftp.sock, server_hostname=ftp.host)
    ftp.file = ftp.sock.makefile("r", encoding=ftp.encoding)
    ftp.login("alice", PASSWORD)
    ftp._prot_p = True  # no PBSZ/PROT sent
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert ftp.data_tls == [("TLSv1.3", True)]
    ftp.quit()


# ------------------------------------------------------------------ replies and order rules

def test_security_command_replies(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup)
    ftp = ReuseTLS(context=client_context(pki), timeout=15)
    ftp.connect(srv.tcp.host, srv.tcp.port)
    feat = ftp.sendcmd("FEAT").splitlines()
    for feature in (" AUTH TLS", " PBSZ", " PROT"):
        assert feature in feat, feat
    with pytest.raises(ftplib.error_perm, match="^503 PBSZ needs a TLS"):
        ftp.sendcmd("PBSZ 0")
    with pytest.raises(ftplib.error_perm, match="^503 PROT needs a TLS"):
        ftp.sendcmd("PROT P")
    with pytest.raises(ftplib.error_perm, match="^533"):
        ftp.sendcmd("CCC")
    with pytest.raises(ftplib.error_perm, match="^504"):
        ftp.sendcmd("AUTH KERBEROS_V4")
    assert ftp.auth() == "234 Proceed with negotiation."
    with pytest.raises(ftplib.error_perm, match="^503 Already using TLS"):
        ftp.sendcmd("AUTH TLS")
    with pytest.raises(ftplib.error_perm, match="^503 PROT needs PBSZ first"):
        ftp.sendcmd("PROT P")
    with pytest.raises(ftplib.error_perm, match="^501"):
        ftp.sendcmd("PBSZ x")
    with pytest.raises(ftplib.error_perm, match="^501"):
        ftp.sendcmd("PBSZ 4294967296")
    assert ftp.sendcmd("PBSZ 16384") == "200 PBSZ=0"  # RFC 4217: always 0 for TLS
    with pytest.raises(ftplib.error_perm, match="^536"):
        ftp.sendcmd("PROT S")
    with pytest.raises(ftplib.error_perm, match="^536"):
        ftp.sendcmd("PROT E")
    with pytest.raises(ftplib.error_perm, match="^504"):
        ftp.sendcmd("PROT X")
    assert ftp.sendcmd("PROT C") == "200 PROT now Clear."
    assert ftp.sendcmd("PROT p") == "200 PROT now Private."
    with pytest.raises(ftplib.error_perm, match="^534 CCC refused"):
        ftp.sendcmd("CCC")
    ftp._prot_p = True
    ftp.login("alice", PASSWORD)  # (already secure: no second AUTH)
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    help_text = ftp.sendcmd("HELP")
    for verb in ("AUTH", "PBSZ", "PROT", "CCC"):
        assert verb in help_text
    ftp.quit()


def test_without_tls_configured(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["root"])
    s = control(srv.tcp)
    s.sendall(b"FEAT\r\n")
    feat = recv_until(s, b"211 End\r\n")
    assert b"UTF8" in feat and b"AUTH" not in feat and b"PBSZ" not in feat, feat
    assert command(s, b"AUTH TLS").startswith(b"502 TLS is not offered")
    assert command(s, b"PBSZ 0").startswith(b"503")
    assert command(s, b"QUIT").startswith(b"221")
    s.close()


def test_commands_pipelined_after_auth_are_not_taken_as_encrypted(start_server, pki, setup):
    """STARTTLS command injection: what follows AUTH in the same packet was
    sent in clear; AUTH is refused and the rest is answered in clear."""
    srv = start_tls(start_server, pki, setup)
    s = control(srv.tcp)
    s.sendall(b"AUTH TLS\r\nUSER alice\r\n")
    replies = recv_until(s, b"331 Please specify the password.\r\n")
    assert replies.startswith(b"503 AUTH refused: send nothing after AUTH"), replies
    s.close()
    assert wait_until(lambda: "commands sent after AUTH" in srv.stderr(), 5)


# ------------------------------------------------------------------ --require-tls

def test_require_tls_refuses_clear_logins_and_clear_data(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--require-tls")
    s = control(srv.tcp)
    assert command(s, b"USER alice") == b"530 This server requires TLS: send AUTH TLS before logging in.\r\n"
    assert command(s, b"PASS " + PASSWORD.encode()).startswith(b"530 This server requires TLS")
    assert command(s, b"USER anonymous").startswith(b"530 This server requires TLS")
    s.close()
    before = content(os.path.join(setup["root"], "hello.txt"))
    ftp = tls_login(srv.tcp, pki, prot_p=False)
    ftp.sendcmd("PBSZ 0")
    ftp.sendcmd("PROT C")
    with pytest.raises(ftplib.error_perm, match="^521 Data connections must be encrypted"):
        ftp.retrlines("LIST", print)
    with pytest.raises(ftplib.error_perm, match="^521"):
        fetch(ftp, "hello.txt")
    with pytest.raises(ftplib.error_perm, match="^521"):
        ftp.storbinary("STOR hello.txt", io.BytesIO(b"overwritten"))
    assert content(os.path.join(setup["root"], "hello.txt")) == before  # refused before any change
    assert ftp.data_tls == []
    ftp.prot_p()
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert ftp.data_tls == [("TLSv1.3", True)]
    ftp.quit()
    log = srv.stderr()
    assert "event=refused reason=tls_required" in log and "event=refused reason=prot_p_required" in log


def test_plain_anonymous_is_exempt_from_require_tls(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--require-tls", "--plain-anonymous")
    ftp = ftplib.FTP(timeout=15)
    ftp.connect(srv.tcp.host, srv.tcp.port)
    ftp.login()  # anonymous, in clear
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert "hello.txt" in ftp.nlst()
    ftp.quit()
    s = control(srv.tcp)
    assert command(s, b"USER alice").startswith(b"530 This server requires TLS")
    s.close()


# ------------------------------------------------------------------ data connections must resume the session

def test_data_connection_without_session_reuse_is_refused(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--require-tls")
    ftp = tls_login(srv.tcp, pki, reuse=False)
    ftp.voidcmd("TYPE I")
    try:
        drain(ftp.transfercmd("RETR hello.txt"))
    except (ssl.SSLError, OSError):
        pass
    with pytest.raises(ftplib.error_perm, match="^522 .*TLS session not reused"):
        ftp.voidresp()
    assert ftp.data_tls == [("TLSv1.3", False)]
    assert wait_until(lambda: 'event=data_refused reason="TLS session not reused"' in srv.stderr(), 5)
    # The session goes on, and resuming properly works.
    assert ftp.sendcmd("NOOP").startswith("200")
    ftp.reuse = True
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()


@pytest.mark.parametrize("version", ["1.3", "1.2-ids"])
def test_data_connection_resuming_another_sessions_tls_is_refused(start_server, pki, setup, version):
    """The same client address, a session of this server, but not this
    control connection's: what vsftpd's require_ssl_reuse lets through."""
    srv = start_tls(start_server, pki, setup, "--require-tls")
    context = client_context(pki, version)  # (Python resumes only sessions of the same context)
    other = tls_login(srv.tcp, pki, context=context)
    ftp = tls_login(srv.tcp, pki, context=context, session_from=other)
    ftp.voidcmd("TYPE I")
    try:
        drain(ftp.transfercmd("RETR hello.txt"))
    except (ssl.SSLError, OSError):
        pass
    with pytest.raises(ftplib.error_perm, match="^522 .*another connection's TLS session"):
        ftp.voidresp()
    assert ftp.data_tls[0][1] is True  # the handshake did resume, just not the right session
    assert wait_until(lambda: "resumed another connection's TLS session" in srv.stderr(), 5)
    ftp.session_from = None
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    assert fetch(other, "hello.txt") == b"hello, ftp\n"
    ftp.quit()
    other.quit()


# ------------------------------------------------------------------ timeouts

def test_auth_then_silence_is_dropped(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--tls-timeout", "1")
    s = control(srv.tcp)
    assert command(s, b"AUTH TLS").startswith(b"234")
    start = time.monotonic()
    assert is_closed_by_peer(s, 6)
    assert 0.8 < time.monotonic() - start < 5
    s.close()
    # Half a ClientHello, then nothing: the same.
    s = control(srv.tcp)
    assert command(s, b"AUTH TLS").startswith(b"234")
    s.sendall(b"\x16\x03\x01\x02\x00\x01")
    start = time.monotonic()
    assert is_closed_by_peer(s, 6)
    assert 0.8 < time.monotonic() - start < 5
    s.close()
    assert wait_until(lambda: srv.stderr().count("event=tls_timeout") == 2, 5), srv.stderr()


def test_data_handshake_that_never_comes_times_out(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--require-tls", "--tls-timeout", "1")
    ftp = tls_login(srv.tcp, pki)
    ftp.voidcmd("TYPE I")
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    raw = socket.create_connection((host, port), timeout=10)  # TCP only, never TLS
    ftp.putcmd("RETR hello.txt")
    assert ftp.getresp().startswith("150")
    start = time.monotonic()
    with pytest.raises(ftplib.error_perm, match="^522 TLS on the data connection failed: no TLS handshake"):
        ftp.getresp()
    assert 0.8 < time.monotonic() - start < 5
    assert is_closed_by_peer(raw, 5)
    raw.close()
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()


# ------------------------------------------------------------------ the existing features under TLS

def test_abort_mid_transfer_under_tls(start_server, pki, setup):
    big = os.path.join(setup["root"], "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(64 << 20))
    os.chmod(big, 0o644)
    srv = start_tls(start_server, pki, setup, "--require-tls")
    ftp = tls_login(srv.tcp, pki)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    assert len(conn.recv(65536)) > 0
    resp = ftp.abort()  # FTP_TLS sends ABOR inside TLS (no urgent data)
    assert resp[:3] in ("426", "226"), resp
    if resp.startswith("426"):
        assert ftp.getresp().startswith("226")
    conn.close()
    assert ftp.sendcmd("NOOP").startswith("200")  # the control connection's TLS is intact
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()
    assert "status=incomplete" in srv.stderr()


def test_stalled_tls_data_connection_is_cut(start_server, pki, setup):
    big = os.path.join(setup["root"], "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(32 << 20))
    os.chmod(big, 0o644)
    srv = start_tls(start_server, pki, setup, "--require-tls", "--data-timeout", "1")
    ftp = tls_login(srv.tcp, pki)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    conn.recv(1000)  # then never read again
    start = time.monotonic()
    with pytest.raises(ftplib.error_temp, match="^426 Data connection stalled"):
        ftp.voidresp()
    assert time.monotonic() - start < 8
    conn.close()
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()


def test_max_connections_under_tls(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--max-connections", "2")
    a, b = tls_login(srv.tcp, pki), tls_login(srv.tcp, pki)
    c = connect(srv.tcp)
    assert recv_until(c, b"\r\n").startswith(b"421")
    c.close()
    assert fetch(a, "hello.txt") == b"hello, ftp\n" and fetch(b, "hello.txt") == b"hello, ftp\n"
    a.quit()
    b.quit()


def test_upload_without_close_notify_is_kept_and_logged(start_server, pki, setup):
    """vsftpd's default (strict_ssl_read_eof=NO): an upload whose TLS ends
    without close_notify is kept (the client may resume it) and logged."""
    srv = start_tls(start_server, pki, setup, "--require-tls")
    ftp = tls_login(srv.tcp, pki)
    ftp.voidcmd("TYPE I")
    payload = os.urandom(300_000)
    conn = ftp.transfercmd("STOR cut.bin")
    conn.sendall(payload)
    conn.close()  # Python sends no close_notify without unwrap()
    assert ftp.voidresp().startswith("226")
    assert content(os.path.join(setup["root"], "cut.bin")) == payload
    assert wait_until(lambda: 'event=tls_truncated path="/cut.bin" bytes=300000' in srv.stderr(), 5)
    ftp.quit()


def test_sockit_ftp_client_and_get_against_the_server(start_server, sockit_bin, pki, setup):
    """sockit's own client: every data connection resumes the control's
    session, and drops a download's TLS without close_notify. OpenSSL then
    marks the session that connection used unresumable; the server gives
    each download a ticket of its own so that is not the control's session
    (without it, the second transfer here is refused with 522)."""
    srv = start_tls(start_server, pki, setup, "--require-tls")
    url = f"ftp://alice:{PASSWORD.replace(' ', '%20')}@{srv.tcp.host}:{srv.tcp.port}/"
    work = os.path.join(setup["base"], "work")
    os.makedirs(work)
    with open(os.path.join(work, "mine.bin"), "wb") as f:
        f.write(os.urandom(200_000))
    r = subprocess.run([sockit_bin, "ftp", "--tls", "--cacert", pki["ca"], url, "-e",
                        "ls; get sub/inner.bin; put mine.bin; get hello.txt; ls"],
                       cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, describe(r)
    assert content(os.path.join(work, "inner.bin")) == content(os.path.join(setup["root"], "sub", "inner.bin"))
    assert content(os.path.join(setup["root"], "mine.bin")) == content(os.path.join(work, "mine.bin"))
    assert content(os.path.join(work, "hello.txt")) == b"hello, ftp\n"
    out = os.path.join(work, "got.bin")
    r = run([sockit_bin, "get", "--ssl-reqd", "--cacert", pki["ca"], "-o", out, url + "sub/inner.bin"])
    assert r.returncode == 0, describe(r)
    assert content(out) == content(os.path.join(setup["root"], "sub", "inner.bin"))
    assert "event=data_refused" not in srv.stderr()


# ------------------------------------------------------------------ curl and lftp

def test_curl_ssl_reqd_list_get_put(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--require-tls")
    base = f"ftp://alice:{PASSWORD.replace(' ', '%20')}@{srv.tcp.host}:{srv.tcp.port}"
    curl = ["curl", "-sS", "--ssl-reqd", "--cacert", pki["ca"]]
    r = run(curl + ["-v", base + "/"])
    assert r.returncode == 0, describe(r)
    assert [line.split()[-1] for line in r.stdout.splitlines()] == [b"hello.txt", b"sub"], describe(r)
    assert b"SSL re-using session ID" in r.stderr, describe(r)  # the data connection resumed
    r = run(curl + [base + "/sub/inner.bin"])
    assert r.returncode == 0 and r.stdout == content(os.path.join(setup["root"], "sub", "inner.bin")), describe(r)
    # (No active mode here: Debian 12's curl 7.88.1 fails it over TLS on its
    # own, "sa_addr inet_ntop() failed", curl issue 10622, fixed in 8.0.
    # ftplib covers active FTPS above.)
    big = os.path.join(setup["base"], "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(3 << 20))
    r = run(curl + ["-T", big, base + "/up/big.bin", "--ftp-create-dirs"])
    assert r.returncode == 0, describe(r)
    assert filecmp.cmp(big, os.path.join(setup["root"], "up", "big.bin"), shallow=False)
    with open(os.path.join(setup["root"], "up", "big.bin"), "r+b") as f:
        f.truncate(1 << 20)
    r = run(curl + ["-C", "-", "-T", big, base + "/up/big.bin"])  # resumed upload (REST/APPE)
    assert r.returncode == 0, describe(r)
    assert filecmp.cmp(big, os.path.join(setup["root"], "up", "big.bin"), shallow=False)
    part = os.path.join(setup["base"], "part.bin")
    with open(part, "wb") as f:
        f.write(content(big)[: 1 << 20])
    r = run(curl + ["-C", "-", "-o", part, base + "/up/big.bin"])  # resumed download (REST)
    assert r.returncode == 0 and filecmp.cmp(big, part, shallow=False), describe(r)
    # Without TLS, this server says why.
    r = run(["curl", "-sS", base + "/hello.txt"])
    assert r.returncode != 0 and b"530" in r.stderr, describe(r)
    assert "event=tls_truncated" not in srv.stderr()  # curl closes TLS properly on upload


def test_lftp_mirror_down_and_up_with_tls(start_server, pki, setup):
    srv = start_tls(start_server, pki, setup, "--require-tls")
    down = os.path.join(setup["base"], "down")
    up_src = os.path.join(setup["base"], "up_src")
    os.makedirs(os.path.join(up_src, "a", "b"))
    for i in range(20):
        with open(os.path.join(up_src, "a" if i % 2 else "a/b", f"f{i}.bin"), "wb") as f:
            f.write(os.urandom(3000 * i))
    script = (f"set net:max-retries 1; set net:timeout 10; set ftp:ssl-force true; "
              f"set ftp:ssl-protect-data true; set ssl:ca-file {pki['ca']}; set ssl:verify-certificate yes; "
              f"open -u alice,'{PASSWORD}' -p {srv.tcp.port} {srv.tcp.host}; "
              f"mirror / {down}; mkdir -p /mirrored; mirror -R {up_src} /mirrored; bye")
    r = run(["lftp", "-c", script], timeout=120)
    assert r.returncode == 0, describe(r)
    assert r.stderr == b"", describe(r)  # no TLS complaint (close_notify, session reuse)
    for dirpath, _, files in os.walk(setup["root"]):
        rel = os.path.relpath(dirpath, setup["root"])
        if rel.startswith("mirrored"):
            continue
        for name in files:
            assert filecmp.cmp(os.path.join(dirpath, name), os.path.join(down, rel, name), shallow=False)
    count = 0
    for dirpath, _, files in os.walk(up_src):
        rel = os.path.relpath(dirpath, up_src)
        for name in files:
            count += 1
            assert filecmp.cmp(os.path.join(dirpath, name),
                               os.path.join(setup["root"], "mirrored", rel, name), shallow=False)
    assert count == 20
    log = srv.stderr()
    assert "event=data_refused" not in log and "reason=prot_p_required" not in log, log[-3000:]


# ------------------------------------------------------------------ --tls, configuration

def logged_fingerprint(srv):
    m = re.search(r"event=tls certificate=\S+ created=(\w+) fingerprint=([0-9A-F:]+)", srv.stderr())
    assert m, srv.stderr()
    return m.group(1), m.group(2)


def test_tls_flag_makes_and_keeps_a_self_signed_pair(start_server, setup):
    tls_dir = os.path.join(setup["base"], "ftp-tls")
    srv = start_ftp(start_server, "--root", setup["root"], "--tls", "--tls-dir", tls_dir)
    created, fingerprint = logged_fingerprint(srv)
    cert = os.path.join(tls_dir, "cert.pem")
    assert created == "true"
    assert fingerprint == openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", cert).strip().split("=")[1]
    assert oct(os.stat(os.path.join(tls_dir, "key.pem")).st_mode & 0o777) == "0o600"
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False  # the pair names no host: clients pin it or use -k
    ftp = ReuseTLS(context=ctx, timeout=15)
    ftp.connect(srv.tcp.host, srv.tcp.port)
    ftp.login()
    ftp.prot_p()
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()
    assert srv.stop() == 0
    again = start_ftp(start_server, "--root", setup["root"], "--tls", "--tls-dir", tls_dir)
    assert logged_fingerprint(again) == ("false", fingerprint)


def test_serve_section_with_tls(start_server, pki, setup, sockdir):
    config = os.path.join(sockdir, "serve.toml")
    with open(config, "w") as f:
        f.write(f"""
[engine]
shutdown_grace = 1

[ftp.secure]
listen = ["127.0.0.1:0"]
root = "{setup['root']}"
accounts = "{setup['accounts']}"
tls_cert = "{pki['cert']}"
tls_key = "{pki['key']}"
require_tls = true
tls_timeout = 2
auth_delay_ms = 50
""")
    srv = start_server(argv=["serve", "--config", config], expect=1)
    s = control(srv.tcp)
    assert command(s, b"USER alice").startswith(b"530 This server requires TLS")
    s.close()
    ftp = tls_login(srv.tcp, pki)
    assert fetch(ftp, "hello.txt") == b"hello, ftp\n"
    ftp.quit()


@pytest.mark.parametrize("args,words", [
    (["--require-tls"], ["--require-tls needs TLS"]),
    (["--tls-cert", "/nonexistent.pem"], ["--tls-cert and --tls-key go together"]),
    (["--tls", "--plain-anonymous"], ["--plain-anonymous only makes sense with --require-tls"]),
    (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], ["/nonexistent.pem"]),
])
def test_bad_tls_options_are_one_line(sockit_bin, setup, args, words):
    r = run([sockit_bin, "ftp", "serve", "--listen", "127.0.0.1:0", "--root", setup["root"], *args])
    assert r.returncode != 0, describe(r)
    lines = [l for l in r.stderr.decode().splitlines() if l.strip() and not l.startswith("ts=")]
    assert len(lines) == 1 and lines[0].startswith("sockit: "), describe(r)
    for word in words:
        assert word in lines[0], describe(r)
