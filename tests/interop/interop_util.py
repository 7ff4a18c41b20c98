"""Helpers shared by the interop tests: start/stop a sockit server, parse the
addresses it prints, talk to it over plain sockets, run real peers.

Everything binds port 0 (or a fresh temporary directory for Unix sockets)
so test files can run in parallel without sharing state.
"""

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
)

# How long a sanitizer build may take to print its addresses / to exit.
START_TIMEOUT = 20.0
EXIT_MARGIN = 15.0

_ADDR_RE = re.compile(
    r"^(?P<kind>tcp|udp)://(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<v4>\d{1,3}(?:\.\d{1,3}){3})):(?P<port>\d{1,5})$"
    r"|^unix:(?P<path>/.+)$"
)


class Address:
    """One line of `--print-address` output."""

    def __init__(self, text):
        m = _ADDR_RE.match(text)
        if not m:
            raise ValueError(f"not a sockit address line: {text!r}")
        self.text = text
        if m.group("path"):
            self.kind, self.host, self.port, self.path = "unix", None, None, m.group("path")
        else:
            self.kind = m.group("kind")
            self.host = m.group("v6") or m.group("v4")
            self.port = int(m.group("port"))
            self.path = None

    @property
    def family(self):
        if self.kind == "unix":
            return socket.AF_UNIX
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    @property
    def sockaddr(self):
        return self.path if self.kind == "unix" else (self.host, self.port)

    @property
    def hostport(self):
        """host:port as socat/nc/sockit want it (v6 in brackets)."""
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"{h}:{self.port}"

    def __repr__(self):
        return self.text


def is_sanitizer_report(text):
    return any(m in text for m in SANITIZER_MARKERS)


def condense(text, frames=8, limit=6000):
    """Shorten sanitizer reports for assertion messages: keep the first few
    frames of each stack, the SUMMARY line, and drop the shadow-byte dump."""
    out, depth = [], 0
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#"):
            depth += 1
            if depth <= frames:
                out.append(line)
            elif depth == frames + 1:
                out.append("    ...")
            continue
        depth = 0
        if stripped.startswith(("Shadow byte", "0x0")) or stripped[:2] in ("=>",) \
                or "redzone" in stripped or stripped.startswith(("Addressable", "Partially",
                "Heap left", "Freed heap", "Stack ", "Global ", "Poisoned", "Container",
                "Array cookie", "Intra object", "ASan internal", "Right alloca", "Left alloca",
                "Heap right", "Global init", "Stack use", "Stack after")):
            continue
        out.append(line)
    text = "\n".join(out)
    return text if len(text) <= limit else text[:limit] + "\n...(truncated)"


class Server:
    """A running `sockit ... --print-address` process.

    stdout is read until `expect` address lines arrived; afterwards a thread
    keeps draining it so the server can never block on a full pipe. stderr
    goes to a temporary file that is checked for sanitizer reports.
    """

    def __init__(self, argv, expect, env=None, start_timeout=START_TIMEOUT, cwd=None):
        self.argv = list(argv)
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=cwd,
        )
        self.pid = self.proc.pid
        self.returncode = None
        self.addresses = []
        self._rest = bytearray()
        try:
            self._read_addresses(expect, start_timeout)
        except BaseException:
            self.kill()
            raise
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _read_addresses(self, expect, timeout):
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while len(self.addresses) < expect:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"server printed {len(self.addresses)} of {expect} addresses within "
                    f"{timeout}s: {self.addresses} partial={buf!r}\nargv={self.argv}\n"
                    f"stderr:\n{self.stderr()}"
                )
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait(timeout=5)
                raise AssertionError(
                    f"server exited (rc={self.proc.returncode}) after printing "
                    f"{self.addresses} partial={buf!r}\nargv={self.argv}\nstderr:\n{self.stderr()}"
                )
            buf += chunk
            while b"\n" in buf and len(self.addresses) < expect:
                line, buf = buf.split(b"\n", 1)
                self.addresses.append(Address(line.decode()))
        self._rest += buf

    def _drain(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._rest += chunk

    def extra_stdout(self):
        return bytes(self._rest)

    def of_kind(self, kind):
        return [a for a in self.addresses if a.kind == kind]

    @property
    def tcp(self):
        (a,) = self.of_kind("tcp")
        return a

    @property
    def udp(self):
        (a,) = self.of_kind("udp")
        return a

    @property
    def unix(self):
        (a,) = self.of_kind("unix")
        return a

    def stderr(self, full=False):
        """The server's stderr so far (sanitizer reports condensed unless full)."""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        return text if full else condense(text)

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout):
        self.returncode = self.proc.wait(timeout=timeout)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=EXIT_MARGIN):
        """Signal the server and wait for it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"server did not exit within {timeout}s of signal {sig}\nstderr:\n{self.stderr()}"
            )

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.returncode = self.proc.returncode

    def assert_clean_exit(self, timeout=EXIT_MARGIN):
        rc = self.stop(timeout=timeout)
        err = self.stderr(full=True)
        assert not is_sanitizer_report(err), f"sanitizer report in server stderr:\n{condense(err)}"
        assert rc == 0, f"server exited with {rc}, expected 0\nargv={self.argv}\nstderr:\n{err[-4000:]}"


def count_endpoints(args):
    n = sum(1 for a in args if a in ("--tcp", "--udp", "--unix"))
    n += sum(1 for a in args if a.startswith(("--tcp=", "--udp=", "--unix=")))
    return n


# ---------------------------------------------------------------- sockets

def connect(addr, timeout=10.0, source=None):
    s = socket.socket(addr.family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source is not None:
        s.bind(source)
    s.connect(addr.sockaddr)
    return s


def udp_socket(addr, timeout=5.0):
    s = socket.socket(addr.family, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    return s


def recv_all(sock, timeout=10.0):
    """Read until EOF. Raises socket.timeout if the peer does not close in time."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout(f"no EOF within {timeout}s; got {bytes(out[:200])!r}...")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(out)
        out += chunk


def recv_exact(sock, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    out = bytearray()
    while len(out) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout(f"got {len(out)} of {n} bytes: {bytes(out[:200])!r}")
        sock.settimeout(left)
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise AssertionError(f"EOF after {len(out)} of {n} bytes: {bytes(out[:200])!r}")
        out += chunk
    return bytes(out)


def recv_until(sock, suffix, timeout=10.0, limit=1 << 20):
    """Read until the data ends with `suffix` (or EOF, or the limit)."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while not out.endswith(suffix) and len(out) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout(f"waiting for {suffix!r}; got {bytes(out[:300])!r}")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            break
        out += chunk
    return bytes(out)


def is_closed_by_peer(sock, timeout):
    """True if the peer closed (EOF or reset) within `timeout`; data that
    arrives first is discarded. False if the connection is still open."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True


def tcp_state(sock):
    """Kernel TCP state of a socket (1 = ESTABLISHED, 7 = CLOSE, 8 = CLOSE_WAIT)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


TCP_ESTABLISHED = 1


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def short_tempdir():
    """A directory with a short path: Unix socket paths are limited to 107 bytes."""
    return tempfile.mkdtemp(prefix="skt-", dir="/tmp")


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def run(argv, input=b"", timeout=30.0, env=None):
    """Run a peer or client to completion; returns CompletedProcess (bytes)."""
    return subprocess.run(
        argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env
    )


def upper_ascii(data):
    return bytes(b - 32 if 0x61 <= b <= 0x7A else b for b in data)


def wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def assert_one_line_error(stderr, prefix="sockit: ", must_contain=(), allow_logs=False):
    """stderr is exactly one line `sockit: ...` (with allow_logs, key=value
    log lines of the server before it are tolerated)."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    assert not is_sanitizer_report(text), f"sanitizer report on stderr:\n{condense(text)}"
    lines = [l for l in text.split("\n") if l.strip()]
    if allow_logs:
        lines = [l for l in lines if not l.startswith("ts=")]
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}:\n{text}"
    assert lines[0].startswith(prefix), f"stderr line does not start with {prefix!r}: {lines[0]!r}"
    assert text.endswith("\n"), f"stderr line not terminated by a newline: {text!r}"
    for word in must_contain:
        assert word in lines[0], f"stderr line does not mention {word!r}: {lines[0]!r}"
    return lines[0]


class Socat:
    """A socat echo server (TCP, UDP or Unix) for testing the sockit client.

    socat cannot print the port it bound, so TCP/UDP pick a free port by
    binding port 0 in Python and retry if socat loses the race for it."""

    def __init__(self, kind, path=None):
        self.kind = kind
        self.proc = None
        for _ in range(10):
            if kind == "unix":
                self.path = path
                listen = f"UNIX-LISTEN:{path},fork"
            elif kind == "tcp":
                self.port = free_port()
                listen = f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork"
            else:
                self.port = free_port(socket.SOCK_DGRAM)
                listen = f"UDP-RECVFROM:{self.port},bind=127.0.0.1,fork"
            self.proc = subprocess.Popen(
                ["socat", listen, "EXEC:cat"], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own group: stop() ends the forked children too
            )
            if self._ready():
                return
            self.stop()
        raise AssertionError(f"could not start socat {kind} echo")

    def _ready(self):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.kind == "udp":
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.settimeout(0.3)
                    s.sendto(b"probe", ("127.0.0.1", self.port))
                    ok = s.recv(100) == b"probe"
                    s.close()
                    if ok:
                        return True
                else:
                    fam = socket.AF_UNIX if self.kind == "unix" else socket.AF_INET
                    s = socket.socket(fam, socket.SOCK_STREAM)
                    s.settimeout(1)
                    s.connect(self.path if self.kind == "unix" else ("127.0.0.1", self.port))
                    s.shutdown(socket.SHUT_WR)
                    s.recv(10)
                    s.close()
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def address(self):
        if self.kind == "unix":
            return f"unix:{self.path}"
        return f"{self.kind}://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if True:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def server_holds(pid, client_sock=None, key=None):
    """True while process `pid` still has an open socket for the server side
    of a TCP connection (asked of the kernel through ss). Give the client
    socket, or `key` = (client_sock.getsockname(), client_sock.getpeername())
    taken while it was connected (after a reset getpeername fails)."""
    if key is None:
        key = (client_sock.getsockname(), client_sock.getpeername())
    (cip, cport), (sip, sport) = (k[:2] for k in key)
    r = subprocess.run(
        ["ss", "-Htnp", "state", "all", "src", f"{sip}:{sport}", "dst", f"{cip}:{cport}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10,
    )
    assert r.returncode == 0, r.stderr
    return f"pid={pid}," in r.stdout.decode()


def recv_until_closed(sock, timeout=10.0):
    """Read until EOF or a reset; returns (data, how) with how "eof"/"reset".
    A server that closes with unread input from us sends a reset after its
    last bytes; the bytes that arrived before it still count."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout(f"connection not closed within {timeout}s; got {bytes(out[:200])!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(out), "reset"
        if not chunk:
            return bytes(out), "eof"
        out += chunk


def read_pty(fd, until, timeout=30.0):
    """What a pseudo-terminal shows until the regex `until` matches (or
    `timeout` passes, or the other side closes), as text."""
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(until, out.decode(errors="replace")):
            break
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def describe(r):
    """A CompletedProcess for an assertion message."""
    err = r.stderr.decode(errors="replace") if isinstance(r.stderr, bytes) else (r.stderr or "")
    return f"rc={r.returncode} stdout={r.stdout[:300]!r}\nstderr:\n{condense(err)}"
