"""The real gateway behind TLS on loopback (uvicorn serving the gateway's app with a certificate
from a test CA), for the link's tests and bench."""
import asyncio
import os
import time

import uvicorn
from cryptography.hazmat.primitives import serialization

from tests.firmware.test_tls import make_ca, make_leaf, pem


class CountingApp:
    """ASGI wrapper: counts the HTTP requests the gateway receives (a server-side hook)."""

    def __init__(self, app):
        self.app = app
        self.requests = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


class TlsGateway:
    """`gateway` (tools.gateway.testing.ThreadGateway) served again over https://localhost:PORT;
    `app.requests` counts what arrives over it."""

    def __init__(self, gateway, directory, keep_alive_s=30):
        from tools.gateway.server import bind

        ca_key, ca = make_ca("Link Test CA")
        key, cert = make_leaf(ca_key, ca, "localhost")
        os.makedirs(directory, exist_ok=True)
        self.cert_path = os.path.join(directory, "cert.pem")
        self.key_path = os.path.join(directory, "key.pem")
        with open(self.cert_path, "w") as f:
            f.write(pem(cert))
        with open(self.key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        self.ca_pem = pem(ca)
        sock = bind("127.0.0.1", 0)
        self.port = sock.getsockname()[1]
        self.app = CountingApp(gateway.server.config.app)
        config = uvicorn.Config(self.app, log_level="warning", http="h11", loop="asyncio",
                                lifespan="off", access_log=False, timeout_keep_alive=keep_alive_s,
                                ssl_certfile=self.cert_path, ssl_keyfile=self.key_path)
        self.server = uvicorn.Server(config)
        # On the gateway's own event loop: the app's objects (the Antom client, the long-poll
        # waiters) belong to that loop, whichever server a request came through.
        self.future = asyncio.run_coroutine_threadsafe(self.server.serve(sockets=[sock]), gateway.loop)
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("TLS gateway did not start")
            time.sleep(0.01)

    def stop(self):
        self.server.should_exit = True
        try:
            self.future.result(10)
        except Exception:
            pass
