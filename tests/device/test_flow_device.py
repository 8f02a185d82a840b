# Runs inside MicroPython (tests/mpy run_tests, bench/bench_sale.py): the flow, the gateway client
# with real signing, the journal and the screens, for whole sales. The network adapter is an
# in-process fake gateway that speaks the protocol (signed answers) without sockets.
import gc
import json
import os
import time

from firmware.link import auth
from firmware import config
from firmware.sale import flow as F
from firmware.link.clock import WallClock
from firmware.link.gateway import Gateway
from firmware.sale.journal import Journal
from firmware.display.screens import Screens
from firmware.display.ui import UI
from firmware.link.worker import InlineRunner

SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


class _Resp:
    def __init__(self, status, headers, content):
        self.status_code = status
        self.headers = headers
        self.content = content

    def close(self):
        self.content = None


class FakeNet:
    """The gateway, in process: verifies requests, keeps payments, signs every answer."""

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.payments = {}
        self.order = []  # the gateway forgets old payments here, so its memory does not count
        self.outcome = "PAID"  # what the customer does at the first status poll
        self.forge = False  # answer status polls with a PAID body under a wrong signature
        self.calls = 0

    def request(self, method, url, data=None, headers=None, timeout=None):
        self.calls += 1
        target = url[url.find("/", 8):]
        body = data or b""
        status, obj = 200, None
        if not auth.verify_request(self.secret, method, target, headers["X-Timestamp"], headers["X-Nonce"], body,
                                   headers["X-Signature"]):
            status, obj = 401, {"error": {"code": "BAD_SIGNATURE", "message": "bad"}}
        elif target == "/v1/payments":
            req = json.loads(body)
            oid = req["order_id"]
            if oid not in self.payments:
                self.order.append(oid)
                if len(self.order) > 3:
                    self.payments.pop(self.order.pop(0))
                self.payments[oid] = {"order_id": oid, "status": "PENDING", "amount": req["amount"],
                                      "currency": req["currency"], "expires_at": int(time.time()) + 300,
                                      "code_value": "https://global.alipay.com/2810020400%08dzTC4BzSex92tUglv31de" % self.calls,
                                      "reason": None, "late": False}
            obj = self.payments[oid]
        elif target.startswith("/v1/payments/"):
            oid = target.split("/")[3].split("?")[0]
            p = self.payments.get(oid)
            if p is None:
                status, obj = 404, {"error": {"code": "NOT_FOUND", "message": "no"}}
            elif target.endswith("/cancel"):
                if p["status"] == "PENDING":
                    p["status"] = "CANCELLED"
                obj = p
            else:
                if p["status"] == "PENDING" and self.outcome:
                    p["status"] = self.outcome
                obj = p
        elif target == "/v1/alerts":
            obj = {"alerts": []}
        else:
            obj = {"ok": True, "time": int(time.time())}
        raw = json.dumps(obj).encode()
        stamp = str(int(time.time()))
        secret = "f" * 64 if self.forge and method == "GET" and target.startswith("/v1/payments/") else self.secret
        if self.forge and method == "GET" and target.startswith("/v1/payments/"):
            fake = dict(obj)
            fake["status"] = "PAID"
            raw = json.dumps(fake).encode()
        sig = auth.sign_response(secret, status, target, headers["X-Nonce"], stamp, raw)
        return _Resp(status, {"x-timestamp": stamp, "x-signature": sig}, raw)


class NullPin:
    def __init__(self, level=0):
        self.level = level

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v


class NullSPI:
    def __init__(self):
        self.bytes = 0

    def write(self, buf):
        self.bytes += len(buf)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class Terminal:
    """Flow + gateway client + journal + screens, driven by hand (no asyncio, no threads)."""

    def __init__(self, journal_path="/journal_dev.json", fresh=True, net=None):
        import panels
        if fresh:
            _remove(journal_path)
        self.cfg = config.validate({"wifi": {"ssid": "shop"}, "gateway": {"url": "http://127.0.0.1:8000"},
                                    "terminal": {"id": "T1", "secret": SECRET}, "merchant": {"name": "Corner Cafe"},
                                    "currency": "USD", "amount": {"max": 100000}})
        self.net = net or FakeNet()
        self.clock = WallClock()
        self.client = Gateway(self.cfg.gateway_url, "T1", SECRET, self.net, self.clock, 5)
        self.journal = Journal(journal_path)
        self.spi = NullSPI()
        dc = NullPin()
        lcd = panels.make("st7789-135x240", self.spi, dc, cs=NullPin(1), rst=NullPin(1), backlight=NullPin())
        self.screens = Screens(lcd, merchant="Corner Cafe", currency="USD")
        self.ui = UI(self.screens, self.clock, "USD")
        self.flow = F.Flow(self.cfg, self.journal, self.client, InlineRunner(), self.clock)
        self.seen = -1
        self.shown = []

    def pump(self, rounds=4):
        for _ in range(rounds):
            self.flow.tick()
            if self.flow.view_seq != self.seen:
                self.seen = self.flow.view_seq
                self.ui.render(self.flow.view)
                self.shown.append(self.flow.view[0])
                if len(self.shown) > 6:
                    self.shown.pop(0)  # keep the harness's own memory flat

    def sale(self, amount="1250", cancel=False):
        for k in amount:
            self.flow.key(k)
        self.flow.key("ok")
        self.pump(1)
        if cancel:
            self.flow.key("cancel")
        self.pump()
        state = self.flow.state
        self.flow.key("ok")
        self.pump(1)
        return state


def test_config_in_micropython():
    try:
        config.validate({"wifi": {}, "currency": "usd"})
        assert False
    except config.ConfigError as e:
        assert "wifi.ssid: missing" in e.problems


def test_one_paid_sale():
    t = Terminal()
    assert t.sale() == F.PAID
    assert t.shown[-3:] == ["qr", "result", "idle"] or "qr" in t.shown
    assert t.journal.sale is None and t.journal.recent[0]["amount"] == 1250
    assert t.spi.bytes > 135 * 240 * 2  # whole screens really went to the (null) panel


def test_declined_and_cancelled():
    t = Terminal()
    t.net.outcome = "FAILED"
    assert t.sale("99") == F.FAILED
    t.net.outcome = None
    assert t.sale("5", cancel=True) == F.CANCELLED


def test_forged_answers_never_pay():
    t = Terminal()
    t.net.outcome = None
    t.net.forge = True
    for k in "77":
        t.flow.key(k)
    t.flow.key("ok")
    t.pump(6)
    assert t.flow.state == F.SHOW_QR
    t.net.forge = False
    t.flow.key("cancel")
    t.pump()
    assert t.flow.state == F.CANCELLED


def test_reboot_resumes_from_the_journal():
    t = Terminal()
    t.net.outcome = None
    for k in "42":
        t.flow.key(k)
    t.flow.key("ok")
    t.pump(1)
    order = t.journal.sale["order_id"]
    again = Terminal(fresh=False, net=t.net)  # power back: same flash, same gateway
    assert again.flow.state == F.CHECKING
    t.net.outcome = "PAID"
    again.pump(6)
    assert again.flow.state == F.PAID and again.flow.result["order_id"] == order


def test_journal_record_on_flash():
    t = Terminal()
    t.net.outcome = None
    t.flow.key("3")
    t.flow.key("ok")
    with open("/journal_dev.json") as f:
        rec = json.load(f)
    assert rec["sale"]["amount"] == 3 and rec["sale"]["state"] in ("CREATING", "SHOW_QR")


class NoKeys:
    def poll(self):
        return None


def start_app(results):
    """The whole application (firmware/app.py + firmware/loop.py, its asyncio tasks) with the
    network adapter and the panel replaced: no machine, network or _thread in this build. The
    tasks run on the port's event loop once this returns (tests/firmware/mpy_async.mjs)."""
    import asyncio
    import panels
    from firmware import app as fw_app
    try:
        os.mkdir("/appflash")
    except OSError:
        pass
    with open("/appflash/config.json", "w") as f:
        f.write(json.dumps({"wifi": {"ssid": "shop"}, "gateway": {"url": "http://127.0.0.1:8000"},
                            "terminal": {"id": "T1", "secret": SECRET}, "merchant": {"name": "Cafe"},
                            "currency": "USD", "watchdog_ms": 0}))
    _remove("/appflash/journal.json")
    spi = NullSPI()
    lcd = panels.make("st7789-135x240", spi, NullPin(), cs=NullPin(1), rst=NullPin(1), backlight=NullPin())
    application = fw_app.Application(root="/appflash", transport=FakeNet(), lcd=lcd, keypad=NoKeys(),
                                     on_event=lambda n, d: results.append(d) if n == "result" else None)

    async def cashier(a):
        while not a.flow.online:
            await asyncio.sleep_ms(10)
        for k in ("2", "5", "ok"):
            a.flow.key(k)
        while True:
            await asyncio.sleep_ms(100)

    application.extra_tasks.append(cashier)
    application.setup()
    asyncio.create_task(fw_app.loop.run(application))
    return application, spi
