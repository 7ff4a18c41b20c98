"""sockit send / sockit recv, the plain cases: files of 0 B, 1 B and 100 MiB,
nested directories with their modes and mtimes (to the nanosecond), Unicode
names, 10,000 small files, symlinks skipped, both directions, both digests."""

import os
import struct
import time

from transfer_util import (  # noqa: F401  (kit is a fixture)
    MIB, assert_tree_copied, big_file, chmod_tree_writable, kit, names, parse_summary, part_files,
    same_content, snapshot, tree_of_small_files, write_file,
)

MTIME = 1_600_000_000_123_456_789  # ns: the nanoseconds must survive


def assert_received(done, files, failed=0, already=0):
    s = parse_summary(done.summary())
    assert s["verb"] == "received" and s["files"] == files, done
    assert s["failed"] == failed and s["already"] == already, done
    return s


def assert_sent(done, files, failed=0, already=0):
    s = parse_summary(done.summary())
    assert s["verb"] == "sent" and s["files"] == files, done
    assert s["failed"] == failed and s["already"] == already, done
    return s


def test_empty_and_one_byte_files(kit):
    empty = kit.file("src/empty.bin", b"", mode=0o600, mtime_ns=MTIME)
    one = kit.file("src/one.bin", b"\x00", mode=0o640, mtime_ns=MTIME + 1)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, empty, one)
    got = rx.wait()
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    assert_received(got, 2)
    s = assert_sent(sent, 2)
    assert s["bytes"] == "1 B"
    assert names(dest) == {"empty.bin", "one.bin"}
    assert_tree_copied(kit.path("src"), dest)
    with open(os.path.join(dest, "one.bin"), "rb") as f:
        assert f.read() == b"\x00"


def test_hundred_mib_file(kit):
    shm = kit.shm()
    src = big_file(os.path.join(shm, "src", "big.bin"), 100 * MIB)
    os.utime(src, ns=(MTIME, MTIME))
    dest = os.path.join(shm, "in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src)
    got = rx.wait(60)
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    s = assert_received(got, 1)
    assert s["bytes"] == "100.0 MiB" and s["resumed"] is None
    assert names(dest) == {"big.bin"}
    assert same_content(src, os.path.join(dest, "big.bin"))
    assert os.stat(os.path.join(dest, "big.bin")).st_mtime_ns == MTIME


def make_nested(root):
    """A tree with modes and nanosecond mtimes on files and directories."""
    files = {
        "tree/a.txt": (b"alpha\n", 0o644),
        "tree/run.sh": (b"#!/bin/sh\necho hi\n", 0o755),
        "tree/secret": (b"s3cret", 0o600),
        "tree/sub/b.bin": (os.urandom(70_000), 0o640),
        "tree/sub/deeper/c.txt": (b"c" * 3, 0o444),
        "tree/sub/deeper/deepest/d.txt": (b"", 0o604),
    }
    for i, (rel, (data, mode)) in enumerate(sorted(files.items())):
        write_file(os.path.join(root, rel), data, mode, MTIME + i * 1_000_001)
    os.makedirs(os.path.join(root, "tree/empty-dir"))
    dirs = {"tree/sub/deeper/deepest": 0o700, "tree/sub/deeper": 0o750, "tree/sub": 0o711,
            "tree/empty-dir": 0o755, "tree": 0o755}
    for i, (rel, mode) in enumerate(dirs.items()):  # deepest first: children change a parent's mtime
        p = os.path.join(root, rel)
        os.chmod(p, mode)
        os.utime(p, ns=(MTIME - i * 7, MTIME - i * 7))


def test_nested_directories_keep_names_modes_and_mtimes(kit):
    src = kit.path("src")
    make_nested(src)
    notes = kit.file("src/notes.txt", b"notes\n", mode=0o620, mtime_ns=MTIME + 5)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, os.path.join(src, "tree") + "/", notes)
    got = rx.wait()
    try:
        assert sent.rc == 0, sent
        assert got.rc == 0, got
        assert_received(got, 7)
        assert_sent(sent, 7)
        assert_tree_copied(src, dest)  # tree/ arrives as DIR/tree, notes.txt beside it
        assert part_files(dest) == []
    finally:
        chmod_tree_writable(src)
        chmod_tree_writable(dest)


def test_a_path_is_received_under_its_last_component(kit):
    kit.file("src/a/b/c.txt", b"c\n")
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, kit.path("src/a/b"))
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert names(dest) == {"b", "b/c.txt"}


def test_unicode_names(kit):
    tree = {
        "données/日本語 ファイル.txt": "日本語のテキスト\n".encode(),
        "données/émoji 🎉/ok ✓.md": b"# party\n",
        "données/Ελληνικά/файл.txt": b"\xff\xfe binary \x00 ok",
        "données/e\u0301 decomposed.txt": b"NFD stays NFD\n",
    }
    for rel, data in tree.items():
        kit.file(os.path.join("src", rel), data, mtime_ns=MTIME)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, kit.path("src", "données"))
    got = rx.wait()
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    assert_received(got, 4)
    for rel, data in tree.items():
        with open(os.path.join(dest, rel), "rb") as f:
            assert f.read() == data, rel
    assert_tree_copied(kit.path("src"), dest)


def test_ten_thousand_small_files(kit):
    shm = kit.shm()
    src = os.path.join(shm, "many")
    total = tree_of_small_files(src, 10_000, size=100)
    dest = os.path.join(shm, "in")
    rx = kit.recv_listen(dest, "-q")
    began = time.monotonic()
    sent = kit.send(rx.hostport, src, opts=["--stall-timeout", "120"])
    got = rx.wait(120)
    took = time.monotonic() - began
    print(f"10,000 files of 100 B: {took:.1f} s")  # for the record only: never asserted
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    s = assert_sent(sent, 10_000)
    assert s["bytes"] == f"{total / 1024:.1f} KiB"
    assert got.stderr.count("sockit: ") == 0, got  # -q: no summary, no failure
    want = snapshot(src)
    have = snapshot(dest)
    assert set(have) == {"many"} | {os.path.join("many", k) for k in want}, "names differ"
    for rel, w in want.items():
        h = have[os.path.join("many", rel)]
        assert h[0] == w[0] and h[2] == w[2], rel
        if w[0] == "file":
            assert h[3:] == w[3:] and h[1] == w[1], rel


def test_symlinks_inside_a_directory_are_skipped(kit):
    kit.file("src/dir/real.txt", b"real\n")
    kit.file("outside/secret.txt", b"not to be sent\n")
    os.symlink(kit.path("outside/secret.txt"), kit.path("src/dir/link-to-file"))
    os.symlink(kit.path("outside"), kit.path("src/dir/link-to-dir"))
    os.symlink("nowhere", kit.path("src/dir/dangling"))
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, kit.path("src/dir"))
    got = rx.wait()
    assert sent.rc == 0, sent
    assert got.rc == 0, got
    skipped = [l for l in sent.lines() if l.startswith("sockit: skipped ")]
    assert len(skipped) == 3, sent
    for name in ("link-to-file", "link-to-dir", "dangling"):
        assert any(name in l for l in skipped), (name, sent)
    assert names(dest) == {"dir", "dir/real.txt"}


def test_a_symlink_given_on_the_command_line_is_followed(kit):
    target = kit.file("src/target.txt", b"the target\n")
    link = kit.path("src/alias.txt")
    os.symlink(target, link)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, link)
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert names(dest) == {"alias.txt"}
    assert not os.path.islink(os.path.join(dest, "alias.txt"))
    with open(os.path.join(dest, "alias.txt"), "rb") as f:
        assert f.read() == b"the target\n"


def test_a_name_that_is_not_utf8_is_skipped_by_the_sender(kit):
    kit.file("src/dir/good.txt", b"good\n")
    bad = os.path.join(os.fsencode(kit.path("src/dir")), b"bad-\xff.txt")
    with open(bad, "wb") as f:
        f.write(b"bad\n")
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, kit.path("src/dir"))
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert any(l.startswith("sockit: skipped ") and "UTF-8" in l for l in sent.lines()), sent
    assert names(dest) == {"dir", "dir/good.txt"}


def test_reverse_direction_send_listens_recv_connects(kit):
    src = kit.path("src")
    make_nested(src)
    dest = kit.path("in")
    try:
        tx = kit.send_listen(os.path.join(src, "tree"))
        assert " recv THIS-HOST:" in tx.hint()  # what to run on the other side
        got = kit.recv(tx.hostport, dest)
        sent = tx.wait()
        assert got.rc == 0, got
        assert sent.rc == 0, sent
        assert_received(got, 6)
        assert_sent(sent, 6)
        assert_tree_copied(src, dest)
    finally:
        chmod_tree_writable(src)
        chmod_tree_writable(dest)


def test_checksum_sha256(kit):
    src = kit.file("src/data.bin", os.urandom(3 * MIB + 17), mtime_ns=MTIME)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, src, opts=["--checksum", "sha256"])
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert_received(got, 1)
    assert_tree_copied(kit.path("src"), dest)


def test_unknown_checksum_is_a_usage_error(kit):
    src = kit.file("src/x", b"x")
    done = kit.run("send", "--checksum", "md5", "127.0.0.1:9", src, timeout=30)
    assert done.rc == 2, done


def test_a_missing_path_is_a_usage_error_and_nothing_connects(kit):
    rx = kit.recv_listen(kit.path("in"))
    done = kit.send(rx.hostport, kit.path("does-not-exist"), timeout=30)
    assert done.rc == 2, done
    assert any("does-not-exist" in l for l in done.lines()), done
    assert rx.alive()  # nobody came
    rx.stop()
    assert names(kit.path("in")) == set()


def test_send_many_paths_and_the_totals(kit):
    a = kit.file("src/one.txt", b"1" * 1000)
    b = kit.file("src/two.txt", b"2" * 2000)
    kit.file("src/d/three.txt", b"3" * 3000)
    dest = kit.path("in")
    rx = kit.recv_listen(dest)
    sent = kit.send(rx.hostport, a, b, kit.path("src/d"))
    got = rx.wait()
    assert (sent.rc, got.rc) == (0, 0), (sent, got)
    assert parse_summary(sent.summary())["bytes"] == "5.9 KiB"
    assert parse_summary(got.summary())["bytes"] == "5.9 KiB"
    assert names(dest) == {"one.txt", "two.txt", "d", "d/three.txt"}


def default_acl(user, group, other):
    """A system.posix_acl_default value (xattr format, version 2) of three permission sets."""
    undefined = 0xFFFFFFFF
    entries = ((0x01, user), (0x04, group), (0x20, other))  # USER_OBJ, GROUP_OBJ, OTHER
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, undefined) for tag, perm in entries)


def test_modes_are_kept_under_the_umask_and_a_default_acl(kit):
    # Small files are created with their mode and chmod'ed only when the
    # receiver's umask or the directory's default ACL would change it: both
    # cases, and the case where neither does.
    modes = {"rw-all.txt": 0o666, "plain.txt": 0o644, "run.sh": 0o755, "group.txt": 0o640,
             "mine.txt": 0o600, "all.sh": 0o777}
    src = kit.shm("src")
    for name, mode in modes.items():
        write_file(os.path.join(src, "tree", name), name.encode(), mode, MTIME)
    for dest_kind in ("umask", "acl"):
        dest = os.path.join(kit.shm("in"), dest_kind)
        os.makedirs(dest)
        if dest_kind == "acl":
            # New files here get rw------- whatever the umask says.
            os.setxattr(dest, "system.posix_acl_default", default_acl(6, 0, 0))
            probe = os.path.join(dest, "probe")
            open(probe, "w").close()
            assert os.stat(probe).st_mode & 0o777 == 0o600
            os.unlink(probe)
        old = os.umask(0o022)
        try:
            rx = kit.recv_listen(dest)
        finally:
            os.umask(old)
        sent = kit.send(rx.hostport, os.path.join(src, "tree"))
        got = rx.wait()
        assert sent.rc == 0, sent
        assert got.rc == 0, got
        assert_received(got, len(modes))
        for name, mode in modes.items():
            st = os.stat(os.path.join(dest, "tree", name))
            assert (dest_kind, name, oct(st.st_mode & 0o7777)) == (dest_kind, name, oct(mode))
            assert st.st_mtime_ns == MTIME
