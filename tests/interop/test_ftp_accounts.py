"""Accounts: a real user (every permission, own root), a guest (a chosen
permission set, each denial a 550 with a reason), anonymous with an
upload-only incoming folder, and `sockit ftp passwd`."""

import ftplib
import io
import os
import subprocess

import pytest

from ftp_util import hash_password, login, make_tree, start_ftp, write_accounts
from interop_util import assert_one_line_error, rmtree, short_tempdir

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def password_hash(sockit_bin):
    return hash_password(sockit_bin, PASSWORD)


@pytest.fixture
def setup(password_hash):
    base = short_tempdir()
    pub = make_tree(base)
    alice = os.path.join(base, "alice")
    guest = os.path.join(base, "guest")
    os.makedirs(alice)
    os.makedirs(os.path.join(guest, "drop"))
    os.makedirs(os.path.join(pub, "incoming"))
    os.chmod(os.path.join(pub, "incoming"), 0o777)
    with open(os.path.join(guest, "readme.txt"), "wb") as f:
        f.write(b"for guests\n")
    accounts = write_accounts(os.path.join(base, "accounts.toml"), f"""
[anonymous]
incoming = "incoming"

[user.alice]
password = "{password_hash}"
root = "{alice}"

[user.visitor]
kind = "guest"
password = "{password_hash}"
root = "{guest}"
permissions = ["list", "read", "write"]
""")
    yield {"base": base, "pub": pub, "alice": alice, "guest": guest, "accounts": accounts}
    rmtree(base)


def fetch(ftp, name):
    out = io.BytesIO()
    ftp.retrbinary("RETR " + name, out.write)
    return out.getvalue()


def test_real_user_can_do_everything(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["pub"], "--accounts", setup["accounts"])
    ftp = login(srv.tcp, "alice", PASSWORD)
    ftp.mkd("dir")
    ftp.cwd("dir")
    ftp.storbinary("STOR a.txt", io.BytesIO(b"first\n"))
    ftp.storbinary("APPE a.txt", io.BytesIO(b"second\n"))
    assert fetch(ftp, "a.txt") == b"first\nsecond\n"
    ftp.rename("a.txt", "b.txt")
    assert ftp.nlst() == ["b.txt"]
    ftp.storbinary("STOR b.txt", io.BytesIO(b"replaced\n"))
    assert fetch(ftp, "b.txt") == b"replaced\n"
    ftp.delete("b.txt")
    ftp.cwd("/")
    ftp.rmd("dir")
    assert ftp.nlst() == []
    assert os.listdir(setup["alice"]) == []
    ftp.quit()


def test_stou_makes_a_fresh_name(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["pub"], "--accounts", setup["accounts"])
    ftp = login(srv.tcp, "alice", PASSWORD)
    ftp.storbinary("STOR up", io.BytesIO(b"one"))
    resp = ftp.storbinary("STOU up", io.BytesIO(b"two"))
    assert resp.startswith("226")
    names = sorted(ftp.nlst())
    assert len(names) == 2 and names[0] == "up" and names[1].startswith("up."), names
    ftp.quit()


def test_guest_permissions_are_enforced(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["pub"], "--accounts", setup["accounts"])
    ftp = login(srv.tcp, "visitor", PASSWORD)
    assert fetch(ftp, "readme.txt") == b"for guests\n"
    ftp.storbinary("STOR drop/new.txt", io.BytesIO(b"upload\n"))
    denials = {
        "DELE readme.txt": "delete",
        "RNFR readme.txt": "rename",
        "MKD newdir": "create directories",
        "RMD drop": "remove directories",
    }
    for cmd, reason in denials.items():
        with pytest.raises(ftplib.error_perm, match=f"550 Permission denied: guest accounts may not {reason}"):
            ftp.sendcmd(cmd)
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: guest accounts may not append"):
        ftp.storbinary("APPE readme.txt", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: guest accounts may not overwrite"):
        ftp.storbinary("STOR readme.txt", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550"):
        fetch(ftp, "../pub/root/hello.txt")
    ftp.quit()
    assert open(os.path.join(setup["guest"], "drop", "new.txt"), "rb").read() == b"upload\n"
    assert open(os.path.join(setup["guest"], "readme.txt"), "rb").read() == b"for guests\n"


def test_anonymous_incoming_is_upload_only(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["pub"], "--accounts", setup["accounts"])
    ftp = login(srv.tcp, "ftp", "me@example.com")
    ftp.storbinary("STOR incoming/gift.txt", io.BytesIO(b"gift\n"))
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.storbinary("STOR incoming/gift.txt", io.BytesIO(b"again\n"))  # no replacing
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.storbinary("STOR elsewhere.txt", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550.*upload-only"):
        ftp.nlst("incoming")
    with pytest.raises(ftplib.error_perm, match="550"):
        fetch(ftp, "incoming/gift.txt")
    ftp.cwd("incoming")
    with pytest.raises(ftplib.error_perm, match="550.*upload-only"):
        ftp.retrlines("LIST")
    ftp.quit()
    path = os.path.join(setup["pub"], "incoming", "gift.txt")
    assert open(path, "rb").read() == b"gift\n"
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_wrong_password_and_unknown_user_look_the_same(start_server, setup):
    srv = start_ftp(start_server, "--root", setup["pub"], "--accounts", setup["accounts"])
    answers = []
    for user, password in [("alice", "wrong"), ("nobody", PASSWORD)]:
        ftp = ftplib.FTP(timeout=20)
        ftp.connect(srv.tcp.host, srv.tcp.port)
        with pytest.raises(ftplib.error_perm) as e:
            ftp.login(user, password)
        answers.append(str(e.value))
        ftp.close()
    assert answers == ["530 Login incorrect."] * 2


def test_passwd_hash_and_errors(sockit_bin, sockdir):
    r = subprocess.run([sockit_bin, "ftp", "passwd"], input=b"", capture_output=True, timeout=30)
    assert r.returncode == 2
    assert_one_line_error(r.stderr, must_contain=["password"])
    bad = write_accounts(os.path.join(sockdir, "bad.toml"), '[user.bob]\npassword = "plain"\n')
    r = subprocess.run([sockit_bin, "ftp", "serve", "--root", sockdir, "--accounts", bad],
                       capture_output=True, timeout=30)
    assert r.returncode == 2
    assert_one_line_error(r.stderr, must_contain=["bad.toml:2", "argon2id", "sockit ftp passwd"])
    r = subprocess.run([sockit_bin, "ftp", "serve", "--root", os.path.join(sockdir, "missing")],
                       capture_output=True, timeout=30)
    assert r.returncode == 2
    assert_one_line_error(r.stderr, must_contain=["missing"])
