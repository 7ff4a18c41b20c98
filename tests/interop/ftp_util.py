"""Helpers for the FTP interop tests: start `sockit ftp serve` on a fresh
tree, log in with ftplib, hash passwords with `sockit ftp passwd`."""

import ftplib
import io
import os
import subprocess

from interop_util import connect, recv_until, short_tempdir

# Short limits so the tests that wait for them stay quick.
FAST = ["--auth-delay-ms", "50", "--shutdown-grace", "2", "--accept-timeout", "3"]


def make_tree(base):
    """root/ with files, a subdirectory and a secret outside it."""
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "sub", "deeper"))
    with open(os.path.join(root, "hello.txt"), "wb") as f:
        f.write(b"hello, ftp\n")
    with open(os.path.join(root, "sub", "inner.bin"), "wb") as f:
        f.write(os.urandom(100_000))
    with open(os.path.join(root, "sub", "deeper", "x.txt"), "wb") as f:
        f.write(b"deep\n")
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(b"outside the root\n")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return root


def start_ftp(start_server, *args):
    """Starts sockit ftp serve with the given args (FAST limits unless
    given); returns the Server."""
    argv = ["ftp", "serve"]
    listen = [a for a in args if a == "--listen"]
    if not listen:
        args = ("--listen", "127.0.0.1:0") + tuple(args)
    extra = []
    for i in range(0, len(FAST), 2):  # the test's own value wins
        if FAST[i] not in args:
            extra += FAST[i:i + 2]
    return start_server(*(tuple(args) + tuple(extra)), argv=argv, expect=args.count("--listen"))


def login(addr, user="anonymous", password="guest@example.com", timeout=10, source=None):
    ftp = ftplib.FTP(timeout=timeout, source_address=source)
    ftp.connect(addr.host, addr.port)
    ftp.login(user, password)
    return ftp


def hash_password(sockit_bin, password):
    r = subprocess.run([sockit_bin, "ftp", "passwd"], input=(password + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr
    line = r.stdout.decode().strip()
    assert line.startswith("$argon2id$"), line
    return line


def write_accounts(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def fresh_dir():
    return short_tempdir()


def fetch(ftp, name, rest=None):
    """RETR `name` (from `rest`) with ftplib: the bytes."""
    out = io.BytesIO()
    ftp.retrbinary("RETR " + name, out.write, rest=rest)
    return out.getvalue()


def control(addr):
    """A raw control connection after the 220 banner."""
    s = connect(addr)
    assert recv_until(s, b"\r\n").startswith(b"220")
    return s


def command(s, line):
    """One raw command line; its first reply line."""
    s.sendall(line + b"\r\n")
    return recv_until(s, b"\r\n")
