"""The payment flow against a fake gateway: every transition and every doubtful answer."""
import json

import pytest

from firmware.sale import flow as F
from firmware.link.gateway import DOUBT, ERROR, OK, Answer
from firmware.sale.journal import Journal
from tests.firmware.fakes import FakeClock, FakeGateway, StepRunner, doubt, make_config
from tests.shims import clock as shim_clock


@pytest.fixture
def rig(tmp_path):
    shim_clock.manual(1000)
    return Rig(tmp_path)


class Rig:
    def __init__(self, tmp_path, **cfg):
        self.path = str(tmp_path / "journal.json")
        self.clock = FakeClock()
        self.gw = FakeGateway(self.clock)
        self.runner = StepRunner()
        self.cfg = make_config(**cfg)
        self.events = []
        self.boot()

    def boot(self):
        """Power on (again): a new flow over the same flash."""
        self.runner.pending.clear()
        self.journal = Journal(self.path)
        self.flow = F.Flow(self.cfg, self.journal, self.gw, self.runner, self.clock,
                           events=lambda n, d: self.events.append((n, d)))
        return self.flow

    def keys(self, *names):
        for n in names:
            self.flow.key(n)

    def settle(self, rounds=20, advance_ms=6000):
        """Let calls finish and retries happen until nothing is left to do."""
        for _ in range(rounds):
            self.flow.tick()
            if self.runner.pending:
                self.runner.run()
                self.flow.tick()
            else:
                shim_clock.advance_ms(advance_ms)
            if self.flow.state in F.FINAL or self.flow.state == F.SHOW_QR and not self.runner.pending:
                pass

    def step(self):
        self.flow.tick()
        self.runner.run()
        self.flow.tick()

    def on_disk(self):
        with open(self.path) as f:
            return json.load(f)

    def sale_to_qr(self, amount="1250"):
        self.keys(*amount)
        self.keys("ok")
        self.step()
        assert self.flow.state == F.SHOW_QR
        return self.journal.sale["order_id"]


# --- amount entry ----------------------------------------------------------------------------
def test_amount_entry_keys(rig):
    rig.keys("0", "1", "2")
    assert rig.flow.state == F.AMOUNT and rig.flow.view == ("amount", rig.flow.view[1])
    assert rig.flow.view[1]["amount"] == 12
    rig.keys("back")
    assert rig.flow.view[1]["amount"] == 1
    rig.keys("clear")
    assert rig.flow.view[1]["amount"] == 0 and rig.flow.state == F.AMOUNT
    rig.keys("ok")  # zero is below the minimum: stays, says why
    assert rig.flow.state == F.AMOUNT and rig.flow.view[1]["message"] == "min"
    assert rig.runner.pending == []
    rig.keys("cancel")
    assert rig.flow.state == F.IDLE and rig.flow.view[0] == "idle"


def test_amount_above_maximum_is_refused(rig):
    rig.keys(*"500000")
    rig.keys("1")
    assert rig.flow.view[1]["amount"] == 500000 and rig.flow.view[1]["message"] == "max"


# --- the happy paths -------------------------------------------------------------------------
def test_paid_sale_journaled_before_network(rig):
    rig.keys("1", "2", "5", "0", "ok")
    assert rig.flow.state == F.CREATING and rig.flow.view[0] == "creating"
    # The create call has not run yet, and the sale is already on flash.
    assert rig.runner.kinds() == ["create"] and rig.gw.calls == []
    disk = rig.on_disk()
    assert disk["sale"]["amount"] == 1250 and disk["sale"]["state"] == "CREATING"
    order = disk["sale"]["order_id"]
    rig.step()
    assert rig.flow.state == F.SHOW_QR
    assert rig.flow.view[0] == "qr" and rig.flow.view[1]["code"] == "http://wallet/c/" + order
    assert rig.on_disk()["sale"]["state"] == "SHOW_QR"
    rig.step()  # a long poll that ends with no news
    assert rig.gw.calls[-1] == ("status", order, rig.cfg.long_poll_s)
    rig.gw.pay(order)
    rig.step()
    assert rig.flow.state == F.PAID and rig.flow.view == ("result", rig.flow.result)
    assert rig.flow.result["amount"] == 1250
    # decided: on flash with its result until seen, refundable already
    assert rig.on_disk()["sale"]["state"] == "PAID" and rig.on_disk()["recent"][0]["order_id"] == order
    rig.keys("ok")
    assert rig.flow.state == F.IDLE and rig.on_disk()["sale"] is None


def test_order_ids_never_repeat(rig):
    first = rig.sale_to_qr()
    rig.gw.pay(first)
    rig.step()
    rig.keys("ok")
    second = rig.sale_to_qr()
    assert second != first
    assert first.startswith("T1-") and second.startswith("T1-")


def test_declined_sale_fails(rig):
    order = rig.sale_to_qr()
    rig.gw.decline(order)
    rig.step()
    assert rig.flow.state == F.FAILED and rig.flow.result["reason"] == "declined"


def test_result_stays_until_dismissed_or_timeout(tmp_path):
    shim_clock.manual(0)
    rig = Rig(tmp_path, result_timeout_s=5)
    order = rig.sale_to_qr()
    rig.gw.pay(order)
    rig.step()
    assert rig.flow.state == F.PAID
    shim_clock.advance_ms(4000)
    rig.flow.tick()
    assert rig.flow.state == F.PAID
    shim_clock.advance_ms(1500)
    rig.flow.tick()
    assert rig.flow.state == F.IDLE


# --- cancel and expiry -----------------------------------------------------------------------
def test_cancel_acts_while_long_poll_is_outstanding(rig):
    order = rig.sale_to_qr()
    rig.flow.tick()
    assert rig.runner.kinds() == ["poll"]  # the long poll is out
    rig.keys("cancel")
    # At once, without waiting for the poll: the screen says so, the wish is on flash, the
    # cancel call is already started next to the outstanding poll.
    assert rig.flow.state == F.CHECKING and rig.flow.view[1]["cancelling"] is True
    assert rig.on_disk()["sale"]["cancel"] == "cashier"
    assert rig.runner.kinds() == ["poll", "cancel"]
    rig.runner.run("cancel")
    rig.flow.tick()
    assert rig.flow.state == F.CANCELLED
    rig.runner.run("poll")  # the poll's late answer changes nothing
    rig.flow.tick()
    assert rig.flow.state == F.CANCELLED


def test_failed_cancel_is_retried_without_waiting_for_the_long_poll(rig):
    order = rig.sale_to_qr()
    rig.flow.tick()
    rig.gw.script["cancel"] = [doubt("connection reset")]
    rig.keys("cancel")
    rig.runner.run("cancel")
    rig.flow.tick()
    assert rig.runner.kinds() == ["poll"] and rig.flow.state == F.CHECKING
    shim_clock.advance_ms(400)  # first back-off step
    rig.flow.tick()
    assert rig.runner.kinds() == ["poll", "cancel"]  # asked again while the poll is still out
    rig.runner.run("cancel")
    rig.flow.tick()
    assert rig.flow.state == F.CANCELLED


def test_paid_wins_over_cancel(rig):
    order = rig.sale_to_qr()
    rig.gw.pay(order)  # the customer paid just before the cashier pressed cancel
    rig.keys("cancel")
    rig.settle()
    assert rig.flow.state == F.PAID


def test_cancel_during_create_waits_for_the_create_answer(rig):
    rig.keys("9", "ok")
    rig.keys("cancel")
    assert rig.flow.state == F.CHECKING and rig.runner.kinds() == ["create"]
    rig.settle()
    order = rig.gw.calls[0][1]
    assert rig.flow.state == F.CANCELLED
    assert [c[0] for c in rig.gw.calls] == ["create", "cancel"]
    assert rig.gw.payments[order]["status"] == "CANCELLED"


def test_expiry_cancels_and_shows_expired(rig):
    order = rig.sale_to_qr()
    rig.clock.t += rig.gw.lifetime
    rig.flow.tick()
    assert rig.on_disk()["sale"]["cancel"] == "expiry"
    rig.settle()
    assert rig.flow.state == F.EXPIRED and ("cancel", order) in rig.gw.calls


def test_gateway_expired_status_is_expired(rig):
    order = rig.sale_to_qr()
    rig.gw.payments[order]["status"] = "EXPIRED"
    rig.step()
    assert rig.flow.state == F.EXPIRED


def test_cancel_of_a_never_created_order(rig):
    rig.gw.script["create"] = [doubt(), doubt()]
    rig.keys("5", "ok")
    rig.step()
    assert rig.flow.state == F.CHECKING
    rig.keys("cancel")
    rig.settle()
    assert rig.flow.state == F.CANCELLED and rig.gw.payments == {}


# --- doubt -------------------------------------------------------------------------------------
def test_lost_create_answer_is_retried_with_the_same_order(rig):
    def lands_then_lost(gw):
        gw.script["create"] = []
        gw.create(*gw._last)
        return doubt("connection reset")

    rig.keys("7", "ok")
    order = rig.journal.sale["order_id"]
    rig.gw._last = (order, 7, "USD", "x")
    rig.gw.script["create"] = [lands_then_lost]
    rig.step()
    assert rig.flow.state == F.CHECKING and rig.flow.view[0] == "checking"
    rig.settle()
    assert rig.flow.state == F.SHOW_QR
    assert rig.gw.creates == 1 and {c[1] for c in rig.gw.calls if c[0] == "create"} == {order}


@pytest.mark.parametrize("bad", [
    doubt("unsigned or forged answer (HTTP 200)"),
    doubt("unparsable answer"),
    Answer(DOUBT, 502, {"error": {"code": "UPSTREAM"}}, why="gateway HTTP 502"),
])
def test_doubtful_status_keeps_qr_and_never_pays(rig, bad):
    order = rig.sale_to_qr()
    rig.gw.script["status"] = [bad, bad]
    rig.step()
    assert rig.flow.state == F.SHOW_QR and rig.flow.view[1].get("offline") is True
    rig.step()
    assert rig.flow.state == F.SHOW_QR
    rig.gw.pay(order)
    rig.settle()
    assert rig.flow.state == F.PAID


def test_a_signed_429_is_no_reason_to_call_the_terminal_offline(rig):
    """The gateway answered, signed, "not now": it is there. The sale stays undecided (doubt,
    asked again later), the terminal stays online; an unsigned failure still takes it offline."""
    order = rig.sale_to_qr()
    busy = Answer(DOUBT, 429, {"retry_after": 3}, code="RATE_LIMITED", why="gateway busy: retry in 3 s")
    rig.gw.script["status"] = [busy]
    rig.step()
    assert rig.flow.state == F.SHOW_QR and rig.flow.online is True
    assert not any(n == "online" and d["online"] is False for n, d in rig.events)
    rig.gw.script["status"] = [doubt("network: timed out")]
    for _ in range(5):  # after the wait the gateway asked for
        shim_clock.advance_ms(6000)
        rig.step()
    said = [(n, d.get("why", d.get("online"))) for n, d in rig.events if n in ("doubt", "online")]
    assert said[:3] == [("doubt", "gateway busy: retry in 3 s"), ("online", False), ("doubt", "network: timed out")]
    assert rig.flow.state == F.SHOW_QR
    rig.gw.pay(order)
    rig.settle()
    assert rig.flow.state == F.PAID


def test_a_call_that_could_not_be_started_is_asked_again(rig):
    """A MemoryError while a call is being handed to the runner (the loop's guard collects and
    runs the task again) leaves no job behind that never ends: the flow asks again and the sale
    is decided, instead of waiting on a call that was never made."""
    order = rig.sale_to_qr()
    real = rig.runner.start
    failed = []

    def start_once_without_memory(job, fn, *args):
        if not failed:
            failed.append(job.kind)
            raise MemoryError("memory allocation failed")
        return real(job, fn, *args)

    rig.runner.start = start_once_without_memory
    rig.runner.run("poll")  # the first long poll: still pending; the next one cannot be started
    with pytest.raises(MemoryError):
        for _ in range(3):
            rig.flow.tick()
            shim_clock.advance_ms(6000)
    assert failed == ["poll"] and rig.runner.kinds() == []
    rig.flow.tick()  # the guard runs the task again
    assert rig.runner.kinds() == ["poll"]
    rig.gw.pay(order)
    rig.settle()
    assert rig.flow.state == F.PAID


@pytest.mark.parametrize("mutate", [
    lambda b: b.update(order_id="T1-other1"),
    lambda b: b.update(amount=b["amount"] + 1),
    lambda b: b.update(currency="EUR"),
    lambda b: b.update(status="SUCCESS"),
    lambda b: b.pop("order_id"),
])
def test_paid_answer_naming_something_else_is_doubt(rig, mutate):
    order = rig.sale_to_qr()
    body = dict(rig.gw.payments[order], status="PAID")
    mutate(body)
    rig.gw.script["status"] = [Answer(OK, 200, body)] * 3
    for _ in range(3):
        rig.step()
        shim_clock.advance_ms(6000)
        assert rig.flow.state != F.PAID
    assert any(e[0] == "doubt" for e in rig.events)


def test_signed_refusal_of_create_fails_the_sale(rig):
    rig.keys("3", "ok")
    order = rig.journal.sale["order_id"]
    rig.gw.script["create"] = [Answer(ERROR, 409, {"error": {"code": "ORDER_MISMATCH"}, "order_id": order},
                                      code="ORDER_MISMATCH")]
    rig.step()
    assert rig.flow.state == F.FAILED and rig.flow.result["reason"] == "ORDER_MISMATCH"


def test_auth_refusal_of_create_is_retried(rig):
    rig.gw.script["create"] = [Answer(ERROR, 401, {"error": {"code": "STALE_TIMESTAMP"}}, code="STALE_TIMESTAMP")]
    rig.keys("3", "ok")
    rig.step()
    assert rig.flow.state == F.CHECKING
    rig.settle()
    assert rig.flow.state == F.SHOW_QR


def test_pending_answer_without_code_is_doubt(rig):
    rig.gw.script["create"] = [Answer(OK, 200, {"order_id": "x"})]
    rig.keys("3", "ok")
    order = rig.journal.sale["order_id"]
    rig.gw.script["create"] = [Answer(OK, 200, {"order_id": order, "amount": 3, "currency": "USD",
                                                "status": "PENDING"})]
    rig.step()
    assert rig.flow.state == F.CHECKING
    rig.settle()
    assert rig.flow.state == F.SHOW_QR


def test_backoff_grows_between_retries(rig):
    rig.gw.script["create"] = [doubt()] * 4
    rig.keys("3", "ok")
    rig.step()
    starts = []
    for _ in range(200):
        shim_clock.advance_ms(100)
        rig.flow.tick()
        if rig.runner.pending:
            starts.append(shim_clock.ticks_ms())
            rig.runner.run()
            rig.flow.tick()
        if rig.flow.state == F.SHOW_QR:
            break
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert rig.flow.state == F.SHOW_QR and gaps == sorted(gaps) and gaps[-1] > gaps[0]


def test_cancel_answer_pending_is_asked_again(rig):
    order = rig.sale_to_qr()
    rig.gw.script["cancel"] = [Answer(OK, 200, rig.gw.obj(order)), doubt()]
    rig.keys("cancel")
    rig.settle()
    assert rig.flow.state == F.CANCELLED
    assert len([c for c in rig.gw.calls if c[0] == "cancel"]) == 3


# --- reboot in the middle --------------------------------------------------------------------
def test_reboot_while_creating_resumes_the_same_order(rig):
    rig.keys("4", "2", "ok")
    order = rig.journal.sale["order_id"]
    rig.boot()  # power cut before the create call ever ran
    assert rig.flow.state == F.CHECKING
    rig.keys("1")  # no new sale while the old one is open
    assert rig.flow.state == F.CHECKING
    rig.settle()
    assert rig.flow.state == F.SHOW_QR and rig.journal.sale["order_id"] == order
    assert rig.gw.creates == 1


def test_reboot_while_qr_shows_then_paid(rig):
    order = rig.sale_to_qr()
    rig.gw.pay(order)  # paid while the terminal was off
    rig.boot()
    rig.settle()
    assert rig.flow.state == F.PAID and rig.flow.result["order_id"] == order


def test_reboot_while_qr_shows_still_pending_shows_qr_again(rig):
    order = rig.sale_to_qr()
    rig.boot()
    rig.settle(rounds=2)
    assert rig.flow.state == F.SHOW_QR and rig.flow.view[1]["code"].endswith(order)


def test_reboot_after_expiry_cancels(rig):
    order = rig.sale_to_qr()
    rig.clock.t += 1000
    rig.boot()
    rig.settle()
    assert rig.flow.state == F.EXPIRED and rig.gw.payments[order]["status"] == "CANCELLED"


def test_reboot_after_cancel_key_finishes_the_cancel(rig):
    order = rig.sale_to_qr()
    rig.keys("cancel")
    rig.boot()  # the cancel call never went out
    assert rig.journal.sale["cancel"] == "cashier"
    rig.settle()
    assert rig.flow.state == F.CANCELLED and rig.gw.payments[order]["status"] == "CANCELLED"


# --- alerts and refunds ----------------------------------------------------------------------
def test_late_payment_alert_at_idle(rig):
    alert = {"id": 7, "order_id": "T1-x9", "amount": 500, "currency": "USD", "action": "REFUNDED"}
    rig.gw.script["alerts"] = [Answer(OK, 200, {"alerts": [alert]})]
    rig.step()
    assert rig.flow.state == F.ALERT and rig.flow.view == ("alert", alert)
    rig.keys("1")  # no sale over an unread alert
    assert rig.flow.state == F.ALERT
    rig.keys("ok")
    rig.step()
    assert ("ack", 7) in rig.gw.calls and rig.flow.state == F.IDLE


def _paid(rig, amount="2500"):
    order = rig.sale_to_qr(amount)
    rig.gw.pay(order)
    rig.step()
    rig.keys("ok")
    return order


def test_refund_behind_supervisor_pin(rig):
    order = _paid(rig)
    rig.keys("menu")
    assert rig.flow.state == F.MENU and rig.flow.view[1]["refundable"]["order_id"] == order
    rig.keys("ok", "1", "2", "3", "4", "5")
    rig.keys("ok")  # PIN too short (6 digits at least): nothing sent
    assert rig.flow.state == F.REFUND_PIN and rig.runner.pending == []
    rig.keys("6", "ok")
    rig.step()
    assert rig.flow.state == F.REFUND_DONE and rig.flow.view[1]["outcome"] == "REFUNDED"
    assert rig.gw.calls[-1] == ("refund", order, order + "-R", 2500, "123456")
    assert rig.on_disk()["recent"] == []


def test_refund_wrong_pin_and_doubt_keep_the_sale_refundable(rig):
    order = _paid(rig)
    rig.keys("menu", "ok", "9", "9", "9", "9", "9", "9", "ok")
    rig.step()
    assert rig.flow.state == F.REFUND_PIN and rig.flow.view[0] == "pin" and rig.flow.view[1]["wrong"]
    rig.keys("cancel")
    rig.gw.script["refund"] = [doubt()]
    rig.keys("menu", "ok", "1", "2", "3", "4", "5", "6", "ok")
    rig.step()
    assert rig.flow.view[1]["outcome"] == "UNKNOWN"
    rig.keys("ok", "menu")
    assert rig.flow.view[1]["refundable"]["order_id"] == order
    refund_ids = {c[2] for c in rig.gw.calls if c[0] == "refund"}
    assert refund_ids == {order + "-R"}


def test_wrong_pin_goes_back_to_the_prompt_with_the_tries_left_and_announces_the_lockout(rig):
    order = _paid(rig)
    rig.gw.pin_lock_after = 3
    rig.keys("menu", "ok", "9", "9", "9", "9", "9", "9", "ok")
    rig.step()
    assert rig.flow.state == F.REFUND_PIN
    assert rig.flow.view == ("pin", {"entered": 0, "sale": rig.flow.view[1]["sale"], "wrong": True, "tries_left": 2})
    rig.keys("8")  # typing again keeps the warning on screen
    assert rig.flow.view[1]["entered"] == 1 and rig.flow.view[1]["tries_left"] == 2
    rig.keys("8", "8", "8", "8", "8", "ok")
    rig.step()
    assert rig.flow.view[1]["tries_left"] == 1  # the screen says the next wrong PIN locks refunds
    rig.keys("7", "7", "7", "7", "7", "7", "ok")
    rig.step()
    assert rig.flow.view[1]["tries_left"] == 0
    rig.keys("1", "2", "3", "4", "5", "6", "ok")  # even the right PIN: locked now
    rig.step()
    assert rig.flow.state == F.REFUND_DONE and rig.flow.view[1]["outcome"] == "PIN_LOCKED"
    assert [c[4] for c in rig.gw.calls if c[0] == "refund"] == ["999999", "888888", "777777", "123456"]
    assert rig.flow.journal.recent[0]["order_id"] == order  # nothing refunded


def test_the_pin_prompt_says_the_tries_left_in_words():
    from firmware.display.ui import UI
    from tests.display.test_texts_fit import LayoutLCD, LayoutScreens

    screens = LayoutScreens(LayoutLCD(240, 320))
    ui = UI(screens, FakeClock(), "USD")

    def status(**d):
        ui.render(("pin", dict({"entered": 0}, **d)))
        return " ".join(b.content for k, b in sorted(screens._boxes.items()) if k.startswith("status"))

    assert status() == "Enter the PIN"
    assert status(wrong=True, tries_left=2) == "Wrong PIN: 2 tries left"
    assert "locks refunds" in status(wrong=True, tries_left=1)
    assert status(wrong=True, tries_left=None) == "Wrong PIN, try again"
    assert "locked" in status(wrong=True, tries_left=0)


def test_menu_without_recent_payment(rig):
    rig.keys("menu")
    assert rig.flow.view == ("menu", {"refundable": None})
    rig.keys("ok")
    assert rig.flow.state == F.MENU
    rig.keys("cancel")
    assert rig.flow.state == F.IDLE


def test_offline_idle_refuses_sales_and_recovers(rig):
    rig.flow.set_online(False)
    assert rig.flow.view[0] == "offline"
    rig.keys("5")
    assert rig.flow.state == F.IDLE
    rig.flow.set_online(True)
    assert rig.flow.view[0] == "idle"
    rig.keys("5")
    assert rig.flow.state == F.AMOUNT


def test_next_sale_polls_while_the_previous_sales_long_poll_is_still_out(rig):
    # Sale 1 is cancelled while its long poll is out (a stuck socket can hold it for the whole
    # timeout); sale 2's QR must be polled at once, not after sale 1's poll comes back.
    rig.sale_to_qr()
    rig.flow.tick()
    rig.keys("cancel")
    rig.runner.run("cancel")
    rig.flow.tick()
    assert rig.flow.state == F.CANCELLED
    rig.keys("ok", "7", "0", "0", "ok")
    rig.runner.run("create")
    rig.flow.tick()
    assert rig.flow.state == F.SHOW_QR
    order2 = rig.journal.sale["order_id"]
    rig.flow.tick()
    polled = [job.order_id for job, _, _ in rig.runner.pending if job.kind == "poll"]
    assert order2 in polled
    rig.gw.pay(order2)
    rig.runner.run("poll")
    rig.flow.tick()
    assert rig.flow.state == F.PAID and rig.flow.result["order_id"] == order2
