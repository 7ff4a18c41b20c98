"""More than one transfer: two receivers in two directories fed by two
senders at once, a --keep-listening receiver (and sender) serving one peer
after another, and two transfers of one name into one DIR at the same
moment (the part file is locked: the second is refused, bytes never mix)."""

import hashlib
import os
import signal

from transfer_util import (  # noqa: F401  (kit is a fixture)
    ANSWER, DATA, END, ENTRY, FAILED, FINISH, MIB, RESULT, SAVED, SENDER, SHA256, START, V_SEND,
    TransferPeer, big_file, end_payload, entry_payload, frame, kit, names, parse_answer, parse_result,
    parse_summary, same_content, start_payload, wait_for_size,
)


def test_two_receivers_fed_by_two_senders_at_once(kit):
    shm = kit.shm()
    a = big_file(os.path.join(shm, "src", "a.bin"), 48 * MIB)
    b = big_file(os.path.join(shm, "src", "b.bin"), 48 * MIB + 7)
    dest_a, dest_b = os.path.join(shm, "in-a"), os.path.join(shm, "in-b")
    rx_a, rx_b = kit.recv_listen(dest_a), kit.recv_listen(dest_b)
    tx_a = kit.popen("send", rx_a.hostport, a)
    tx_b = kit.popen("send", rx_b.hostport, b)
    for tx, rx in ((tx_a, rx_a), (tx_b, rx_b)):
        sent, got = tx.wait(), rx.wait(60)
        assert (sent.rc, got.rc) == (0, 0), (sent, got)
        assert parse_summary(got.summary())["files"] == 1
    assert names(dest_a) == {"a.bin"} and names(dest_b) == {"b.bin"}
    assert same_content(a, os.path.join(dest_a, "a.bin"))
    assert same_content(b, os.path.join(dest_b, "b.bin"))


def test_keep_listening_takes_two_senders_one_after_the_other(kit):
    shm = kit.shm()
    a = big_file(os.path.join(shm, "src", "a.bin"), 32 * MIB)
    b = big_file(os.path.join(shm, "src", "b.bin"), 32 * MIB + 1)
    dest = os.path.join(shm, "in")
    rx = kit.recv_listen(dest, "--keep-listening")
    tx_a = kit.popen("send", rx.hostport, a)
    tx_b = kit.popen("send", rx.hostport, b)  # at the same moment: waits its turn
    sent_a, sent_b = tx_a.wait(), tx_b.wait()
    assert sent_a.rc == 0, sent_a
    assert sent_b.rc == 0, sent_b
    assert rx.alive(), "--keep-listening goes on after a transfer"
    # And a third, later.
    c = big_file(os.path.join(shm, "src", "c.bin"), MIB)
    sent_c = kit.send(rx.hostport, c)
    assert sent_c.rc == 0, sent_c
    assert rx.alive()
    got = rx.stop()
    assert got.rc in (0, -signal.SIGTERM), got
    summaries = [parse_summary(l) for l in got.lines() if l.startswith("sockit: received")]
    assert [s["files"] for s in summaries] == [1, 1, 1], got
    assert names(dest) == {"a.bin", "b.bin", "c.bin"}
    for src in (a, b, c):
        assert same_content(src, os.path.join(dest, os.path.basename(src)))


def test_keep_listening_survives_a_failed_transfer(kit):
    dest = kit.path("in")
    rx = kit.recv_listen(dest, "--keep-listening")
    with TransferPeer.connect(rx.hostport) as peer:  # a sender that breaks the protocol
        peer.handshake(SENDER, SHA256)
        peer.send(b"\xff" * 16)
        peer.closed_after(20)
    src = kit.file("src/ok.txt", b"fine\n")
    sent = kit.send(rx.hostport, src)
    assert sent.rc == 0, sent
    assert rx.alive()
    got = rx.stop()
    assert names(dest) == {"ok.txt"}
    assert got.rc in (0, 255, -signal.SIGTERM), got


def test_send_keep_listening_serves_two_receivers(kit):
    src = kit.file("src/shared.txt", b"for everyone\n" * 1000)
    tx = kit.send_listen(src, opts=["--keep-listening"])
    for name in ("in1", "in2"):
        got = kit.recv(tx.hostport, kit.path(name))
        assert got.rc == 0, got
        assert same_content(src, kit.path(name, "shared.txt"))
    assert tx.alive()
    tx.stop()


def test_two_transfers_of_one_name_into_one_dir_do_not_mix(kit):
    """Two receivers on the same DIR, two senders of big.bin at once: the one
    that comes second finds the part locked and is refused; the first
    completes with its own bytes."""
    dest = kit.path("in")
    rx1, rx2 = kit.recv_listen(dest), kit.recv_listen(dest)
    first = os.urandom(MIB)
    second = os.urandom(MIB)
    with TransferPeer.connect(rx1.hostport) as p1, TransferPeer.connect(rx2.hostport) as p2:
        p1.handshake(SENDER, SHA256)
        p2.handshake(SENDER, SHA256)
        p1.send(frame(ENTRY, entry_payload(0, "big.bin", size=MIB)))
        assert parse_answer(p1.expect(ANSWER))["verdict"] == V_SEND
        p1.send(frame(START, start_payload(0)), frame(DATA, first[:300_000]))  # holds the part open
        # Wait until the first receiver wrote those bytes, so its part is locked.
        part = os.path.join(dest, ".big.bin.sockit-part")
        assert wait_for_size(part, 300_000, timeout=20, interval=0.01) == 300_000
        p2.send(frame(ENTRY, entry_payload(0, "big.bin", size=MIB)))
        a2 = parse_answer(p2.expect(ANSWER))
        if a2["verdict"] == V_SEND:
            p2.send_file(0, second)
            r2 = parse_result(p2.expect(RESULT))
            assert r2["outcome"] == FAILED, r2
            assert "another transfer" in r2["reason"], r2
        p2.send(frame(FINISH))
        p2.expect(FINISH)
        p1.send(frame(DATA, first[300_000:]), frame(END, end_payload(0, hashlib.sha256(first).digest())))
        assert parse_result(p1.expect(RESULT))["outcome"] == SAVED
        p1.send(frame(FINISH))
        p1.expect(FINISH)
    got1, got2 = rx1.wait(), rx2.wait()
    assert got1.rc == 0, got1
    assert got2.rc == 1, got2
    assert names(dest) == {"big.bin"}
    with open(os.path.join(dest, "big.bin"), "rb") as f:
        assert f.read() == first


def test_a_once_listener_tells_a_second_sender_it_is_busy(kit):
    """Without --keep-listening the one transfer is all: a sender arriving
    during it is refused with a reason (exit 255), and the first completes."""
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    data = os.urandom(1000)
    with TransferPeer.connect(rx.hostport) as first:
        first.handshake(SENDER, SHA256)
        late = kit.send(rx.hostport, kit.file("src/late.txt", b"late\n"))
        assert late.rc == 255, late
        assert any("busy" in l for l in late.lines()), late
        first.send(frame(ENTRY, entry_payload(0, "first.bin", size=len(data))))
        assert parse_answer(first.expect(ANSWER))["verdict"] == V_SEND
        first.send_file(0, data)
        assert parse_result(first.expect(RESULT))["outcome"] == SAVED
        first.send(frame(FINISH))
        first.expect(FINISH)
    got = rx.wait()
    assert got.rc == 0, got
    assert names(dest) == {"first.bin"}
