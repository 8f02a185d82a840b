"""Runs the gateway under uvicorn on a socket we bind ourselves (so port 0 picks a free port and the
notify URL can name the real one). Prints `gateway listening on http://HOST:PORT` once ready."""
import asyncio
import gc
import logging
import socket
import sys

import uvicorn

from tools.gateway.app import Gateway, build_app
from tools.gateway.limits import guarded_protocol


def bind(host, port):
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every keep-alive answer (headers, then body) waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def new_loop():
    """The event loop the gateway runs on: uvloop (libuv), about 1.8x the status answers per second of
    asyncio's own loop with httptools' parser instead of h11 (docs/gateway.md, bench/bench_gateway.py)."""
    import uvloop
    return uvloop.new_event_loop()


def make_server(cfg, sock, reconcile=True, log_level="warning"):
    port = sock.getsockname()[1]
    gateway = Gateway(cfg, port=port)
    app = build_app(gateway, reconcile=reconcile)
    g = cfg["gateway"]
    config = uvicorn.Config(app, interface="asgi3", log_level=log_level, loop="uvloop", lifespan="on",
                            http=guarded_protocol(g["max_connections"], g["header_timeout"]),
                            access_log=False, timeout_keep_alive=30, backlog=2048)
    return gateway, uvicorn.Server(config)


def serve(cfg, reconcile=True):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    host = cfg["gateway"]["host"]
    sock = bind(host, cfg["gateway"]["port"])
    gateway, server = make_server(cfg, sock, reconcile)
    port = sock.getsockname()[1]

    # Fewer, cheaper garbage collections: start-up objects are frozen out of the collector, and the
    # young generation is larger, so request handling rarely pauses for a full collection.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20000, 50, 100)

    async def run():
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            # before "listening": who waits for that line (tests, the demo) finds these already there
            for env, base_url, client_id in gateway.environments():
                print("Antom environment: %s (%s, client id %s)" % (env, base_url, client_id), flush=True)
            print("gateway listening on http://%s:%d (notify URL %s)" % (host, port, gateway.notify_url), flush=True)
        await task

    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(run())
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit("use: python -m tools.gateway serve")
