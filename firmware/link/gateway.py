"""The gateway client: signed requests, verified answers, one blocking call per method.

Written against the interface of micropython-lib `requests` (the module the device ships):
`transport.request(method, url, data=bytes, headers=dict, timeout=s)` returning a response with
`status_code`, `headers` (a dict, names as sent), `content` and `close()`. The device passes
`requests` for http:// gateways and firmware/link/http.py (same interface, certificate-verifying TLS)
for https://; the simulator passes firmware/link/http.py over CPython's sockets. The flow never knows.

Every method returns an `Answer`, never raises for network trouble:
- kind "ok":    a 2xx whose signature verifies for this request's nonce; `body` is the JSON object.
- kind "error": a 4xx (or 502 UPSTREAM_ERROR) whose signature verifies; `code` is the gateway's
  stable error code.
- kind "doubt": anything else (no connection, timeout, unsigned, forged or replayed answer, a 5xx,
  unparsable JSON). A doubtful answer is never evidence of anything: the flow asks again.
  A signed 429 (this terminal sent too many requests) is doubt too, code RATE_LIMITED: the client
  then sends nothing for the signed `retry_after` seconds (every call is doubt meanwhile, without
  touching the network), and the flow's retries keep their order ids (the idempotency keys).
Every response is closed, whatever happens. Each verified answer's signed X-Timestamp sets the
wall clock (firmware/link/clock.py: the RTC), which is how a terminal without NTP learns the time.
"""
import json
import time

from firmware.link import auth

OK = "ok"
ERROR = "error"
DOUBT = "doubt"

RATE_LIMITED = "RATE_LIMITED"
_QUIET_DEFAULT_S = 5   # a 429 without a usable retry_after
_QUIET_MAX_S = 300     # and never longer than this, whatever it says


class Answer:
    def __init__(self, kind, status=0, body=None, code=None, why=None):
        self.kind = kind
        self.status = status
        self.body = body
        self.code = code
        self.why = why

    def __repr__(self):
        return "Answer(%s, %s, %s)" % (self.kind, self.status, self.code or self.why or "")


def reachable(ans):
    """True when an answer shows the gateway there: any but doubt, and the doubt of its signed 429
    (it is up and asked this terminal to wait; the cashier may type the next amount meanwhile)."""
    return ans.kind != DOUBT or ans.code == RATE_LIMITED


def _quote(text):
    # Order ids are letters, digits, '-', '_' and '.': nothing to escape, but never trust that.
    # By bytes (UTF-8), not characters: a str per character would be interned (lib/fonts.py).
    raw = text.encode()
    out = []
    for c in raw:
        if 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 45 or c == 95 or c == 46:
            out.append(c)
        else:
            out += b"%%%02X" % c
    return bytes(out).decode()


class Gateway:
    def __init__(self, base_url, terminal_id, secret, transport, clock, timeout_s=10):
        # base_url "http(s)://host[:port][/prefix]"; the signed target is the path from /prefix on.
        self.base_url = base_url.rstrip("/")
        rest = self.base_url.split("://", 1)[1]
        slash = rest.find("/")
        self.prefix = rest[slash:] if slash >= 0 else ""
        self.terminal_id = terminal_id
        self.secret = secret
        self.transport = transport
        self.clock = clock
        self.timeout_s = timeout_s
        self.last_error = None
        self.answered_at = None  # ticks of the last verified answer (any call: the health signal)
        self.quiet_until = None  # ticks before which nothing is sent (the gateway's signed 429)
        self.ticks_ms = time.ticks_ms

    # --- one exchange --------------------------------------------------------------------
    def call(self, method, path, payload=None, timeout_s=None):
        if self.quiet_until is not None:
            left = time.ticks_diff(self.quiet_until, self.ticks_ms())
            if left > 0:
                return Answer(DOUBT, 429, code=RATE_LIMITED,
                              why="gateway busy: waiting %d s as it asked" % ((left + 999) // 1000))
            self.quiet_until = None
        target = self.prefix + path
        body = b"" if payload is None else json.dumps(payload).encode()
        nonce = auth.new_nonce()
        headers = auth.request_headers(self.terminal_id, self.secret, method, target, body,
                                       self.clock.now(), nonce)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        kwargs = {"data": body, "headers": headers, "timeout": timeout_s or self.timeout_s}
        resp = None
        try:
            resp = self.transport.request(method, self.base_url + path, **kwargs)
            status = resp.status_code
            raw = resp.content
            resp_headers = resp.headers or {}
        except Exception as e:  # OSError, timeouts, TLS failures, malformed HTTP: all doubt
            self.last_error = "network: %r" % (e,)
            return Answer(DOUBT, why=self.last_error)
        finally:
            if resp is not None:
                try:
                    resp.close()
                except Exception:
                    pass
        if not auth.check_response(self.secret, status, target, nonce, resp_headers, raw):
            self.last_error = "unsigned or forged answer (HTTP %d)" % status
            return Answer(DOUBT, status, why=self.last_error)
        self.answered_at = time.ticks_ms()
        self._learn_time(auth.header(resp_headers, auth.H_TIMESTAMP))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self.last_error = "unparsable answer"
            return Answer(DOUBT, status, why=self.last_error)
        if not isinstance(body, dict):
            return Answer(DOUBT, status, why="answer is not an object")
        if 200 <= status < 300:
            self.last_error = None
            return Answer(OK, status, body)
        if status == 429:
            # Signed, so it is the gateway's own word; but it says "not now", nothing about a sale.
            wait = body.get("retry_after")
            if not isinstance(wait, int) or isinstance(wait, bool) or wait < 1:
                wait = _QUIET_DEFAULT_S
            wait = min(wait, _QUIET_MAX_S)
            self.quiet_until = time.ticks_add(self.ticks_ms(), wait * 1000)
            self.last_error = "gateway busy: retry in %d s" % wait
            return Answer(DOUBT, status, body, code=RATE_LIMITED, why=self.last_error)
        if 400 <= status < 500 or status == 502:
            # 502 UPSTREAM_ERROR: Antom refused in a way a retry will not fix (docs/protocol.md).
            err = body.get("error")
            code = err.get("code") if isinstance(err, dict) else None
            self.last_error = "gateway said %s" % code
            return Answer(ERROR, status, body, code=code or "HTTP_%d" % status)
        self.last_error = "gateway HTTP %d" % status
        return Answer(DOUBT, status, body, why=self.last_error)

    def _learn_time(self, stamp):
        # A verified answer's time is trusted: it sets the RTC when the clock is unset or drifted.
        learn = getattr(self.clock, "learn", None)
        try:
            if learn is not None:
                learn(int(stamp))
            else:
                self.clock.set(int(stamp))
        except (TypeError, ValueError):
            pass

    # --- the endpoints (docs/protocol.md) ------------------------------------------------
    def create(self, order_id, amount, currency, description):
        return self.call("POST", "/v1/payments", {"order_id": order_id, "amount": amount,
                                                   "currency": currency, "description": description})

    def status(self, order_id, wait_s=0):
        path = "/v1/payments/" + _quote(order_id)
        if wait_s:
            path += "?wait=%d" % wait_s
        return self.call("GET", path, timeout_s=self.timeout_s + wait_s)

    def cancel(self, order_id):
        return self.call("POST", "/v1/payments/" + _quote(order_id) + "/cancel", {})

    def refund(self, order_id, refund_id, amount, pin):
        return self.call("POST", "/v1/payments/" + _quote(order_id) + "/refund",
                         {"refund_id": refund_id, "amount": amount, "pin": pin})

    def health(self):
        return self.call("GET", "/v1/health")

    def heartbeat(self, info):
        return self.call("POST", "/v1/heartbeat", info)

    def alerts(self):
        return self.call("GET", "/v1/alerts")

    def ack_alert(self, alert_id):
        return self.call("POST", "/v1/alerts/" + _quote(str(alert_id)) + "/ack", {})
