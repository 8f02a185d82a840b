"""Issue 12.9: PIN guessing has an overall limit. Lockouts escalate and never reset by themselves,
each raises an operator alert, the order's refundability is answered before the PIN is looked at,
and a PIN has 6 digits at least."""
import json

from tests.gateway.test_terminal_api import paid
from tools.gateway import credentials
from tools.gateway.testing import running_gateway


def test_lockouts_escalate_and_do_not_reset_with_time_or_a_right_pin(make_config, sandbox):
    cfg = make_config(gateway={"pin_lock_after": 2, "pin_lock_seconds": 1})
    with running_gateway(cfg) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        paid(gw, t1, sandbox, "PG-1", 1000)
        lengths = []
        for round_ in range(3):
            answers = [t1.refund("PG-1", "R1", 100, "000000") for _ in range(2)]
            assert [a.code for a in answers] == ["BAD_PIN", "BAD_PIN"], answers
            # the terminal can announce the lockout before it happens: 1 try left, then 0 (locked)
            assert [a.body["tries_left"] for a in answers] == [1, 0], [a.body for a in answers]
            row = gw.store.terminal("T1")
            assert row["pin_lockouts"] == round_ + 1
            event = [e for e in gw.store.events("T1") if e["kind"] == "pin_rejected"][-1]
            lengths.append(json.loads(event["detail"])["locked_until"] - event["at"])
            assert t1.refund("PG-1", "R1", 100, "123456").code == "PIN_LOCKED"   # even the right one
            gw.store.db.execute("UPDATE terminals SET pin_locked_until=0 WHERE id='T1'")  # the lock ran out
            if round_ == 1:   # a right PIN between guesses does not lower the level
                assert t1.refund("PG-1", "R-OK", 100, "123456").body["status"] == "SUCCEEDED"
        assert lengths[0] < lengths[1] < lengths[2], lengths   # 1 s, 2 s, 4 s
        assert gw.store.terminal("T1")["pin_lockouts"] == 3
        # every lockout is an operator alert (not shown to the terminal, which cannot act on it)
        alerts = [a for a in gw.store.alerts("T1") if a["kind"] == "PIN_LOCKED"]
        assert len(alerts) == 3 and alerts[0]["payment"] is None
        assert all(a["kind"] != "PIN_LOCKED" for a in t1.alerts().body["alerts"])
        # only the operator's new PIN resets the level
        gw.store.set_pin_hash("T1", credentials.hash_pin("654321", n=2 ** 4))
        assert gw.store.terminal("T1")["pin_lockouts"] == 0


def test_a_right_and_a_wrong_pin_get_the_same_answer_on_an_unrefundable_order(gateway, t1, sandbox):
    t1.create("PG-2", 100, "USD", "")   # not paid
    right = t1.refund("PG-2", "R1", 100, "123456")
    wrong = t1.refund("PG-2", "R1", 100, "000000")
    assert (right.status, right.code) == (wrong.status, wrong.code) == (409, "NOT_REFUNDABLE")
    assert right.body == wrong.body
    paid(gateway, t1, sandbox, "PG-3", 500)
    right = t1.refund("PG-3", "R1", 600, "123456")
    wrong = t1.refund("PG-3", "R1", 600, "000000")
    assert right.body == wrong.body and right.code == "REFUND_EXCEEDS_PAYMENT"
    assert not [e for e in gateway.store.events("T1") if e["kind"] == "pin_rejected"]   # never even checked


def test_a_pin_has_six_digits_at_least(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "PG-4", 500)
    assert t1.refund("PG-4", "R1", 100, "12345").code == "INVALID_FIELD"
    assert not credentials.valid_pin("12345") and credentials.valid_pin("123456")
