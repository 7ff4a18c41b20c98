"""Helpers for the sockit chat tests: a scriptable `sockit chat` process
(one event per line on stdout, commands and messages on its stdin), and the
tutorials' plain-text UDP chat written as the tutorials write it.
"""

import os
import queue
import socket
import subprocess
import tempfile
import threading
import time

from interop_util import condense, is_sanitizer_report

START_TIMEOUT = 20.0


class Chat:
    """A running `sockit chat --script` process.

    Every stdout line is kept in `lines` (in order) by a reader thread;
    `wait_for` blocks until a predicate over them holds. `prefix` runs the
    process inside something (e.g. ["ip", "netns", "exec", NS]).
    """

    def __init__(self, sockit_bin, *args, name="sockit", listen="127.0.0.1:0", prefix=(), env=None):
        self.argv = list(prefix) + [sockit_bin, "chat", "--listen", listen, "--name", name] + list(args)
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=env)
        self.lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        first = self.wait_for(lambda ls: ls, START_TIMEOUT, what="the 'listening' line")[0]
        assert first.startswith("listening "), f"first line {first!r}\nstderr:\n{self.stderr()}"
        self.address = first.split()[1]
        self.port = int(self.address.rsplit(":", 1)[1])

    def _read(self):
        for raw in self.proc.stdout:
            with self._cond:
                self.lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send(self, *lines):
        data = "".join(line + "\n" for line in lines).encode()
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_input(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def wait_for(self, pred, timeout=10.0, what="an event"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = pred(list(self.lines))
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    result = pred(list(self.lines))
                    if result:
                        return result
                    raise AssertionError(f"waited {timeout}s for {what}; rc={self.proc.poll()} lines "
                                         f"(last 20): {self.lines[-20:]}\nstderr:\n{self.stderr()}")
                self._cond.wait(min(left, 0.5))

    def wait_line(self, line, timeout=10.0):
        return self.wait_for(lambda ls: line in ls, timeout, what=repr(line))

    def events(self, kind):
        """Lines of one kind, without the kind: events('received') -> ['bob hi', ...]."""
        with self._cond:
            return [l[len(kind) + 1:] for l in self.lines if l.startswith(kind + " ")]

    def wait_events(self, kind, n, timeout=10.0):
        """Waits until at least n events of `kind` arrived; returns them all."""
        self.wait_for(lambda ls: sum(1 for l in ls if l.startswith(kind + " ")) >= n, timeout,
                      what=f"{n} '{kind}' events")
        return self.events(kind)

    def stderr(self):
        self._stderr.seek(0)
        return condense(self._stderr.read().decode(errors="replace"))

    def finish(self, timeout=30.0):
        """Closes stdin, waits for the exit; returns the exit code. The
        process must not leave a sanitizer report."""
        self.close_input()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"sockit chat did not exit within {timeout}s of the end of its input; "
                                 f"last lines {self.lines[-10:]}\nstderr:\n{self.stderr()}")
        self._reader.join(timeout=5)
        err = self.stderr()
        assert not is_sanitizer_report(err), f"sanitizer report:\n{err}"
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# The tutorials' chat, as they write it: a server that answers each datagram
# where it came from, and a client that sends, then waits for the answer.

def tutorial_server(reply_to, ready, stop, received, port_box):
    """Runs in a thread: recvfrom(1024), print, sendto back `reply_to(text)`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port_box.append(s.getsockname()[1])
    s.settimeout(0.2)
    ready.set()
    while not stop.is_set():
        try:
            data, addr = s.recvfrom(1024)
        except socket.timeout:
            continue
        received.append((data, addr))
        print("来自[%s:%s]的一条消息:%s" % (addr[0], addr[1], data.decode("utf-8", errors="replace")))
        s.sendto(reply_to(data.decode("utf-8", errors="replace")).encode("utf-8"), addr)
    s.close()


def tutorial_client(server, message, timeout=10.0):
    """sendto, then recvfrom(1024): returns (reply bytes, client port)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(message.encode("utf-8"), server)
        port = s.getsockname()[1]
        data, addr = s.recvfrom(1024)
        return data, port
    finally:
        s.close()


def write_contacts(directory, **contacts):
    """A contacts file: name=address, or name=(address, plain)."""
    path = os.path.join(directory, "contacts.toml")
    with open(path, "w") as f:
        f.write("[contacts]\n")
        for name, value in contacts.items():
            if isinstance(value, tuple):
                f.write(f'{name} = {{ address = "{value[0]}", plain = {"true" if value[1] else "false"} }}\n')
            else:
                f.write(f'{name} = "{value}"\n')
    return path
