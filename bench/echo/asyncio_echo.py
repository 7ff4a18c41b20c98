"""Python asyncio echo server for sockit's echo benchmark.

Usage: python3 asyncio_echo.py [PORT]   (default 0)

The asyncio Protocol echo from the Python docs (data_received writes the data
back), on the default event loop, one thread. asyncio sets TCP_NODELAY itself.
Prints `tcp://127.0.0.1:PORT` once bound; SIGTERM/SIGINT stop it.
"""
import asyncio
import signal
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port, backlog=4096)
    print(f"tcp://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
