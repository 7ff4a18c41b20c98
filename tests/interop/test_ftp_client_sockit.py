"""sockit ftp against sockit's own FTP server (`sockit ftp serve` with an
accounts file): every shell command through -e, the exit status at the
first failure (and nothing run after it), a put then get round trip byte
for byte in passive and in active mode (IPv4, IPv6, and over FTPS with
--require-tls), and a session the server dropped made again."""

import os

import pytest

from ftp_client_util import ftp, one_line_error
from ftp_util import hash_password, make_tree, start_ftp, write_accounts
from interop_util import rmtree, short_tempdir

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def password_hash(sockit_bin):
    return hash_password(sockit_bin, PASSWORD)


@pytest.fixture
def setup(start_server, password_hash):
    base = short_tempdir()
    pub = make_tree(base)
    alice = os.path.join(base, "alice")
    os.makedirs(os.path.join(alice, "docs"))
    with open(os.path.join(alice, "docs", "one.txt"), "wb") as f:
        f.write(b"one\n")
    with open(os.path.join(alice, "docs", "two.txt"), "wb") as f:
        f.write(b"two\n" * 100)
    with open(os.path.join(alice, "docs", "three.bin"), "wb") as f:
        f.write(b"\x00\x01\x02")
    accounts = write_accounts(os.path.join(base, "accounts.toml"), f"""
[user.alice]
password = "{password_hash}"
root = "{alice}"
""")
    server = start_ftp(start_server, "--root", pub, "--accounts", accounts)
    port = server.addresses[0].port
    yield {"base": base, "pub": pub, "alice": alice, "port": port,
           "url": f"ftp://alice:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/",
           "anon": f"ftp://127.0.0.1:{port}/"}
    rmtree(base)


def alice_file(setup, *parts):
    with open(os.path.join(setup["alice"], *parts), "rb") as f:
        return f.read()


def test_every_command(setup, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    (local / "up.bin").write_bytes(os.urandom(300_000))
    (local / "m1.up").write_bytes(b"m1\n")
    (local / "m2.up").write_bytes(b"m2\n")
    (local / "text.txt").write_bytes(b"line 1\nline 2\n")
    script = "; ".join([
        "help", "help get", "status", "features", "pwd", "lpwd",
        "ls", "dir docs", "nlist docs",
        "cd docs", "pwd", "cdup", "pwd",
        "mkdir new", "cd new", "put up.bin", "size up.bin", "modtime up.bin",
        "get up.bin back.bin", "reget up.bin back.bin",
        "append text.txt up.bin", "size up.bin",
        "reput up.bin up2.bin",
        "mput *.up", "nlist",
        "rename m1.up renamed.up", "delete m2.up",
        "lcd sub", "mget ../docs/*.txt", "lcd ..",
        "passive", "passive on", "ascii", "put text.txt text-a.txt", "get text-a.txt text-back.txt", "binary",
        "quote NOOP", "verbose", "verbose off",
        "close", "status", f"open -n 127.0.0.1:{setup['port']}", "user alice '" + PASSWORD + "'", "pwd",
        "bye", "pwd",
    ])
    (local / "sub").mkdir()
    r = ftp(setup["url"], "-e", script, cwd=local)
    assert r.rc == 0, r
    out = r.stdout.decode()
    assert "mget PATTERN..." in out and "get [-c] REMOTE [LOCAL]" in out  # help
    assert "Connected to 127.0.0.1:" in out and "as alice" in out  # status
    assert "EPSV" in out and "SIZE" in out  # features
    lines = out.splitlines()
    assert lines.count("/") >= 2 and "/docs" in lines
    assert str(local) in lines  # lpwd
    assert any(line.endswith(" docs") for line in lines)  # ls
    assert "one.txt" in lines and "three.bin" in lines  # nlist docs
    assert "300000" in lines and str(300_000 + len(b"line 1\nline 2\n")) in lines  # size before/after append
    assert any(line.endswith(" UTC") for line in lines)  # modtime
    assert "200 NOOP ok." in out or any(line.startswith("200 ") for line in lines)  # quote
    assert "Not connected." in lines  # status after close
    assert lines[-1] == "/"  # pwd after the second login; nothing after bye

    up = (local / "up.bin").read_bytes()
    assert (local / "back.bin").read_bytes() == up
    assert alice_file(setup, "new", "up.bin") == up + b"line 1\nline 2\n"
    assert alice_file(setup, "new", "up2.bin") == up
    assert alice_file(setup, "new", "renamed.up") == b"m1\n"
    assert not os.path.exists(os.path.join(setup["alice"], "new", "m2.up"))
    assert sorted(os.listdir(local / "sub")) == ["one.txt", "two.txt"]
    assert (local / "sub" / "two.txt").read_bytes() == b"two\n" * 100
    assert (local / "text-back.txt").read_bytes() == b"line 1\nline 2\n"

    r = ftp(setup["url"], "-e", "rmdir docs2; mkdir docs2; rmdir docs2; ls")
    assert r.rc == 1, r  # the first rmdir: no such folder
    r = ftp(setup["url"], "-e", "mkdir docs2; rmdir docs2; nlist")
    assert r.rc == 0 and sorted(r.stdout.decode().split()) == ["docs", "new"], r


def test_the_first_failure_ends_the_script(setup):
    r = ftp(setup["url"], "-e", "pwd; cd nowhere; pwd")
    assert r.rc == 1, r
    assert r.stdout == b"/\n"  # the pwd after the failure did not run
    line = one_line_error(r)
    assert "cd nowhere" in line and "550" in line, line

    r = ftp(setup["url"], "-e", "pwd; frobnicate; pwd")
    assert r.rc == 2 and "unknown command 'frobnicate'" in one_line_error(r), r
    assert r.stdout == b"/\n"
    for leave in ("bye", "quit", "exit"):
        r = ftp(setup["url"], "-e", f"pwd; {leave}; pwd")
        assert (r.rc, r.stdout, r.stderr) == (0, b"/\n", b""), r
    r = ftp(setup["url"], "-e", "get")
    assert r.rc == 2 and "usage: get" in one_line_error(r), r
    r = ftp(setup["url"], "-e", "get 'unclosed")
    assert r.rc == 2 and "unclosed" in one_line_error(r), r
    r = ftp("-e", "ls")
    assert r.rc == 1 and "not connected" in one_line_error(r), r
    r = ftp(f"ftp://alice:wrong@127.0.0.1:{setup['port']}/", "-e", "ls")
    assert r.rc == 1 and "530" in one_line_error(r), r
    # No password in the URL and no terminal to ask on.
    r = ftp(f"ftp://alice@127.0.0.1:{setup['port']}/", "-e", "ls")
    assert r.rc == 2 and "no password" in one_line_error(r), r
    r = ftp(setup["anon"], "-e", "ls")  # the accounts file has no [anonymous]
    assert r.rc == 1 and "530" in one_line_error(r), r


@pytest.mark.parametrize("mode", ["passive", "active"])
def test_round_trip(setup, tmp_path, mode):
    data = os.urandom(5 * 1024 * 1024 + 11)
    (tmp_path / "data.bin").write_bytes(data)
    flags = ["--active"] if mode == "active" else []
    r = ftp(*flags, "-v", setup["url"], "-e", "put data.bin; get data.bin copy.bin", cwd=tmp_path)
    assert r.rc == 0, r
    assert "> EPRT |1|127.0.0.1|" in r.err() if mode == "active" else "> EPSV" in r.err(), r
    assert alice_file(setup, "data.bin") == data
    assert (tmp_path / "copy.bin").read_bytes() == data


def test_ipv6_passive_and_active(start_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    data = os.urandom(700_000)
    (root / "six.bin").write_bytes(data)
    (root / "six.bin").chmod(0o644)
    server = start_ftp(start_server, "--listen", "[::1]:0", "--root", str(root))
    url = f"ftp://[::1]:{server.addresses[0].port}/"
    for flags in ([], ["--active"]):
        r = ftp(*flags, "-v", url, "-e", "get six.bin -")
        assert (r.rc, r.stdout) == (0, data), r
        assert ("> EPRT |2|::1|" if flags else "> EPSV") in r.err(), r


def test_a_dropped_connection_is_made_again(start_server, tmp_path, password_hash):
    """Commands read from a pipe (no terminal); the server drops the idle
    session between two of them: the next command logs in again, back in
    the same directory."""
    import subprocess
    import time
    alice = tmp_path / "alice"
    (alice / "sub").mkdir(parents=True)
    (alice / "sub" / "x.txt").write_bytes(b"x\n")
    accounts = write_accounts(str(tmp_path / "accounts.toml"),
                              f'[user.alice]\npassword = "{password_hash}"\nroot = "{alice}"\n')
    server = start_ftp(start_server, "--root", str(alice), "--accounts", accounts, "--idle-timeout", "0.5")
    url = f"ftp://alice:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{server.addresses[0].port}/"
    proc = subprocess.Popen([os.environ["SOCKIT_BIN"], "ftp", url], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"cd sub\n")
        proc.stdin.flush()
        time.sleep(2)  # the server closes the idle session meanwhile
        out, err = proc.communicate(b"pwd\nget x.txt -\nbye\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == b"/sub\nx\n", (out, err)


@pytest.mark.parametrize("mode", ["passive", "active"])
def test_ftps_against_sockit_serve(start_server, tmp_path, password_hash, mode):
    """Explicit FTPS end to end: sockit ftp serve --require-tls with a
    certificate from a CA the test makes, the client checking it."""
    from get_util import get, make_ca
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, crt, key = make_ca(str(certs), names=("localhost",), ips=("127.0.0.1",))
    alice = tmp_path / "alice"
    alice.mkdir()
    accounts = write_accounts(str(tmp_path / "accounts.toml"),
                              f'[user.alice]\npassword = "{password_hash}"\nroot = "{alice}"\n')
    server = start_ftp(start_server, "--root", str(alice), "--accounts", accounts, "--tls-cert", crt,
                       "--tls-key", key, "--require-tls")
    port = server.addresses[0].port
    url = f"ftp://alice:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/"
    data = os.urandom(3 * 1024 * 1024 + 5)
    (tmp_path / "data.bin").write_bytes(data)
    flags = ["--active"] if mode == "active" else []
    r = ftp(*flags, "--tls", "--cacert", ca, url, "-e", "put data.bin; ls; get data.bin copy.bin; status",
            cwd=tmp_path)
    assert r.rc == 0, r
    assert "over TLS" in r.stdout.decode() and "data.bin" in r.stdout.decode(), r
    assert (alice / "data.bin").read_bytes() == data
    assert (tmp_path / "copy.bin").read_bytes() == data
    r = get("--ssl-reqd", "--cacert", ca, "-u", f"alice:{PASSWORD}", f"ftp://127.0.0.1:{port}/data.bin")
    assert (r.rc, r.stdout) == (0, data), r
    r = ftp(*flags, url, "-e", "ls")  # in clear: refused
    assert r.rc == 1 and "530" in one_line_error(r), r
