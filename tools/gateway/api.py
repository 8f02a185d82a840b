"""The terminal API (docs/protocol.md): authenticated routes under /v1.

Every answer given after the request's signature verified is signed with the terminal's secret and
bound to its nonce; answers given before that (a body too large, missing or bad auth headers, an
unknown terminal, a bad signature) are unsigned, so nobody can make the gateway sign a refusal for
a request the terminal did not send. Refusals of one order carry its `order_id`: only those may end
a sale on the terminal. Routing is done here rather than by Starlette's router so that unknown
paths and wrong methods under /v1 are answered like everything else: JSON error, stable code.
"""
import asyncio
import json
import re
from urllib.parse import parse_qs

from tools.gateway import validation
from tools.gateway.service import ServiceError
from tools.gateway.terminal_auth import AuthError, nonce_reused, sign_response

VERSION = "0.1.0"


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # made once: json.dumps makes one a call


def dumps(payload):
    return _ENCODER.encode(payload).encode("utf-8")


def error_body(code, message, **extra):
    body = {"error": {"code": code, "message": message}}
    body.update(extra)
    return body


def target_of(scope):
    """The request target as sent: raw path plus query string."""
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string") or b""
    target = path.decode("latin-1")
    if query:
        target += "?" + query.decode("latin-1")
    return target


class TerminalAPI:
    def __init__(self, gateway):
        self.gw = gateway
        self.routes = [
            (re.compile(r"^/v1/payments$"), {"POST": self.create}),
            (re.compile(r"^/v1/payments/([^/]+)$"), {"GET": self.status}),
            (re.compile(r"^/v1/payments/([^/]+)/cancel$"), {"POST": self.cancel}),
            (re.compile(r"^/v1/payments/([^/]+)/refund$"), {"POST": self.refund}),
            (re.compile(r"^/v1/time$"), {"GET": self.time}),
            (re.compile(r"^/v1/health$"), {"GET": self.health}),
            (re.compile(r"^/v1/heartbeat$"), {"POST": self.heartbeat}),
            (re.compile(r"^/v1/alerts$"), {"GET": self.alerts}),
            (re.compile(r"^/v1/alerts/([^/]+)/ack$"), {"POST": self.ack_alert}),
        ]

    async def __call__(self, scope, receive, send):
        method = scope["method"]
        target = target_of(scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        caller = None
        extra_headers = []
        nonce = headers.get("x-nonce", "")
        secret = None
        try:
            body = await read_body(scope, receive, headers, validation.MAX_BODY, self.gw.cfg["gateway"]["body_timeout"])
            handler, args = self.dispatch(scope["path"], method, scope.get("raw_path"))
            try:
                caller, wait = await self.authenticate(method, target, headers, body, handler == self.time)
            except AuthError as e:
                secret = e.secret
                raise
            secret = caller.secret
            headers = None   # a held long poll keeps no copy of its request's headers (docs/gateway.md)
            if wait:
                raise RateLimited(wait)
            if handler is None:
                raise args
            status, payload = await handler(caller, body, scope, *args)
        except AuthError as e:
            status, payload = 401, error_body(e.code, e.message, **e.extra)
            self.gw.auth_failed(e, scope, (headers or {}).get("x-terminal-id"), target)
        except RateLimited as e:
            # signed (the terminal can trust it) and never final: no order_id, try again later
            status, payload = 429, error_body(e.code, e.message, retry_after=e.retry_after)
            extra_headers.append((b"retry-after", b"%d" % e.retry_after))
        except ServiceError as e:
            if e.status == 408:
                extra_headers.append((b"connection", b"close"))  # the rest of a trickled body is not waited for
            # Refused before the request's signature verified (too large, bad Content-Length): `secret`
            # is still None, so the answer goes unsigned and the terminal takes it as no answer.
            status, payload = e.status, error_body(e.code, e.message, **e.extra)
            if e.order_id is not None:
                payload["order_id"] = e.order_id  # a refusal of this order, after authentication
        except Exception as e:  # a bug: answer cleanly, log it, never leak a trace to the terminal
            self.gw.log_exception(e, target)
            status, payload = 500, error_body("INTERNAL_ERROR", "the gateway failed; retry later")
        await send_signed(send, status, payload, secret, target, nonce, self.gw.clock, extra_headers)

    async def authenticate(self, method, target, headers, body, skip_window):
        """(the caller, seconds it must wait under the rate limit, or 0); AuthError when refused.
        The signature is checked here (the terminal's secret is cached; a miss is read off the
        loop), the nonce and the rate limit's count by the nonce lane, batched with other requests'."""
        auth = self.gw.auth
        terminal_id = auth.terminal_id(headers)
        known = auth.cached(terminal_id)
        if known is auth.MISS:
            known = await self.gw.db.read(auth.terminal, terminal_id)
        caller, seen_at = auth.verify(terminal_id, method, target, headers, body, known, skip_window)
        new, count = await self.gw.nonces.claim(terminal_id, caller.nonce, seen_at)
        if not new:
            raise nonce_reused(caller)
        return caller, self.gw.rate_limit.retry_after(count)

    def dispatch(self, path, method, raw_path=None):
        if raw_path is not None and b"%" in raw_path:
            # the signature covers the raw path and routing would see the decoded one (%2F is '/'):
            # ids never need escaping, so an escaped path is refused rather than decoded
            return None, ServiceError(400, "INVALID_PATH", "percent-encoded paths are not accepted")
        for pattern, methods in self.routes:
            m = pattern.match(path)
            if m:
                handler = methods.get(method)
                if handler is None:
                    return None, ServiceError(405, "METHOD_NOT_ALLOWED", "%s is not allowed here" % method)
                return handler, m.groups()
        return None, ServiceError(404, "NOT_FOUND", "no such endpoint")

    # --- endpoints: each returns (status, payload) -------------------------------------------
    async def create(self, caller, body, scope):
        data = validation.parse_json(body)
        g = self.gw.cfg["gateway"]
        order_id = validation.ident(data, "order_id")
        try:
            amount = validation.amount(data, g["max_amount"])
            currency = validation.currency(data, self.gw.accepted_currencies)
            description = validation.text(data, "description", 128)
            return 200, await self.gw.service.create(caller.terminal_id, order_id, amount, currency, description)
        except ServiceError as e:
            if e.order_id is None:  # every refusal of an authenticated create names its order
                e.order_id = order_id
            raise

    async def status(self, caller, body, scope, order_id):
        order_id = validation.path_ident(order_id, "payment")
        wait = validation.wait_seconds(query_params(scope), self.gw.cfg["gateway"]["max_wait"])
        return 200, await self.gw.service.status(caller.terminal_id, order_id, wait)

    async def cancel(self, caller, body, scope, order_id):
        validation.parse_json(body)
        order_id = validation.path_ident(order_id, "payment")
        return 200, await self.gw.service.cancel(caller.terminal_id, order_id)

    async def refund(self, caller, body, scope, order_id):
        data = validation.parse_json(body)
        order_id = validation.path_ident(order_id, "payment")
        refund_id = validation.ident(data, "refund_id")
        amount = validation.amount(data, self.gw.cfg["gateway"]["max_amount"])
        pin = validation.pin(data)
        # what the order allows is answered before the PIN is looked at, so a right and a wrong PIN
        # get the same answer on an order that cannot be refunded (no PIN oracle, 12.9)
        await self.gw.db(self.gw.service.check_refundable, caller.terminal_id, order_id, refund_id, amount)
        await self.gw.check_pin(caller.terminal_id, pin)
        return 200, await self.gw.service.refund(caller.terminal_id, order_id, refund_id, amount,
                                                 requested_by="terminal %s (supervisor PIN)" % caller.terminal_id)

    async def time(self, caller, body, scope):
        return 200, {"time": int(self.gw.clock())}

    async def health(self, caller, body, scope):
        client, environment = await self.gw.db.read(lambda: (self.gw.antom_for_terminal(caller.terminal_id),
                                                             self.gw.environment_for_terminal(caller.terminal_id)))
        reached, checked_at = client.last_contact if client is not None else (None, None)
        return 200, {"ok": True, "time": int(self.gw.clock()), "version": VERSION,
                     "environment": environment,
                     "upstream": {"reachable": reached, "checked_at": checked_at}}

    async def heartbeat(self, caller, body, scope):
        data = validation.parse_json(body)
        beat = {
            "version": validation.optional_text(data, "version", 128),
            "free_heap": validation.optional_int(data, "free_heap", 0, 2 ** 31 - 1),
            "rssi": validation.optional_int(data, "rssi", -200, 0),
            "last_error": validation.optional_text(data, "last_error", 128),
        }
        await self.gw.db(self.gw.store.heartbeat, caller.terminal_id, beat)
        return 200, {"ok": True, "time": int(self.gw.clock())}

    async def alerts(self, caller, body, scope):
        rows = await self.gw.db(self.gw.store.alerts, caller.terminal_id, payments_only=True)
        return 200, {"alerts": [{"id": r["id"], "order_id": r["order_id"], "amount": r["amount"],
                                 "currency": r["currency"], "kind": r["kind"], "message": r["message"],
                                 "created_at": r["created_at"]} for r in rows]}

    async def ack_alert(self, caller, body, scope, alert_id):
        validation.parse_json(body)
        if not (alert_id.isascii() and alert_id.isdigit()) or len(alert_id) > 12 \
                or not await self.gw.db(self.gw.store.ack_alert, caller.terminal_id, int(alert_id)):
            raise ServiceError(404, "NOT_FOUND", "no such alert")
        return 200, {"ok": True}


def query_params(scope):
    raw = (scope.get("query_string") or b"").decode("latin-1")
    if not raw:
        return {}
    return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


class RateLimited(ServiceError):
    """A terminal over its request rate (12.11): a signed 429 that says when to come back."""

    def __init__(self, retry_after):
        self.retry_after = retry_after
        super().__init__(429, "RATE_LIMITED", "too many requests from this terminal; retry in %d s" % retry_after)


class BodyTooLarge(ServiceError):
    def __init__(self, limit):
        super().__init__(413, "BODY_TOO_LARGE", "the body is larger than %d bytes" % limit)


async def read_body(scope, receive, headers, limit, timeout=None):
    """The request body, at most `limit` bytes, all of it within `timeout` seconds (a client that
    trickles its body is answered 408 and its connection closed)."""
    if headers.get("content-length") in (None, "0") and "transfer-encoding" not in headers:
        return b""  # no body by HTTP/1.1's rules (RFC 9112 6.3): nothing to wait for, no timer to set
    if timeout is None:
        return await _read_body(scope, receive, headers, limit)
    try:
        return await asyncio.wait_for(_read_body(scope, receive, headers, limit), timeout)
    except asyncio.TimeoutError:
        raise ServiceError(408, "REQUEST_TIMEOUT", "the body did not arrive within %.0f s" % timeout) from None


async def _read_body(scope, receive, headers, limit):
    declared = headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise ServiceError(400, "INVALID_FIELD", "bad Content-Length")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_signed(send, status, payload, secret, target, nonce, clock, extra_headers=()):
    body = dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.extend(extra_headers)
    if secret is not None:
        ts = str(int(clock()))
        headers.append((b"x-timestamp", ts.encode()))
        headers.append((b"x-signature", sign_response(secret, status, target, nonce, ts, body).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

