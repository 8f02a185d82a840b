"""The review's attack figures (issue 12.11), against a real gateway subprocess with its default limits.

    .venv/bin/python bench/bench_limits.py [--seconds 7] [--idle 250]

1. Flood: one terminal sends signed requests back to back on 4 keep-alive connections for --seconds
   (the review: 12,000 in 7 s). Prints how many were answered 200 and how many a signed 429.
2. Idle connections: --idle + 1 connections opened and left silent, with the cap at --idle (the
   review held 250 open); then a terminal's request on a new connection. Prints how many idle
   connections the gateway still holds, whether the request was answered, and how many silent
   connections are left after the header timeout (1 s here).

    limits flood: N signed requests from one terminal in 7 s: A answered 200, B signed 429 (rate_limit 100 per 10 s)
    limits idle: 251 idle connections with max_connections 250: H held, the next request answered 200; 0 left after header_timeout 1 s
"""
import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.bench_gateway import Conn  # noqa: E402
from tools.gateway import credentials  # noqa: E402
from tools.gateway.testing import GatewayProcess, write_config  # noqa: E402


async def flood(port, secret, seconds):
    counts = {}
    deadline = time.monotonic() + seconds

    async def one():
        c = Conn("127.0.0.1", port, "F1", secret)
        await c.open()
        while time.monotonic() < deadline:
            status, _raw = await c.request("GET", "/v1/health")   # every answer's signature is checked
            counts[status] = counts.get(status, 0) + 1
        c.close()
    await asyncio.gather(*(one() for _ in range(4)))
    return counts


def still_open(sock):
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=7.0)
    parser.add_argument("--idle", type=int, default=250)
    args = parser.parse_args()
    from tools.sandbox.testing import running_sandbox
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp, running_sandbox() as sb:
        gp = GatewayProcess(write_config(os.path.join(tmp, "gw"), sb, gateway={
            "max_connections": args.idle, "header_timeout": 1.0}))
        secret = credentials.new_secret()
        gp.store.add_terminal("F1", secret, None)
        gp.start()
        try:
            g = gp.cfg["gateway"]
            counts = asyncio.run(flood(gp.port, secret, args.seconds))
            print("limits flood: %d signed requests from one terminal in %.0f s: %d answered 200, %d signed 429 "
                  "(rate_limit %d per %.0f s)" % (sum(counts.values()), args.seconds, counts.get(200, 0),
                                                   counts.get(429, 0), g["rate_limit"], g["rate_window"]), flush=True)
            time.sleep(g["rate_window"])   # the flood's window passes
            idle = [socket.create_connection(("127.0.0.1", gp.port)) for _ in range(args.idle + 1)]
            time.sleep(0.3)
            gp.add_terminal("F2")
            answer = gp.client("F2").health()
            held = sum(still_open(s) for s in idle)
            time.sleep(1.5)
            left = sum(still_open(s) for s in idle)
            print("limits idle: %d idle connections with max_connections %d: %d held, the next request answered %d; "
                  "%d left after header_timeout %.0f s" % (len(idle), args.idle, held, answer.status, left,
                                                           1.0), flush=True)
            for s in idle:
                s.close()
        finally:
            gp.stop()


if __name__ == "__main__":
    main()
