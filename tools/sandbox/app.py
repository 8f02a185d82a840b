"""Assemble the sandbox: store + keys + ledger + notifier behind one Starlette app."""
import asyncio
import contextlib

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox import admin, api, keys, wallet
from tools.sandbox.ledger import Config, Ledger
from tools.sandbox.notifier import Notifier
from tools.sandbox.store import Store


class AbsoluteFormPaths:
    """Accept absolute-form request targets (`POST https://host/path`, RFC 9112 §3.2.2), which the
    official SDK's transport sends: route and verify the signature on the path alone."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and "://" in scope["path"]:
            path = "/" + scope["path"].split("://", 1)[1].partition("/")[2]
            scope = dict(scope, path=path, raw_path=path.encode("ascii", "replace"))
        await self.app(scope, receive, send)


def by_socket(public, admin, admin_address):
    """One ASGI app for both sockets: requests that arrived on `admin_address` (host, port) go to
    `admin`, all others (and the lifespan) to `public`."""
    admin_address = tuple(admin_address[:2])

    async def app(scope, receive, send):
        if scope["type"] != "lifespan" and tuple(scope.get("server") or ()) == admin_address:
            await admin(scope, receive, send)
        else:
            await public(scope, receive, send)
    return app


def build(data_dir: str, config: Config):
    """(public app, admin app). The public one serves the AMS API and the wallet pages; the admin
    one (`/_sandbox/*`: inspection, faults, expiry) is served on its own loopback-only port, so
    nobody who can reach the wallet can list live codes or decline a stranger's (issue 12.13)."""
    store = Store(data_dir)
    private_key = keys.load_or_create(data_dir)
    ledger = Ledger(store, config)
    antom_keys = api.AntomKeys(store, private_key)
    notifier = Notifier(ledger, antom_keys, config.time_scale)
    endpoint = api.make_endpoint(ledger, antom_keys)
    show, quote, act, qr_png = wallet.make_routes(ledger)
    payments, notifications, set_faults, clear_faults, expire, calls = admin.make_routes(ledger)

    async def not_found(request, exc):
        return JSONResponse({"error": "not found"}, status_code=exc.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(notifier.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            store.close()

    routes = [
        Route("/ams/api/v1/payments/{operation}", endpoint, methods=["POST"]),
        Route("/ams/sandbox/api/v1/payments/{operation}", endpoint, methods=["POST"]),
        Route("/ams/api/v1/merchants/{operation}", endpoint, methods=["POST"]),
        Route("/ams/sandbox/api/v1/merchants/{operation}", endpoint, methods=["POST"]),
        Route("/c/{token}", show, methods=["GET"]),
        Route("/c/{token}/qr.png", qr_png, methods=["GET"]),
        Route("/c/{token}/quote", quote, methods=["GET"]),
        Route("/c/{token}/{action:str}", act, methods=["POST"]),
    ]
    admin_routes = [
        Route("/_sandbox/payments", payments, methods=["GET"]),
        Route("/_sandbox/notifications", notifications, methods=["GET"]),
        Route("/_sandbox/calls", calls, methods=["GET"]),
        Route("/_sandbox/faults", set_faults, methods=["POST"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/_sandbox/expire/{payment_id}", expire, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: not_found, 405: not_found})
    admin_app = Starlette(routes=admin_routes, exception_handlers={404: not_found, 405: not_found})
    return AbsoluteFormPaths(app), admin_app
