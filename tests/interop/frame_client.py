"""A sockit frames client written from docs/protocol/frames.md alone, with
nothing but socket and struct: the proof that the page is complete.

    sock = connect("127.0.0.1:7100")        # or "/path/to/unix.sock"
    handshake(sock, b"token")               # HELLO + AUTH in one write
    result = run(sock, ["wc", "-c"], stdin=b"hello\\n")
    result.stdout, result.how, result.value  # b"6\\n", EXITED, 0
"""

import socket
import struct

HELLO, ERROR = 0x01, 0x02
AUTH, AUTH_OK, RUN, STDIN, STDOUT, STDERR, EXIT, SIGNAL = range(0x10, 0x18)
ERROR_NAMES = {1: "malformed", 2: "too_large", 3: "unsupported_version", 4: "wrong_service",
               5: "unexpected", 6: "auth_failed", 7: "locked_out", 8: "timeout", 9: "busy",
               10: "internal"}
EXITED, SIGNALED = 0, 1  # EXIT's "how"
ARGV, COMMAND_LINE = 0, 1  # RUN's form
DATA_FRAME_MAX = 64 * 1024  # senders keep data frames at or under this


class FrameError(Exception):
    """The peer sent ERROR (its last frame); `received` is every frame before it."""

    def __init__(self, code, message, received=()):
        self.code, self.name, self.message = code, ERROR_NAMES.get(code, "unknown"), message
        self.received = list(received)
        super().__init__(f"ERROR {code} {self.name}: {message}")


def connect(address, timeout=10.0):
    """A connected socket. `address`: "host:port", "[v6]:port", "tcp://host:port",
    (host, port), a Unix path ("/x.sock" or "unix:/x.sock"), or anything with
    a .sockaddr (interop_util.Address)."""
    address = getattr(address, "sockaddr", address)
    if isinstance(address, str):
        address = address.removeprefix("tcp://").removeprefix("unix:")
        if address.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        host, _, port = address.rpartition(":")
        address = (host.strip("[]"), int(port))
    return socket.create_connection(address, timeout=timeout)


def encode(ftype, payload=b""):
    return struct.pack("!BI", ftype, len(payload)) + payload


def send_frame(sock, ftype, payload=b""):
    sock.sendall(encode(ftype, payload))


def recv_exact(sock, n):
    """Exactly n bytes; EOFError if the peer closes first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_frame(sock):
    """One frame as (type, payload)."""
    ftype, length = struct.unpack("!BI", recv_exact(sock, 5))
    return ftype, recv_exact(sock, length)


def hello_payload(service="exec", version=1):
    return b"SOCKIT" + bytes([version]) + service.encode("ascii")


def parse_error(payload):
    (code,) = struct.unpack("!H", payload[:2])
    return code, payload[2:].decode("utf-8", "replace")


def expect(sock, want):
    """The next frame's payload, which must be of type `want`; FrameError on ERROR."""
    ftype, payload = recv_frame(sock)
    if ftype == ERROR:
        raise FrameError(*parse_error(payload))
    if ftype != want:
        raise ValueError(f"expected frame type {want:#04x}, got {ftype:#04x}: {payload[:80]!r}")
    return payload


def handshake(sock, token, service="exec", version=1):
    """HELLO and AUTH in one write; returns the version the server chose."""
    token = token.encode() if isinstance(token, str) else token
    sock.sendall(encode(HELLO, hello_payload(service, version)) + encode(AUTH, token))
    hello = expect(sock, HELLO)
    if hello[:6] != b"SOCKIT" or hello[7:] != service.encode("ascii"):
        raise ValueError(f"bad HELLO from server: {hello!r}")
    expect(sock, AUTH_OK)
    return hello[6]


def run_payload(args, form=ARGV):
    items = [args] if isinstance(args, (str, bytes)) else args
    items = [a.encode() if isinstance(a, str) else a for a in items]
    return bytes([form]) + b"\0".join(items)


class Result:
    def __init__(self):
        self.stdout, self.stderr = b"", b""
        self.how = self.value = None  # EXITED or SIGNALED; exit code or signal number
        self.reason = ""
        self.frames = []  # every (type, payload) received, in order, EXIT included

    def __repr__(self):
        return (f"Result(how={self.how}, value={self.value}, reason={self.reason!r}, "
                f"stdout={self.stdout[:80]!r}, stderr={self.stderr[:80]!r})")


def run(sock, args, stdin=b"", eof=True, form=None):
    """RUN, then `stdin` in STDIN frames and an empty STDIN for end of input
    (unless eof=False), in one write; then collect(). A list `args` is an
    argument vector, a str/bytes one command line (or say `form`).

    Everything is written before anything is read: a command that echoes more
    stdin than the socket buffers hold would stall here (TCP flow control), so
    for big streams send STDIN frames from a thread with send_frame()."""
    if form is None:
        form = COMMAND_LINE if isinstance(args, (str, bytes)) else ARGV
    out = encode(RUN, run_payload(args, form))
    for i in range(0, len(stdin), DATA_FRAME_MAX):
        out += encode(STDIN, stdin[i:i + DATA_FRAME_MAX])
    sock.sendall(out + (encode(STDIN) if eof else b""))
    return collect(sock)


def collect(sock):
    """Frames up to and including EXIT, as a Result; FrameError on ERROR."""
    result, out, err = Result(), bytearray(), bytearray()
    while result.how is None:
        ftype, payload = recv_frame(sock)
        result.frames.append((ftype, payload))
        if ftype == STDOUT:
            out += payload
        elif ftype == STDERR:
            err += payload
        elif ftype == EXIT:
            result.how, result.value = struct.unpack("!BB", payload[:2])
            result.reason = payload[2:].decode("utf-8", "replace")
        elif ftype == ERROR:
            raise FrameError(*parse_error(payload), result.frames[:-1])
    result.stdout, result.stderr = bytes(out), bytes(err)
    return result


def send_signal(sock, signum):
    send_frame(sock, SIGNAL, bytes([signum]))
