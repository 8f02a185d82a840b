# Runs inside MicroPython (bench/bench_heap.py): the terminal application booted as on the device
# (firmware.app.Application.setup() from /config.json, the idle screen drawn), then whole sales driven
# one event at a time: paid, declined, cancelled, expired, and one supervisor refund. The gateway
# is a small in-process fake that speaks the protocol (it checks each request's signature and
# signs each answer with firmware/link/auth.py); the panel is a null SPI bus; the clock is a
# counter the harness moves, so a code can expire without waiting. No asyncio and no threads: the
# harness calls what firmware/loop.py's tasks call (flow.key, flow.tick, drawing.render, the health
# check), so the heap can be collected and measured between any two events.
#
#   boot(root)          -> the Application, idle screen drawn
#   sale_events(i)      -> the events of sale i (a list of (name, argument))
#   event(app, name, a) -> performs one event
import gc
import json
import os

SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
PIN = "246813"  # supervisor.pin_length is 6 by default
NOW = [1800000000]


def now():
    return NOW[0]


class _Resp:
    def __init__(self, status, headers, content):
        self.status_code = status
        self.headers = headers
        self.content = content

    def close(self):
        self.content = None


class FakeGateway:
    """The merchant gateway in process: verifies requests, keeps the last few payments, signs."""

    def __init__(self):
        self.payments = {}
        self.order = []
        self.outcome = "PAID"  # what the customer does by the first status poll (None: nothing)
        self.calls = 0

    def request(self, method, url, data=None, headers=None, timeout=None):
        from firmware.link import auth
        self.calls += 1
        target = url[url.find("/", 8):]
        body = data or b""
        status, obj = 200, None
        if not auth.verify_request(SECRET, method, target, headers["X-Timestamp"], headers["X-Nonce"], body,
                                   headers["X-Signature"]):
            status, obj = 401, {"error": {"code": "BAD_SIGNATURE", "message": "bad signature"}}
        elif target == "/v1/payments":
            req = json.loads(body)
            oid = req["order_id"]
            if oid not in self.payments:
                self.order.append(oid)
                if len(self.order) > 3:
                    self.payments.pop(self.order.pop(0))
                self.payments[oid] = {"order_id": oid, "status": "PENDING", "amount": req["amount"],
                                      "currency": req["currency"], "expires_at": now() + 180,
                                      "code_value": "https://global.alipay.com/2810020400%08dzTC4BzSex92tUglv31de"
                                      % self.calls, "reason": None, "late": False}
            obj = self.payments[oid]
        elif target.startswith("/v1/payments/"):
            oid = target.split("/")[3].split("?")[0]
            p = self.payments.get(oid)
            if p is None:
                status, obj = 404, {"error": {"code": "NOT_FOUND", "message": "no such payment"}}
            elif target.endswith("/cancel"):
                if p["status"] == "PENDING":
                    p["status"] = "CANCELLED"
                obj = p
            elif target.endswith("/refund"):
                req = json.loads(body)
                if req.get("pin") != PIN:
                    status, obj = 403, {"error": {"code": "BAD_PIN", "message": "wrong PIN"}}
                else:
                    obj = {"refund_id": req.get("refund_id"), "status": "SUCCEEDED", "amount": p["amount"]}
            else:
                if p["status"] == "PENDING" and self.outcome:
                    p["status"] = self.outcome
                    if self.outcome == "FAILED":
                        p["reason"] = "USER_DECLINED"
                obj = p
        elif target == "/v1/alerts":
            obj = {"alerts": []}
        else:
            obj = {"ok": True, "time": now()}
        raw = json.dumps(obj).encode()
        stamp = str(now())
        sig = auth.sign_response(SECRET, status, target, headers["X-Nonce"], stamp, raw)
        return _Resp(status, {"x-timestamp": stamp, "x-signature": sig}, raw)


class NullPin:
    def __init__(self, level=0):
        self.level = level

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v

    def __call__(self, v=None):
        return self.value(v)


class NullSPI:
    def __init__(self):
        self.bytes = 0

    def write(self, buf):
        self.bytes += len(buf)


class NoKeys:
    def poll(self):
        return None


CONFIG = {"wifi": {"ssid": "shop"}, "gateway": {"url": "http://127.0.0.1:8000"},
          "terminal": {"id": "T1", "secret": SECRET}, "merchant": {"name": "Corner Cafe"},
          "currency": "USD", "watchdog_ms": 0, "display": {"panel": "st7789-240x320"}}


def boot(root):
    """Boot as main.py does (boot.py's safe-mode module included), with the network, the panel's
    bus and the keypad replaced; return the Application with the idle screen on the panel."""
    import late
    import panels
    import firmware.board.safemode  # noqa: F401  (boot.py and main.py import it, main.py drops it)
    late.drop("firmware.board.safemode")
    from firmware import app as fw_app
    from firmware.link.clock import WallClock
    from firmware.link.worker import InlineRunner
    try:
        os.mkdir(root)
    except OSError:
        pass
    with open(root + "/config.json", "w") as f:
        f.write(json.dumps(CONFIG))
    for name in ("journal.json", "log.txt", "log.txt.1"):
        try:
            os.remove(root + "/" + name)
        except OSError:
            pass
    spi = NullSPI()
    lcd = panels.make("st7789-240x320", spi, NullPin(), cs=NullPin(1), rst=NullPin(1), backlight=NullPin())
    app = fw_app.Application(root=root, transport=FakeGateway(), lcd=lcd, keypad=NoKeys(), runner=InlineRunner(),
                             clock=WallClock(source=now))
    app.setup()
    app.seen = -1
    app.outcomes = []  # the last results seen (the harness's own memory stays flat)
    event(app, "online", None)
    return app


def _render(app):
    flow = app.flow
    if flow.view_seq != app.seen:
        app.seen = flow.view_seq
        try:
            app.drawing.render(flow.view)
        except Exception:
            app.seen = -1  # as firmware/loop.py's screen task restarted by its guard: draw again
            raise
    else:
        app.drawing.tick()


def event(app, name, arg):
    """One event of the flow, then what the loop does after it (tick, redraw)."""
    flow = app.flow
    if name == "key":
        flow.key(arg)
    elif name == "online":  # the network task's health check at idle
        ans = app.gateway.health()
        flow.set_online(ans.kind != "DOUBT")
    elif name == "outcome":  # what the customer will do in the wallet
        app.transport.outcome = arg
    elif name == "wait":  # time passes (seconds): the countdown moves, a code may expire
        NOW[0] += arg
    flow.tick()
    _render(app)
    flow.tick()
    _render(app)
    if flow.state in _SEEN:
        app.outcomes.append(flow.state)
        if len(app.outcomes) > 2:
            app.outcomes.pop(0)
        _hold_to_gateway(app)


# Results held against the gateway's word: [hash of the last order held, results held, results the
# gateway did not give]. Made here, so the harness keeps no object of a sale (small ints only).
TALLY = [0, 0, 0]


def _hold_to_gateway(app):
    """Money is never guessed, a full heap or not: a sale shown PAID is paid at the gateway, and a
    sale paid there is never shown as anything else (TALLY[2] counts the opposite)."""
    r = app.flow.result
    if r is None or r.get("state") not in _FINAL:
        return
    oid = r.get("order_id")
    if hash(oid) == TALLY[0]:
        return
    p = app.transport.payments.get(oid)
    if p is None:
        return  # no longer kept by the fake gateway (it keeps the last three)
    TALLY[0] = hash(oid)
    TALLY[1] += 1
    if (r["state"] == "PAID") != (p["status"] == "PAID"):
        TALLY[2] += 1


_SEEN = ("PAID", "FAILED", "EXPIRED", "CANCELLED", "REFUND_DONE")
_FINAL = ("PAID", "FAILED", "EXPIRED", "CANCELLED")


def sale_events(i):
    """Sale i of the run: paid, declined, cancelled, expired in turn; sale 50 is followed by a
    supervisor refund of itself (a paid sale)."""
    kind = i % 4
    amount = str(1000 + 37 * i)
    ev = [("outcome", ("PAID", "FAILED", None, None)[kind])]
    for d in amount:
        ev.append(("key", d))
    ev.append(("key", "ok"))  # create -> QR
    ev.append(("wait", 1))   # countdown tick; the long poll answers
    if kind == 2:
        ev.append(("key", "cancel"))
    elif kind == 3:
        ev.append(("wait", 200))  # past expires_at: the flow cancels by itself
    ev.append(("tick", None))
    ev.append(("key", "ok"))  # result -> idle
    if i == 48:  # a paid sale: refund it from the supervisor menu
        ev.append(("key", "menu"))
        ev.append(("key", "ok"))
        for d in PIN:
            ev.append(("key", d))
        ev.append(("key", "ok"))  # refund sent, answered
        ev.append(("tick", None))
        ev.append(("key", "ok"))  # result -> idle
    ev.append(("online", None))
    return ev


def expected(i):
    """What sale i must end as (bench_heap refuses figures from a run that went elsewhere)."""
    return "REFUND_DONE" if i == 48 else ("PAID", "FAILED", "CANCELLED", "EXPIRED")[i % 4]


def state(app):
    """The result the last sale reached (its refund's, after the refund)."""
    return app.outcomes[-1] if app.outcomes else app.flow.state


def collect():
    gc.collect()
    return gc.mem_alloc()
