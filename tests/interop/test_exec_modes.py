"""sockit exec: --no-shell, --allow, and the line mode (no command: one
command per line read from stdin, over one connection)."""

import os

import frame_client as fc
from exec_util import (  # noqa: F401  (fixtures)
    exec_home, exec_server, kill_children, run_server_to_exit, server_children,
)
from interop_util import wait_until
from interop_util import assert_one_line_error


# ------------------------------------------------------------------ --no-shell

def test_no_shell_executes_the_vector_as_is(exec_server):
    srv = exec_server("--no-shell")
    r = srv.client("echo", "$HOME", "a  b", "*", ";", "|", "$(id)")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"$HOME a  b * ; | $(id)\n"


def test_shell_by_default_expands(exec_server, exec_home):
    srv = exec_server()
    r = srv.client("echo", "$HOME")
    assert r.stdout.decode().strip() == exec_home.server_home


def test_no_shell_command_line_split_at_whitespace(exec_server):
    srv = exec_server("--no-shell")
    with srv.session() as s:
        res = fc.run(s, "printf  [%s]   'a b'\tc", form=fc.COMMAND_LINE)
    assert res.value == 0
    assert res.stdout == b"['a][b'][c]"


def test_no_shell_not_found_and_not_executable(exec_server, exec_home, request):
    srv = exec_server("--no-shell")
    request.addfinalizer(lambda: kill_children(srv.pid))  # see test_failed_exec_leaves_no_process_behind
    r = srv.client("no-such-program-zz")
    assert r.returncode == 127
    assert b"no-such-program-zz" in r.stderr and b"not found" in r.stderr
    f = exec_home.write("not-exec.sh", "echo hi\n", mode=0o644)
    r = srv.client(f)
    assert r.returncode == 126, r.stderr
    assert f.encode() in r.stderr
    # the connection goes on after a refusal
    with srv.session() as s:
        a = fc.run(s, ["no-such-program-zz"])
        b = fc.run(s, ["echo", "next"])
    assert (a.how, a.value) == (fc.EXITED, 127)
    assert b"not found" in a.stderr and a.stdout == b""
    assert b.stdout == b"next\n"


def test_failed_exec_leaves_no_process_behind(exec_server, exec_home):
    """A program that cannot be executed (a path that does not exist, a file
    without the x bit, a file the kernel cannot run): the forked child must
    not survive its failed execve (it is a copy of the server)."""
    srv = exec_server("--no-shell")
    not_exec = exec_home.write("not-exec.sh", "echo hi\n", mode=0o644)
    no_format = exec_home.write("no-format.bin", b"\x00\x01garbage", mode=0o755)
    try:
        for program, code in ((exec_home.path("missing-program"), 127), (not_exec, 126), (no_format, None)):
            r = srv.client(program)
            if code is not None:
                assert r.returncode == code, (program, r.returncode, r.stderr)
            assert r.returncode in (126, 127), (program, r.returncode, r.stderr)
            assert program.encode() in r.stderr
        ok = wait_until(lambda: not server_children(srv.pid), 5)
        assert ok, f"the server still has children after failed execs: {server_children(srv.pid)}"
        r = srv.client("echo", "still-fine")
        assert r.stdout == b"still-fine\n"
    finally:
        kill_children(srv.pid)


def test_no_shell_path_and_stdin(exec_server):
    srv = exec_server("--no-shell")
    data = os.urandom(200_000)
    r = srv.client("/bin/cat", input=data)
    assert r.returncode == 0
    assert r.stdout == data


# ------------------------------------------------------------------ --allow

def test_allow_list(exec_server):
    srv = exec_server("--no-shell", "--allow", "echo,true")
    r = srv.client("echo", "allowed")
    assert (r.returncode, r.stdout) == (0, b"allowed\n")
    assert srv.client("true").returncode == 0
    for cmd in (["ls", "/"], ["sh", "-c", "echo escaped"], ["/bin/echo", "by-path"], ["false"]):
        r = srv.client(*cmd)
        assert r.returncode == 126, (cmd, r.returncode, r.stderr)
        assert r.stdout == b""
        assert cmd[0].encode() in r.stderr and b"not allowed" in r.stderr, r.stderr
    assert srv.count("refused") == 4


def test_allow_checks_the_command_line_form_too(exec_server):
    srv = exec_server("--no-shell", "--allow", "echo")
    with srv.session() as s:
        a = fc.run(s, "echo ok; id", form=fc.COMMAND_LINE)
        b = fc.run(s, "id", form=fc.COMMAND_LINE)
    assert a.value == 0 and a.stdout == b"ok; id\n"
    assert b.value == 126


def test_allow_repeatable(exec_server):
    srv = exec_server("--no-shell", "--allow", "echo", "--allow", "printf")
    assert srv.client("printf", "x").stdout == b"x"
    assert srv.client("echo", "y").stdout == b"y\n"
    assert srv.client("true").returncode == 126


def test_allow_without_no_shell_is_refused(exec_home):
    r = run_server_to_exit(exec_home, "--listen", "127.0.0.1:0", "--token-file", exec_home.token_file,
                           "--allow", "echo,true")
    assert r.returncode == 2, r.stderr
    assert r.stdout == b""
    assert_one_line_error(r.stderr, must_contain=("--no-shell",), allow_logs=True)


# ------------------------------------------------------------------ line mode

def test_line_mode_runs_each_line_over_one_connection(exec_server):
    srv = exec_server()
    r = srv.client(input=b"echo a\necho b\nexit\necho never\n", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"a\nb\n"
    assert srv.count("authenticated") == 1
    assert srv.count("run") == 2


def test_line_mode_until_end_of_input(exec_server):
    srv = exec_server()
    r = srv.client(input=b"echo one\n\n   \necho two >&2\nprintf 'x y'\n", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"one\nx y"
    assert b"two\n" in r.stderr
    assert srv.count("run") == 3


def test_line_mode_commands_get_no_input(exec_server):
    """Lines are commands, not input for the previous command."""
    srv = exec_server()
    r = srv.client(input=b"cat\necho after-cat\nquit\n", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"after-cat\n"


def test_line_mode_goes_on_after_a_failure(exec_server):
    srv = exec_server()
    r = srv.client(input=b"false\nno-such-cmd-ww\necho still-here\n", timeout=30)
    assert b"still-here\n" == r.stdout
    assert b"no-such-cmd-ww" in r.stderr
