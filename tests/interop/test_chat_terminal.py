"""sockit chat on a terminal (a pty): the libedit prompt, messages both ways
in the tutorial's style with the time, UTF-8 typed at the prompt (with LANG
unset), /who, and /quit ending it with exit code 0 and a goodbye."""

import os
import pty
import re

from chat_util import Chat
from interop_util import read_pty



def test_prompt_messages_who_and_quit(sockit_bin, sockdir):
    bob = Chat(sockit_bin, name="bob")
    pid, fd = pty.fork()
    if pid == 0:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k != "LANG"}
        env["HOME"] = sockdir  # history goes here
        os.execve(sockit_bin, [sockit_bin, "chat", "--listen", "127.0.0.1:0", "--name", "alice",
                               "--to", bob.address], env)
    try:
        banner = read_pty(fd, r"> $")
        assert "sockit chat on 127.0.0.1:" in banner and f"to {bob.address}> " in banner
        os.write(fd, "hello bob 你好\r".encode())
        shown = read_pty(fd, r"#1 delivered to bob")
        assert re.search(r"\[\d\d:\d\d:\d\d\] #1 delivered to bob", shown), shown
        bob.wait_line("received alice hello bob 你好")
        bob.send("/to alice", "hi alice")
        shown = read_pty(fd, r"hi alice")
        assert re.search(rf"\[\d\d:\d\d:\d\d\] from bob \[{re.escape(bob.address)}\]: hi alice", shown), shown
        os.write(fd, b"/who\r")
        assert f"peer bob {bob.address} present" in read_pty(fd, r"end of peers")
        os.write(fd, b"/quit\r")
        _, status = os.waitpid(pid, 0)
        pid = 0
        assert os.waitstatus_to_exitcode(status) == 0
        bob.wait_for(lambda ls: any(l.startswith("left alice ") for l in ls))
        assert bob.finish() == 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
        bob.kill()
