"""A UDP relay that impairs what it forwards, for kernels without tc netem:
each datagram is duplicated with probability DUP, and sent at once with
probability REORDER or else DELAY later (netem's reorder model), so
datagrams overtake each other. Loss is left to the kernel (iptables
statistic). One client at a time: what comes to LISTEN goes to TARGET, and
what TARGET answers goes back to the last client.

Usage: python3 udp_impairer.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DUP REORDER DELAY_S
Prints "ready" when it listens; runs until killed.
"""

import heapq
import itertools
import random
import select
import socket
import sys
import time


def main():
    listen = (sys.argv[1], int(sys.argv[2]))
    target = (sys.argv[3], int(sys.argv[4]))
    dup, reorder, delay = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(listen)
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind((listen[0], 0))
    for s in (front, back):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
    client = None
    pending = []  # (when, seq, socket, data, address)
    seq = itertools.count()
    rng = random.Random(7)
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, sock, data, addr = heapq.heappop(pending)
            try:
                sock.sendto(data, addr)
            except OSError:
                pass
        timeout = max(0.0, pending[0][0] - now) if pending else 1.0
        ready, _, _ = select.select([front, back], [], [], timeout)
        for sock in ready:
            while True:
                try:
                    data, addr = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if sock is front:
                    client = addr
                    out, to = back, target
                elif client is None:
                    continue
                else:
                    out, to = front, client
                copies = 2 if rng.random() < dup else 1
                for _ in range(copies):
                    when = time.monotonic() + (0 if rng.random() < reorder else delay)
                    heapq.heappush(pending, (when, next(seq), out, data, to))


if __name__ == "__main__":
    main()
