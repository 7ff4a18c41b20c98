"""Peers for the `sockit get` tests: an origin server whose every byte the
test decides (chunked bodies, redirects, truncation, stalls, ranges), a
forwarding proxy, and nginx with a CA the test makes."""

import gzip
import os
import re
import signal
import socket
import subprocess
import threading
import time

from interop_util import is_sanitizer_report, condense, run, wait_until

RUN_TIMEOUT = 60


class Request:
    def __init__(self, method, target, version, headers, body, connection):
        self.method, self.target, self.version = method, target, version
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = body
        self.connection = connection  # which accepted connection carried it

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def path(self):
        return self.target.split("?")[0]


def response(status, body=b"", headers=(), reason=None, chunked=False, length=None):
    """The bytes of a response (Content-Length unless chunked; `length`
    overrides it, to lie)."""
    reason = reason or {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
                        303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect",
                        404: "Not Found", 416: "Range Not Satisfiable", 500: "Internal Server Error",
                        503: "Service Unavailable"}.get(status, "Whatever")
    head = [f"HTTP/1.1 {status} {reason}"]
    head += [f"{k}: {v}" for k, v in headers]
    if chunked:
        head.append("Transfer-Encoding: chunked")
        out = b""
        for i in range(0, len(body), 7):
            piece = body[i:i + 7]
            out += b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n"
        payload = out + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body) if length is None else length}")
        payload = body
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def ranged(req, data, etag='"v1"', ranges=True, extra=()):
    """A response to `req` for a resource holding `data`, honouring Range and
    If-Range as a real server does (one range, bytes=A- or bytes=A-B)."""
    headers = [("ETag", etag)] + list(extra)
    if ranges:
        headers.append(("Accept-Ranges", "bytes"))
    wanted = req.header("range")
    if_range = req.header("if-range")
    if ranges and wanted and (if_range is None or if_range == etag):
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted)
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else len(data) - 1
        if first >= len(data):
            return response(416, b"", headers + [("Content-Range", f"bytes */{len(data)}")])
        last = min(last, len(data) - 1)
        return response(206, data[first:last + 1] if req.method != "HEAD" else b"",
                        headers + [("Content-Range", f"bytes {first}-{last}/{len(data)}")],
                        length=last - first + 1)
    return response(200, data if req.method != "HEAD" else b"", headers, length=len(data))


class Origin:
    """A threaded HTTP/1.1 server on 127.0.0.1:0. `routes[path]` is a
    function (request) -> bytes to send, or (bytes, keep_open) ; a route may
    also take the socket itself: (request, sock) -> keep_open."""

    def __init__(self, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.routes = {}
        self.raw_routes = {}
        self.requests = []
        self.connections = 0
        self.lock = threading.Lock()
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path="/"):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.closing = True
        try:
            # shutdown() wakes the accept() blocked in our thread (close
            # alone leaves the port listening while that call holds it).
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _read_request(self, conn, buf):
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(buf) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        return (method, target, version, headers, buf[:length]), buf[length:]

    def _serve(self, conn, number):
        buf = b""
        try:
            while True:
                parsed, buf = self._read_request(conn, buf)
                if parsed is None:
                    return
                req = Request(*parsed, number)
                with self.lock:
                    self.requests.append(req)
                path = req.path
                if path in self.raw_routes:
                    if not self.raw_routes[path](req, conn):
                        return
                    continue
                route = self.routes.get(path)
                out = route(req) if route else response(404, b"no such page\n")
                keep = True
                if isinstance(out, tuple):
                    out, keep = out
                conn.sendall(out)
                if not keep or req.header("connection", "").lower() == "close":
                    return
        except OSError:
            pass
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


class TunnelProxy:
    """An HTTP proxy that records what it is asked: plain requests in the
    absolute form are answered by forwarding to the origin; CONNECT opens a
    tunnel (for https)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                conn.close()
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        line = head.split(b"\r\n")[0].decode()
        self.seen.append(line)
        method, target, _ = line.split(" ", 2)
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            m = re.match(r"http://([^/:]+):(\d+)(/.*)?", target)
            upstream = socket.create_connection((m.group(1), int(m.group(2))))
            fixed = head.replace(target.encode(), (m.group(3) or "/").encode(), 1)
            upstream.sendall(fixed + b"\r\n\r\n" + rest)
        pipe(conn, upstream)


def pipe(a, b):
    def one_way(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=one_way, args=(b, a), daemon=True)
    t.start()
    one_way(a, b)
    t.join(30)
    a.close()
    b.close()


class Result:
    def __init__(self, argv, proc):
        self.argv, self.rc, self.stdout, self.stderr = argv, proc.returncode, proc.stdout, proc.stderr
        text = self.stderr.decode(errors="replace")
        assert not is_sanitizer_report(text), f"sanitizer report:\n{condense(text)}"

    def err(self):
        return self.stderr.decode(errors="replace")

    def __repr__(self):
        return f"argv={' '.join(self.argv)}\nrc={self.rc}\nstdout={self.stdout[:300]!r}\nstderr:\n{self.err()}"


def get(*args, cwd=None, env=None, timeout=RUN_TIMEOUT):
    argv = [os.environ["SOCKIT_BIN"], "get", *args]
    full_env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    full_env.update(env or {})
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=full_env,
                          timeout=timeout)
    return Result(argv, proc)


def gzipped(data):
    return gzip.compress(data)


# ------------------------------------------------------------------ nginx

def make_ca(directory, names=("localhost",), ips=()):
    """A CA and a server certificate it signed (for `names` and `ips`)."""
    def ssl(*args):
        r = run(["openssl", *args], timeout=60)
        assert r.returncode == 0, r.stderr.decode()
    ca_key, ca_crt = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    key, csr, crt = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.crt"))
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
        "-out", ca_crt, "-days", "2", "-subj", "/CN=sockit test CA")
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", f"/CN={names[0]}")
    ext = os.path.join(directory, "ext.cnf")
    alt = ",".join([f"DNS:{n}" for n in names] + [f"IP:{i}" for i in ips])
    with open(ext, "w") as f:
        f.write(f"subjectAltName={alt}\nbasicConstraints=CA:FALSE\n")
    ssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt, "-days", "2",
        "-extfile", ext)
    return ca_crt, crt, key


class Nginx:
    """nginx in the foreground on 127.0.0.1 ports of its own, serving `root`
    over http and https (certificate for `localhost` from a fresh CA), with
    gzip, a redirect chain, a rate-limited location and a Unix socket."""

    def __init__(self, directory, root):
        self.dir, self.root = directory, root
        self.ca, crt, key = make_ca(directory)
        self.http_port, self.https_port = free_port(), free_port()
        self.unix = os.path.join(directory, "nginx.sock")
        for sub in ("logs", "tmp"):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        conf = os.path.join(directory, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
daemon off;
master_process on;
user root;
pid {directory}/nginx.pid;
error_log {directory}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {directory}/tmp/body;
  proxy_temp_path {directory}/tmp/proxy;
  fastcgi_temp_path {directory}/tmp/fastcgi;
  uwsgi_temp_path {directory}/tmp/uwsgi;
  scgi_temp_path {directory}/tmp/scgi;
  default_type application/octet-stream;
  types {{ text/plain txt; text/html html; }}
  sendfile on;
  gzip on;
  gzip_types text/plain;
  gzip_min_length 10;
  server {{
    listen 127.0.0.1:{self.http_port};
    listen unix:{self.unix};
    listen 127.0.0.1:{self.https_port} ssl;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    root {root};
    location = /hop1 {{ return 301 /hop2; }}
    location = /hop2 {{ return 302 https://localhost:{self.https_port}/hop3; }}
    location = /hop3 {{ return 307 /page.txt; }}
    location /slow/ {{ alias {root}/; limit_rate 2m; }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", directory], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        ok = wait_until(lambda: port_open(self.http_port) and port_open(self.https_port), 20)
        if not ok:
            self.stop()
            raise AssertionError("nginx did not start:\n" + open(f"{directory}/logs/error.log").read())

    def url(self, path, tls=False, host="127.0.0.1"):
        return f"https://{host}:{self.https_port}{path}" if tls else f"http://{host}:{self.http_port}{path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False

