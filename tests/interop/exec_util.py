"""Helpers for the `sockit exec` interop tests (test_exec_*.py).

Fixtures defined here are imported by each test module
(`from exec_util import exec_server, exec_home`), so conftest.py stays as it is.

    def test_x(exec_server):
        srv = exec_server("--timeout", "5")        # a server on 127.0.0.1:0
        r = srv.client("echo", "hi")               # the sockit client, to completion
        assert r.returncode == 0 and r.stdout == b"hi\\n"
        with srv.session() as sock:                # frame_client socket, authenticated
            res = frame_client.run(sock, ["true"])

Every server and client gets HOME and XDG_STATE_HOME in a temporary
directory, so nothing is written to the real home (known_hosts, TLS pairs).
"""

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import time

import pytest

import frame_client
from interop_util import condense, is_sanitizer_report, rmtree, short_tempdir, wait_until

TOKEN = "interop-token-0123456789abcdefXYZ"  # >= 16 bytes
WRONG_TOKEN = "interop-token-0123456789abcdefXYW"
AUTH_DELAY_MS = "50"


def sockit_bin():
    return os.path.abspath(os.environ["SOCKIT_BIN"])


class ExecHome:
    """A temporary directory tree: server/ and client/ homes, files for tests."""

    def __init__(self, root):
        self.root = root
        self.server_home = os.path.join(root, "server-home")
        self.client_home = os.path.join(root, "client-home")
        for d in (self.server_home, self.client_home):
            os.makedirs(os.path.join(d, "state"), exist_ok=True)
        self.token_file = self.write("token", TOKEN + "\n")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, name, data, mode=0o600):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(p, mode)
        return p

    @property
    def known_hosts(self):
        return os.path.join(self.client_home, "state", "sockit", "known_hosts")

    def server_env(self, token=None):
        """The server's environment: no SOCKIT_TOKEN unless `token` is given."""
        env = {k: v for k, v in os.environ.items() if k != "SOCKIT_TOKEN"}
        env["HOME"] = self.server_home
        env["XDG_STATE_HOME"] = os.path.join(self.server_home, "state")
        if token is not None:
            env["SOCKIT_TOKEN"] = token
        return env

    def client_env(self, token=TOKEN, extra=None):
        """The client's environment: SOCKIT_TOKEN=token (None: unset)."""
        env = {k: v for k, v in os.environ.items() if k != "SOCKIT_TOKEN"}
        env["HOME"] = self.client_home
        env["XDG_STATE_HOME"] = os.path.join(self.client_home, "state")
        if token is not None:
            env["SOCKIT_TOKEN"] = token
        if extra:
            env.update(extra)
        return env


def check_no_sanitizer(stderr, who="client"):
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else (stderr or "")
    assert not is_sanitizer_report(text), f"sanitizer report in {who} stderr:\n{condense(text)}"


def client_argv(address, command=(), opts=()):
    argv = [sockit_bin(), "exec", *opts, address]
    if command:
        argv += ["--", *command]
    return argv


def run_client(home, address, *command, opts=(), input=b"", timeout=60.0, token=TOKEN, env=None,
               stdout=subprocess.PIPE, stdin=None):
    """`sockit exec [opts] ADDRESS -- COMMAND...` to completion (CompletedProcess, bytes).
    A client still running after `timeout` is killed and the test fails."""
    env = env if env is not None else home.client_env(token)
    kwargs = dict(stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=timeout)
    if stdin is not None:
        kwargs["stdin"] = stdin
    else:
        kwargs["input"] = input
    try:
        r = subprocess.run(client_argv(address, command, opts), **kwargs)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"sockit exec {list(command)} did not exit within {timeout}s "
                    f"(stdout={(e.stdout or b'')[-300:]!r} stderr={(e.stderr or b'')[-500:]!r})")
    check_no_sanitizer(r.stderr)
    return r


def popen_client(home, address, *command, opts=(), token=TOKEN, stdin=subprocess.DEVNULL, env=None,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE):
    env = env if env is not None else home.client_env(token)
    return subprocess.Popen(client_argv(address, command, opts), stdin=stdin, stdout=stdout,
                            stderr=stderr, env=env)


def finish(proc, timeout=30.0):
    """communicate() with a deadline; fails the test (killing the client) if it hangs."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"client did not exit within {timeout}s; stdout={out[-300:]!r} stderr={err[-500:]!r}")
    check_no_sanitizer(err)
    return out, err


class ExecServer:
    """A running `sockit exec serve` with the home it was given."""

    def __init__(self, server, home):
        self.server = server
        self.home = home

    @property
    def address(self):
        """What the client takes: 127.0.0.1:PORT or unix:/path."""
        a = self.server.addresses[0]
        return f"unix:{a.path}" if a.kind == "unix" else a.hostport

    @property
    def addr(self):
        return self.server.addresses[0]

    @property
    def pid(self):
        return self.server.pid

    def log(self):
        return self.server.stderr(full=True)

    def count(self, event):
        return len(re.findall(rf"event={event}\b", self.log()))

    def client(self, *command, **kwargs):
        return run_client(self.home, self.address, *command, **kwargs)

    def popen(self, *command, **kwargs):
        return popen_client(self.home, self.address, *command, **kwargs)

    def connect(self, timeout=10.0):
        """A plain socket to the server (no handshake)."""
        return frame_client.connect(self.addr, timeout=timeout)

    @contextlib.contextmanager
    def session(self, token=TOKEN, timeout=20.0):
        """A frame_client socket after HELLO + AUTH."""
        sock = self.connect(timeout)
        try:
            frame_client.handshake(sock, token)
            yield sock
        finally:
            sock.close()


@pytest.fixture
def exec_home():
    root = short_tempdir()
    yield ExecHome(root)
    rmtree(root)


@pytest.fixture
def exec_server(start_server, exec_home):
    """exec_server(*args, listen=..., token_file=..., env_token=..., ...) -> ExecServer.

    Adds --listen 127.0.0.1:0 (unless args have --listen), --token-file with
    TOKEN (unless token_via="env": then SOCKIT_TOKEN in its environment),
    --auth-delay-ms 50 and --shutdown-grace 1 unless given."""

    def start(*args, token=TOKEN, token_via="file", home=None):
        home = home or exec_home
        args = list(args)
        if "--listen" not in args:
            args = ["--listen", "127.0.0.1:0"] + args
        env_token = None
        if token_via == "file":
            if "--token-file" not in args:
                args += ["--token-file", home.write("server-token", token + "\n")]
        elif token_via == "env":
            env_token = token
        if "--auth-delay-ms" not in args:
            args += ["--auth-delay-ms", AUTH_DELAY_MS]
        if "--shutdown-grace" not in args:
            args += ["--shutdown-grace", "1"]
        expect = args.count("--listen")
        srv = start_server(*args, argv=["exec", "serve"], expect=expect, env=home.server_env(env_token))
        return ExecServer(srv, home)

    return start


def run_server_to_exit(home, *args, env_token=None, timeout=20.0):
    """`sockit exec serve ARGS` expected to refuse to start: CompletedProcess."""
    r = subprocess.run([sockit_bin(), "exec", "serve", *args, "--print-address"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=home.server_env(env_token),
                       timeout=timeout)
    check_no_sanitizer(r.stderr, "server")
    return r


# ------------------------------------------------------------ processes

def pids_with(marker):
    """Pids (other than ours) whose command line contains `marker`."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state == b"Z":  # a zombie is dead; its parent just has not reaped it yet
            continue
        if marker.encode() in cmdline:
            found.append((int(entry), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


def remote_pids(marker, exclude=()):
    return [p for p in pids_with(marker) if p[0] not in exclude]


def unique_marker():
    """A sleep duration that is unique to this call: `sleep MARKER` carries it
    on the sleeping process's own command line."""
    return f"300.{os.getpid()}{time.monotonic_ns() % 10_000_000:07d}"


def assert_gone(marker, timeout=5.0, exclude=()):
    ok = wait_until(lambda: not remote_pids(marker, exclude), timeout, interval=0.1)
    assert ok, f"processes with {marker!r} still alive after {timeout}s: {remote_pids(marker, exclude)}"


def kill_marker(marker):
    """Cleanup for a failed test: SIGKILL what a test left behind (by pid)."""
    for pid, _ in pids_with(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def server_children(pid):
    """(pid, state, command line) of every process whose parent is `pid`."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append((int(entry), fields[0], cmdline))
    return kids


def kill_children(pid):
    """Cleanup for a failed test: SIGKILL what the server `pid` left running."""
    for child, _, _ in server_children(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_random_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 << 20)
            f.write(os.urandom(n))
            left -= n
    return path


def exit_line(stderr):
    """The client's 'sockit: remote command killed: ...' line, if any."""
    text = stderr.decode(errors="replace")
    return [l for l in text.splitlines() if l.startswith("sockit:")]
