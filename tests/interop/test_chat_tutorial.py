"""sockit chat and the tutorials' plain-text UDP chat, both ways: the
tutorial's server (recvfrom(1024), then sendto back) and its client (sendto,
then recvfrom(1024)), written as the tutorials write them."""

import concurrent.futures
import socket
import threading

import pytest

from chat_util import Chat, tutorial_client, tutorial_server, write_contacts


@pytest.fixture
def tutorial(request):
    """A tutorial chat server in a thread answering 'reply: TEXT'; yields
    (port, received list of (bytes, addr))."""
    ready, stop, received, port = threading.Event(), threading.Event(), [], []
    t = threading.Thread(target=tutorial_server, args=(lambda text: "reply: " + text, ready, stop, received, port),
                         daemon=True)
    t.start()
    assert ready.wait(5)
    yield port[0], received
    stop.set()
    t.join(5)


def test_sockit_chat_talks_to_the_tutorial_server(sockit_bin, tutorial):
    port, received = tutorial
    chat = Chat(sockit_bin, "--to", f"plain:127.0.0.1:{port}", name="alice")
    try:
        chat.send("hello server", "第二条")
        chat.wait_for(lambda ls: {f"received 127.0.0.1:{port} reply: hello server",
                                  f"received 127.0.0.1:{port} reply: 第二条"} <= set(ls))
        # Plain text on the wire, no IP Messenger header; "sent", not "delivered".
        assert [data for data, _ in received] == [b"hello server", "第二条".encode()]
        assert chat.events("sent") == [f"1 127.0.0.1:{port}", f"2 127.0.0.1:{port}"]
        assert chat.finish() == 0
    finally:
        chat.kill()


def test_a_plain_contact_by_name(sockit_bin, tutorial, sockdir):
    port, received = tutorial
    contacts = write_contacts(sockdir, qq=(f"127.0.0.1:{port}", True))
    chat = Chat(sockit_bin, "--contacts", contacts, "--to", "qq", name="alice")
    try:
        chat.send("via the contact book")
        chat.wait_line("received qq reply: via the contact book")
        assert received[0][0] == b"via the contact book"
        assert chat.finish() == 0
    finally:
        chat.kill()


def test_the_tutorial_client_talks_to_sockit_chat(sockit_bin):
    chat = Chat(sockit_bin, name="bob")
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            answer = pool.submit(tutorial_client, ("127.0.0.1", chat.port), "hi sockit, 你好")
            line = chat.wait_for(lambda ls: [l for l in ls if l.startswith("received ")])[0]
            sender = line.split()[1]
            assert line == f"received {sender} hi sockit, 你好"
            chat.send("hello client")  # no /to: the answer goes to whoever wrote last
            reply, client_port = answer.result(timeout=10)
        assert reply == b"hello client"
        assert sender == f"127.0.0.1:{client_port}"
        # The reply can reach the client before our reader has the line.
        assert chat.wait_events("sent", 1) == [f"1 {sender}"]
        assert chat.finish() == 0
    finally:
        chat.kill()


def test_gbk_plain_text_is_shown_and_answered_in_gbk(sockit_bin):
    chat = Chat(sockit_bin, name="bob")
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(10)
    try:
        client.sendto("你好，世界\n".encode("gbk"), ("127.0.0.1", chat.port))  # a Chinese Windows tutorial
        chat.wait_line(f"received 127.0.0.1:{client.getsockname()[1]} 你好，世界")
        chat.send("收到")
        data, _ = client.recvfrom(1024)
        assert data == "收到".encode("gbk")
        assert chat.finish() == 0
    finally:
        client.close()
        chat.kill()


def test_a_message_longer_than_the_tutorial_reads_is_refused(sockit_bin, tutorial):
    port, received = tutorial
    chat = Chat(sockit_bin, "--to", f"plain:127.0.0.1:{port}", name="alice")
    try:
        chat.send("x" * 1025, "y" * 1024)
        chat.wait_line(f"sent 2 127.0.0.1:{port}")
        (failed,) = chat.events("failed")
        assert failed.startswith(f"1 127.0.0.1:{port} message of 1025 bytes is longer than a plain-text peer reads")
        chat.wait_for(lambda ls: len(received) == 1)
        assert received[0][0] == b"y" * 1024
        assert chat.finish() == 1
    finally:
        chat.kill()
