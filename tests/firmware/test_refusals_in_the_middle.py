"""What a man in the middle (or a slow network) can do to a create, against the real gateway.

- A body padded past the gateway's limit is refused with 413 before the request's signature can
  be checked. That answer is unsigned, so the terminal takes it as no answer (CHECKING) and asks
  again; it never shows FAILED for a sale the gateway never refused.
- A create held back on the way while the cashier cancels: the cancel reaches the gateway first,
  which remembers it (a tombstone) and refuses the create when it lands at last. The terminal's
  CANCELLED stays true: no payable code exists for the order.
"""
import threading
import time

import pytest

from tests.firmware.middle import Middle, MiddleHandler

pytestmark = pytest.mark.slow


class Delaying(MiddleHandler):
    """Pads creates past the gateway's body limit ("oversize") or holds them back ("hold")."""

    def tamper(self, body):
        srv = self.server
        if not (self.command == "POST" and self.path == "/v1/payments") or srv.mode == "pass":
            return False
        srv.tampered += 1
        if srv.mode == "oversize":
            self.send(*self.forward(body + b" " * 5000))
            return True
        srv.release.wait(60)  # "hold": the terminal's socket gives up long before
        status, _headers, data = self.forward(body)
        srv.late_answers.append((status, data))  # what the gateway gave to the held create
        return True


@pytest.fixture
def middle(system):
    m = Middle(system.gateway.port, Delaying)
    m.tampered = 0
    m.release = threading.Event()
    m.late_answers = []
    m.start()
    yield m
    m.release.set()
    m.close()


def _terminal(system, middle, **cfg):
    t = system.terminal(gateway_url=middle.url, **cfg).start()
    t.wait_ready()
    return t


def test_unsigned_413_on_create_is_doubt_never_failed(system, middle):
    t = _terminal(system, middle)
    middle.mode = "oversize"
    t.keys("610", "ok")
    t.wait_state("CHECKING", timeout=20)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and middle.tampered < 3:
        time.sleep(0.05)
    assert middle.tampered >= 3  # asked again and again, refused before authentication each time
    assert not [e for e in t.history if e.get("event") == "result"]
    middle.mode = "pass"  # the man in the middle goes away: the same order is created and paid
    qr = t.wait_state("SHOW_QR", timeout=20)
    system.sandbox.pay(qr["code"])
    result = t.wait_result()
    assert (result["state"], result["order_id"]) == ("PAID", qr["order_id"])
    t.stop()


def test_cancel_that_overtakes_a_held_create_stays_true(system, middle):
    t = _terminal(system, middle, gateway={"timeout_s": 2})
    middle.mode = "hold"
    t.keys("620", "ok")
    creating = t.wait_state("CREATING")
    t.keys("cancel")  # the create is out (held): the cancel goes once its answer is given up on
    result = t.wait_result(timeout=30)
    assert (result["state"], result["order_id"]) == ("CANCELLED", creating["order_id"])
    middle.release.set()  # the create lands at last
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not middle.late_answers:
        time.sleep(0.05)
    assert middle.late_answers and middle.late_answers[0][0] == 409, middle.late_answers
    assert b"ORDER_CANCELLED" in middle.late_answers[0][1]
    assert system.payments(t.terminal_id, creating["order_id"]) == []  # no code anyone could pay
    t.keys("ok")
    t.wait_screen("idle")
    t.stop()
