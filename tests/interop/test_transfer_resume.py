"""Interrupted transfers and resume: the sender or the receiver killed with
SIGKILL in the middle of a big file, the connection cut at a known byte, a
part file that does not match. Running the same command again must resume
from the verified part ("... resumed") and end with an identical file."""

import os
import signal

import pytest

from transfer_util import (  # noqa: F401  (kit is a fixture)
    MIB, DataTap, Proxy, big_file, kit, names, parse_summary, part_files, same_content, wait_for_size,
)

BIG = 256 * MIB
KILL_AT = 16 * MIB  # kill once the part file holds this much


def human(n):
    return f"{n / MIB:.1f} MiB"


def part_of(dest, name):
    return os.path.join(dest, f".{name}.sockit-part")


def big_source(kit, size=BIG):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src", "big.bin"), size)
    return shm, src


def assert_resumed(sent, got, kept, total=BIG):
    """Both summaries say the kept bytes were resumed and only the rest crossed."""
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    r = parse_summary(got.summary())
    s = parse_summary(sent.summary())
    assert r["files"] == 1 and r["failed"] == 0, got
    assert r["resumed"] == human(kept), got
    assert s["resumed"] == human(kept), sent
    assert r["bytes"] == human(total - kept), got


def interrupt(kit, src, dest, victim):
    """Starts a transfer of `src` into `dest` and SIGKILLs `victim` ("sender"
    or "receiver") once the part file holds KILL_AT bytes. Returns
    (sender's Done, receiver's Done), or None when the whole file went
    through before the kill could land (the machine was too fast or the test
    too slow): the caller tries again."""
    rx = kit.recv_listen(dest)
    tx = kit.popen("send", rx.hostport, src)
    part = part_of(dest, "big.bin")
    size = wait_for_size(part, KILL_AT, timeout=60, while_alive=lambda: tx.alive() and rx.alive())
    if size is None or size >= BIG:
        tx.wait()
        rx.wait()
        assert os.path.exists(os.path.join(dest, "big.bin")), "the transfer neither finished nor reached the kill point"
        return None
    if victim == "sender":
        tx.kill9()
        return tx.done, rx.wait()
    rx.kill9()
    return tx.wait(60), rx.done


def interrupted(kit, src, dest, victim):
    for _ in range(3):
        out = interrupt(kit, src, dest, victim)
        if out is not None:
            return out
        for n in os.listdir(dest):
            os.unlink(os.path.join(dest, n))
    pytest.fail("the 256 MiB transfer finished three times before the kill landed")


def test_sender_killed_mid_file_then_resumed(kit):
    shm, src = big_source(kit)
    dest = os.path.join(shm, "in")
    sent, got = interrupted(kit, src, dest, "sender")
    assert sent.rc == -signal.SIGKILL
    assert got.rc == 255, got
    kept = os.path.getsize(part_of(dest, "big.bin"))
    assert KILL_AT <= kept < BIG
    assert names(dest) == {".big.bin.sockit-part"}, "no final file before the check"
    (line,) = got.lines()[-1:]
    assert "kept" in line and "big.bin" in line and "resumes" in line, got
    assert f"{kept} bytes" in line, (kept, got)

    rx = kit.recv_listen(dest)  # the same DIR, the same command
    sent = kit.send(rx.hostport, src)
    got = rx.wait(60)
    assert_resumed(sent, got, kept)
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))


def test_receiver_killed_mid_file_then_resumed(kit):
    shm, src = big_source(kit)
    dest = os.path.join(shm, "in")
    sent, got = interrupted(kit, src, dest, "receiver")
    assert got.rc == -signal.SIGKILL
    assert sent.rc == 255, sent
    assert sent.summary() is None, sent
    assert any("connection" in l or "closed" in l for l in sent.lines()), sent
    kept = os.path.getsize(part_of(dest, "big.bin"))
    assert KILL_AT <= kept < BIG
    assert names(dest) == {".big.bin.sockit-part"}

    rx = kit.recv_listen(dest)  # restarted on the same DIR
    sent = kit.send(rx.hostport, src)
    got = rx.wait(60)
    assert_resumed(sent, got, kept)
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))


@pytest.mark.parametrize("checksum", ["xxh3", "sha256"])
def test_connection_cut_at_a_known_byte_then_resumed(kit, checksum):
    """A proxy holds the stream after 40 MiB of DATA, then resets both sides:
    exactly those bytes are kept, and exactly those are not sent again."""
    total = 64 * MIB
    shm, src = big_source(kit, total)
    dest = os.path.join(shm, "in")
    rx = kit.recv_listen(dest)
    tap = DataTap(hold_after=40 * MIB)
    proxy = Proxy(("127.0.0.1", rx.port), tap)
    try:
        tx = kit.popen("send", "--checksum", checksum, proxy.hostport, src)
        part = part_of(dest, "big.bin")
        assert wait_for_size(part, 40 * MIB, timeout=60, interval=0.01), "the part never reached 40 MiB"
        kept = tap.data_bytes
        assert wait_for_size(part, kept, timeout=30, interval=0.01) == kept
        proxy.cut()
    finally:
        proxy.close()
    sent = tx.wait(60)
    got = rx.wait(60)
    assert sent.rc == 255 and got.rc == 255, (sent, got)
    assert f"{kept} bytes of big.bin kept" in got.lines()[-1], got
    assert os.path.getsize(part_of(dest, "big.bin")) == kept

    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src, opts=["--checksum", checksum])
    got = rx.wait(60)
    assert_resumed(sent, got, kept, total)
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))


def test_a_part_that_does_not_match_is_sent_again(kit):
    """The part's bytes differ from the sender's (the source changed, the
    part was damaged): the sender sees the prefix digest differ and starts
    over; the receiver cuts its part; nothing is 'resumed'."""
    shm, src = big_source(kit, 8 * MIB)
    dest = os.path.join(shm, "in")
    os.makedirs(dest)
    with open(src, "rb") as f:
        prefix = bytearray(f.read(3 * MIB))
    prefix[12345] ^= 0xFF
    with open(part_of(dest, "big.bin"), "wb") as f:
        f.write(prefix)
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src)
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    r = parse_summary(got.summary())
    assert r["resumed"] is None and r["bytes"] == "8.0 MiB", got
    assert parse_summary(sent.summary())["resumed"] is None, sent
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))


def test_a_part_longer_than_the_file_is_started_over(kit):
    shm, src = big_source(kit, 2 * MIB)
    dest = os.path.join(shm, "in")
    os.makedirs(dest)
    with open(src, "rb") as f:
        data = f.read()
    with open(part_of(dest, "big.bin"), "wb") as f:
        f.write(data + b"tail that is not in the file")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src)
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert parse_summary(got.summary())["resumed"] is None, got
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))


def test_a_complete_verified_part_is_only_renamed(kit):
    """The whole file is in the part (killed between the last byte and the
    rename): nothing crosses again, the part becomes the file."""
    shm, src = big_source(kit, 5 * MIB)
    dest = os.path.join(shm, "in")
    os.makedirs(dest)
    with open(src, "rb") as f, open(part_of(dest, "big.bin"), "wb") as out:
        out.write(f.read())
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src)
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    r = parse_summary(got.summary())
    assert r["files"] == 1 and r["resumed"] == "5.0 MiB" and r["bytes"] == "0 B", got
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))
    assert part_files(dest) == []
