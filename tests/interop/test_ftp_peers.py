"""sockit ftp serve against the real clients: curl (list, get, put, resume
with -C -, delete with -Q) and lftp (mirror a tree down and up)."""

import filecmp
import os

import pytest

from ftp_util import hash_password, make_tree, start_ftp, write_accounts
from interop_util import describe, rmtree, run, short_tempdir

PASSWORD = "s3cret pass"


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


def url(srv, path="/", user="alice"):
    return f"ftp://{user}:{PASSWORD.replace(' ', '%20')}@{srv.tcp.host}:{srv.tcp.port}{path}"


def test_curl_list_get_put_resume_delete(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["root"], "--accounts", setup["accounts"])
    r = run(["curl", "-sS", url(srv)])
    assert r.returncode == 0, describe(r)
    names = [line.split()[-1] for line in r.stdout.splitlines()]  # curl turns CRLF into LF
    assert names == [b"hello.txt", b"sub"], describe(r)
    r = run(["curl", "-sS", "-l", url(srv, "/sub/")])
    assert r.returncode == 0 and r.stdout.split() == [b"deeper", b"inner.bin"], describe(r)
    r = run(["curl", "-sS", url(srv, "/hello.txt")])
    assert r.stdout == b"hello, ftp\n", describe(r)
    r = run(["curl", "-sS", "--ftp-port", "-", url(srv, "/hello.txt")])  # active mode (EPRT/PORT)
    assert r.stdout == b"hello, ftp\n", describe(r)
    big = os.path.join(setup["base"], "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(3 << 20))
    r = run(["curl", "-sS", "-T", big, url(srv, "/up/big.bin"), "--ftp-create-dirs"])
    assert r.returncode == 0, describe(r)
    assert filecmp.cmp(big, os.path.join(setup["root"], "up", "big.bin"), shallow=False)
    # Resume an upload: the server has the first MiB only.
    with open(os.path.join(setup["root"], "up", "big.bin"), "r+b") as f:
        f.truncate(1 << 20)
    r = run(["curl", "-sS", "-C", "-", "-T", big, url(srv, "/up/big.bin")])
    assert r.returncode == 0, describe(r)
    assert filecmp.cmp(big, os.path.join(setup["root"], "up", "big.bin"), shallow=False)
    # Resume a download: we have the first MiB only.
    part = os.path.join(setup["base"], "down.bin")
    with open(big, "rb") as src, open(part, "wb") as dst:
        dst.write(src.read(1 << 20))
    r = run(["curl", "-sS", "-C", "-", "-o", part, url(srv, "/up/big.bin")])
    assert r.returncode == 0, describe(r)
    assert filecmp.cmp(big, part, shallow=False)
    r = run(["curl", "-sS", "-Q", "DELE up/big.bin", url(srv, "/")])
    assert r.returncode == 0, describe(r)
    assert not os.path.exists(os.path.join(setup["root"], "up", "big.bin"))


def test_curl_anonymous_is_read_only(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["root"])
    r = run(["curl", "-sS", f"ftp://{srv.tcp.host}:{srv.tcp.port}/hello.txt"])
    assert r.stdout == b"hello, ftp\n", describe(r)
    r = run(["curl", "-sS", "-T", os.path.join(setup["root"], "hello.txt"),
             f"ftp://{srv.tcp.host}:{srv.tcp.port}/copy.txt"])
    assert r.returncode != 0 and b"550" in r.stderr, describe(r)


def test_lftp_mirror_down_and_up(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["root"], "--accounts", setup["accounts"])
    down = os.path.join(setup["base"], "down")
    up_src = os.path.join(setup["base"], "up_src")
    os.makedirs(os.path.join(up_src, "a", "b"))
    for i in range(20):
        with open(os.path.join(up_src, "a" if i % 2 else "a/b", f"f{i}.bin"), "wb") as f:
            f.write(os.urandom(1000 * i))
    script = (f"set net:max-retries 1; set net:timeout 10; set ftp:ssl-allow no; "
              f"open -u alice,'{PASSWORD}' -p {srv.tcp.port} {srv.tcp.host}; "
              f"mirror / {down}; mkdir -p /mirrored; mirror -R {up_src} /mirrored; bye")
    r = run(["lftp", "-c", script], timeout=120)
    assert r.returncode == 0, describe(r)
    assert not filecmp.dircmp(setup["root"], down).diff_files
    for dirpath, _, files in os.walk(setup["root"]):
        rel = os.path.relpath(dirpath, setup["root"])
        if rel.startswith("mirrored"):
            continue
        for name in files:
            assert filecmp.cmp(os.path.join(dirpath, name), os.path.join(down, rel, name), shallow=False)
    for dirpath, _, files in os.walk(up_src):
        rel = os.path.relpath(dirpath, up_src)
        for name in files:
            assert filecmp.cmp(os.path.join(dirpath, name),
                               os.path.join(setup["root"], "mirrored", rel, name), shallow=False)
