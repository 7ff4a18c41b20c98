"""An [ftp.NAME] section of `sockit serve`: the root made when missing,
anonymous read-only, a clean stop on SIGTERM."""

import ftplib
import io
import os

from ftp_util import login
from interop_util import run


def test_ftp_section_of_sockit_serve(start_server, sockdir):
    root = os.path.join(sockdir, "share")
    config = os.path.join(sockdir, "serve.toml")
    with open(config, "w") as f:
        f.write(f"""
[engine]
shutdown_grace = 1

[ftp.pub]
listen = ["127.0.0.1:0"]
root = "{root}"
create_root = true
passive_ports = "50000-50999"
auth_delay_ms = 50
""")
    srv = start_server(argv=["serve", "--config", config], expect=1)
    assert os.path.isdir(root)
    with open(os.path.join(root, "note.txt"), "wb") as f:
        f.write(b"shared\n")
    os.chmod(os.path.join(root, "note.txt"), 0o644)
    ftp = login(srv.tcp)
    out = io.BytesIO()
    ftp.retrbinary("RETR note.txt", out.write)
    assert out.getvalue() == b"shared\n"
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    assert 50000 <= port <= 50999
    ftp.quit()
    assert "service=ftp.pub" in srv.stderr()


def test_bad_ftp_section_is_one_line(sockit_bin, sockdir):
    config = os.path.join(sockdir, "bad.toml")
    with open(config, "w") as f:
        f.write('[ftp.x]\nlisten = ["127.0.0.1:0"]\nroot = "/tmp"\npassive_ports = "1-2"\n')
    r = run([sockit_bin, "serve", "--config", config])
    assert r.returncode == 2
    assert b"ftp.x.passive_ports" in r.stderr and r.stderr.count(b"\n") == 1, r.stderr
