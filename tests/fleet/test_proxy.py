"""The round-robin TCP proxy (tools/fleet/proxy.py) over real loopback servers."""
import asyncio
import socket

from tools.fleet.proxy import RoundRobinProxy, ThreadProxy


class Backend:
    """A tiny line server that answers each line with its own name."""

    def __init__(self, name):
        self.name = name.encode()
        self.server = None
        self.writers = set()

    async def start(self):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def serve(self, reader, writer):
        self.writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                writer.write(self.name + b" " + line)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def die(self):
        """What SIGKILL does to its sockets: the listener goes, open connections close."""
        self.server.close()
        for w in list(self.writers):
            w.transport.abort()
        await self.server.wait_closed()


async def ask(port, text=b"hello\n"):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text)
    answer = await reader.readline()
    writer.close()
    return answer.split(b" ")[0].decode()


def test_connections_go_round_robin_over_every_backend():
    async def main():
        backends = [await Backend(n).start() for n in ("a", "b", "c")]
        proxy = await RoundRobinProxy([("127.0.0.1", b.port) for b in backends]).start()
        try:
            names = [await ask(proxy.port) for _ in range(9)]
            assert sorted(names) == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
            assert names[:3] in (["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"])
        finally:
            await proxy.stop()
    asyncio.run(main())


def test_a_dead_backend_is_skipped_and_its_open_connections_end():
    async def main():
        backends = [await Backend(n).start() for n in ("a", "b", "c")]
        proxy = await RoundRobinProxy([("127.0.0.1", b.port) for b in backends], down_for=30).start()
        try:
            # one client holds a connection to each backend
            held = []
            for _ in range(3):
                r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
                w.write(b"hi\n")
                held.append(((await r.readline()).split(b" ")[0].decode(), r, w))
            await backends[1].die()
            for name, r, w in held:
                if name == "b":
                    assert await asyncio.wait_for(r.read(), 5) == b""   # closed: the client retries
                else:
                    w.write(b"still\n")
                    assert (await r.readline()).startswith(name.encode())
                w.close()
            # every new connection reaches a survivor; none is refused
            names = [await ask(proxy.port) for _ in range(12)]
            assert set(names) == {"a", "c"}
            assert proxy.refused == 0
        finally:
            await proxy.stop()
    asyncio.run(main())


def test_no_backend_alive_closes_the_client_connection():
    async def main():
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        proxy = await RoundRobinProxy([("127.0.0.1", dead)]).start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"anyone?\n")
            assert await asyncio.wait_for(reader.read(), 5) == b""
            assert proxy.refused == 1
            writer.close()
        finally:
            await proxy.stop()
    asyncio.run(main())


def test_thread_proxy_carries_http_to_a_real_gateway(tmp_path):
    from tools.gateway.testing import running_gateway, write_config
    import httpx
    cfg = write_config(str(tmp_path / "gw"))
    with running_gateway(cfg, reconcile=False) as gw, ThreadProxy([("127.0.0.1", gw.port)]) as proxy:
        r = httpx.get(proxy.base_url + "/healthz", trust_env=False)
        assert r.status_code == 200 and r.json()["ok"] is True
