"""sockit chat against sockit chat: two and three peers in scriptable mode,
names from contacts and announcements, /to, /msg, /who, exit codes and the
errors a user can cause."""

import re
import subprocess

import pytest

from chat_util import Chat, write_contacts
from interop_util import assert_one_line_error


@pytest.fixture
def chats(sockit_bin):
    started = []

    def start(*args, **kw):
        c = Chat(sockit_bin, *args, **kw)
        started.append(c)
        return c

    yield start
    for c in started:
        c.kill()


def test_two_chats_exchange_messages_both_ways(chats, sockdir):
    bob = chats(name="bob")
    contacts = write_contacts(sockdir, bob=bob.address)
    alice = chats("--contacts", contacts, "--to", "bob", name="alice")
    bob.wait_line(f"joined alice {alice.address}")  # contacts are told we are here
    alice.wait_line(f"joined bob {bob.address}")  # and answer
    alice.send("hello bob", "a line with: colons and 你好", "//slash")
    alice.wait_for(lambda ls: all(f"delivered {i} bob" in ls for i in (1, 2, 3)), what="3 deliveries")
    assert bob.wait_events("received", 3) == ["alice hello bob", "alice a line with: colons and 你好", "alice /slash"]
    bob.send("/to alice", "hi alice")
    bob.wait_line("delivered 1 alice")
    alice.wait_line("received bob hi alice")
    assert alice.finish() == 0
    bob.wait_line(f"left alice {alice.address}")
    assert bob.finish() == 0


def test_three_chats_and_who(chats, sockdir):
    carol = chats(name="carol")
    bob = chats(name="bob")
    contacts = write_contacts(sockdir, bob=bob.address, carol=carol.address)
    alice = chats("--contacts", contacts, name="alice")
    bob.wait_line(f"joined alice {alice.address}")
    carol.wait_line(f"joined alice {alice.address}")
    alice.send("/msg bob for bob", "/msg carol for carol", "/to carol", "again carol")
    alice.wait_for(lambda ls: {"delivered 1 bob", "delivered 2 carol", "delivered 3 carol"} <= set(ls))
    assert bob.wait_events("received", 1) == ["alice for bob"]
    assert carol.wait_events("received", 2) == ["alice for carol", "alice again carol"]
    # bob answers whoever wrote last without /to; carol by the name alice announced.
    bob.send("back from bob")
    carol.send("/to alice", "back from carol")
    alice.wait_for(lambda ls: {"received bob back from bob", "received carol back from carol"} <= set(ls))
    alice.send("/who", "/contacts")
    alice.wait_line("end of contacts")
    assert f"peer bob {bob.address} present" in alice.lines
    assert f"peer carol {carol.address} present" in alice.lines
    assert f"contact bob {bob.address}" in alice.lines
    for c in (alice, bob, carol):
        assert c.finish() == 0


def test_unknown_recipient_and_bad_command_are_reported(chats):
    alice = chats(name="alice")
    alice.send("nobody to send this to", "/to ghost", "hello ghost", "/frobnicate")
    alice.wait_line("error unknown command /frobnicate (try /help)")
    failed = alice.events("failed")
    assert failed[0].startswith("1 - no recipient")
    assert failed[1].startswith("2 ghost no contact or peer named 'ghost'")
    assert alice.finish() == 1  # some message failed


def test_too_long_message_is_refused_with_the_limit(chats):
    bob = chats(name="bob")
    alice = chats("--to", bob.address, name="alice")
    alice.send("x" * 9000, "short one")
    alice.wait_line("delivered 2 bob")  # bob answered our introduction with its name
    (failed,) = alice.events("failed")
    assert re.match(r"1 \S+ message of 9000 bytes does not fit one datagram \(at most \d+ bytes\): split it", failed)
    longest = int(re.search(r"at most (\d+)", failed).group(1))
    alice.send("y" * longest)
    alice.wait_line("delivered 3 bob")
    bob.wait_for(lambda ls: any(l == "received alice " + "y" * longest for l in ls))
    assert alice.finish() == 1
    assert bob.finish() == 0


def test_usage_errors_exit_2_with_one_line(sockit_bin, sockdir):
    bad = write_contacts(sockdir)
    with open(bad, "a") as f:
        f.write('"has space" = "127.0.0.1:1"\n')
    for args, words in [
        (["--name", "two words"], ["--name"]),
        (["--name", "a:b"], ["--name"]),
        (["--contacts", sockdir + "/missing.toml"], ["cannot read contacts file"]),
        (["--contacts", bad], ["contacts.has space"]),
        (["--listen", "nonsense:port:x"], ["--listen"]),
        (["--timeout", "0"], []),
    ]:
        r = subprocess.run([sockit_bin, "chat", "--listen", "127.0.0.1:0"] + args, input=b"",
                           capture_output=True, timeout=20)
        assert r.returncode == 2, (args, r)
        assert_one_line_error(r.stderr.decode(), must_contain=words)


def test_address_in_use_exits_1(chats, sockit_bin):
    bob = chats(name="bob")
    r = subprocess.run([sockit_bin, "chat", "--listen", bob.address], input=b"", capture_output=True, timeout=20)
    assert r.returncode == 1
    assert_one_line_error(r.stderr.decode(), must_contain=["cannot listen", bob.address])


def test_help_has_examples(sockit_bin):
    r = subprocess.run([sockit_bin, "chat", "--help"], capture_output=True, timeout=20)
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "Examples:" in out and "Exit codes:" in out and "/to" in out
