"""What the receiver must never do: write outside --dir (crafted names, a
symlink planted in DIR), replace an existing file without --overwrite, keep
damaged data (a proxy flips one byte of the DATA stream), or leave a part
file behind on a full disk."""

import os

import pytest

from transfer_util import (  # noqa: F401  (kit is a fixture)
    ANSWER, DIRECTORY, ENTRY, FILE, FINISH, MIB, RECEIVER, RESULT, SAVED, SENDER, SHA256, V_REFUSED, V_SEND,
    DataTap, Proxy, TransferPeer, big_file, entry_payload, frame, kit, names, parse_answer, parse_result,
    parse_summary, part_files, same_content, snapshot, tree_of_small_files,
)

MTIME = 1_500_000_000_987_654_321


# ------------------------------------------------------------------ confinement

ESCAPES = [
    b"../x",
    b"/etc/x",
    b"a/../../x",
    b"a\nb",
    b"link/x",             # DIR/link -> a directory outside DIR
    b"link/deeper/x",
    b"evil",               # DIR/evil -> a file outside DIR
    b"evil/x",
    b"..",
    b"./x",
    b"a//b",
    b"x/",
    b"",
    b".x.sockit-part",     # the receiver's own temporary names
    b"\xff\xfe.bin",       # not UTF-8
    b"\xc0\xaf..\xc0\xaf", # an overlong '/'
    b"tab\there",
    b"del\x7f",
    b"a" * 256,            # a component over 255 bytes
    b"d/" * 2048 + b"x",   # over 4095 bytes
]
DIR_ESCAPES = [b"../escaped-dir", b"link", b"link/sub", b"/tmp/escaped-dir"]


def test_names_that_try_to_escape_dir_are_refused(kit):
    box = kit.path("box")
    dest, outside = os.path.join(box, "in"), os.path.join(box, "outside")
    os.makedirs(dest)
    os.makedirs(outside)
    with open(os.path.join(outside, "target"), "wb") as f:
        f.write(b"outside file\n")
    os.symlink(outside, os.path.join(dest, "link"))
    os.symlink(os.path.join(outside, "target"), os.path.join(dest, "evil"))
    before = snapshot(box)
    etc_x_existed = os.path.lexists("/etc/x")
    rx = kit.recv_listen(dest)
    offers = [(FILE, n) for n in ESCAPES] + [(DIRECTORY, n) for n in DIR_ESCAPES]
    with TransferPeer.connect(rx.hostport) as peer:
        assert peer.handshake(SENDER, SHA256)["role"] == RECEIVER
        frames = [frame(ENTRY, entry_payload(i, name, kind=kind, size=0 if kind == DIRECTORY else 4))
                  for i, (kind, name) in enumerate(offers)]
        ok_id = len(offers)
        frames.append(frame(ENTRY, entry_payload(ok_id, "ok.txt", size=4)))
        peer.send(*frames)
        for i, (kind, name) in enumerate(offers):
            a = parse_answer(peer.expect(ANSWER))
            assert a["id"] == i, a
            assert a["verdict"] == V_REFUSED, f"{name!r} was not refused: {a}"
            assert a["reason"], f"{name!r} refused without a reason"
        a = parse_answer(peer.expect(ANSWER))
        assert (a["id"], a["verdict"], a["offset"]) == (ok_id, V_SEND, 0), a
        peer.send_file(ok_id, b"okay")
        r = parse_result(peer.expect(RESULT))
        assert (r["id"], r["outcome"]) == (ok_id, SAVED), r
        peer.send(frame(FINISH))
        peer.expect(FINISH)
    got = rx.wait()
    assert got.rc == 1, got
    s = parse_summary(got.summary())
    assert s["files"] == 1 and s["failed"] == len(offers), got
    failures = [l for l in got.lines() if l != got.summary() and not l.startswith("sockit recv:")]
    assert len(failures) == len(offers), got
    after = snapshot(box)
    assert set(after) == set(before) | {"in/ok.txt"}, sorted(set(after) ^ set(before))
    unchanged = {k: v for k, v in after.items() if k not in ("in", "in/ok.txt")}
    assert unchanged == {k: v for k, v in before.items() if k != "in"}, "something else changed"
    assert os.listdir(outside) == ["target"]
    assert not os.path.exists(os.path.join(kit.root, "x")) and not os.path.exists(kit.path("escaped-dir"))
    assert not os.path.exists("/tmp/escaped-dir")
    if not etc_x_existed:
        assert not os.path.lexists("/etc/x")
    with open(os.path.join(dest, "ok.txt"), "rb") as f:
        assert f.read() == b"okay"



def test_a_symlink_in_dir_is_not_followed_by_a_real_sender(kit):
    """`sockit send` of a directory named like a symlink planted in DIR."""
    outside = kit.path("outside")
    os.makedirs(outside)
    dest = kit.path("in")
    os.makedirs(dest)
    os.symlink(outside, os.path.join(dest, "photos"))
    kit.file("src/photos/cat.jpg", b"meow")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, kit.path("src/photos"))
    got = rx.wait()
    assert sent.rc == 1 and got.rc == 1, (sent, got)
    assert os.listdir(outside) == []
    assert os.path.islink(os.path.join(dest, "photos"))


# ------------------------------------------------------------------ existing files

def existing(kit, data, mode=0o600):
    dest = kit.path("in")
    path = kit.file(os.path.join(dest, "report.txt"), data, mode=mode, mtime_ns=MTIME)
    return dest, path, os.stat(path)


def assert_untouched(path, data, st):
    now = os.stat(path)
    with open(path, "rb") as f:
        assert f.read() == data
    assert (now.st_ino, now.st_mtime_ns, now.st_ctime_ns, now.st_mode) == \
        (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


@pytest.mark.parametrize("theirs", [b"a different, longer report\n", b"SAME LENGTH\n"],
                         ids=["other-size", "same-size"])
def test_an_existing_file_is_not_replaced_without_overwrite(kit, theirs):
    mine = b"same length\n"
    dest, path, st = existing(kit, mine)
    src = kit.file("src/report.txt", theirs)
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src)
    got = rx.wait()
    assert_untouched(path, mine, st)
    assert names(dest) == {"report.txt"}
    assert sent.rc == 1, sent
    assert got.rc == 1, got
    for side in (sent, got):
        assert parse_summary(side.summary())["failed"] == 1, side
        assert any(l.startswith("sockit: report.txt: ") and "exists" in l for l in side.lines()), side


def test_overwrite_replaces_an_existing_file(kit):
    dest, path, st = existing(kit, b"old contents\n")
    src = kit.file("src/report.txt", b"new contents, longer\n", mode=0o640, mtime_ns=MTIME + 42)
    rx = kit.recv_listen(dest, "--overwrite")
    sent = kit.send(rx.hostport, src)
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert parse_summary(got.summary())["files"] == 1
    with open(path, "rb") as f:
        assert f.read() == b"new contents, longer\n"
    now = os.stat(path)
    assert (now.st_mode & 0o777, now.st_mtime_ns) == (0o640, MTIME + 42)
    assert names(dest) == {"report.txt"}


def test_an_identical_file_is_already_there(kit):
    kit.file("src/tree/a.txt", b"aaa\n", mtime_ns=MTIME)
    kit.file("src/tree/b/c.bin", os.urandom(300_000), mtime_ns=MTIME)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    first = kit.send(rx.hostport, kit.path("src/tree"))
    assert first.rc == 0 and rx.wait().rc == 0, first
    before = {rel: os.stat(os.path.join(dest, rel)) for rel in ("tree/a.txt", "tree/b/c.bin")}

    rx = kit.recv_listen(dest)
    again = kit.send(rx.hostport, kit.path("src/tree"))
    got = rx.wait()
    assert again.rc == 0, again
    assert got.rc == 0, got
    r, s = parse_summary(got.summary()), parse_summary(again.summary())
    assert (r["files"], r["already"], r["failed"]) == (0, 2, 0), got
    assert (s["files"], s["already"], s["failed"]) == (0, 2, 0), again
    assert r["bytes"] == "0 B" and s["bytes"] == "0 B"
    for rel, st in before.items():
        now = os.stat(os.path.join(dest, rel))
        assert (now.st_ino, now.st_ctime_ns, now.st_mtime_ns) == (st.st_ino, st.st_ctime_ns, st.st_mtime_ns), rel
    assert part_files(dest) == []


def test_a_file_where_a_directory_is_sent(kit):
    dest = kit.path("in")
    kit.file(os.path.join(dest, "docs"), b"I am a file\n")
    kit.file("src/docs/readme.txt", b"readme\n")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, kit.path("src/docs"))
    got = rx.wait()
    assert sent.rc == 1 and got.rc == 1, (sent, got)
    with open(os.path.join(dest, "docs"), "rb") as f:
        assert f.read() == b"I am a file\n"
    assert names(dest) == {"docs"}


# ------------------------------------------------------------------ damaged data

@pytest.mark.parametrize("checksum", ["xxh3", "sha256"])
def test_a_flipped_byte_is_a_checksum_mismatch(kit, checksum):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src", "data.bin"), 3 * MIB)
    dest = os.path.join(shm, "in")
    rx = kit.recv_listen(dest)
    tap = DataTap(flip_at=6000)
    proxy = Proxy(("127.0.0.1", rx.port), tap)
    try:
        sent = kit.send(proxy.hostport, src, opts=["--checksum", checksum])
        got = rx.wait()
    finally:
        proxy.close()
    assert tap.flipped, "the proxy never saw DATA"
    assert got.rc == 1, got
    assert sent.rc == 1, sent
    assert any(l.startswith("sockit: data.bin: ") and "checksum mismatch" in l for l in got.lines()), got
    assert any("data.bin" in l and "checksum mismatch" in l for l in sent.lines()), sent
    assert parse_summary(got.summary())["failed"] == 1
    assert names(dest) == set(), "neither the file nor its part may stay"


def test_only_the_damaged_file_of_several_is_dropped(kit):
    shm = kit.shm()
    one = big_file(os.path.join(shm, "src", "d", "1.bin"), MIB)
    big_file(os.path.join(shm, "src", "d", "2.bin"), 2 * MIB)
    three = big_file(os.path.join(shm, "src", "d", "3.bin"), 512 * 1024)
    dest = os.path.join(shm, "in")
    rx = kit.recv_listen(dest)
    tap = DataTap(flip_at=MIB + 1_500_000)  # inside 2.bin
    proxy = Proxy(("127.0.0.1", rx.port), tap)
    try:
        sent = kit.send(proxy.hostport, os.path.join(shm, "src", "d"))
        got = rx.wait()
    finally:
        proxy.close()
    assert tap.flipped
    assert (sent.rc, got.rc) == (1, 1), (sent, got)
    s = parse_summary(got.summary())
    assert (s["files"], s["failed"]) == (2, 1), got
    assert names(dest) == {"d", "d/1.bin", "d/3.bin"}
    assert same_content(one, os.path.join(dest, "d", "1.bin"))
    assert same_content(three, os.path.join(dest, "d", "3.bin"))
    assert not os.path.exists(os.path.join(dest, "d", "2.bin"))


# ------------------------------------------------------------------ disk full

def test_a_full_disk_ends_the_transfer_and_frees_the_part(kit):
    dest = kit.mount_tmpfs(kit.path("small-disk"), "2m")
    try:
        shm = kit.shm()
        src = big_file(os.path.join(shm, "src", "five.bin"), 5 * MIB)
        rx = kit.recv_listen(dest)
        sent = kit.send(rx.hostport, src)
        got = rx.wait()
        assert got.rc == 255, got
        assert sent.rc == 255, sent
        assert os.listdir(dest) == [], "no final file and no part file on the full disk"
        st = os.statvfs(dest)
        assert st.f_bfree * st.f_frsize > 1.5 * MIB, "the part's space did not come back"
        # Both sides say why, naming the file (docs/transfer.md: "one line
        # naming the file and the reason").
        assert "full" in got.lines()[-1] and "five.bin" in got.lines()[-1], got
        assert any("full" in l for l in sent.lines()), sent
    finally:
        kit.umount(dest)


def test_small_files_filling_the_disk_end_the_transfer_with_nothing_half_written(kit):
    """Files up to 256 KiB are saved whole by the receiver's second thread:
    a write failing there must still end the transfer with the reason, and
    leave only complete files and no part file."""
    dest = kit.mount_tmpfs(kit.path("small-disk"), "1m")
    try:
        shm = kit.shm()
        src = os.path.join(shm, "src", "many")
        tree_of_small_files(src, 400, size=8 * 1024, per_dir=50)  # 3.2 MB into 1 MiB
        rx = kit.recv_listen(dest)
        sent = kit.send(rx.hostport, src)
        got = rx.wait()
        assert (sent.rc, got.rc) == (255, 255), (sent, got)
        assert "full" in got.lines()[-1], got
        assert any("full" in l for l in sent.lines()), sent
        kept = [os.path.join(d, f) for d, _, files in os.walk(dest) for f in files]
        assert kept, "the files before the disk filled are kept"
        for path in kept:
            assert not path.endswith(".sockit-part"), path
            rel = os.path.relpath(path, dest)
            assert same_content(os.path.join(shm, "src", rel), path), rel
    finally:
        kit.umount(dest)


def test_a_full_disk_keeps_the_files_before(kit):
    dest = kit.mount_tmpfs(kit.path("small-disk"), "2m")
    try:
        shm = kit.shm()
        small = big_file(os.path.join(shm, "src", "d", "a-small.bin"), 256 * 1024)
        big_file(os.path.join(shm, "src", "d", "b-big.bin"), 5 * MIB)
        rx = kit.recv_listen(dest)
        sent = kit.send(rx.hostport, os.path.join(shm, "src", "d"))
        got = rx.wait()
        assert (sent.rc, got.rc) == (255, 255), (sent, got)
        assert names(dest) == {"d", "d/a-small.bin"}
        assert same_content(small, os.path.join(dest, "d", "a-small.bin"))
    finally:
        kit.umount(dest)
