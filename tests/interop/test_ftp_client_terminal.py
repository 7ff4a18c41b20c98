"""sockit ftp at a terminal (a pty): the libedit prompt, a command and its
output, the up arrow recalling the last command (kept in the history file),
a progress bar while a get runs, a password asked for without echo, and bye
ending it with exit status 0."""

import os
import pty
import re

from ftp_util import hash_password, start_ftp, write_accounts
from interop_util import read_pty



def spawn(sockit_bin, args, home, cwd):
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        env = {k: v for k, v in os.environ.items() if k != "XDG_STATE_HOME"}
        env["HOME"] = home  # the history goes here
        env["TERM"] = "xterm"
        os.execve(sockit_bin, [sockit_bin, "ftp", *args], env)
    return pid, fd


def finish(pid, fd):
    os.write(fd, b"bye\r")
    read_pty(fd, r"$^", timeout=5)  # drain until it closes
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status)


def test_prompt_history_and_progress(sockit_bin, start_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    big = os.urandom(1 << 20) * 48
    (root / "big.bin").write_bytes(big)
    (root / "big.bin").chmod(0o644)
    server = start_ftp(start_server, "--root", str(root))
    home, down = tmp_path / "home", tmp_path / "down"
    home.mkdir()
    down.mkdir()
    pid, fd = spawn(sockit_bin, [f"ftp://127.0.0.1:{server.addresses[0].port}/"], str(home), str(down))
    try:
        banner = read_pty(fd, r"ftp> $")
        assert "Connected to 127.0.0.1:" in banner and "Logged in as anonymous." in banner, banner
        os.write(fd, b"pwd\r")
        shown = read_pty(fd, r"\r?\n/\r?\nftp> $")
        assert re.search(r"pwd\r?\n/\r?\nftp> $", shown), shown
        os.write(fd, b"\x1b[A")  # up arrow: the last line comes back for editing
        assert "pwd" in read_pty(fd, r"pwd")
        os.write(fd, b"\r")
        assert re.search(r"/\r?\nftp> $", read_pty(fd, r"/\r?\nftp> $")), "the recalled pwd ran"
        os.write(fd, b"get big.bin\r")
        shown = read_pty(fd, r"received big\.bin: .*\r?\nftp> $", timeout=60)
        assert "\r" in shown and "big.bin" in shown and "%" in shown and "/s" in shown, shown
        assert re.search(r"received big\.bin: 50331648 bytes in ", shown), shown
        pid, status = 0, finish(pid, fd)
        assert status == 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(fd)
    assert (down / "big.bin").read_bytes() == big
    # libedit's history file, with blanks written as \040.
    history = (home / ".local/state/sockit/history-ftp").read_text().replace("\\040", " ").splitlines()
    assert history[1:] == ["pwd", "pwd", "get big.bin", "bye"], history


def test_password_is_asked_without_echo(sockit_bin, start_server, tmp_path):
    root = tmp_path / "alice"
    root.mkdir()
    (root / "note.txt").write_bytes(b"for alice\n")
    accounts = write_accounts(str(tmp_path / "accounts.toml"), f"""
[user.alice]
password = "{hash_password(sockit_bin, 's3cret word')}"
root = "{root}"
""")
    server = start_ftp(start_server, "--root", str(root), "--accounts", accounts)
    home = tmp_path / "home"
    home.mkdir()
    url = f"ftp://alice@127.0.0.1:{server.addresses[0].port}/"
    pid, fd = spawn(sockit_bin, [url], str(home), str(tmp_path))
    try:
        asked = read_pty(fd, r"Password for alice@127\.0\.0\.1: $")
        assert asked.endswith("Password for alice@127.0.0.1: "), asked
        os.write(fd, b"s3cret word\r")
        shown = read_pty(fd, r"ftp> $")
        assert "Logged in as alice." in shown and "s3cret" not in shown, shown
        os.write(fd, b"get note.txt -\r")
        assert "for alice" in read_pty(fd, r"for alice\r?\n")
        pid, status = 0, finish(pid, fd)
        assert status == 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(fd)
