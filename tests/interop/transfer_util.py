"""Helpers for the `sockit send` / `sockit recv` interop tests (test_transfer_*.py).

Fixtures defined here are imported by each test module
(`from transfer_util import kit`), so conftest.py stays as it is.

    def test_x(kit):
        src = kit.file("src/a.txt", b"hello")
        rx = kit.recv_listen(kit.path("in"))           # sockit recv --listen 127.0.0.1:0 ...
        sent = kit.send(rx.hostport, src)              # sockit send, to completion
        got = rx.wait()                                # the receiver's exit and stderr
        assert sent.rc == 0 and got.rc == 0

Every sockit process runs with HOME and XDG_STATE_HOME inside the test's own
temporary directory (known_hosts, TLS key pairs). Every process a test starts
is remembered: at teardown those still running are killed (by pid, nothing
else), and every stderr is checked for sanitizer reports.

Also here: file-tree snapshots (content, mode, mtime to the nanosecond), the
transfer protocol written from docs/protocol/transfer.md with socket and
struct only (TransferPeer), and a TCP proxy that can damage or hold the
DATA stream (Proxy).
"""

import contextlib
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from interop_util import Server, condense, is_sanitizer_report, rmtree, wait_until

RUN_TIMEOUT = 120.0
EXIT_TIMEOUT = 30.0
MIB = 1 << 20
PART_SUFFIX = ".sockit-part"


def sockit_bin():
    return os.path.abspath(os.environ["SOCKIT_BIN"])


def check_no_sanitizer(text, who):
    assert not is_sanitizer_report(text), f"sanitizer report in {who} stderr:\n{condense(text)}"


# ------------------------------------------------------------------ processes

class Done:
    """A finished sockit process: rc, stdout (bytes), stderr (text)."""

    def __init__(self, argv, rc, stdout, stderr):
        self.argv, self.rc, self.stdout, self.stderr = argv, rc, stdout, stderr

    def lines(self):
        """stderr lines starting with 'sockit: ' (errors, failed files, the summary)."""
        return [l for l in self.stderr.splitlines() if l.startswith("sockit: ")]

    def summary(self):
        """The one summary line ('sockit: received 3 files, ...'), or None."""
        found = [l for l in self.lines() if SUMMARY_RE.match(l)]
        assert len(found) <= 1, f"more than one summary line:\n{self}"
        return found[0] if found else None

    def __repr__(self):
        return (f"argv={' '.join(self.argv)}\nrc={self.rc} stdout={self.stdout[:300]!r}\n"
                f"stderr:\n{condense(self.stderr)}")


SUMMARY_RE = re.compile(r"^sockit: (received|sent) (\d+) files?, ([\d.]+ (?:B|KiB|MiB|GiB)) in [\d.]+ s "
                        r"\([^)]*\)(?:; ([\d.]+ (?:B|KiB|MiB|GiB)) resumed)?(?:; (\d+) already there)?"
                        r"(?:; (\d+) FAILED)?$")


def parse_summary(line):
    """The summary line as a dict: verb, files, bytes, resumed, already, failed."""
    m = SUMMARY_RE.match(line or "")
    assert m, f"not a summary line: {line!r}"
    return {"verb": m.group(1), "files": int(m.group(2)), "bytes": m.group(3), "resumed": m.group(4),
            "already": int(m.group(5) or 0), "failed": int(m.group(6) or 0)}


class Listener:
    """A listening `sockit send|recv ... --listen 127.0.0.1:0 --print-address`."""

    def __init__(self, argv, env):
        self.server = Server(argv, expect=1, env=env)
        self.argv = argv
        self.done = None

    @property
    def address(self):
        return self.server.addresses[0]

    @property
    def hostport(self):
        return self.address.hostport

    @property
    def port(self):
        return self.address.port

    @property
    def pid(self):
        return self.server.pid

    def alive(self):
        return self.server.alive()

    def stderr(self):
        return self.server.stderr(full=True)

    def wait(self, timeout=EXIT_TIMEOUT):
        """Waits for the exit; a listener still running after `timeout` is killed and the test fails."""
        if self.done is None:
            try:
                rc = self.server.wait(timeout)
            except subprocess.TimeoutExpired:
                self.server.kill()
                pytest.fail(f"{' '.join(self.argv)} still running {timeout}s later\nstderr:\n"
                            f"{self.server.stderr()}")
            err = self.stderr()
            check_no_sanitizer(err, "listening sockit")
            self.done = Done(self.argv, rc, self.server.extra_stdout(), err)
        return self.done

    def stop(self, sig=signal.SIGTERM, timeout=EXIT_TIMEOUT):
        self.server.send_signal(sig)
        return self.wait(timeout)

    def kill9(self):
        self.server.send_signal(signal.SIGKILL)
        return self.wait()

    def hint(self, timeout=10):
        """The 'sockit recv: listening on ...; on the other machine run: ...' line,
        printed on stderr just after the address on stdout."""
        def line():
            return next((l for l in self.stderr().splitlines() if "listening on" in l), None)
        wait_until(line, timeout)
        found = line()
        assert found, f"no 'listening on' line on the listener's stderr:\n{self.stderr()}"
        return found

    def fingerprint(self):
        """The fingerprint a --tls listener shows in its 'run: ... --fingerprint FP' hint."""
        pattern = re.compile(r"--tls --fingerprint ([0-9A-Fa-f:]+) ")  # printed just after the address
        wait_until(lambda: pattern.search(self.stderr()), 10)
        m = pattern.search(self.stderr())
        assert m, f"no fingerprint in the listener's stderr:\n{self.stderr()}"
        return m.group(1)


class Running:
    """A sockit process started with Popen (stdout/stderr to temporary files)."""

    def __init__(self, argv, env, stdin=subprocess.DEVNULL):
        self.argv = argv
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=self._out, stderr=self._err, env=env)
        self.pid = self.proc.pid
        self.done = None

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        self._err.seek(0)
        return self._err.read().decode(errors="replace")

    def wait(self, timeout=RUN_TIMEOUT):
        if self.done is None:
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"{' '.join(self.argv)} still running {timeout}s later\nstderr:\n"
                            f"{condense(self.stderr())}")
            self._out.seek(0)
            err = self.stderr()
            check_no_sanitizer(err, "sockit")
            self.done = Done(self.argv, rc, self._out.read(), err)
        return self.done

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self.wait()


class Kit:
    """One test's sockit processes and files (under a fresh temporary root)."""

    def __init__(self, root):
        self.root = root
        self.home = os.path.join(root, "home")
        os.makedirs(os.path.join(self.home, "state"))
        self.env = {k: v for k, v in os.environ.items()}
        self.env["HOME"] = self.home
        self.env["XDG_STATE_HOME"] = os.path.join(self.home, "state")
        self._listeners, self._running, self._shm, self._mounts = [], [], [], []

    # ---- paths and files
    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def shm(self, name="shm"):
        """A fresh directory on /dev/shm (tmpfs): big files never touch the disk."""
        d = tempfile.mkdtemp(prefix=f"skt-{name}-", dir="/dev/shm")
        self._shm.append(d)
        return d

    def file(self, rel, data=b"", mode=0o644, mtime_ns=None):
        p = rel if os.path.isabs(rel) else self.path(rel)
        return write_file(p, data, mode, mtime_ns)

    # ---- processes
    def listen(self, *args):
        argv = [sockit_bin(), *args, "--listen", "127.0.0.1:0", "--print-address"]
        if "--listen" in args:
            argv = [sockit_bin(), *args, "--print-address"]
        lst = Listener(argv, self.env)
        self._listeners.append(lst)
        return lst

    def recv_listen(self, dest, *opts):
        return self.listen("recv", "--dir", dest, *opts)

    def send_listen(self, *paths, opts=()):
        return self.listen("send", *opts, *paths)

    def popen(self, *args, stdin=subprocess.DEVNULL):
        r = Running([sockit_bin(), *args], self.env, stdin=stdin)
        self._running.append(r)
        return r

    def run(self, *args, timeout=RUN_TIMEOUT):
        return self.popen(*args).wait(timeout)

    def send(self, target, *paths, opts=(), timeout=RUN_TIMEOUT):
        return self.run("send", *opts, target, *paths, timeout=timeout)

    def recv(self, target, dest, opts=(), timeout=RUN_TIMEOUT):
        return self.run("recv", "--dir", dest, *opts, target, timeout=timeout)

    # ---- mounts
    def mount_tmpfs(self, path, size):
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if r.returncode != 0:
            pytest.fail(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
        self._mounts.append(path)
        return path

    def umount(self, path):
        if path in self._mounts:
            self._mounts.remove(path)
            subprocess.run(["umount", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)

    # ---- teardown
    def cleanup(self):
        errors = []
        for lst in self._listeners:
            if lst.alive():
                lst.server.kill()
            err = lst.stderr()
            if is_sanitizer_report(err):
                errors.append(f"sanitizer report in {' '.join(lst.argv)}:\n{condense(err)}")
        for r in self._running:
            if r.alive():
                r.proc.kill()
                r.proc.wait()
            err = r.stderr()
            if is_sanitizer_report(err):
                errors.append(f"sanitizer report in {' '.join(r.argv)}:\n{condense(err)}")
        for m in list(self._mounts):
            self.umount(m)
        for d in self._shm:
            rmtree(d)
        rmtree(self.root)
        return errors


@pytest.fixture
def kit():
    k = Kit(tempfile.mkdtemp(prefix="skt-tx-", dir="/tmp"))
    yield k
    errors = k.cleanup()
    if errors:
        pytest.fail("\n\n".join(errors))


# ------------------------------------------------------------------ files and trees

def write_file(path, data=b"", mode=0o644, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def big_file(path, size):
    """`size` bytes that differ at every MiB (a random block with the block
    number written into it), fast to make."""
    base = bytearray(os.urandom(MIB))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left, block = size, 0
        while left:
            struct.pack_into("!Q", base, 0, block)
            struct.pack_into("!Q", base, MIB // 2, block * 7919)
            n = min(left, MIB)
            f.write(base[:n])
            left -= n
            block += 1
    return path


def sha256_file(path, limit=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = limit
        while True:
            want = 1 << 20 if left is None else min(1 << 20, left)
            chunk = f.read(want)
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
                if left == 0:
                    break
    return h.digest()


def same_content(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    return sha256_file(a) == sha256_file(b)


def snapshot(root, content=True):
    """{relative path: (kind, mode bits, mtime ns, size, sha256)} of everything
    under root, symlinks included as ('link', target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", st.st_mode & 0o7777, st.st_mtime_ns)
            else:
                out[rel] = ("file", st.st_mode & 0o7777, st.st_mtime_ns, st.st_size,
                            sha256_file(p) if content else None)
    return out


def names(root):
    """Every relative path under root (files, directories, links, hidden ones)."""
    return set(snapshot(root, content=False))


def part_files(root):
    return sorted(n for n in names(root) if os.path.basename(n).endswith(PART_SUFFIX))


def assert_tree_copied(src, dst, dir_modes=True):
    """dst holds exactly what src holds (regular files and directories; symlinks
    in src are not expected in dst): same names, bytes, modes and mtimes."""
    want = {k: v for k, v in snapshot(src).items() if v[0] != "link"}
    got = snapshot(dst)
    assert set(got) == set(want), (f"missing: {sorted(set(want) - set(got))[:20]}\n"
                                   f"extra: {sorted(set(got) - set(want))[:20]}")
    for rel, w in want.items():
        g = got[rel]
        assert g[0] == w[0], f"{rel}: {g[0]} instead of {w[0]}"
        if w[0] == "file":
            assert g[3] == w[3] and g[4] == w[4], f"{rel}: content differs (size {g[3]} vs {w[3]})"
            assert g[1] == w[1], f"{rel}: mode {g[1]:o} instead of {w[1]:o}"
            assert g[2] == w[2], f"{rel}: mtime {g[2]} instead of {w[2]} (ns)"
        else:
            if dir_modes:
                assert g[1] == w[1], f"{rel}/: mode {g[1]:o} instead of {w[1]:o}"
            assert g[2] == w[2], f"{rel}/: mtime {g[2]} instead of {w[2]} (ns)"


def wait_for_size(path, at_least, timeout, interval=0.002, while_alive=None):
    """Polls until the file at `path` holds at least `at_least` bytes; returns
    its size then (None if it never did, or `while_alive()` turned false)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            size = -1
        if size >= at_least:
            return size
        if while_alive is not None and not while_alive():
            return None
        time.sleep(interval)
    return None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, timeout=10.0):
    """True once something listens on 127.0.0.1:port (asked of the kernel with
    ss, so nothing connects to it)."""
    def listening():
        r = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        return bool(r.stdout.strip())
    return wait_until(listening, timeout, interval=0.02)


# ------------------------------------------------------------------ the protocol

HELLO, ERROR = 0x01, 0x02
ROLE, ENTRY, ANSWER, START, DATA, END, RESULT, FINISH = range(0x20, 0x28)
SENDER, RECEIVER = 1, 2
NO_DIGEST, XXH3, SHA256 = 0, 1, 2
FILE, DIRECTORY = 1, 2
V_SEND, V_HAVE, V_REFUSED = 0, 1, 2
SAVED, UNCHANGED, FAILED = 0, 1, 2
E_MALFORMED, E_TOO_LARGE, E_UNEXPECTED, E_INTERNAL = 1, 2, 5, 10
MAX_PAYLOAD = 1 << 20


def frame(ftype, payload=b""):
    return struct.pack("!BI", ftype, len(payload)) + payload


def text16(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def hello_payload(service="transfer", version=1):
    return b"SOCKIT" + bytes([version]) + service.encode()


def role_payload(role, digest, files=0, nbytes=0):
    return struct.pack("!BBQQ", role, digest, files, nbytes)


def entry_payload(eid, path, kind=FILE, size=0, mode=0o644, mtime_sec=1_600_000_000, mtime_nsec=0):
    return struct.pack("!IBIQqI", eid, kind, mode, size, mtime_sec, mtime_nsec) + text16(path)


def start_payload(eid, offset=0):
    return struct.pack("!IQ", eid, offset)


def end_payload(eid, digest):
    return struct.pack("!I", eid) + text16(digest)


def answer_payload(eid, verdict, offset=0, digest=b"", reason=b""):
    return struct.pack("!IBQ", eid, verdict, offset) + text16(digest) + reason


def result_payload(eid, outcome, reason=b""):
    return struct.pack("!IB", eid, outcome) + reason


def parse_role(p):
    role, digest, files, nbytes = struct.unpack("!BBQQ", p)
    return {"role": role, "digest": digest, "files": files, "bytes": nbytes}


def parse_entry(p):
    head = struct.calcsize("!IBIQqIH")
    eid, kind, mode, size, sec, nsec, n = struct.unpack("!IBIQqIH", p[:head])
    path = p[head:head + n]
    assert len(p) == head + n, f"ENTRY with trailing bytes: {p!r}"
    return {"id": eid, "kind": kind, "mode": mode, "size": size, "mtime_ns": sec * 10**9 + nsec,
            "path": path.decode()}


def parse_answer(p):
    eid, verdict, offset, n = struct.unpack("!IBQH", p[:15])
    return {"id": eid, "verdict": verdict, "offset": offset, "digest": p[15:15 + n],
            "reason": p[15 + n:].decode(errors="replace")}


def parse_start(p):
    eid, offset = struct.unpack("!IQ", p)
    return {"id": eid, "offset": offset}


def parse_end(p):
    eid, n = struct.unpack("!IH", p[:6])
    assert len(p) == 6 + n
    return {"id": eid, "digest": p[6:]}


def parse_result(p):
    eid, outcome = struct.unpack("!IB", p[:5])
    return {"id": eid, "outcome": outcome, "reason": p[5:].decode(errors="replace")}


def parse_error(p):
    (code,) = struct.unpack("!H", p[:2])
    return code, p[2:].decode(errors="replace")


class PeerError(Exception):
    """The sockit peer sent ERROR."""

    def __init__(self, code, message):
        self.code, self.message = code, message
        super().__init__(f"ERROR {code}: {message}")


class TransferPeer:
    """A transfer peer in Python over a plain socket: HELLO/ROLE, then frames."""

    def __init__(self, sock):
        self.sock = sock

    @classmethod
    def connect(cls, hostport, timeout=20.0):
        host, _, port = hostport.rpartition(":")
        return cls(socket.create_connection((host.strip("[]"), int(port)), timeout=timeout))

    @classmethod
    def accept(cls, listening, timeout=20.0):
        listening.settimeout(timeout)
        sock, _ = listening.accept()
        sock.settimeout(timeout)
        return cls(sock)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *frames):
        self.sock.sendall(b"".join(frames))

    def _exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv_frame(self):
        ftype, length = struct.unpack("!BI", self._exact(5))
        return ftype, self._exact(length)

    def expect(self, want):
        ftype, payload = self.recv_frame()
        if ftype == ERROR:
            raise PeerError(*parse_error(payload))
        assert ftype == want, f"expected frame {want:#04x}, got {ftype:#04x}: {payload[:100]!r}"
        return payload

    def handshake(self, role, digest=None):
        """Sends HELLO + ROLE in one write, reads the peer's; returns its ROLE."""
        if digest is None:
            digest = SHA256 if role == SENDER else NO_DIGEST
        self.send(frame(HELLO, hello_payload()), frame(ROLE, role_payload(role, digest)))
        h = self.expect(HELLO)
        assert h == hello_payload(), f"HELLO {h!r}"
        return parse_role(self.expect(ROLE))

    def closed_after(self, timeout=10.0):
        """Reads until the peer closes: (frames received, how) with how "eof" or "reset"."""
        self.sock.settimeout(timeout)
        frames = []
        try:
            while True:
                frames.append(self.recv_frame())
        except EOFError:
            return frames, "eof"
        except ConnectionResetError:
            return frames, "reset"

    def send_file(self, eid, data, chunk=64 * 1024, digest=None):
        """START 0, DATA..., END with the SHA-256 of `data` (or `digest`)."""
        out = [frame(START, start_payload(eid, 0))]
        for i in range(0, len(data), chunk):
            out.append(frame(DATA, data[i:i + chunk]))
        out.append(frame(END, end_payload(eid, hashlib.sha256(data).digest() if digest is None else digest)))
        self.send(*out)


# ------------------------------------------------------------------ a proxy

class DataTap:
    """Follows the frames of one direction of a transfer and changes the
    stream in flight: flips one byte of the DATA payloads at `flip_at`
    (counted over all DATA payload bytes), or holds everything after the
    first DATA frame that brings the count to `hold_after` bytes."""

    def __init__(self, flip_at=None, hold_after=None):
        self.flip_at, self.hold_after = flip_at, hold_after
        self.header = b""
        self.ftype, self.left = None, 0
        self.data_bytes = 0
        self.flipped = False
        self.holding = False

    def feed(self, chunk):
        """(bytes to forward now, bytes held back)."""
        out = bytearray(chunk)
        i = 0
        while i < len(out):
            if self.holding:
                return bytes(out[:i]), bytes(out[i:])
            if self.ftype is None:
                take = out[i:i + 5 - len(self.header)]
                self.header += bytes(take)
                i += len(take)
                if len(self.header) == 5:
                    self.ftype, self.left = struct.unpack("!BI", self.header)
                    self.header = b""
                    if self.left == 0:
                        self.ftype = None
                continue
            n = min(self.left, len(out) - i)
            if self.ftype == DATA:
                at = self.flip_at
                if at is not None and not self.flipped and self.data_bytes <= at < self.data_bytes + n:
                    out[i + at - self.data_bytes] ^= 0x20
                    self.flipped = True
                self.data_bytes += n
            self.left -= n
            i += n
            if self.left == 0:
                if (self.ftype == DATA and self.hold_after is not None
                        and self.data_bytes >= self.hold_after):
                    self.holding = True
                self.ftype = None
        return bytes(out), b""


class Proxy:
    """A TCP proxy on 127.0.0.1:0 to `target` (host, port) for one connection.
    What the client sends goes through `tap` (a DataTap) when given. A side
    that resets is answered by resetting the other."""

    def __init__(self, target, tap=None):
        self.target, self.tap = target, tap
        self.listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listening.bind(("127.0.0.1", 0))
        self.listening.listen(4)
        self.port = self.listening.getsockname()[1]
        self.hostport = f"127.0.0.1:{self.port}"
        self.client = self.server = None
        self.error = None
        self.closed = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self.listening.settimeout(60)
            self.client, _ = self.listening.accept()
            self.server = socket.create_connection(self.target, timeout=10)
            self._pump()
        except Exception as e:  # reported by close()
            self.error = e
        finally:
            self.closed.set()

    def _pump(self):
        c, s = self.client, self.server
        c.setblocking(False)
        s.setblocking(False)
        to_server, to_client = bytearray(), bytearray()
        c_eof = s_eof = False
        while not self._stop:
            holding = self.tap is not None and self.tap.holding
            rlist = []
            if not c_eof and not holding and len(to_server) < (4 << 20):
                rlist.append(c)
            if not s_eof and len(to_client) < (4 << 20):
                rlist.append(s)
            wlist = ([s] if to_server else []) + ([c] if to_client else [])
            if not rlist and not wlist:
                if (c_eof or holding) and s_eof:
                    break
                time.sleep(0.01)
                continue
            r, w, _ = select.select(rlist, wlist, [], 0.1)
            try:
                if c in r:
                    data = c.recv(1 << 20)
                    if not data:
                        c_eof = True
                    elif self.tap is not None:
                        now, held = self.tap.feed(data)
                        to_server += now
                        self.held = held
                    else:
                        to_server += data
                if s in r:
                    data = s.recv(1 << 20)
                    if not data:
                        s_eof = True
                    else:
                        to_client += data
                if s in w and to_server:
                    to_server = to_server[s.send(to_server):]
                if c in w and to_client:
                    to_client = to_client[c.send(to_client):]
            except (ConnectionResetError, BrokenPipeError):
                self._reset_both()
                return
            if c_eof and not to_server:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_WR)
            if s_eof and not to_client:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_WR)
            if c_eof and s_eof and not to_server and not to_client:
                break
        for sock in (c, s):
            with contextlib.suppress(OSError):
                sock.close()

    def _reset_both(self):
        for sock in (self.client, self.server):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self):
        """Ends both connections at once with a reset (a dead peer, a pulled cable)."""
        self._stop = True
        self._thread.join(timeout=10)
        self._reset_both()

    def close(self):
        self._stop = True
        self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self.listening.close()
        for sock in (self.client, self.server):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


def tree_of_small_files(root, count, size=100, per_dir=100):
    """`count` files of `size` bytes (each different) in nested directories
    (root/dNN/eNN/fNNNNN.txt); returns the total bytes."""
    total = 0
    for i in range(count):
        d = os.path.join(root, f"d{i // (per_dir * 10):02d}", f"e{(i // per_dir) % 10:02d}")
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        data = (f"{i:08d}:" * (size // 9 + 1)).encode()[:size]
        with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
            f.write(data)
        total += size
    return total


def chmod_tree_writable(root):
    """Makes a tree removable again (tests send read-only directories)."""
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)


def rm(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)
