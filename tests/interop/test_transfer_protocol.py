"""The transfer protocol against peers written in Python from
docs/protocol/transfer.md: misbehaving senders and receivers (oversized
frames, garbage, frames out of place, lies about digests) must get an ERROR
frame or a clean disconnect, and sockit must exit 255 without crashing.
Also: nc typing at a receiver, two senders, two receivers, stalls."""

import hashlib
import os
import struct
import subprocess
import time

import pytest

from interop_util import wait_until
from transfer_util import (  # noqa: F401  (kit is a fixture)
    ANSWER, DATA, E_MALFORMED, E_TOO_LARGE, E_UNEXPECTED, END, ENTRY, ERROR, FAILED, FILE,
    FINISH, HELLO, MIB, RECEIVER, RESULT, ROLE, SAVED, SENDER, SHA256, START, UNCHANGED, V_HAVE,
    V_REFUSED, V_SEND, XXH3, TransferPeer, answer_payload, big_file, end_payload,
    entry_payload, frame, free_port, hello_payload, kit, names, parse_answer, parse_end, parse_entry,
    parse_error,
    parse_result, parse_start, parse_summary, result_payload, role_payload, start_payload,
)


# ------------------------------------------------------------------ helpers

def python_sender(kit, dest, *opts):
    """A `sockit recv --listen` and a Python sender connected to it, after HELLO/ROLE."""
    rx = kit.recv_listen(dest, *opts)
    peer = TransferPeer.connect(rx.hostport)
    theirs = peer.handshake(SENDER, SHA256)
    assert theirs == {"role": RECEIVER, "digest": 0, "files": 0, "bytes": 0}, theirs
    return rx, peer


def last_frame_is_error(peer, code, timeout=20):
    """Reads to the end of the connection; the last frame must be ERROR `code`."""
    frames, how = peer.closed_after(timeout)
    assert frames, f"closed ({how}) without an ERROR frame"
    ftype, payload = frames[-1]
    assert ftype == ERROR, f"last frame {ftype:#04x} {payload[:80]!r}, not ERROR"
    got_code, message = parse_error(payload)
    assert got_code == code, (got_code, message)
    assert message and "\n" not in message
    return message


def closed_or_error(peer, timeout=20):
    """Reads to the end of the connection: it must end (ERROR optional)."""
    frames, how = peer.closed_after(timeout)
    assert all(t in (HELLO, ROLE, ERROR) for t, _ in frames), frames
    return frames


def failed_cleanly(done, *words):
    """Exit 255, one sockit line saying why (the last one), no summary."""
    assert done.rc == 255, done
    assert done.summary() is None, done
    last = done.lines()[-1]
    for w in words:
        assert w in last, (w, done)
    assert "multiple exceptions" not in last, done
    return last


def read_file_frames(peer):
    """START, DATA..., END of one file: (start, data, end)."""
    start = parse_start(peer.expect(START))
    data = bytearray()
    while True:
        ftype, payload = peer.recv_frame()
        if ftype == DATA:
            assert len(payload) <= MIB, len(payload)
            data += payload
            continue
        assert ftype == END, f"{ftype:#04x} in the middle of a file"
        return start, bytes(data), parse_end(payload)


def python_receiver(kit, *paths, opts=()):
    """A `sockit send --listen PATHS` and a Python receiver connected to it."""
    tx = kit.send_listen(*paths, opts=opts)
    peer = TransferPeer.connect(tx.hostport)
    theirs = peer.handshake(RECEIVER)
    assert theirs["role"] == SENDER, theirs
    return tx, peer, theirs


# ------------------------------------------------------------------ roles

def test_both_sides_senders(kit):
    a, b = kit.file("src/a.txt", b"a\n"), kit.file("src/b.txt", b"b\n")
    tx = kit.send_listen(a)
    other = kit.send(tx.hostport, b, timeout=60)
    listening = tx.wait()
    for side in (other, listening):
        failed_cleanly(side, "both sides are senders")


def test_both_sides_receivers(kit):
    rx = kit.recv_listen(kit.path("in1"))
    other = kit.recv(rx.hostport, kit.path("in2"), timeout=60)
    listening = rx.wait()
    for side in (other, listening):
        failed_cleanly(side, "both sides are receivers")
    assert names(kit.path("in1")) == set() and names(kit.path("in2")) == set()


def test_a_sockit_peer_of_another_service(kit):
    rx = kit.recv_listen(kit.path("in"))
    with TransferPeer.connect(rx.hostport) as peer:
        peer.send(frame(HELLO, hello_payload("exec")), frame(ROLE, struct.pack("!BBQQ", SENDER, SHA256, 0, 0)))
        closed_or_error(peer)
    failed_cleanly(rx.wait(), "exec")


def test_nc_typing_at_a_receiver_gets_one_line_of_text(kit):
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    r = subprocess.run(["nc", "-N", "127.0.0.1", str(rx.port)], input=b"hello?\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"error: this is sockit's file transfer"), r.stdout
    assert r.stdout.count(b"\n") == 1 and r.stdout.endswith(b"\n"), r.stdout
    assert names(dest) == set()
    # The receiver either goes on waiting for a real sender, or ends saying why.
    wait_until(lambda: not rx.alive(), 2)
    if rx.alive():
        src = kit.file("src/a.txt", b"after nc\n")
        sent = kit.send(rx.hostport, src)
        assert (sent.rc, rx.wait().rc) == (0, 0), sent
    else:
        got = rx.wait()
        assert got.rc == 255, got
        said = [l for l in got.lines() if not l.startswith("sockit recv: listening")]
        assert said, f"the receiver exited {got.rc} without a word:\n{got}"


# ------------------------------------------------------------------ a bad sender

def test_a_frame_over_the_limit_after_the_handshake(kit):
    rx, peer = python_sender(kit, kit.path("in"))
    with peer:
        peer.send(struct.pack("!BI", DATA, MIB + 1))
        message = last_frame_is_error(peer, E_TOO_LARGE)
    assert message
    failed_cleanly(rx.wait(), "protocol error")


def test_a_frame_over_the_limit_mid_file(kit):
    dest = kit.path("in")
    rx, peer = python_sender(kit, dest)
    with peer:
        peer.send(frame(ENTRY, entry_payload(0, "f.bin", size=10 * MIB)))
        assert parse_answer_verdict(peer) == V_SEND
        peer.send(frame(START, start_payload(0)), frame(DATA, b"x" * 1000), struct.pack("!BI", DATA, 0xFFFFFFFF))
        last_frame_is_error(peer, E_TOO_LARGE)
    failed_cleanly(rx.wait(), "protocol error")
    assert "f.bin" not in names(dest)


def parse_answer_verdict(peer):
    return parse_answer(peer.expect(ANSWER))["verdict"]


def test_a_frame_over_the_limit_instead_of_role(kit):
    rx = kit.recv_listen(kit.path("in"))
    with TransferPeer.connect(rx.hostport) as peer:
        peer.send(frame(HELLO, hello_payload()), struct.pack("!BI", ROLE, 64 * MIB))
        closed_or_error(peer)
    failed_cleanly(rx.wait())


@pytest.mark.parametrize("garbage", [b"\xff" * 64, b"\x00\x00\x00\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n"],
                         ids=["ff", "type0", "http"])
def test_garbage_after_hello(kit, garbage):
    rx = kit.recv_listen(kit.path("in"))
    with TransferPeer.connect(rx.hostport) as peer:
        peer.send(frame(HELLO, hello_payload()) + garbage)
        closed_or_error(peer)
    failed_cleanly(rx.wait())


def test_garbage_after_the_handshake(kit):
    rx, peer = python_sender(kit, kit.path("in"))
    with peer:
        peer.send(b"\xff\x00\x00\x00\x01z" + os.urandom(100))
        last_frame_is_error(peer, E_MALFORMED)
    failed_cleanly(rx.wait(), "protocol error")


def test_a_frame_the_sender_may_not_send(kit):
    rx, peer = python_sender(kit, kit.path("in"))
    with peer:
        peer.send(frame(ANSWER, answer_payload(0, V_SEND)))
        last_frame_is_error(peer, E_UNEXPECTED)
    failed_cleanly(rx.wait(), "protocol error")


@pytest.mark.parametrize("case", ["data-before-start", "too-much-data", "start-not-offered", "end-early",
                                  "finish-mid-file", "ids-decrease", "bad-entry-mode", "bad-entry-kind",
                                  "short-entry", "start-bad-offset", "second-role"])
def test_frames_out_of_place_get_an_error(kit, case):
    dest = kit.path("in")
    rx, peer = python_sender(kit, dest)
    entry = frame(ENTRY, entry_payload(0, "f.txt", size=10))
    bad = {
        "data-before-start": [entry, frame(DATA, b"0123456789")],
        "too-much-data": [entry, frame(START, start_payload(0)), frame(DATA, b"0123456789A")],
        "start-not-offered": [entry, frame(START, start_payload(7))],
        "end-early": [entry, frame(START, start_payload(0)), frame(DATA, b"01234"),
                      frame(END, end_payload(0, hashlib.sha256(b"01234").digest()))],
        "finish-mid-file": [entry, frame(START, start_payload(0)), frame(DATA, b"01234"), frame(FINISH)],
        "ids-decrease": [frame(ENTRY, entry_payload(5, "a.txt", size=1)), frame(ENTRY, entry_payload(4, "b.txt", size=1))],
        "bad-entry-mode": [frame(ENTRY, entry_payload(0, "f.txt", size=1, mode=0o4755))],
        "bad-entry-kind": [frame(ENTRY, struct.pack("!IBIQqI", 0, 9, 0o644, 1, 0, 0) + struct.pack("!H", 1) + b"f")],
        "short-entry": [frame(ENTRY, struct.pack("!IB", 0, FILE))],
        "start-bad-offset": [entry, frame(START, start_payload(0, 5))],
        "second-role": [frame(ROLE, role_payload(SENDER, SHA256))],
    }[case]
    with peer:
        peer.send(*bad)
        last_frame_is_error(peer, E_UNEXPECTED if case == "second-role" else E_MALFORMED)
    failed_cleanly(rx.wait(), "protocol error")
    assert "f.txt" not in names(dest)


def test_more_than_1024_entries_ahead(kit):
    rx, peer = python_sender(kit, kit.path("in"))
    with peer:
        peer.send(*[frame(ENTRY, entry_payload(i, f"f{i:04d}", size=1)) for i in range(1025)])
        message = last_frame_is_error(peer, E_MALFORMED)
        assert "1024" in message
    failed_cleanly(rx.wait(), "protocol error")


def test_a_lying_digest_is_a_checksum_mismatch(kit):
    dest = kit.path("in")
    rx, peer = python_sender(kit, dest)
    with peer:
        peer.send(frame(ENTRY, entry_payload(0, "lie.bin", size=5)), frame(ENTRY, entry_payload(1, "true.bin", size=4)))
        assert parse_answer_verdict(peer) == V_SEND and parse_answer_verdict(peer) == V_SEND
        peer.send_file(0, b"hello", digest=hashlib.sha256(b"HELLO").digest())
        r = parse_result(peer.expect(RESULT))
        assert (r["id"], r["outcome"]) == (0, FAILED) and "checksum mismatch" in r["reason"], r
        peer.send_file(1, b"true")
        assert parse_result(peer.expect(RESULT))["outcome"] == SAVED
        peer.send(frame(FINISH))
        peer.expect(FINISH)
    got = rx.wait()
    assert got.rc == 1, got
    assert any(l.startswith("sockit: lie.bin: ") and "checksum mismatch" in l for l in got.lines()), got
    assert names(dest) == {"true.bin"}


def test_an_empty_digest_means_the_sender_could_not_read_it(kit):
    dest = kit.path("in")
    rx, peer = python_sender(kit, dest)
    with peer:
        peer.send(frame(ENTRY, entry_payload(0, "gone.bin", size=4)))
        assert parse_answer_verdict(peer) == V_SEND
        peer.send_file(0, b"half", digest=b"")
        r = parse_result(peer.expect(RESULT))
        assert r["outcome"] == FAILED, r
        peer.send(frame(FINISH))
        peer.expect(FINISH)
    got = rx.wait()
    assert got.rc == 1, got
    assert names(dest) == set(), "the part is dropped"


def test_a_sender_that_closes_mid_file_leaves_a_part_to_resume(kit):
    dest = kit.path("in")
    rx, peer = python_sender(kit, dest)
    with peer:
        peer.send(frame(ENTRY, entry_payload(0, "big.bin", size=MIB)))
        assert parse_answer_verdict(peer) == V_SEND
        peer.send(frame(START, start_payload(0)), frame(DATA, b"p" * 300_000))
        time.sleep(0.3)
    last = failed_cleanly(rx.wait())
    assert "300000 bytes of big.bin kept" in last, last
    assert names(dest) == {".big.bin.sockit-part"}
    assert os.path.getsize(os.path.join(dest, ".big.bin.sockit-part")) == 300_000


def test_the_receiver_offers_its_part_with_the_prefix_digest(kit):
    """What a Python sender sees of a part left in DIR: ANSWER send, the part's
    size as offset and the SHA-256 of those bytes."""
    dest = kit.path("in")
    prefix = os.urandom(123_456)
    kit.file(os.path.join(dest, ".f.bin.sockit-part"), prefix)
    rest = os.urandom(10_000)
    rx, peer = python_sender(kit, dest)
    with peer:
        peer.send(frame(ENTRY, entry_payload(0, "f.bin", size=len(prefix) + len(rest))))
        a = parse_answer(peer.expect(ANSWER))
        assert (a["verdict"], a["offset"], a["digest"]) == (V_SEND, len(prefix), hashlib.sha256(prefix).digest()), a
        peer.send(frame(START, start_payload(0, len(prefix))), frame(DATA, rest),
                  frame(END, end_payload(0, hashlib.sha256(prefix + rest).digest())))
        assert parse_result(peer.expect(RESULT))["outcome"] == SAVED
        peer.send(frame(FINISH))
        peer.expect(FINISH)
    got = rx.wait()
    assert got.rc == 0, got
    assert parse_summary(got.summary())["resumed"] == "120.6 KiB", got
    with open(os.path.join(dest, "f.bin"), "rb") as f:
        assert f.read() == prefix + rest


# ------------------------------------------------------------------ a bad receiver

def test_the_sender_role_and_its_sha256_digest(kit):
    data = os.urandom(3 * MIB + 99)
    src = kit.file("src/d.bin", data, mode=0o640, mtime_ns=1_234_567_890_123_456_789)
    tx, peer, theirs = python_receiver(kit, src, opts=["--checksum", "sha256"])
    assert theirs == {"role": SENDER, "digest": SHA256, "files": 1, "bytes": len(data)}, theirs
    with peer:
        e = parse_entry(peer.expect(ENTRY))
        assert e == {"id": e["id"], "kind": FILE, "mode": 0o640, "size": len(data),
                     "mtime_ns": 1_234_567_890_123_456_789, "path": "d.bin"}, e
        peer.send(frame(ANSWER, answer_payload(e["id"], V_SEND)))
        start, got, end = read_file_frames(peer)
        assert start == {"id": e["id"], "offset": 0}
        assert got == data
        assert end["digest"] == hashlib.sha256(data).digest()
        peer.send(frame(RESULT, result_payload(e["id"], SAVED)))
        peer.expect(FINISH)
        peer.send(frame(FINISH))
    sent = tx.wait()
    assert sent.rc == 0, sent
    assert parse_summary(sent.summary())["files"] == 1


def test_the_default_digest_is_xxh3_128(kit):
    src = kit.file("src/d.bin", b"xxh3 please")
    tx, peer, theirs = python_receiver(kit, src)
    assert theirs["digest"] == XXH3
    with peer:
        e = parse_entry(peer.expect(ENTRY))
        peer.send(frame(ANSWER, answer_payload(e["id"], V_SEND)))
        _, got, end = read_file_frames(peer)
        assert got == b"xxh3 please" and len(end["digest"]) == 16
        peer.send(frame(RESULT, result_payload(e["id"], SAVED)))
        peer.expect(FINISH)
        peer.send(frame(FINISH))
    assert tx.wait().rc == 0


@pytest.mark.parametrize("prefix_ok", [True, False], ids=["matching-prefix", "other-prefix"])
def test_the_sender_resumes_only_from_a_matching_prefix(kit, prefix_ok):
    data = os.urandom(2 * MIB)
    src = kit.file("src/d.bin", data)
    tx, peer, _ = python_receiver(kit, src, opts=["--checksum", "sha256"])
    k = 700_001
    prefix = data[:k] if prefix_ok else b"\x00" + data[1:k]
    with peer:
        e = parse_entry(peer.expect(ENTRY))
        peer.send(frame(ANSWER, answer_payload(e["id"], V_SEND, k, hashlib.sha256(prefix).digest())))
        start, got, end = read_file_frames(peer)
        if prefix_ok:
            assert start["offset"] == k and got == data[k:], "only the rest crosses"
        else:
            assert start["offset"] == 0 and got == data, "a prefix that differs is sent again"
        assert end["digest"] == hashlib.sha256(data).digest(), "END covers the whole file"
        peer.send(frame(RESULT, result_payload(e["id"], SAVED)))
        peer.expect(FINISH)
        peer.send(frame(FINISH))
    sent = tx.wait()
    assert sent.rc == 0, sent
    assert (parse_summary(sent.summary())["resumed"] is not None) == prefix_ok, sent


@pytest.mark.parametrize("same", [True, False], ids=["identical", "different"])
def test_the_sender_checks_a_file_the_receiver_has(kit, same):
    data = b"the same bytes\n"
    src = kit.file("src/d.txt", data)
    tx, peer, _ = python_receiver(kit, src, opts=["--checksum", "sha256"])
    theirs = data if same else data.upper()
    with peer:
        e = parse_entry(peer.expect(ENTRY))
        peer.send(frame(ANSWER, answer_payload(e["id"], V_HAVE, len(data), hashlib.sha256(theirs).digest())))
        if same:
            start, got, end = read_file_frames(peer)
            assert start["offset"] == len(data) and got == b""
            assert end["digest"] == hashlib.sha256(data).digest()
            peer.send(frame(RESULT, result_payload(e["id"], UNCHANGED)))
            peer.expect(FINISH)
        else:
            assert peer.recv_frame()[0] == FINISH, "nothing is sent over a different file"
        peer.send(frame(FINISH))
    sent = tx.wait()
    s = parse_summary(sent.summary())
    if same:
        assert sent.rc == 0 and s["already"] == 1, sent
    else:
        assert sent.rc == 1 and s["failed"] == 1, sent
        assert any(l.startswith("sockit: d.txt: ") and "different" in l for l in sent.lines()), sent


def test_a_refusal_is_a_failed_file_for_the_sender(kit):
    a, b = kit.file("src/a.txt", b"a"), kit.file("src/b.txt", b"b")
    tx, peer, _ = python_receiver(kit, a, b)
    with peer:
        e1 = parse_entry(peer.expect(ENTRY))
        e2 = parse_entry(peer.expect(ENTRY))
        peer.send(frame(ANSWER, answer_payload(e1["id"], V_REFUSED, reason=b"no thanks")),
                  frame(ANSWER, answer_payload(e2["id"], V_SEND)))
        start, got, _ = read_file_frames(peer)
        assert start["id"] == e2["id"] and got == b"b"
        peer.send(frame(RESULT, result_payload(e2["id"], SAVED)))
        peer.expect(FINISH)
        peer.send(frame(FINISH))
    sent = tx.wait()
    assert sent.rc == 1, sent
    assert "sockit: a.txt: no thanks" in sent.lines(), sent


def test_the_receivers_error_frame_ends_the_sender(kit):
    src = kit.file("src/a.txt", b"a")
    tx, peer, _ = python_receiver(kit, src)
    with peer:
        peer.expect(ENTRY)
        peer.send(frame(ERROR, struct.pack("!H", 10) + b"the disk caught fire"))
    failed_cleanly(tx.wait(), "the disk caught fire")


@pytest.mark.parametrize("bad", ["oversized", "garbage", "answer-for-nothing", "result-for-nothing"])
def test_a_bad_receiver_ends_the_sender_cleanly(kit, bad):
    src = kit.file("src/a.txt", b"a" * 100)
    tx, peer, _ = python_receiver(kit, src)
    with peer:
        peer.expect(ENTRY)
        peer.send({"oversized": struct.pack("!BI", ANSWER, 2 * MIB),
                   "garbage": b"\xfe" * 32,
                   "answer-for-nothing": frame(ANSWER, answer_payload(99, V_SEND)),
                   "result-for-nothing": frame(RESULT, result_payload(12345, SAVED))}[bad])
        peer.closed_after(20)  # the sender ends the connection (an ERROR frame first is fine)
    failed_cleanly(tx.wait())


# ------------------------------------------------------------------ stalls

def test_a_silent_sender_stalls_the_receiver(kit):
    dest = kit.path("in")
    rx, peer = python_sender(kit, dest, "--stall-timeout", "1")
    with peer:
        peer.send(frame(ENTRY, entry_payload(0, "slow.bin", size=MIB)))
        assert parse_answer_verdict(peer) == V_SEND
        peer.send(frame(START, start_payload(0)), frame(DATA, b"s" * 5000))
        began = time.monotonic()
        got = rx.wait(20)
        took = time.monotonic() - began
    last = failed_cleanly(got, "stalled")
    assert "5000 bytes of slow.bin kept" in last, last
    assert 0.9 < took < 10, took
    assert names(dest) == {".slow.bin.sockit-part"}


def test_a_silent_receiver_stalls_the_sender(kit):
    src = kit.file("src/a.bin", os.urandom(100_000))
    tx, peer, _ = python_receiver(kit, src, opts=["--stall-timeout", "1"])
    with peer:
        peer.expect(ENTRY)  # and never answer
        began = time.monotonic()
        sent = tx.wait(20)
        took = time.monotonic() - began
    failed_cleanly(sent, "stalled")
    assert took < 10, took


def test_a_receiver_that_stops_reading_stalls_the_sender(kit):
    """The receiver answers, then reads nothing more: the sender's writes
    block on a full socket buffer, and the stall timeout ends it."""
    shm = kit.shm()
    src = big_file(os.path.join(shm, "big.bin"), 64 * MIB)
    tx, peer, _ = python_receiver(kit, src, opts=["--stall-timeout", "1"])
    with peer:
        e = parse_entry(peer.expect(ENTRY))
        peer.send(frame(ANSWER, answer_payload(e["id"], V_SEND)))
        sent = tx.wait(30)
    failed_cleanly(sent, "stalled")


def test_a_peer_silent_in_the_handshake(kit):
    rx = kit.recv_listen(kit.path("in"), "--stall-timeout", "1")
    with TransferPeer.connect(rx.hostport) as peer:
        peer.send(frame(HELLO, hello_payload()))  # and no ROLE
        began = time.monotonic()
        got = rx.wait(20)
        took = time.monotonic() - began
    last = failed_cleanly(got)
    assert "stalled" in last or "in time" in last, last
    assert took < 10, took


# ------------------------------------------------------------------ setup failures

def test_nobody_listening_is_a_failed_transfer(kit):
    src = kit.file("src/a.txt", b"a")
    sent = kit.send(f"127.0.0.1:{free_port()}", src, timeout=60)
    assert sent.summary() is None and sent.lines(), sent
    assert sent.rc == 255, sent  # the transfer failed (docs/transfer.md: exit status)
