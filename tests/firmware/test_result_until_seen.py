"""A decided result survives a power cut until the cashier has seen it.

A paid, a declined and a cancelled sale, with the power cut (SIM_POWER_CUT=N[:torn]) at each of
the journal's writes in turn, and halfway through the write that records the result. Whatever
write the power took, the terminal boots again and ends on the true result screen (the one the
sandbox's payment says), for the same order; once the cashier has dismissed it, it is gone and the
terminal is idle. The journal's writes in these sales:

    paid, declined: 1 open (CREATING), 2 SHOW_QR, 3 the result, 4 seen (closed)
    cancelled:      1 open (CREATING), 2 SHOW_QR, 3 the cancel wish, 4 the result, 5 seen (closed)

A cut one past the last write never fires, which checks that these lists cover every write.
"""
import itertools
import json
import os

import pytest

pytestmark = pytest.mark.slow

_amounts = itertools.count(701)

WRITES = {"paid": 4, "declined": 4, "cancelled": 5}
RESULT_WRITE = {"paid": 3, "declined": 3, "cancelled": 4}
TRUE_RESULT = {"paid": "PAID", "declined": "FAILED", "cancelled": "CANCELLED"}


def _cases():
    for kind, n in WRITES.items():
        for cut in range(1, n + 2):
            yield "%s-%d" % (kind, cut)
        yield "%s-%d:torn" % (kind, RESULT_WRITE[kind])


def _flash_journal(t):
    with open(os.path.join(t.flash, "journal.json")) as f:
        return json.load(f)


def _power_back(t):
    t.wait_exit()
    t.start()  # no SIM_POWER_CUT this time
    return len(t.history)


@pytest.mark.parametrize("case", list(_cases()))
def test_result_is_shown_until_seen_whatever_write_the_power_cut_took(system, case):
    kind, cut = case.split("-")
    t = system.terminal()
    t.start(env={"SIM_POWER_CUT": cut})
    t.wait_ready()
    t.keys(str(next(_amounts)), "ok")
    acted = False
    cuts = 0
    while True:
        ev = t.wait(lambda e: e.get("event") in ("power_cut", "result")
                    or e.get("event") == "state" and e.get("state") == "SHOW_QR", timeout=40)
        if ev["event"] == "power_cut":
            cuts += 1
            _power_back(t)
        elif ev["event"] == "state":
            if kind == "cancelled":
                t.keys("cancel")  # a QR shown again means the cancel wish never reached the flash
            elif not acted:
                (system.sandbox.pay if kind == "paid" else system.sandbox.decline)(ev["code"])
            acted = True
        else:
            result = ev
            break
    opened = [e["order_id"] for e in t.history if e.get("event") == "state" and e.get("order_id")][0]
    assert (result["state"], result["order_id"]) == (TRUE_RESULT[kind], opened)
    t.wait_screen("result", timeout=10)
    t.keys("ok")  # the cashier has seen it
    ev = t.wait(lambda e: e.get("event") == "power_cut"
                or e.get("event") == "screen" and e.get("screen") in ("idle", "offline", "alert"), timeout=20)
    if ev["event"] == "power_cut":  # the cut took the "seen" write: the result is not shown again
        cuts += 1
        boot = _power_back(t)
        t.wait_ready()
        t.wait_screen("idle", timeout=10)
        assert not [e for e in t.history[boot:] if e.get("event") == "result"]
    assert cuts == (1 if int(cut.split(":")[0]) <= WRITES[kind] else 0), "the writes listed are not the sale's"
    assert _flash_journal(t)["sale"] is None
    pays = system.payments(t.terminal_id, opened)
    assert len(pays) == 1 and (pays[0]["status"] == "SUCCESS") == (kind == "paid"), pays
    t.stop()
