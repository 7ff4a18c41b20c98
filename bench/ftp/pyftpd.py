"""pyftpdlib, configured like the other servers of sockit's FTP benchmark.

Usage: python3 pyftpd.py PORT ROOT PASV_MIN PASV_MAX [USER PASSWORD]

One process, pyftpdlib's own single-threaded event loop (FTPServer, epoll).
Anonymous: read-only in ROOT, plus store-only in ROOT/incoming (as vsftpd's
anon_upload_enable and sockit's [anonymous] incoming). USER/PASSWORD adds a
real account (read/write in ROOT). Listens on 127.0.0.1:PORT, passive ports
PASV_MIN-PASV_MAX, sendfile for RETR (pyftpdlib's default), logging at
warning level (the others log nothing per command either).
"""
import logging
import os
import sys
import warnings

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    port, root, pmin, pmax = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    auth = DummyAuthorizer()
    auth.add_anonymous(root)  # "elr": change dir, list, retrieve
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "write permissions assigned to anonymous user"
        auth.override_perm("anonymous", os.path.join(root, "incoming"), "w")
    if len(sys.argv) > 6:
        auth.add_user(sys.argv[5], sys.argv[6], root, perm="elradfmw")
    handler = FTPHandler
    handler.authorizer = auth
    handler.passive_ports = range(pmin, pmax + 1)
    handler.use_sendfile = True
    handler.banner = "pyftpdlib ready."
    logging.basicConfig(level=logging.WARNING)
    server = FTPServer(("127.0.0.1", port), handler, backlog=1024)
    server.max_cons = 2000
    server.max_cons_per_ip = 2000
    print("ready", flush=True)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
