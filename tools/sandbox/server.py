"""Run the sandbox app under uvicorn, with one addition: a reply can be *lost*.

ASGI has no way to drop a connection without answering (an app that gives up gets a 500), so the
HTTP protocol class below records each connection's transport by (server, client) address and
`abort(scope)` closes it abruptly: the client sees the connection end with no response, as when a
reply is lost on the network.
"""
import asyncio
import socket

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

_TRANSPORTS: dict[tuple, asyncio.Transport] = {}


def _key(server, client) -> tuple:
    return (tuple(server or ()), tuple(client or ()))


class AbortableH11Protocol(H11Protocol):
    def connection_made(self, transport):
        super().connection_made(transport)
        _TRANSPORTS[_key(self.server, self.client)] = transport

    def connection_lost(self, exc):
        _TRANSPORTS.pop(_key(self.server, self.client), None)
        super().connection_lost(exc)


def abort(scope) -> bool:
    """Drop the connection a request came on, without a reply. False if not possible."""
    transport = _TRANSPORTS.pop(_key(scope.get("server"), scope.get("client")), None)
    if transport is None:
        return False
    transport.abort()
    return True


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections (it checks proto);
    # without it every keep-alive reply waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def run(app, sock: socket.socket, tls_cert: str | None = None, tls_key: str | None = None,
        log_level: str = "warning", more_sockets=()) -> None:
    """Serve `app` on `sock` and `more_sockets` (the admin port: `app` tells them apart by the
    local address of each request, tools/sandbox/app.py by_socket)."""
    config = uvicorn.Config(app, http=AbortableH11Protocol, ws="none", lifespan="on",
                            log_level=log_level, ssl_certfile=tls_cert, ssl_keyfile=tls_key,
                            timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock, *more_sockets])
