"""sockit exec over TLS: self-signed pairs with pinning and trust on first
use, certificates made by openssl, a CA (--cacert), plain/TLS mismatches."""

import hashlib
import os
import re
import subprocess

from exec_util import (  # noqa: F401  (fixtures)
    exec_home, exec_server, run_client, run_server_to_exit, write_random_file, sha256_file,
)
from interop_util import assert_one_line_error



def openssl(*args, cwd=None):
    r = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=60)
    assert r.returncode == 0, f"openssl {args}: {r.stderr.decode()}"
    return r.stdout.decode()


def fingerprint(cert):
    out = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", cert)
    return out.strip().split("=", 1)[1].upper()


def logged_fingerprint(srv):
    m = re.search(r"event=tls .*fingerprint=([0-9A-F:]+)", srv.log())
    assert m, srv.log()
    return m.group(1)


def self_signed(home, name, cn="test", san="IP:127.0.0.1,DNS:localhost"):
    key, cert = home.path(f"{name}.key"), home.path(f"{name}.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
            "-addext", f"subjectAltName={san}")
    return cert, key


def make_ca(home):
    key, cert = home.path("ca.key"), home.path("ca.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=sockit interop test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert, key


def signed_by(home, ca, name, san):
    ca_cert, ca_key = ca
    key, csr, cert = home.path(f"{name}.key"), home.path(f"{name}.csr"), home.path(f"{name}.pem")
    ext = home.write(f"{name}.ext", f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                                    "extendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)
    return cert, key


def tls_dir_server(exec_server, exec_home, name="tls", *args):
    d = exec_home.path(name)
    srv = exec_server("--tls-self-signed", "--tls-dir", d, *args)
    return srv, os.path.join(d, "cert.pem")


def assert_no_auth_attempt(srv):
    log = srv.log()
    assert "event=auth_failed" not in log and "event=authenticated" not in log and "event=run" not in log, \
        log[-2000:]


# ------------------------------------------------------------------ self-signed + pinning

def test_pinned_fingerprint(exec_server, exec_home):
    srv, cert = tls_dir_server(exec_server, exec_home)
    fp = fingerprint(cert)
    assert logged_fingerprint(srv) == fp
    r = srv.client("echo", "pinned", opts=["--fingerprint", fp])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"pinned\n"
    assert r.stderr == b""
    # hex without colons, lower case
    r = srv.client("echo", "again", opts=["--fingerprint", fp.replace(":", "").lower()])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"again\n"
    # pinning writes nothing to known_hosts
    assert not os.path.exists(exec_home.known_hosts)


def test_wrong_pinned_fingerprint_never_sends_the_token(exec_server, exec_home):
    srv, cert = tls_dir_server(exec_server, exec_home)
    fp = fingerprint(cert)
    wrong = ("00" if not fp.startswith("00") else "11") + fp[2:]
    r = srv.client("echo", "never", opts=["--fingerprint", wrong])
    assert r.returncode == 255
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=("fingerprint",))
    assert_no_auth_attempt(srv)


def test_malformed_fingerprint_is_a_usage_error(exec_server, exec_home):
    srv, _ = tls_dir_server(exec_server, exec_home)
    r = srv.client("true", opts=["--fingerprint", "AB:CD"])
    assert r.returncode == 2
    assert_one_line_error(r.stderr, must_contain=("fingerprint",))
    assert_no_auth_attempt(srv)


def test_trust_on_first_use_then_changed(exec_server, exec_home):
    srv, cert = tls_dir_server(exec_server, exec_home)
    fp = fingerprint(cert)
    r = srv.client("echo", "first", opts=["--tls"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"first\n"
    assert fp in r.stderr.decode()  # says what it trusted
    with open(exec_home.known_hosts) as f:
        lines = [l.split() for l in f if l.strip()]
    assert lines == [[srv.address, fp]]
    # known now: silent
    r = srv.client("echo", "second", opts=["--tls"])
    assert (r.returncode, r.stdout, r.stderr) == (0, b"second\n", b"")
    # someone else's key: refused, the token not sent
    other = "AA:" * 31 + "AA"
    with open(exec_home.known_hosts, "w") as f:
        f.write(f"{srv.address} {other}\n")
    before = srv.count("authenticated")
    r = srv.client("echo", "never", opts=["--tls"])
    assert r.returncode == 255
    assert r.stdout == b""
    line = assert_one_line_error(r.stderr, must_contain=("CHANGED",))
    assert fp in line and other in line
    assert srv.count("authenticated") == before
    assert "auth_failed" not in srv.log()
    # the file is left as it was
    with open(exec_home.known_hosts) as f:
        assert f.read() == f"{srv.address} {other}\n"


def test_known_hosts_option(exec_server, exec_home):
    srv, cert = tls_dir_server(exec_server, exec_home)
    kh = exec_home.path("my", "kh")
    r = srv.client("true", opts=["--tls", "--known-hosts", kh])
    assert r.returncode == 0, r.stderr
    with open(kh) as f:
        assert f.read().split() == [srv.address, fingerprint(cert)]
    assert not os.path.exists(exec_home.known_hosts)


def test_self_signed_pair_is_kept_across_restarts(exec_server, exec_home):
    d = exec_home.path("kept")
    srv1 = exec_server("--tls-self-signed", "--tls-dir", d)
    fp1 = logged_fingerprint(srv1)
    assert fingerprint(os.path.join(d, "cert.pem")) == fp1
    assert os.stat(os.path.join(d, "key.pem")).st_mode & 0o077 == 0, "private key readable by others"
    assert srv1.server.stop() == 0
    srv2 = exec_server("--tls-self-signed", "--tls-dir", d)
    assert logged_fingerprint(srv2) == fp1
    r = srv2.client("echo", "same-key", opts=["--fingerprint", fp1])
    assert r.returncode == 0, r.stderr
    # a different directory: a different key
    srv3, cert3 = tls_dir_server(exec_server, exec_home, "other")
    assert logged_fingerprint(srv3) != fp1


def test_default_tls_dir_is_under_xdg_state_home(exec_server, exec_home):
    srv = exec_server("--tls-self-signed")
    cert = os.path.join(exec_home.server_home, "state", "sockit", "exec-tls", "cert.pem")
    assert os.path.exists(cert)
    r = srv.client("true", opts=["--fingerprint", fingerprint(cert)])
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ given certificates

def test_tls_cert_and_key_from_openssl(exec_server, exec_home):
    cert, key = self_signed(exec_home, "given")
    srv = exec_server("--tls-cert", cert, "--tls-key", key)
    fp = fingerprint(cert)
    assert logged_fingerprint(srv) == fp
    r = srv.client("echo", "given", opts=["--fingerprint", fp])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"given\n"


def test_cacert(exec_server, exec_home):
    ca = make_ca(exec_home)
    cert, key = signed_by(exec_home, ca, "server", "IP:127.0.0.1,DNS:localhost")
    srv = exec_server("--tls-cert", cert, "--tls-key", key)
    r = srv.client("echo", "verified", opts=["--cacert", ca[0]])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"verified\n"
    assert not os.path.exists(exec_home.known_hosts)


def test_cacert_against_a_self_signed_server_fails(exec_server, exec_home):
    ca = make_ca(exec_home)
    srv, _ = tls_dir_server(exec_server, exec_home)
    r = srv.client("echo", "never", opts=["--cacert", ca[0]])
    assert r.returncode == 255
    assert r.stdout == b""
    assert_one_line_error(r.stderr)
    assert_no_auth_attempt(srv)


def test_cacert_with_a_certificate_for_another_name_fails(exec_server, exec_home):
    ca = make_ca(exec_home)
    cert, key = signed_by(exec_home, ca, "elsewhere", "DNS:elsewhere.example")
    srv = exec_server("--tls-cert", cert, "--tls-key", key)
    r = srv.client("echo", "never", opts=["--cacert", ca[0]])
    assert r.returncode == 255, r.stderr
    assert_one_line_error(r.stderr)
    assert_no_auth_attempt(srv)


def test_server_refuses_bad_tls_options(exec_home):
    cert, key = self_signed(exec_home, "opt")
    for args in (["--tls-cert", cert],
                 ["--tls-key", key],
                 ["--tls-cert", cert, "--tls-key", key, "--tls-self-signed"]):
        r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--token-file", exec_home.token_file, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stdout == b""
        assert_one_line_error(r.stderr, allow_logs=True)
    # a file that cannot be used: a start-up failure (1, like a port in use) or 2
    missing = exec_home.path("missing.pem")
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--token-file", exec_home.token_file,
                           "--tls-cert", missing, "--tls-key", key)
    assert r.returncode in (1, 2), r.stderr
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=(missing,), allow_logs=True)
    # a key that does not belong to the certificate
    other_cert, _ = self_signed(exec_home, "other")
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--token-file", exec_home.token_file,
                           "--tls-cert", other_cert, "--tls-key", key)
    assert r.returncode in (1, 2), r.stderr
    assert r.stdout == b""
    assert_one_line_error(r.stderr, allow_logs=True)


# ------------------------------------------------------------------ mismatches

def test_plain_client_against_tls_server(exec_server, exec_home):
    srv, _ = tls_dir_server(exec_server, exec_home)
    r = srv.client("echo", "never", timeout=30)
    assert r.returncode == 255
    assert r.stdout == b""
    assert_one_line_error(r.stderr)
    assert_no_auth_attempt(srv)


def test_tls_client_against_plain_server(exec_server):
    srv = exec_server()
    r = srv.client("echo", "never", opts=["--tls"], timeout=30)
    assert r.returncode == 255
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=("TLS",))
    assert "event=authenticated" not in srv.log()


# ------------------------------------------------------------------ TLS off loopback, data

def test_tls_allows_a_non_loopback_address(exec_server, exec_home):
    d = exec_home.path("any")
    srv = exec_server("--listen", "0.0.0.0:0", "--tls-self-signed", "--tls-dir", d)
    port = srv.addr.port
    r = run_client(exec_home, f"127.0.0.1:{port}", "echo", "anywhere",
                   opts=["--fingerprint", fingerprint(os.path.join(d, "cert.pem"))])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"anywhere\n"


def test_bulk_data_over_tls(exec_server, exec_home):
    srv, cert = tls_dir_server(exec_server, exec_home)
    fp = fingerprint(cert)
    src = write_random_file(exec_home.path("tls-big"), 20 * 1024 * 1024)
    out = exec_home.path("tls-big.out")
    with open(out, "wb") as f:
        r = srv.client("cat", src, opts=["--fingerprint", fp], stdout=f, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sha256_file(out) == sha256_file(src)
    data = os.urandom(3 * 1024 * 1024)
    r = srv.client("sha256sum", opts=["--fingerprint", fp], input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_exit_status_and_stderr_over_tls(exec_server, exec_home):
    srv, cert = tls_dir_server(exec_server, exec_home)
    r = srv.client("echo oops >&2; exit 9", opts=["--fingerprint", fingerprint(cert)])
    assert r.returncode == 9
    assert r.stderr == b"oops\n"
