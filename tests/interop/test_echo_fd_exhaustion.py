"""Running out of file descriptors on accept (EMFILE) must slow accepting down,
never kill the server: connections wait in the backlog and are served once
descriptors come free.

The server runs under `prlimit` with a low hard RLIMIT_NOFILE (it raises its
soft limit to the hard one at start, so the hard limit is what counts).
"""

from interop_util import Server, connect, recv_exact, wait_until

FD_LIMIT = 64  # the server needs ~20 for itself under ASan


def test_accept_backs_off_on_emfile_and_recovers(sockit_bin):
    srv = Server(["prlimit", f"--nofile={FD_LIMIT}:{FD_LIMIT}", "--", sockit_bin, "echo", "serve",
                  "--tcp", "127.0.0.1:0", "--threads", "1", "--shutdown-grace", "1",
                  "--print-address"], expect=1)
    try:
        exercise(srv)
    finally:
        srv.assert_clean_exit()


def exercise(srv):

    clients = []
    for i in range(FD_LIMIT + 40):  # more than the server can hold
        clients.append(connect(srv.tcp, timeout=10))
    # The server must have hit the limit and said so, and still be running.
    assert wait_until(lambda: "event=accept_backoff" in srv.stderr(full=True), 10), srv.stderr()
    assert srv.alive()

    # The first connections were accepted and work.
    clients[0].sendall(b"still here")
    assert recv_exact(clients[0], 10, timeout=10) == b"still here"

    # Free most descriptors: the connections waiting in the backlog get served.
    waiting = clients[-1]
    for s in clients[:-1]:
        s.close()
    waiting.sendall(b"served late")
    assert recv_exact(waiting, 11, timeout=15) == b"served late"
    waiting.close()

    # And new connections work as before.
    fresh = connect(srv.tcp)
    fresh.sendall(b"fresh")
    assert recv_exact(fresh, 5) == b"fresh"
    fresh.close()
