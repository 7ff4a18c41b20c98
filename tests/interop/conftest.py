"""Fixtures for the sockit interop suite.

SOCKIT_BIN must name the sockit binary (CTest sets it to the built target).
"""

import os
import resource

import pytest

from interop_util import Server, Socat, count_endpoints, rmtree, short_tempdir


def _raise_nofile():
    # The 1,000-connection test needs ~1,000 descriptors here and in the
    # server, which inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def pytest_configure(config):
    path = os.environ.get("SOCKIT_BIN")
    if not path:
        raise pytest.UsageError("SOCKIT_BIN is not set: point it at the sockit binary "
                                "(e.g. SOCKIT_BIN=$PWD/build/dev/sockit)")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise pytest.UsageError(f"SOCKIT_BIN={path!r} is not an executable file")
    _raise_nofile()


@pytest.fixture(scope="session")
def sockit_bin():
    return os.path.abspath(os.environ["SOCKIT_BIN"])


@pytest.fixture
def sockdir():
    """A fresh short directory for Unix socket paths and config files."""
    d = short_tempdir()
    yield d
    rmtree(d)


@pytest.fixture
def start_server(sockit_bin, sockdir):  # sockdir: removed only after the servers stop
    """start_server(*args) -> Server running `sockit echo serve ARGS --print-address`.

    `argv=[...]` replaces `echo serve` (e.g. ["serve", "--config", f]);
    `expect` is the number of address lines to wait for (default: one per
    --tcp/--udp/--unix, or 2 for the tcp+udp default). A short
    --shutdown-grace is added unless the test gives one. On teardown every
    server still running is sent SIGTERM and must exit 0 with no sanitizer
    report; a server the test stopped itself must have exited 0 too.
    """
    servers = []

    def start(*args, argv=None, expect=None, grace=True, env=None, cwd=None):
        args = list(args)
        if argv is None:
            argv = ["echo", "serve"]
            if grace and not any(a.startswith("--shutdown-grace") for a in args):
                args += ["--shutdown-grace", "2"]
            if expect is None:
                expect = count_endpoints(args) or 2
        full = [os.path.abspath(os.environ["SOCKIT_BIN"])] + list(argv) + args + ["--print-address"]
        srv = Server(full, expect=expect, env=env, cwd=cwd)
        servers.append(srv)
        return srv

    yield start

    errors = []
    for srv in servers:
        try:
            srv.assert_clean_exit()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors))


@pytest.fixture
def socat_echo():
    """socat_echo(kind, path=None) -> a running socat echo server (tcp, udp, unix)."""
    started = []

    def start(kind, path=None):
        s = Socat(kind, path)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
