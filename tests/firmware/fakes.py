"""Small fakes at the flow's edges: a gateway model, a runner the test steps by hand, a clock."""
from firmware import config
from firmware.link.gateway import DOUBT, ERROR, OK, Answer

SECRET = "0123456789abcdef" * 4


def make_config(**over):
    raw = {
        "wifi": {"ssid": "sim-wifi", "password": "sim-password"},
        "gateway": {"url": "http://127.0.0.1:9"},
        "terminal": {"id": "T1", "secret": SECRET},
        "merchant": {"name": "Test Shop"},
        "currency": "USD",
        "amount": {"min": 1, "max": 500000},
    }
    raw.update(over)
    return config.validate(raw)


class FakeClock:
    def __init__(self, now=1_800_000_000):
        self.t = now

    def now(self):
        return self.t

    def set(self, t):
        self.t = t


class FakeGateway:
    """The gateway's behaviour in memory; `script[method]` answers first, in order, if set."""

    def __init__(self, clock, lifetime=120):
        self.clock = clock
        self.lifetime = lifetime
        self.payments = {}
        self.script = {}
        self.calls = []
        self.last_error = None
        self.creates = 0
        self.pin_failures = 0
        self.pin_lock_after = 5  # like the gateway: this many wrong PINs in a row lock refunds
        self.cancelled_unseen = set()  # the gateway's tombstones: cancels of orders it never saw

    def _scripted(self, name):
        queue = self.script.get(name)
        if queue:
            item = queue.pop(0)
            return item(self) if callable(item) else item
        return None

    def obj(self, order_id):
        return dict(self.payments[order_id])

    def create(self, order_id, amount, currency, description):
        self.calls.append(("create", order_id))
        s = self._scripted("create")
        if s is not None:
            return s
        if order_id in self.cancelled_unseen:
            return Answer(ERROR, 409, {"error": {"code": "ORDER_CANCELLED"}, "order_id": order_id},
                          code="ORDER_CANCELLED")
        if order_id not in self.payments:
            self.creates += 1
            self.payments[order_id] = {"order_id": order_id, "payment_id": "P" + order_id, "status": "PENDING",
                                       "amount": amount, "currency": currency,
                                       "code_value": "http://wallet/c/" + order_id,
                                       "expires_at": self.clock.now() + self.lifetime, "late": False}
        p = self.payments[order_id]
        if p["amount"] != amount:
            return Answer(ERROR, 409, {"error": {"code": "ORDER_MISMATCH"}, "order_id": order_id}, code="ORDER_MISMATCH")
        return Answer(OK, 200, self.obj(order_id))

    def status(self, order_id, wait_s=0):
        self.calls.append(("status", order_id, wait_s))
        s = self._scripted("status")
        if s is not None:
            return s
        if order_id not in self.payments:
            return Answer(ERROR, 404, {"error": {"code": "NOT_FOUND"}, "order_id": order_id}, code="NOT_FOUND")
        return Answer(OK, 200, self.obj(order_id))

    def cancel(self, order_id):
        self.calls.append(("cancel", order_id))
        s = self._scripted("cancel")
        if s is not None:
            return s
        if order_id not in self.payments:
            self.cancelled_unseen.add(order_id)
            return Answer(ERROR, 404, {"error": {"code": "NOT_FOUND"}, "order_id": order_id}, code="NOT_FOUND")
        p = self.payments[order_id]
        if p["status"] == "PENDING":
            p["status"] = "CANCELLED"
        return Answer(OK, 200, self.obj(order_id))

    def refund(self, order_id, refund_id, amount, pin):
        self.calls.append(("refund", order_id, refund_id, amount, pin))
        s = self._scripted("refund")
        if s is not None:
            return s
        if self.pin_failures >= self.pin_lock_after:
            return Answer(ERROR, 403, {"error": {"code": "PIN_LOCKED"}}, code="PIN_LOCKED")
        if pin != "123456":
            self.pin_failures += 1
            left = self.pin_lock_after - self.pin_failures
            return Answer(ERROR, 403, {"error": {"code": "BAD_PIN"}, "tries_left": left}, code="BAD_PIN")
        self.pin_failures = 0
        return Answer(OK, 200, {"refund_id": refund_id, "status": "SUCCEEDED", "amount": amount})

    def alerts(self):
        self.calls.append(("alerts",))
        s = self._scripted("alerts")
        if s is not None:
            return s
        return Answer(OK, 200, {"alerts": []})

    def ack_alert(self, alert_id):
        self.calls.append(("ack", alert_id))
        return Answer(OK, 200, {"ok": True})

    # what the wallet does
    def pay(self, order_id):
        self.payments[order_id]["status"] = "PAID"

    def decline(self, order_id):
        self.payments[order_id]["status"] = "FAILED"
        self.payments[order_id]["reason"] = "declined"


def doubt(why="timeout"):
    return Answer(DOUBT, why=why)


class StepRunner:
    """Holds every started call until the test runs it: calls are 'outstanding' in between."""

    def __init__(self):
        self.pending = []

    def start(self, job, fn, *args):
        self.pending.append((job, fn, args))
        return job

    def kinds(self):
        return [job.kind for job, _, _ in self.pending]

    def run(self, kind=None):
        """Run the outstanding calls (of one kind), in order; return how many ran."""
        ran = 0
        for item in list(self.pending):
            job, fn, args = item
            if kind is None or job.kind == kind:
                self.pending.remove(item)
                job.finish(fn(*args))
                ran += 1
        return ran
