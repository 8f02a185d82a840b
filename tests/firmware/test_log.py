"""firmware/log.py: the device's log ring buffer that `alipay-terminal logs` reads."""
import os

import pytest

from firmware import log
from firmware.link.clock import WallClock
from tests.shims import clock as shim_clock


def test_lines_are_stamped_with_uptime_until_the_clock_is_synced(tmp_path):
    shim_clock.manual(0)
    wall = WallClock(source=lambda: 1000)
    lg = log.Log(str(tmp_path / "log.txt"), clock=wall)
    shim_clock.advance_ms(5500)
    lg.write("boot")
    wall.set(1764090000)
    lg.write("state PAID T1-42")
    assert (tmp_path / "log.txt").read_text() == "t+5 boot\n1764090000 state PAID T1-42\n"


def test_rotates_at_the_cap_keeping_two_files(tmp_path):
    path = str(tmp_path / "log.txt")
    lg = log.Log(path, cap=100)
    for i in range(30):
        lg.write("event number %02d" % i)
    assert os.path.getsize(path) <= 100 and os.path.getsize(path + ".1") <= 100
    newest = open(path).read().splitlines()
    older = open(path + ".1").read().splitlines()
    assert newest[-1].endswith("event number 29")
    assert older[-1].split()[-1] == "%02d" % (int(newest[0].split()[-1]) - 1)  # no line lost between files
    assert sorted(os.listdir(tmp_path)) == ["log.txt", "log.txt.1"]


def test_a_broken_filesystem_never_raises(tmp_path):
    lg = log.Log(str(tmp_path / "no-such-dir" / "log.txt"))
    lg.write("nothing to see")  # must not raise: the sale matters more than the log


def test_flow_events_become_short_lines():
    assert log.describe("state", {"state": "PAID", "sale": {"order_id": "T1-7"}}) == "state PAID T1-7"
    assert log.describe("online", {"online": False}) == "offline"
    assert log.describe("doubt", {"order_id": "T1-7", "job": "poll", "why": "network"}) == \
        "doubt job=poll order_id=T1-7 why=network"
    assert log.describe("result", {"state": "FAILED", "order_id": "T1-7", "amount": 250, "currency": "USD",
                                   "reason": "declined"}) == "result FAILED T1-7 250 USD declined"
    assert log.describe("beep", {}) is None


@pytest.mark.micropython
def test_log_runs_inside_micropython(micropython):
    out = micropython.run(
        "from firmware import log\n"
        "lg = log.Log('/log.txt', cap=64)\n"
        "for i in range(10):\n    lg.write('line %d' % i)\n"
        "print(open('/log.txt').read().split()[-1], open('/log.txt.1').read().count('line'))\n",
        modules=["firmware/__init__.py", "firmware/log.py"])
    last, older = out.split()
    assert last == "9" and int(older) >= 1


def test_the_terminal_logs_its_sale_to_flash(system):
    term = system.terminal().start()
    try:
        term.wait_ready()
        term.keys("250", "ok")
        qr = term.wait_state("SHOW_QR", timeout=25)
        system.sandbox.pay(qr["code"])
        result = term.wait_result(timeout=30)
        assert result["state"] == "PAID"
        text = open(os.path.join(term.flash, "log.txt")).read()
        assert "boot firmware" in text
        assert "state SHOW_QR %s" % result["order_id"] in text
        assert "result PAID %s 250 USD" % result["order_id"] in text
    finally:
        term.stop()
