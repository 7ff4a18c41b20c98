"""--tls: the listening side's self-signed key pair, pinned with
--fingerprint or trusted on first use (--known-hosts), a changed key
refused, a wrong pin refused before anything is transferred, TLS against
plain, and a flipped byte caught by TLS itself."""

import os
import re

from transfer_util import (  # noqa: F401  (kit is a fixture)
    MIB, Proxy, big_file, kit, names, parse_summary, same_content,
)


def tls_receiver(kit, dest, tls_dir, *extra):
    return kit.recv_listen(dest, "--tls", "--tls-dir", tls_dir, *extra)


def other_fingerprint(fp):
    """`fp` with its first hex digit changed."""
    c = fp[0]
    return ("0" if c != "0" else "1") + fp[1:]


def test_pinned_fingerprint(kit):
    src = kit.file("src/secret.bin", os.urandom(2 * MIB + 5), mode=0o600)
    dest = kit.path("in")
    rx = tls_receiver(kit, dest, kit.path("tls"))
    fp = rx.fingerprint()
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", fp), fp
    assert "(TLS)" in rx.hint()
    sent = kit.send(rx.hostport, src, opts=["--tls", "--fingerprint", fp, "--known-hosts", kit.path("kh")])
    got = rx.wait()
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    assert parse_summary(got.summary())["files"] == 1
    assert same_content(src, os.path.join(dest, "secret.bin"))
    assert not os.path.exists(kit.path("kh")), "a pinned transfer records nothing"


def test_fingerprint_implies_tls_and_takes_any_spelling(kit):
    src = kit.file("src/a.txt", b"pinned\n")
    dest = kit.path("in")
    rx = tls_receiver(kit, dest, kit.path("tls"))
    fp = rx.fingerprint().replace(":", "").lower()
    sent = kit.send(rx.hostport, src, opts=["--fingerprint", fp, "--known-hosts", kit.path("kh")])
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert names(dest) == {"a.txt"}


def test_wrong_pin_fails_and_nothing_is_transferred(kit):
    src = kit.file("src/secret.bin", b"must not leave\n")
    dest = kit.path("in")
    rx = tls_receiver(kit, dest, kit.path("tls"))
    fp = rx.fingerprint()
    sent = kit.send(rx.hostport, src, opts=["--tls", "--fingerprint", other_fingerprint(fp),
                                            "--known-hosts", kit.path("kh")])
    got = rx.wait()
    assert names(dest) == set(), "nothing may arrive"
    assert sent.summary() is None, sent
    assert any("fingerprint" in l and fp in l for l in sent.lines()), sent
    assert got.rc == 255, got
    assert sent.rc == 255, sent  # the transfer failed (docs/transfer.md), as ssh and sockit exec do


def test_trust_on_first_use_then_a_changed_key_is_refused(kit):
    src = kit.file("src/a.txt", b"first\n")
    kh = kit.path("known_hosts")
    dest = kit.path("in")
    rx = tls_receiver(kit, dest, kit.path("tls-one"))
    fp, port = rx.fingerprint(), rx.port
    sent = kit.send(rx.hostport, src, opts=["--tls", "--known-hosts", kh])
    assert sent.rc == 0, sent
    assert rx.wait().rc == 0
    assert any("first connection" in l and fp in l for l in sent.lines()), sent
    with open(kh) as f:
        assert f"127.0.0.1:{port} {fp}" in f.read().splitlines()

    # The same key again (same --tls-dir, same port): trusted silently.
    rx = kit.listen("recv", "--dir", dest, "--tls", "--tls-dir", kit.path("tls-one"),
                    "--listen", f"127.0.0.1:{port}")
    assert rx.fingerprint() == fp
    sent = kit.send(rx.hostport, src, opts=["--tls", "--known-hosts", kh])
    assert sent.rc == 0, sent
    assert rx.wait().rc == 0
    assert not any("first connection" in l for l in sent.lines()), sent

    # A new key pair on the same address: refused, nothing transferred.
    dest2 = kit.path("in2")
    rx = kit.listen("recv", "--dir", dest2, "--tls", "--tls-dir", kit.path("tls-two"),
                    "--listen", f"127.0.0.1:{port}")
    new_fp = rx.fingerprint()
    assert new_fp != fp
    sent = kit.send(rx.hostport, src, opts=["--tls", "--known-hosts", kh])
    got = rx.wait()
    assert names(dest2) == set()
    with open(kh) as f:
        assert f.read().splitlines() == [f"127.0.0.1:{port} {fp}"], "the recorded key is kept"
    assert any("CHANGED" in l for l in sent.lines()), sent
    assert got.rc == 255, got
    assert sent.rc == 255, sent


def test_reverse_direction_over_tls(kit):
    src = kit.file("src/a.bin", os.urandom(300_000))
    tx = kit.send_listen(src, opts=["--tls", "--tls-dir", kit.path("tls")])
    fp = tx.fingerprint()
    assert "recv --tls --fingerprint" in tx.hint()
    dest = kit.path("in")
    got = kit.recv(tx.hostport, dest, opts=["--fingerprint", fp, "--known-hosts", kit.path("kh")])
    sent = tx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert same_content(src, os.path.join(dest, "a.bin"))


def test_a_tls_sender_at_a_plain_receiver_fails(kit):
    src = kit.file("src/a.txt", b"a\n")
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src, opts=["--tls", "--known-hosts", kit.path("kh")], timeout=60)
    assert sent.rc == 255, sent
    assert sent.lines(), sent
    rx.stop()
    assert names(dest) == set()


def test_a_plain_sender_at_a_tls_receiver_fails(kit):
    src = kit.file("src/a.txt", b"a\n")
    dest = kit.path("in")
    rx = tls_receiver(kit, dest, kit.path("tls"))
    sent = kit.send(rx.hostport, src, timeout=60)
    assert sent.rc == 255, sent
    assert sent.lines(), sent
    rx.stop()
    assert names(dest) == set()


class ByteFlip:
    """A Proxy tap that flips one byte of the raw (encrypted) stream."""

    holding = False

    def __init__(self, at):
        self.at, self.seen, self.flipped = at, 0, False

    def feed(self, chunk):
        out = bytearray(chunk)
        if not self.flipped and self.seen <= self.at < self.seen + len(out):
            out[self.at - self.seen] ^= 0x01
            self.flipped = True
        self.seen += len(out)
        return bytes(out), b""


def test_a_flipped_byte_under_tls_ends_the_transfer_and_keeps_nothing_damaged(kit):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src", "data.bin"), 4 * MIB)
    dest = os.path.join(shm, "in")
    rx = tls_receiver(kit, dest, kit.path("tls"))
    fp = rx.fingerprint()
    tap = ByteFlip(200_000)
    proxy = Proxy(("127.0.0.1", rx.port), tap)
    try:
        sent = kit.send(proxy.hostport, src, opts=["--fingerprint", fp, "--known-hosts", kit.path("kh")])
        got = rx.wait()
    finally:
        proxy.close()
    assert tap.flipped
    assert got.rc == 255, got
    assert sent.rc == 255, sent
    assert not os.path.exists(os.path.join(dest, "data.bin")), "damaged data must not be kept"
