"""Many clients at once: 1,000 concurrent TCP connections with the default
limits, each getting exactly its own bytes back; many hello sessions with
lines split and merged at random."""

import asyncio
import os
import random
import socket

from interop_util import connect, recv_all

N_CONN = 1000


async def _session(host, port, data, rng, all_connected, connected_count, n, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    connected_count[0] += 1
    if connected_count[0] == n:
        all_connected.set()
    # all N connections are open at once before anyone sends
    await asyncio.wait_for(all_connected.wait(), timeout)

    async def send():
        pos = 0
        while pos < len(data):
            k = rng.randrange(1, 3000)
            writer.write(data[pos:pos + k])
            pos += k
            await writer.drain()
            if rng.random() < 0.3:
                await asyncio.sleep(rng.random() * 0.01)
        writer.write_eof()

    async def receive():
        got = bytearray()
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return bytes(got)
            got += chunk

    _, got = await asyncio.wait_for(asyncio.gather(send(), receive()), timeout)
    writer.close()
    return got


async def _run_many(host, port, payloads, timeout):
    all_connected = asyncio.Event()
    count = [0]
    rng = random.Random(1000)
    tasks = [
        _session(host, port, p, random.Random(rng.random()), all_connected, count, len(payloads),
                 timeout)
        for p in payloads
    ]
    return await asyncio.gather(*tasks, return_exceptions=True)


def test_thousand_concurrent_connections(start_server):
    # default --max-connections and --max-per-ip: 1,000 from one IP must fit
    srv = start_server("--tcp", "127.0.0.1:0")
    rng = random.Random(42)
    payloads = [os.urandom(rng.randrange(2000, 12000)) for _ in range(N_CONN)]
    results = asyncio.run(_run_many(srv.tcp.host, srv.tcp.port, payloads, timeout=60))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} sessions failed, first: {errors[0]!r}"
    bad = [i for i, (p, r) in enumerate(zip(payloads, results)) if p != r]
    assert not bad, (f"{len(bad)} connections did not get their own bytes back, e.g. #{bad[0]}: "
                     f"sent {len(payloads[bad[0]])} got {len(results[bad[0]])}")
    # and the server is fine afterwards
    s = connect(srv.tcp)
    s.sendall(b"after")
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == b"after"
    s.close()


def test_per_ip_default_limit_refuses_the_1001st(start_server):
    """Default max_per_ip is 1000: the 1,001st connection from 127.0.0.1 is
    refused with an error line while the others stay served."""
    srv = start_server("--tcp", "127.0.0.1:0")

    async def main():
        conns = []
        for i in range(1000):
            conns.append(await asyncio.wait_for(asyncio.open_connection(srv.tcp.host,
                                                                        srv.tcp.port), 30))
        # each is really accepted (echo works) before the extra one
        for r, w in conns:
            w.write(b"k")
        for r, w in conns:
            assert await asyncio.wait_for(r.readexactly(1), 30) == b"k"
        r, w = await asyncio.wait_for(asyncio.open_connection(srv.tcp.host, srv.tcp.port), 30)
        extra = await asyncio.wait_for(r.read(), 30)
        w.close()
        for r, w in conns:
            w.close()
        return extra

    extra = asyncio.run(main())
    assert extra.startswith(b"error: ") and extra.endswith(b"\n"), extra


async def _hello_session(host, port, rng, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    names = [f"n{rng.randrange(10**9)}-{'y' * rng.randrange(0, 200)}".encode() for _ in range(30)]
    stream = b"".join(n + (b"\r\n" if rng.random() < 0.5 else b"\n") for n in names)
    want = b"Welcome!\n" + b"".join(
        b"Hello, " + line.rstrip(b"\r\n") + b"!" + line[len(line.rstrip(b"\r\n")):]
        for line in stream.splitlines(keepends=True))

    async def send():
        pos = 0
        while pos < len(stream):
            k = rng.randrange(1, 400)
            writer.write(stream[pos:pos + k])
            pos += k
            await writer.drain()
        writer.write(b"exit\n")
        await writer.drain()

    async def receive():
        return await reader.read(-1)

    _, got = await asyncio.wait_for(asyncio.gather(send(), receive()), timeout)
    writer.close()
    return got == want, got, want


def test_many_hello_sessions_sticky_lines(start_server):
    srv = start_server("--tcp", "127.0.0.1:0", "--mode", "hello", "--pause-ms", "3000")

    async def main():
        rng = random.Random(7)
        return await asyncio.gather(*[
            _hello_session(srv.tcp.host, srv.tcp.port, random.Random(rng.random()), 60)
            for _ in range(100)
        ], return_exceptions=True)

    results = asyncio.run(main())
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} sessions failed, first: {errors[0]!r}"
    bad = [r for r in results if not r[0]]
    assert not bad, f"{len(bad)} sessions got wrong replies, e.g. got {bad[0][1][:200]!r} want {bad[0][2][:200]!r}"
