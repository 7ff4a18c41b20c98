"""`sockit serve`: the default config, config files running echo sections,
and one-line errors for bad configs."""

import os
import socket
import time
import tomllib

import pytest

from interop_util import (
    describe,
    Server, assert_one_line_error, connect, recv_all, recv_exact, run, udp_socket,
)


def write(dirname, name, text):
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def probe_stream(addr):
    """Classify a stream listener by what it does with 'abc\\n' + half-close."""
    s = connect(addr)
    s.sendall(b"abc\n")
    s.shutdown(socket.SHUT_WR)
    data = recv_all(s)
    s.close()
    return data


# ------------------------------------------------------------------ default config

def test_print_default_config_is_valid_toml(sockit_bin):
    r = run([sockit_bin, "serve", "--print-default-config"], timeout=20)
    assert r.returncode == 0, describe(r)
    cfg = tomllib.loads(r.stdout.decode())
    main = cfg["echo"]["main"]
    assert main["tcp"] == ["127.0.0.1:7007"]
    assert main["udp"] == ["127.0.0.1:7007"]
    assert main.get("mode", "echo") == "echo"
    assert main.get("max_connections") == 10000
    assert main.get("max_per_ip") == 1000
    assert main.get("idle_timeout") == 300
    assert main.get("max_message") == 65536
    assert "engine" in cfg
    assert set(cfg) <= {"engine", "echo", "exec", "ftp"}, f"unexpected top-level tables: {list(cfg)}"
    # exec is in the default, but runs only once a token exists.
    assert cfg["exec"]["main"]["listen"] == ["127.0.0.1:7022"]
    assert cfg["exec"]["main"]["if_no_token"] == "skip"
    # FTP shares ./share read-only to anonymous on loopback only.
    ftp = cfg["ftp"]["main"]
    assert ftp["listen"] == ["127.0.0.1:2121"]
    assert ftp["root"] == "./share" and ftp["create_root"] is True
    assert ftp["accounts"] == ""


def curl_ftp(args, timeout=20):
    return run(["curl", "-sS", "--max-time", "10", *args], timeout=timeout)


def assert_default_ftp_share(url, share_dir):
    """The default FTP service lists and serves ./share to anonymous, and
    refuses an upload."""
    assert os.path.isdir(share_dir), "./share was not created"
    with open(os.path.join(share_dir, "hello.txt"), "wb") as f:
        f.write(b"shared by default\n")
    r = curl_ftp(["-l", url])
    assert r.returncode == 0 and r.stdout.split() == [b"hello.txt"], describe(r)
    r = curl_ftp([url + "hello.txt"])
    assert r.returncode == 0 and r.stdout == b"shared by default\n", describe(r)
    r = curl_ftp(["-T", "-", url + "upload.txt"])  # anonymous is read-only
    assert r.returncode != 0 and not os.path.exists(os.path.join(share_dir, "upload.txt")), describe(r)


def test_default_config_accepted_by_serve(sockit_bin, start_server, sockdir):
    """The printed default, with only its ports turned into 0, runs as is:
    echo on TCP and UDP, and FTP sharing ./share (made in the working
    directory)."""
    r = run([sockit_bin, "serve", "--print-default-config"], timeout=20)
    assert r.returncode == 0, describe(r)
    text = r.stdout.decode()
    assert text.count('"127.0.0.1:7007"') == 2, text
    assert text.count('"127.0.0.1:2121"') == 1, text
    text = text.replace('"127.0.0.1:7007"', '"127.0.0.1:0"').replace('"127.0.0.1:2121"', '"127.0.0.1:0"')
    path = write(sockdir, "default.toml", text)
    srv = start_server(argv=["serve", "--config", path], expect=3, cwd=sockdir)
    assert sorted(a.kind for a in srv.addresses) == ["tcp", "tcp", "udp"]
    echo_tcp = [a for a in srv.of_kind("tcp") if probe_stream(a) == b"abc\n"]
    assert len(echo_tcp) == 1, srv.addresses
    u = udp_socket(srv.udp)
    u.sendto(b"dgram", srv.udp.sockaddr)
    assert u.recv(100) == b"dgram"
    u.close()
    (ftp,) = [a for a in srv.of_kind("tcp") if a is not echo_tcp[0]]
    assert_default_ftp_share(f"ftp://{ftp.host}:{ftp.port}/", os.path.join(sockdir, "share"))


@pytest.mark.parametrize("argv", [["serve"], ["echo", "serve"]], ids=["serve", "echo-serve"])
def test_builtin_default_listens_on_fixed_ports(sockit_bin, sockdir, argv):
    """With no config or addresses, `sockit echo serve` listens on
    127.0.0.1:7007 TCP and UDP, and `sockit serve` adds FTP on 2121 sharing
    ./share. Runs in a private network namespace so the fixed ports cannot
    collide."""
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
           sockit_bin, *argv, "--print-address"]
    with_ftp = argv == ["serve"]
    srv = Server(cmd, expect=3 if with_ftp else 2, cwd=sockdir)
    try:
        wanted = ["tcp://127.0.0.1:7007", "udp://127.0.0.1:7007"]
        if with_ftp:
            wanted.append("tcp://127.0.0.1:2121")
        assert sorted(a.text for a in srv.addresses) == sorted(wanted)
        ns = ["nsenter", f"--net=/proc/{srv.pid}/ns/net"]
        r = run(ns + ["nc", "-N", "127.0.0.1", "7007"], input=b"in the namespace\n", timeout=20)
        assert r.stdout == b"in the namespace\n", r.stderr
        r = run(ns + ["nc", "-u", "-w1", "127.0.0.1", "7007"], input=b"udp too\n", timeout=20)
        assert r.stdout == b"udp too\n", r.stderr
        if with_ftp:
            share = os.path.join(sockdir, "share")
            with open(os.path.join(share, "in-ns.txt"), "wb") as f:
                f.write(b"namespace share\n")
            r = run(ns + ["curl", "-sS", "--max-time", "10", "ftp://127.0.0.1:2121/in-ns.txt"], timeout=20)
            assert r.returncode == 0 and r.stdout == b"namespace share\n", describe(r)
        else:
            assert not os.path.exists(os.path.join(sockdir, "share"))
    finally:
        srv.assert_clean_exit()


# ------------------------------------------------------------------ config files

MULTI = """
[engine]
threads = 2
shutdown_grace = 1

[echo.plain]
tcp = ["127.0.0.1:0"]
udp = ["127.0.0.1:0"]
unix = ["{dir}/plain.sock"]

[echo.shout]
tcp = ["127.0.0.1:0"]
udp = []
unix = ["{dir}/shout.sock"]
mode = "upper"

[echo.greeter]
tcp = ["127.0.0.1:0"]
udp = []
unix = ["{dir}/greeter.sock"]
mode = "hello"

[echo.receipt]
tcp = ["127.0.0.1:0"]
udp = []
unix = ["{dir}/receipt.sock"]
reply = "Received msg: {msg}"
"""


def test_config_runs_every_echo_section(start_server, sockdir):
    path = write(sockdir, "multi.toml", MULTI.replace("{dir}", sockdir))
    srv = start_server(argv=["serve", "--config", path], expect=9)
    assert len(srv.of_kind("tcp")) == 4 and len(srv.of_kind("udp")) == 1
    assert sorted(a.path for a in srv.of_kind("unix")) == sorted(
        os.path.join(sockdir, f"{n}.sock") for n in ("plain", "shout", "greeter", "receipt"))
    expected = {
        "plain": b"abc\n",
        "shout": b"ABC\n",
        "greeter": b"Welcome!\nHello, abc!\n",
        "receipt": b"Received msg: abc\n",
    }
    for a in srv.of_kind("unix"):
        name = os.path.basename(a.path)[:-5]
        assert probe_stream(a) == expected[name], name
    assert sorted(probe_stream(a) for a in srv.of_kind("tcp")) == sorted(expected.values())
    u = udp_socket(srv.udp)
    u.sendto(b"plain udp", srv.udp.sockaddr)
    assert u.recv(100) == b"plain udp"
    u.close()


def test_config_limits_apply(start_server, sockdir):
    path = write(sockdir, "limits.toml", """
[echo.tight]
tcp = ["127.0.0.1:0"]
udp = []
unix = []
mode = "hello"
max_connections = 1
idle_timeout = 1
max_message = 8
""")
    srv = start_server(argv=["serve", "--config", path], expect=1)
    a = connect(srv.tcp)
    assert recv_exact(a, 9) == b"Welcome!\n"
    b = connect(srv.tcp)
    refused = recv_all(b)
    assert refused.startswith(b"error: "), refused
    b.close()
    a.sendall(b"123456789\n")
    assert recv_all(a) == b"error: message longer than 8 bytes\n"
    a.close()
    time.sleep(0.3)
    c = connect(srv.tcp)
    assert recv_exact(c, 9) == b"Welcome!\n"
    t0 = time.monotonic()
    assert recv_all(c, timeout=6) == b"", "idle_timeout = 1 not applied"
    assert time.monotonic() - t0 >= 0.8
    c.close()


def test_config_shutdown_grace_applies(start_server, sockdir):
    path = write(sockdir, "grace.toml", """
[engine]
shutdown_grace = 1

[echo.main]
tcp = ["127.0.0.1:0"]
udp = []
unix = []
""")
    srv = start_server(argv=["serve", "--config", path], expect=1)
    s = connect(srv.tcp)
    s.sendall(b"x")
    assert recv_exact(s, 1) == b"x"
    t0 = time.monotonic()
    assert srv.stop(timeout=15) == 0, srv.stderr()
    elapsed = time.monotonic() - t0
    assert 0.7 <= elapsed < 4, f"exit {elapsed:.2f}s after SIGTERM with shutdown_grace = 1"
    s.close()


# ------------------------------------------------------------------ bad configs

BAD_CONFIGS = [
    # (name, text, word the one-line error must contain)
    ("unknown key", '[echo.main]\ntcp = ["127.0.0.1:0"]\ncolour = "red"\n', "colour"),
    ("unknown engine key", '[engine]\nthreadz = 2\n[echo.main]\ntcp = ["127.0.0.1:0"]\n', "threadz"),
    ("unknown table", '[engin]\nthreads = 1\n', "engin"),
    ("unknown service kind", '[ecko.main]\ntcp = ["127.0.0.1:0"]\n', "ecko"),
    ("wrong type", '[echo.main]\ntcp = ["127.0.0.1:0"]\nmax_connections = "many"\n',
     "max_connections"),
    ("tcp not a list", '[echo.main]\ntcp = "127.0.0.1:0"\n', "tcp"),
    ("bad mode", '[echo.main]\ntcp = ["127.0.0.1:0"]\nmode = "shout"\n', "mode"),
    ("bad endpoint", '[echo.main]\ntcp = ["127.0.0.1:99999"]\n', "tcp"),
    ("negative timeout", '[echo.main]\ntcp = ["127.0.0.1:0"]\nidle_timeout = -1\n', "idle_timeout"),
    ("zero max_message", '[echo.main]\ntcp = ["127.0.0.1:0"]\nmax_message = 0\n', "max_message"),
    ("bad threads", '[engine]\nthreads = -3\n[echo.main]\ntcp = ["127.0.0.1:0"]\n', "threads"),
    ("syntax error", '[echo.main\ntcp = ["127.0.0.1:0"]\n', "bad.toml"),
    ("echo not a table", 'echo = 5\n', "echo"),
    # The parser quotes the bad text; a newline in it must not split the line.
    ("newline in a quoted value", '[echo.main]\ntcp = ["127.0.0.1:0"]\nmode = tru\n', "tru\\n"),
    ("escape sequence in a value", '[echo.main]\ntcp = ["127.0.0.1:0"]\nmode = "\\u001b[2J"\n', "\\x1b"),
]


@pytest.mark.parametrize("name,text,word", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_one_line_exit_2(sockit_bin, sockdir, name, text, word):
    path = write(sockdir, "bad.toml", text)
    r = run([sockit_bin, "serve", "--config", path, "--print-address"], timeout=20)
    assert r.returncode == 2, describe(r)
    assert_one_line_error(r.stderr, must_contain=(word,))
    assert r.stdout == b"", "printed an address although the config is bad"


def test_missing_config_file(sockit_bin, sockdir):
    path = os.path.join(sockdir, "nowhere.toml")
    r = run([sockit_bin, "serve", "--config", path, "--print-address"], timeout=20)
    assert r.returncode == 2, describe(r)
    assert_one_line_error(r.stderr, must_contain=("nowhere.toml",))
