"""sockit get ftp://: anonymous downloads from sockit's FTP server (passive
data connection), a missing file (exit 78, no file), and -c resuming a part
with REST."""

import os

from ftp_util import start_ftp
from get_util import get


def test_ftp_downloads_and_resume(start_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    data = os.urandom(3_000_000)
    (root / "big.bin").write_bytes(data)
    (root / "a.txt").write_bytes(b"hello ftp\n")
    for f in root.iterdir():
        f.chmod(0o644)
    server = start_ftp(start_server, "--root", str(root))
    base = f"ftp://127.0.0.1:{server.addresses[0].port}"

    r = get(f"{base}/a.txt")
    assert (r.rc, r.stdout) == (0, b"hello ftp\n"), r

    out = tmp_path / "out"
    out.mkdir()
    r = get("-o", str(out / "big.bin"), f"{base}/big.bin")
    assert r.rc == 0 and (out / "big.bin").read_bytes() == data, r

    r = get("-o", str(out / "nope"), f"{base}/nope")
    assert r.rc == 78 and "550" in r.err(), r
    assert not (out / "nope").exists()

    (out / ".again.bin.sockit-part").write_bytes(data[:1234])
    r = get("-c", "-o", str(out / "again.bin"), f"{base}/big.bin")
    assert r.rc == 0 and (out / "again.bin").read_bytes() == data, r
    assert sorted(os.listdir(out)) == ["again.bin", "big.bin"]


def test_a_silent_ftp_server_ends_at_max_time():
    import socket
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts (in the kernel) and never greets
    try:
        start = time.monotonic()
        r = get("--max-time", "1", f"ftp://127.0.0.1:{silent.getsockname()[1]}/x")
        assert r.rc == 28, r
        assert time.monotonic() - start < 8
    finally:
        silent.close()
