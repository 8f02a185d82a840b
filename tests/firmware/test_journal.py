"""The journal survives a power cut at any byte of any write: old record or new, never a mix."""
import json
import os

import pytest

from firmware.sale.journal import Journal


class PowerCut(Exception):
    pass


class FlakyFlash:
    """open()/rename() over a real folder that lose power after `budget` bytes have been written."""

    def __init__(self, budget):
        self.budget = budget

    def open(self, path, mode="r"):
        f = open(path, mode)
        if "w" not in mode:
            return f
        flash = self

        class Writer:
            def write(self, data):
                if flash.budget is not None and len(data) > flash.budget:
                    f.write(data[: flash.budget])
                    f.close()
                    raise PowerCut()
                if flash.budget is not None:
                    flash.budget -= len(data)
                return f.write(data)

            def flush(self):
                f.flush()

            def close(self):
                f.close()

        return Writer()

    def rename(self, a, b):
        if self.budget is not None and self.budget <= 0:
            raise PowerCut()
        os.rename(a, b)


def _sale(n):
    return {"order_id": "T1-x%d" % n, "amount": 100 + n, "currency": "USD", "state": "CREATING"}


def test_first_boot_starts_a_random_series(tmp_path):
    a = Journal(str(tmp_path / "a.json"))
    b = Journal(str(tmp_path / "b.json"))
    assert a.sale is None and a.record["next"] == 1
    assert a.new_order_id("T1").startswith("T1-") and a.record["series"] != b.record["series"]


def test_round_trip_and_counter(tmp_path):
    path = str(tmp_path / "j.json")
    j = Journal(path)
    oid = j.new_order_id("T1")
    j.open_sale(_sale(1))
    again = Journal(path)
    assert again.sale == _sale(1) and again.new_order_id("T1") != oid
    again.close_sale({"order_id": "T1-x1", "amount": 101, "currency": "USD", "at": 5})
    third = Journal(path)
    assert third.sale is None and third.recent[0]["order_id"] == "T1-x1"


def test_recent_keeps_only_the_last_two_paid_sales(tmp_path):
    j = Journal(str(tmp_path / "j.json"))
    for n in range(8):
        j.open_sale(_sale(n))
        j.close_sale({"order_id": "o%d" % n})
    assert [r["order_id"] for r in j.recent] == ["o7", "o6"]
    j.forget_recent("o7")  # refunded: the one before is offered next
    assert [r["order_id"] for r in Journal(str(tmp_path / "j.json")).recent] == ["o6"]


def test_power_cut_at_every_byte(tmp_path):
    path = str(tmp_path / "j.json")
    base = Journal(path)
    base.open_sale(_sale(1))
    old = json.load(open(path))
    new_size = None
    budget = 0
    while True:
        flash = FlakyFlash(budget)
        j = Journal(path, opener=flash.open, rename=flash.rename)
        sale = dict(j.sale, state="SHOW_QR", code="http://wallet/c/abc")
        try:
            j.update(sale)
            done = True
        except PowerCut:
            done = False
        after = Journal(path).record  # the next boot
        if done:
            assert after["sale"]["state"] == "SHOW_QR"
            new_size = budget
            break
        assert after == old, "a cut after %d bytes left a mixed record" % budget
        budget += 1
    assert new_size is not None and new_size >= len(json.dumps(old))


def test_unreadable_journal_starts_a_new_series(tmp_path):
    path = tmp_path / "j.json"
    j = Journal(str(path))
    j.open_sale(_sale(1))
    path.write_text("{not json")
    fresh = Journal(str(path))
    assert fresh.sale is None and fresh.record["series"] != j.record["series"]
