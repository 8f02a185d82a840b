"""A man in the middle between terminal and gateway answers the status long poll with PAID:
forged (a genuine signature over other content), replayed (a genuine PAID answer to another
request) or unsigned. The terminal never shows PAID; the cashier's cancel still works."""
import json
import time

import pytest

from tests.firmware.middle import Middle, MiddleHandler

pytestmark = pytest.mark.slow


class Lying(MiddleHandler):
    """Answers status long polls with PAID ("forged", "replay", "unsigned"); remembers genuine
    create answers and a genuine PAID answer to lie with."""

    def tamper(self, body):
        srv = self.server
        if not (self.command == "GET" and self.path.startswith("/v1/payments/")) or srv.mode == "pass":
            return False
        order_id = self.path.split("/")[3].split("?")[0]
        srv.attacks += 1
        if srv.mode == "replay":
            self.send(*srv.paid_answer)
            return True
        headers, created = srv.created[order_id]
        fake = json.loads(created)
        fake.update(status="PAID", paid_at=int(time.time()))
        fake_body = json.dumps(fake).encode()
        if srv.mode == "forged":
            keep = [(k, v) for k, v in headers if k.lower() in ("x-timestamp", "x-signature")]
            self.send(200, keep + [("Content-Type", "application/json")], fake_body)
        else:  # unsigned
            self.send(200, [("Content-Type", "application/json")], fake_body)
        return True

    def forwarded(self, status, headers, data):
        srv = self.server
        if self.command == "POST" and self.path == "/v1/payments" and status == 200:
            srv.created[json.loads(data)["order_id"]] = (headers, data)
        is_status = self.command == "GET" and self.path.startswith("/v1/payments/")
        if is_status and status == 200 and json.loads(data).get("status") == "PAID":
            srv.paid_answer = (status, headers, data)


@pytest.fixture(scope="module")
def proxy(system):
    p = Middle(system.gateway.port, Lying)
    p.created = {}  # order id -> (headers, body) of the genuine create answer
    p.paid_answer = None  # a genuine PAID status answer (status, headers, body)
    p.attacks = 0
    yield p.start()
    p.close()


@pytest.fixture(scope="module")
def victim(system, proxy):
    t = system.terminal(gateway_url=proxy.url).start()
    t.wait_ready()
    # One honest paid sale first, so the attacker holds a genuine PAID answer to replay.
    t.keys("300", "ok")
    qr = t.wait_state("SHOW_QR")
    system.sandbox.pay(qr["code"])
    assert t.wait_result()["state"] == "PAID"
    t.keys("ok")
    t.wait_screen("idle")
    assert proxy.paid_answer is not None
    yield t
    t.stop()


@pytest.mark.parametrize("mode", ["forged", "replay", "unsigned"])
def test_tampered_status_never_shows_paid(system, proxy, victim, mode):
    # Tamper from the start: the first long poll leaves together with SHOW_QR, and one that slipped
    # through honestly would hold the line for the whole long poll (the code expires first).
    proxy.attacks = 0
    proxy.mode = mode
    try:
        victim.keys("4%d" % len(mode), "ok")
        qr = victim.wait_state("SHOW_QR")
        deadline = time.monotonic() + 15  # back-off 0.3, 0.6, 1.2 s: three lies take ~2 s unloaded
        while time.monotonic() < deadline and proxy.attacks < 3:
            time.sleep(0.05)
        assert proxy.attacks >= 3  # the terminal asked again and again, and was lied to each time
        assert not [e for e in victim.history if e.get("event") == "result" and e["order_id"] == qr["order_id"]]
        doubts = [e for e in victim.history if e.get("event") == "doubt" and e.get("order_id") == qr["order_id"]]
        assert doubts
        victim.keys("cancel")  # the cancel is not tampered with: the sale ends honestly
        result = victim.wait_result()
    finally:
        proxy.mode = "pass"
    assert result["state"] == "CANCELLED" and result["order_id"] == qr["order_id"]
    pays = system.payments(victim.terminal_id, qr["order_id"])
    assert len(pays) == 1 and pays[0]["status"] != "SUCCESS"
    victim.keys("ok")
    victim.wait_screen("idle")
