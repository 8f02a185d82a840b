"""The terminal's money path (issue 12, items 1-5) against the fake gateway, one behaviour each.

- a decided result stays on flash until the cashier has seen it, and is shown again after a reboot;
- a cancel answered "never created" is final only when the gateway's signed 404 names the order;
  a create refused ORDER_CANCELLED (a cancel overtook it at the gateway) stays CANCELLED;
- only a signed refusal naming this order ends a sale on create; any other answer is doubt;
- order ids carry a random part: nobody can predict the next one, a resumed sale keeps its own.
"""
import pytest

from firmware.link.gateway import DOUBT, ERROR, Answer
from firmware.sale import flow as F
from firmware.sale.journal import Journal
from tests.firmware.fakes import doubt
from tests.firmware.test_flow import Rig, rig  # noqa: F401  (the fixture)
from tests.shims import clock as shim_clock
from tools.gateway.validation import ID_RE


def _decide(rig, how):
    order = rig.sale_to_qr()
    if how == "paid":
        rig.gw.pay(order)
        rig.step()
    elif how == "declined":
        rig.gw.decline(order)
        rig.step()
    else:
        rig.keys("cancel")
        rig.settle()
    return order


TRUE = {"paid": F.PAID, "declined": F.FAILED, "cancelled": F.CANCELLED}


# --- 1. the result stays until seen ------------------------------------------------------------
@pytest.mark.parametrize("how", ["paid", "declined", "cancelled"])
def test_decided_result_is_shown_again_after_a_reboot_until_seen(rig, how):
    order = _decide(rig, how)
    assert rig.flow.state == TRUE[how]
    disk = rig.on_disk()["sale"]
    assert (disk["order_id"], disk["state"]) == (order, TRUE[how])  # on flash, not yet seen
    rig.events.clear()
    rig.boot()  # power cut while the result is on screen
    assert rig.flow.state == TRUE[how] and rig.flow.view == ("result", rig.flow.result)
    assert rig.flow.result["order_id"] == order
    assert [d for n, d in rig.events if n == "result"][0]["again"] is True
    calls = len(rig.gw.calls)
    rig.settle(rounds=3)
    assert rig.flow.state == TRUE[how]  # nothing asked about a decided sale: it stays as decided
    assert not [c for c in rig.gw.calls[calls:] if c[0] in ("create", "status", "cancel")]
    rig.keys("1")  # no new sale over an unseen result
    assert rig.flow.state == TRUE[how]
    rig.keys("ok")  # seen
    assert rig.flow.state == F.IDLE and rig.on_disk()["sale"] is None
    rig.boot()
    assert rig.flow.state == F.IDLE


def test_paid_sale_is_refundable_from_the_moment_it_is_decided(rig):
    order = _decide(rig, "paid")
    assert rig.on_disk()["recent"][0]["order_id"] == order
    rig.boot()
    rig.keys("ok")
    assert [r["order_id"] for r in rig.on_disk()["recent"]] == [order]  # once, not twice


def test_result_timeout_counts_as_seen(tmp_path):
    shim_clock.manual(0)
    rig = Rig(tmp_path, result_timeout_s=5)
    _decide(rig, "paid")
    shim_clock.advance_ms(5500)
    rig.flow.tick()
    assert rig.flow.state == F.IDLE and rig.on_disk()["sale"] is None


def test_late_answer_about_a_decided_sale_changes_nothing(rig):
    order = rig.sale_to_qr()
    rig.flow.tick()  # the long poll is out
    rig.keys("cancel")
    rig.runner.run("cancel")
    rig.flow.tick()
    assert rig.flow.state == F.CANCELLED
    rig.gw.payments[order]["status"] = "PAID"  # nonsense, but signed: the decided sale stays
    rig.runner.run("poll")
    rig.flow.tick()
    assert rig.flow.state == F.CANCELLED and rig.on_disk()["sale"]["state"] == "CANCELLED"


# --- 2. a cancel that overtakes a create --------------------------------------------------------
def test_cancel_of_an_order_the_gateway_never_saw_is_cancelled(rig):
    rig.gw.script["create"] = [doubt("timeout")]  # the create is still on its way
    rig.keys("5", "ok")
    order = rig.journal.sale["order_id"]
    rig.keys("cancel")
    rig.settle()
    assert rig.flow.state == F.CANCELLED and ("cancel", order) in rig.gw.calls
    assert rig.gw.create(order, 5, "USD", "late").code == "ORDER_CANCELLED"  # the late create lands
    assert rig.gw.payments == {} and rig.flow.state == F.CANCELLED


def test_create_refused_as_cancelled_ends_cancelled(rig):
    rig.keys("5", "ok")
    order = rig.journal.sale["order_id"]
    rig.gw.script["create"] = [Answer(ERROR, 409, {"error": {"code": "ORDER_CANCELLED"}, "order_id": order},
                                      code="ORDER_CANCELLED")]
    rig.step()
    assert rig.flow.state == F.CANCELLED


def test_poll_404_with_a_cancel_wish_sends_the_cancel_before_cancelled(rig):
    rig.gw.script["create"] = [doubt("timeout")]
    rig.keys("5", "ok")
    order = rig.journal.sale["order_id"]
    rig.step()  # CHECKING, the create is asked again next
    rig.flow.key("cancel")
    rig.flow._start("status", rig.gw.status, order, 0)  # a status question already out
    rig.runner.run("status")
    rig.flow.tick()
    assert rig.flow.state == F.CHECKING  # a 404 to status is no tombstone: the cancel decides
    rig.settle()
    assert rig.flow.state == F.CANCELLED and ("cancel", order) in rig.gw.calls


def test_cancel_404_that_names_no_order_is_doubt(rig):
    rig.gw.script["create"] = [doubt("timeout")]
    rig.keys("5", "ok")
    rig.keys("cancel")
    rig.gw.script["cancel"] = [Answer(ERROR, 404, {"error": {"code": "NOT_FOUND"}}, code="NOT_FOUND")]
    for _ in range(10):
        rig.step()
        shim_clock.advance_ms(1000)
        if not rig.gw.script["cancel"]:
            break
    assert rig.gw.script["cancel"] == [] and rig.flow.state == F.CHECKING  # answered, and still in doubt
    rig.settle()
    assert rig.flow.state == F.CANCELLED


# --- 3. only authenticated refusals naming this order end a sale ---------------------------------
@pytest.mark.parametrize("answer", [
    Answer(ERROR, 400, {"error": {"code": "INVALID_FIELD"}}, code="INVALID_FIELD"),
    Answer(ERROR, 409, {"error": {"code": "ORDER_MISMATCH"}, "order_id": "T1-1-000000000000"}, code="ORDER_MISMATCH"),
    Answer(ERROR, 405, {"error": {"code": "METHOD_NOT_ALLOWED"}}, code="METHOD_NOT_ALLOWED"),
    Answer(DOUBT, 413, why="unsigned or forged answer (HTTP 413)"),
    Answer(DOUBT, 400, why="unsigned or forged answer (HTTP 400)"),
], ids=["no-order", "other-order", "no-route", "unsigned-413", "unsigned-400"])
def test_create_refusal_not_naming_this_order_is_doubt(rig, answer):
    rig.gw.script["create"] = [answer, answer]
    rig.keys("3", "ok")
    rig.step()
    assert rig.flow.state == F.CHECKING
    rig.settle()
    assert rig.flow.state == F.SHOW_QR  # asked again, the same order was created
    assert not [d for n, d in rig.events if n == "result"]


# --- 5. order ids ------------------------------------------------------------------------------
def test_order_ids_cannot_be_predicted(tmp_path):
    # Two terminals with the same id and counter, or one terminal booted twice: every id differs
    # in its random part, so knowing one id (or all earlier ones) tells nothing of the next.
    a = Journal(str(tmp_path / "a.json"))
    b = Journal(str(tmp_path / "b.json"))
    ids = {a.new_order_id("T1"), b.new_order_id("T1")}
    again = Journal(str(tmp_path / "a.json"))
    ids.add(again.new_order_id("T1"))
    assert len(ids) == 3
    randoms = {oid.rsplit("-", 1)[1] for oid in ids}
    assert len(randoms) == 3 and all(len(r) == 12 for r in randoms)


def test_order_ids_fit_the_gateway_and_antom():
    j = Journal("/nonexistent/journal.json")
    j.record["next"] = 99999999  # 8 digits: a hundred million sales
    oid = j.new_order_id("T" * 16)
    assert len(oid) <= 38 and ID_RE.fullmatch(oid) and ID_RE.fullmatch(oid + "-R")
    assert len("%s.%s" % ("T" * 16, oid)) <= 64  # Antom's paymentRequestId


def test_resumed_sale_keeps_its_order_id(rig):
    rig.keys("4", "2", "ok")
    order = rig.journal.sale["order_id"]
    rig.boot()
    rig.settle()
    assert rig.flow.state == F.SHOW_QR and rig.journal.sale["order_id"] == order
    assert {c[1] for c in rig.gw.calls if c[0] == "create"} == {order}


# --- alerts (firmware/sale/alerts.py) ----------------------------------------------------------
def test_two_alert_acks_waiting_in_the_lane_both_go_out():
    # The command lane merges a call into the same one already waiting: acks of two alerts must
    # not look the same, or only the last would reach the gateway and the first come back.
    import _thread

    from firmware.link.gateway import OK
    from firmware.link.worker import Job, Lane
    from firmware.sale.alerts import Alerts

    class Parked:  # a lane whose thread never runs: what was queued stays visible
        allocate_lock = staticmethod(_thread.allocate_lock)

        @staticmethod
        def start_new_thread(fn, args):
            pass

    lane = Lane("commands", thread=Parked)
    sent = []
    alerts = Alerts(type("C", (), {"ack_alert": lambda self, i: sent.append(i)})(),
                    lambda kind, oid, fn, *args: lane.start(Job(kind, oid), fn, *args))
    assert alerts.answer(Answer(OK, 200, {"alerts": [{"id": 7}, {"id": 8}]}))
    alerts.acknowledge()
    alerts.acknowledge()
    assert lane.pending() == ["ack", "ack"] and alerts.current() is None
