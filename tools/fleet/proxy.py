"""A small round-robin TCP proxy: spreads connections over N gateway instances, skips dead ones.

    python -m tools.fleet.proxy --listen 127.0.0.1:8700 127.0.0.1:8701 127.0.0.1:8702 127.0.0.1:8703

Each new client connection goes to the next backend in turn (no sticky sessions: the gateways share
their state through PostgreSQL). A backend that refuses a connection is skipped for `down_for`
seconds and the connection tries the next one, so clients of a killed instance reconnect to the
survivors; connections already open to an instance that dies are closed (their requests were in
flight: the terminal retries them with the same idempotency key). This is for tests, benchmarks and
trying a fleet on one machine; production uses HAProxy or nginx (docs/gateway.md, Fleet deployment).
"""
import argparse
import asyncio
import contextlib
import itertools
import logging
import socket
import threading
import time

log = logging.getLogger("fleet.proxy")


def parse_address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("%r: expected HOST:PORT" % text)
    return host.strip("[]"), int(port)


class RoundRobinProxy:
    def __init__(self, backends, host="127.0.0.1", port=0, connect_timeout=1.0, down_for=1.0):
        self.backends = [tuple(b) for b in backends]
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.down_for = down_for
        self._turn = itertools.count()
        self._down_until = {}            # backend -> monotonic time it is tried again
        self._server = None
        self._streams = set()
        self.connections = {b: 0 for b in self.backends}   # accepted connections per backend
        self.refused = 0                 # clients no backend would take

    async def start(self):
        self._server = await asyncio.start_server(self._accept, self.host, self.port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        if self._server is not None:
            self._server.close()
            for writer in list(self._streams):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    def set_backends(self, backends):
        """A new backend list (a rolling upgrade adds and removes instances); open connections stay."""
        self.backends = [tuple(b) for b in backends]
        for b in self.backends:
            self.connections.setdefault(b, 0)

    def _candidates(self):
        """Every backend once, starting with the next in turn; those marked down go last."""
        n = len(self.backends)
        if n == 0:
            return []
        start = next(self._turn) % n
        order = self.backends[start:] + self.backends[:start]
        now = time.monotonic()
        up = [b for b in order if self._down_until.get(b, 0) <= now]
        return up + [b for b in order if b not in up]

    async def _connect(self):
        for backend in self._candidates():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(*backend), self.connect_timeout)
            except (OSError, asyncio.TimeoutError) as e:
                self._down_until[backend] = time.monotonic() + self.down_for
                log.warning("backend %s:%d unreachable (%s): skipped for %.1f s", backend[0], backend[1], e,
                            self.down_for)
                continue
            self._down_until.pop(backend, None)
            self.connections[backend] = self.connections.get(backend, 0) + 1
            return reader, writer
        return None

    async def _accept(self, client_reader, client_writer):
        self._streams.add(client_writer)
        try:
            upstream = await self._connect()
            if upstream is None:
                self.refused += 1
                return
            up_reader, up_writer = upstream
            self._streams.add(up_writer)
            _nodelay(client_writer)
            _nodelay(up_writer)
            to_backend = asyncio.ensure_future(_pipe(client_reader, up_writer))
            try:
                # the backend's side ending (its answer done and closed, or the instance died) ends
                # the connection; a client's EOF is passed on and the backend's answer still flows
                await _pipe(up_reader, client_writer)
                with contextlib.suppress(OSError, RuntimeError):
                    await client_writer.drain()
            finally:
                to_backend.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await to_backend
                self._streams.discard(up_writer)
                up_writer.transport.abort()
        finally:
            self._streams.discard(client_writer)
            client_writer.close()


def _nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _pipe(reader, writer):
    """Copy until EOF (or a reset), then pass the EOF on."""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            if writer.transport.get_write_buffer_size() > 262144:
                await writer.drain()
        if not writer.is_closing() and writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass


class ThreadProxy:
    """The proxy on its own event loop in a daemon thread (tests and benchmarks).

        with ThreadProxy([("127.0.0.1", p1), ("127.0.0.1", p2)]) as proxy:
            url = proxy.base_url
    """

    def __init__(self, backends, **kwargs):
        self.proxy = RoundRobinProxy(backends, **kwargs)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="rr-proxy")

    def start(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(10)
        return self

    @property
    def port(self):
        return self.proxy.port

    @property
    def base_url(self):
        return "http://%s:%d" % (self.proxy.host, self.proxy.port)

    def set_backends(self, backends):
        self.loop.call_soon_threadsafe(self.proxy.set_backends, backends)

    def stop(self):
        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self.proxy.stop(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        self.loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Round-robin TCP proxy over several gateway instances.")
    parser.add_argument("--listen", type=parse_address, default=("127.0.0.1", 8700), help="HOST:PORT to listen on")
    parser.add_argument("backends", nargs="+", type=parse_address, help="HOST:PORT of each gateway instance")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def run():
        proxy = await RoundRobinProxy(args.backends, *args.listen).start()
        print("proxy listening on %s:%d -> %s" % (proxy.host, proxy.port,
                                                  ", ".join("%s:%d" % b for b in proxy.backends)), flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
