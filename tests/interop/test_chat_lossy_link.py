"""1,000 messages between two sockit chats in two network namespaces joined
by a veth pair that loses 20% of the datagrams each way (iptables statistic
in each namespace), and a relay on the way that duplicates 5% and reorders
25% of them with a 1 ms delay: every message shown exactly once, in the
order it was sent, and every one reported delivered.

tc netem would do all three, but this kernel is built without it
(CONFIG_NET_SCH_NETEM is not set): the relay (udp_impairer.py) duplicates
and reorders the way netem does, and the kernel drops.
"""

import os
import shutil
import subprocess
import sys
import time

import pytest

from chat_util import Chat

MESSAGES = 1000
HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


@pytest.fixture
def lossy_link():
    """Namespaces A (10.77.0.1) and B (10.77.0.2) over a veth pair dropping
    20% each way; yields (A, B) and deletes both afterwards."""
    if os.geteuid() != 0:
        pytest.fail("this test makes network namespaces: run it as root")
    for tool in ("ip", "iptables"):
        assert shutil.which(tool), f"{tool} is missing: scripts/install-deps test installs iproute2 and iptables"
    tag = f"{os.getpid() % 100000}"
    ns_a, ns_b = f"sockit-chat-a{tag}", f"sockit-chat-b{tag}"
    veth_a, veth_b = f"sca{tag}", f"scb{tag}"
    sh("ip", "netns", "add", ns_a)
    try:
        sh("ip", "netns", "add", ns_b)
        sh("ip", "link", "add", veth_a, "netns", ns_a, "type", "veth", "peer", "name", veth_b, "netns", ns_b)
        for ns, dev, addr in ((ns_a, veth_a, "10.77.0.1/24"), (ns_b, veth_b, "10.77.0.2/24")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "iptables", "-A", "OUTPUT", "-o", dev, "-p", "udp",
               "-m", "statistic", "--mode", "random", "--probability", "0.2", "-j", "DROP")
        yield ns_a, ns_b
    finally:
        for ns in (ns_a, ns_b):  # deleting a namespace deletes its veth end and its rules
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


def test_thousand_messages_over_a_lossy_duplicating_reordering_link(sockit_bin, lossy_link):
    ns_a, ns_b = lossy_link
    relay = subprocess.Popen(["ip", "netns", "exec", ns_b, sys.executable, os.path.join(HERE, "udp_impairer.py"),
                              "10.77.0.2", "2426", "127.0.0.1", "2425", "0.05", "0.25", "0.001"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    alice = bob = None
    try:
        assert relay.stdout.readline() == b"ready\n", relay.stderr.read()
        bob = Chat(sockit_bin, name="bob", listen="127.0.0.1:2425", prefix=["ip", "netns", "exec", ns_b])
        alice = Chat(sockit_bin, "--to", "10.77.0.2:2426", name="alice", listen="10.77.0.1:2425",
                     prefix=["ip", "netns", "exec", ns_a])
        sent = [f"message {i:04d} from alice" for i in range(1, MESSAGES + 1)]
        started = time.monotonic()
        alice.send(*sent)
        alice.wait_events("delivered", MESSAGES, timeout=60)
        elapsed = time.monotonic() - started
        ids = sorted(int(e.split()[0]) for e in alice.events("delivered"))
        assert ids == list(range(1, MESSAGES + 1))
        assert alice.events("failed") == []
        # Names may be addresses if every introduction was lost: compare texts.
        texts = [r.split(" ", 1)[1] for r in bob.wait_events("received", MESSAGES, timeout=15)]
        if texts != sent:
            first = next((i for i, (a, b) in enumerate(zip(texts, sent)) if a != b), min(len(texts), len(sent)))
            pytest.fail(f"{len(texts)} shown; first difference at {first}: {texts[first:first + 3]}")
        print(f"{MESSAGES} messages delivered in {elapsed:.1f}s")
        assert alice.finish() == 0
        assert bob.finish() == 0
    finally:
        for c in (alice, bob):
            if c:
                c.kill()
        relay.kill()
        relay.wait()
