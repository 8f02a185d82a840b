"""Wires the gateway together: store, Antom client, services, reconciler, and the Starlette app."""
import asyncio
import contextlib
import logging
import os
import time
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.antom import signature
from tools.gateway import config as config_mod
from tools.gateway import credentials
from tools.gateway import dbcalls
from tools.gateway import environment as environment_mod
from tools.gateway import merchants
from tools.gateway import wakeup
from tools.gateway.api import VERSION, TerminalAPI, error_body
from tools.gateway.limits import RateLimit
from tools.gateway.nonce_lane import NonceLane
from tools.gateway.notify import NotifyEndpoint
from tools.gateway.openapi import spec
from tools.gateway.reconciler import Reconciler
from tools.gateway.service import PaymentService, ServiceError
from tools.gateway.files import private_dir, write_private
from tools.gateway.secretbox import box_for
from tools.gateway.store import Store
from tools.gateway.terminal_auth import TerminalAuth

log = logging.getLogger("gateway")


def load_keys(cfg):
    """The merchant private key (created on first use, like the demo expects) and Antom's public key."""
    a = cfg["antom"]
    path = a["private_key_file"]
    if not os.path.exists(path):
        private_dir(os.path.dirname(os.path.abspath(path)))
        key = signature.generate_private_key()
        write_private(path, signature.private_pem(key))
        with open(public_key_path(path), "wb") as f:
            f.write(signature.public_pem(key))
        log.warning("created a new merchant key pair at %s", path)
    with open(path, "rb") as f:
        private = signature.load_private_key(f.read())
    try:
        with open(a["public_key_file"], "rb") as f:
            public = signature.load_public_key(f.read())
    except OSError as e:
        raise config_mod.ConfigError("Antom public key %s: %s (for the sandbox: python -m tools.sandbox "
                                     "public-key --data DIR > FILE)" % (a["public_key_file"], e)) from e
    return private, public


def public_key_path(private_path):
    """Where the merchant public key is written next to its private key (never the same file)."""
    folder, name = os.path.split(private_path)
    stem = os.path.splitext(name)[0]
    public = stem.replace("private", "public") if "private" in stem else stem + "_public"
    return os.path.join(folder, public + ".pem")


class Gateway:
    def __init__(self, cfg, port=None, clock=time.time, transport=None):
        self.cfg = cfg
        self.clock = clock
        self.notify_url = config_mod.notify_url(cfg, port)
        self.store = Store(cfg["gateway"]["db"], clock=clock, box=box_for(cfg))
        # merchant mode with no extra step: the configuration's merchant and store (tools/gateway/merchants.py)
        self.config_merchant = merchants.ensure_config_merchant(self.store, cfg)
        # which Antom the configuration's account is; a sandbox it did not ask for is refused (12.13)
        self.environment = environment_mod.check(cfg["antom"]) if self.config_merchant is not None else None
        self._config_keys = load_keys(cfg) if self.config_merchant is not None else None
        self.clients = merchants.MerchantClients(cfg, self.store, self.config_keys, clock, transport)
        self.accepted_currencies = frozenset(cfg["gateway"]["currencies"])
        self.auth = TerminalAuth(self.store, cfg["gateway"]["timestamp_window"], cfg["gateway"]["nonce_ttl"],
                                 clock=clock, time_window=cfg["gateway"]["time_window"])
        # every store call of the running gateway goes through `await self.db(...)`, off the event loop
        self.db = dbcalls.DbCalls(self.store.dialect)
        self.service = PaymentService(cfg, self.store, self.clients, self.notify_url, clock=clock, db=self.db)
        # several instances on one PostgreSQL wake each other's long polls (LISTEN/NOTIFY)
        self.service.wakeup = wakeup.for_database(cfg["gateway"]["db"], self.service.waiters)
        self.reconciler = None
        g = cfg["gateway"]
        # /v1/time nonces are stored dated ahead (terminal_auth): they count in that shifted window
        self.rate_limit = RateLimit(g["rate_limit"], g["rate_window"], clock=clock,
                                    shifts=(0.0, 2 * g["time_window"] - g["nonce_ttl"]))
        # every request's nonce and rate-limit count, batched through one writer (tools/gateway/nonce_lane.py)
        self.nonces = NonceLane(self.store, self.rate_limit, g["nonce_ttl"], clock=clock)
        self.api = TerminalAPI(self)
        self.notify = NotifyEndpoint(self, urlparse(self.notify_url).path or "/")
        self.notify_merchant = self.notify.for_merchant
        self.openapi = spec(cfg["gateway"]["currencies"], cfg["gateway"]["max_amount"], cfg["gateway"]["max_wait"])

    def config_keys(self):
        if self._config_keys is None:
            self._config_keys = load_keys(self.cfg)
        return self._config_keys

    @property
    def antom(self):
        """The configuration merchant's Antom client (else the first merchant's): reachability."""
        if self.config_merchant is not None:
            return self.clients.for_merchant(self.config_merchant["id"])
        rows = self.store.merchants()
        return self.clients.for_merchant(rows[0]["id"]) if rows else None

    def environments(self):
        """(environment, base URL, client id) of every Antom account the merchants use."""
        seen = []
        for row in self.store.antom_accounts():
            access = self.cfg["antom"] if row["from_config"] else row
            entry = (environment_mod.environment(access), row["base_url"], row["client_id"])
            if entry not in seen:
                seen.append(entry)
        return seen

    def environment_for_terminal(self, terminal_id):
        """The Antom environment the payments of this terminal go to (its merchant's account)."""
        mid = self.store.terminal_merchant_id(terminal_id)
        merchant = self.store.merchant(mid) if mid else None
        account = self.store.antom_account(merchant["client_id"]) if merchant else None
        if account is None or account["from_config"]:
            return self.environment or environment_mod.environment(self.cfg["antom"])
        return environment_mod.environment(account)

    def antom_for_terminal(self, terminal_id):
        mid = self.store.terminal_merchant_id(terminal_id)
        return (self.clients.for_merchant(mid) if mid else None) or self.antom

    def log_exception(self, exc, where):
        log.error("unexpected error at %s", where, exc_info=exc)
        with contextlib.suppress(Exception):
            self.store.event("internal_error", where=where[:200], error=repr(exc)[:500])

    def auth_failed(self, error, scope, claimed_id, target):
        """Every refused authentication goes to the log with where it came from (12.12); the
        answer itself says nothing about which check failed."""
        client = scope.get("client") or ("?", 0)
        log.warning("auth failure %s (%s) from %s:%s terminal=%r %s", error.code, error.reason, client[0], client[1],
                    (claimed_id or "")[:32], target[:80])

    async def check_pin(self, terminal_id, pin):
        g = self.cfg["gateway"]
        # one check at a time per terminal: parallel guesses would all read "not locked" before
        # any failure is recorded, so the lockout would not bound the number of guesses
        async with self.service.lock(("pin", terminal_id)):
            row = await self.db(self.store.terminal, terminal_id)
            if row["pin_locked_until"] > self.clock():
                raise ServiceError(403, "PIN_LOCKED", "too many wrong PINs; try again later")
            ok = await asyncio.to_thread(credentials.check_pin, pin, row["pin_hash"])
            def record():
                with self.store.transaction():
                    # another gateway instance may have locked refunds while this guess was checked:
                    # it is then refused unanswered (right or wrong), so the lockout bounds the guesses
                    # across every instance on the database, not only this process's
                    if self.store.terminal(terminal_id)["pin_locked_until"] > self.clock():
                        raise ServiceError(403, "PIN_LOCKED", "too many wrong PINs; try again later")
                    return self.store.record_pin_result(
                        terminal_id, ok, g["pin_lock_after"], g["pin_lock_seconds"], g["pin_lock_max_seconds"])
            locked_until, tries_left = await self.db(record)
            if locked_until is not None:
                log.warning("terminal %s: refunds locked until %d after %d wrong PINs in a row (operator alert)",
                            terminal_id, locked_until, g["pin_lock_after"])
        if not ok:
            # tries_left lets the terminal announce the lockout before it happens; 0: this guess locked
            raise ServiceError(403, "BAD_PIN", "wrong supervisor PIN", tries_left=tries_left)

    async def start(self, reconcile=True):
        from tools.gateway.reconciler import free_dead_leases
        await self.db(free_dead_leases, self.store)
        await self.service.wakeup.start()
        if reconcile:
            self.reconciler = Reconciler(self)
            self._reconciler_task = asyncio.get_running_loop().create_task(self.reconciler.run())

    async def stop(self):
        for task in list(self.service._background):
            task.cancel()
        if self.service._background:
            await asyncio.gather(*self.service._background, return_exceptions=True)
        if self.reconciler is not None:
            await self.reconciler.stop()
            self._reconciler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciler_task
        await self.service.wakeup.stop()
        await self.clients.close()
        await asyncio.to_thread(self.db.close)   # steps still running finish (and commit) first
        await asyncio.to_thread(self.nonces.close)
        self.store.close()


def build_app(gateway, reconcile=True):
    async def openapi(request):
        return JSONResponse(gateway.openapi)

    async def healthz(request):
        return JSONResponse({"ok": True, "time": int(gateway.clock()), "version": VERSION})

    async def not_found(request):
        return JSONResponse(error_body("NOT_FOUND", "no such endpoint"), status_code=404)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await gateway.start(reconcile)
        try:
            yield
        finally:
            await gateway.stop()

    routes = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route(gateway.cfg["gateway"]["notify_path"], gateway.notify, methods=["POST", "GET", "PUT"]),
        # one notify URL per merchant: <notify path>/<merchant id> (tools/gateway/merchants.py)
        Route(gateway.cfg["gateway"]["notify_path"].rstrip("/") + "/{merchant_id}", gateway.notify_merchant,
              methods=["POST", "GET", "PUT"]),
        Route("/v1{rest:path}", gateway.api, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
        Route("/{rest:path}", not_found),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    api = gateway.api

    def asgi(scope, receive, send):
        # the terminal API's hot path goes straight to its handler, past Starlette's router; the
        # handler's own coroutine is returned for the server to await (no frame of this function
        # stays alive under each held long poll). An ASGI 3 app: make_server says so to uvicorn.
        if scope["type"] == "http" and scope["path"].startswith("/v1"):
            return api(scope, receive, send)
        return app(scope, receive, send)

    return asgi
