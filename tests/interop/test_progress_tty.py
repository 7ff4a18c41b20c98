"""The progress bar of `sockit send`/`recv`: drawn on a terminal (current
file, percent, rate, ETA), absent when stderr is a pipe (one summary line
only), and absent with --quiet even on a terminal."""

import os
import pty
import select
import subprocess
import time

from interop_util import Server


def run_on_pty(argv, timeout=60):
    """Runs argv with stdout and stderr on a new pseudo-terminal; returns
    (exit status, everything written)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=10), out.decode("utf-8", "replace")


def receiver(sockit_bin, dest, request):
    server = Server([sockit_bin, "recv", "--listen", "127.0.0.1:0", "--print-address", "--dir", str(dest)],
                    expect=1)
    request.addfinalizer(server.kill)
    return server


def big_file(tmp_path, mib=64):
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.write(os.urandom(1 << 20) * mib)
    return path


def test_terminal_shows_percent_rate_and_eta(sockit_bin, tmp_path, request):
    src = big_file(tmp_path)
    server = receiver(sockit_bin, tmp_path / "in", request)
    status, out = run_on_pty([sockit_bin, "send", server.addresses[0].hostport, str(src)])
    assert status == 0, out
    assert server.wait(30) == 0
    assert "\r" in out and "big.bin" in out, out
    assert "%" in out and "/s" in out and "ETA" in out, out
    assert "sent 1 file" in out
    assert (tmp_path / "in/big.bin").read_bytes() == src.read_bytes()


def test_pipe_gets_only_the_summary(sockit_bin, tmp_path, request):
    src = big_file(tmp_path, mib=8)
    server = receiver(sockit_bin, tmp_path / "in", request)
    done = subprocess.run([sockit_bin, "send", server.addresses[0].hostport, str(src)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert server.wait(30) == 0
    assert "\r" not in done.stderr and "ETA" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line
    assert done.stderr.startswith("sockit: sent 1 file, 8.0 MiB in ")


def test_quiet_terminal_stays_silent(sockit_bin, tmp_path, request):
    src = big_file(tmp_path, mib=8)
    server = receiver(sockit_bin, tmp_path / "in", request)
    status, out = run_on_pty([sockit_bin, "send", "-q", server.addresses[0].hostport, str(src)])
    assert status == 0
    assert server.wait(30) == 0
    assert out == ""
