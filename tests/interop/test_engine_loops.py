"""How many event loops a server runs (net/loop_count.hpp): the cores the
process may run on (its affinity mask, which `taskset` narrows), minus one
for services that only move bytes between sockets; every core when a
service works on files (FTP); --threads and `[engine] threads` override.
The server logs its choice at start: `event=engine loops=N usable_cores=C`.
"""

import os
import re

from ftp_util import start_ftp
from interop_util import Server, connect, recv_exact

USABLE = len(os.sched_getaffinity(0))


def engine_line(srv):
    m = re.search(r"event=engine loops=(\d+) usable_cores=(\d+)", srv.stderr())
    assert m, srv.stderr()
    return int(m.group(1)), int(m.group(2))


def echoes(srv, address=None):
    s = connect(address or srv.tcp)
    s.sendall(b"loop")
    assert recv_exact(s, 4) == b"loop"
    s.close()


def test_echo_leaves_one_core(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--log-level", "info")
    assert engine_line(srv) == (max(1, USABLE - 1), USABLE)
    echoes(srv)


def test_ftp_takes_every_core(start_server, sockdir):
    srv = start_ftp(start_server, "--root", sockdir, "--log-level", "info")
    assert engine_line(srv) == (USABLE, USABLE)


def test_affinity_mask_counts_not_the_machine(sockit_bin, sockdir):
    # Pinned to one CPU, as `taskset -c N` or a one-CPU cpuset would do; FTP
    # would take every core, so this is one loop only because one is usable.
    # taskset execs the server: same PID, so it is stopped and checked as usual.
    cpu = min(os.sched_getaffinity(0))
    srv = Server(["taskset", "-c", str(cpu), sockit_bin, "ftp", "serve", "--listen", "127.0.0.1:0", "--root",
                  sockdir, "--shutdown-grace", "1", "--log-level", "info", "--print-address"], expect=1)
    try:
        assert engine_line(srv) == (1, 1)
    finally:
        srv.assert_clean_exit()


def test_threads_flag_overrides(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--log-level", "info", "--threads", "3")
    assert engine_line(srv) == (3, USABLE)
    echoes(srv)


def test_config_key_overrides_and_ftp_section_adds_the_core(start_server, sockdir):
    config = os.path.join(sockdir, "serve.toml")
    text = """
[engine]
threads = {threads}
shutdown_grace = 1

[echo.main]
tcp = ["127.0.0.1:0"]
udp = []
{ftp}
"""
    ftp = f'[ftp.pub]\nlisten = ["127.0.0.1:0"]\nroot = "{sockdir}"\npassive_ports = "50000-50999"\n'
    for threads, with_ftp, want in ((0, False, max(1, USABLE - 1)), (0, True, USABLE), (2, True, 2)):
        with open(config, "w") as f:
            f.write(text.format(threads=threads, ftp=ftp if with_ftp else ""))
        srv = start_server(argv=["serve", "--config", config, "--log-level", "info"], expect=2 if with_ftp else 1)
        assert engine_line(srv) == (want, USABLE), (threads, with_ftp)
        echoes(srv, srv.of_kind("tcp")[0])  # the echo section comes first
        srv.stop()
