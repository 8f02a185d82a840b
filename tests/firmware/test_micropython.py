"""The flow, gateway client, journal and screens run whole sales inside the real MicroPython."""
import pytest

from tests.firmware.mpy_sales import MODULES, run_sales

pytestmark = pytest.mark.micropython


def test_flow_device_tests_pass_inside_micropython(micropython):
    passed = micropython.run_tests("tests/device/test_flow_device.py", modules=MODULES)
    assert "test_one_paid_sale" in passed and "test_forged_answers_never_pay" in passed
    assert len(passed) == 6


def test_no_heap_growth_over_sales():
    r = run_sales(25)
    assert set(r["states"]) == {"PAID"}
    retained = r["retained"]
    # Warm-up: modules loaded, the journal's list of recent payments fills (2 entries). After
    # that the heap in use after a collection is the same after every sale.
    assert max(retained[5:]) - min(retained[5:]) < 256, retained
    assert r["allocated"][-1] < 200_000


def test_the_heap_at_idle_is_the_same_whichever_way_the_last_sale_ended():
    """Paid, declined and cancelled sales in turn: after the warm-up the heap at idle is the same to the
    byte after either (the panel driver's cached buffer views, which depend on what was drawn
    last, are forgotten at idle)."""
    # A minute turns between any two sales: the clock's new digits are drawn by code point, not as
    # one-character strs (which MicroPython interns for good: ~100 B more at idle per new
    # character, and once an 8 KB chunk of the qstr pool, seen under load in CI).
    r = run_sales(18, sale="_next_sale()", setup=(
        "import time\n"
        "_t0 = [time.time()]\n"
        "T.clock._source = lambda: _t0[0]\n"
        "_n = [0]\n"
        "def _next_sale():\n"
        "    _n[0] += 1\n"
        "    _t0[0] += 61\n"
        "    T.net.outcome = ('PAID', 'FAILED', None)[_n[0] % 3]\n"
        "    return T.sale(cancel=T.net.outcome is None)\n"))
    assert r["states"][3:6] == ["FAILED", "CANCELLED", "PAID"], r["states"]
    retained = r["retained"][5:]
    assert max(retained) == min(retained), r["retained"]


def test_a_first_chinese_sentence_leaves_the_heap_where_english_left_it():
    """Bigger glyphs drawn for the first time (Chinese after English) leave the heap, once
    collected, where it was: lib/textdraw.py keeps no buffer grown to the largest glyph band drawn
    so far (which text was drawn first, in which language, must not decide the heap at idle)."""
    setup = ("import textdraw\nfrom fonts import medium\nfrom firmware.display.texts import Texts\n"
             "_zh = Texts('en', ('zh-Hans',)).customer('paid.note')[0]\n"
             "_texts = iter(['Paid', 'Paid', _zh, _zh, 'Paid', 'Paid'])\n")
    r = run_sales(6, sale="textdraw.box(T.screens.lcd, 0, 0, 60, 120, next(_texts), medium, 0, 0xFFFF)",
                  setup=setup)
    assert r["retained"][1] == r["retained"][5], r["retained"]


def test_app_and_loop_run_a_sale_in_micropython():
    """firmware/app.py and firmware/loop.py (every asyncio task) run a sale on the port's own loop."""
    import json
    import os
    import subprocess

    from tests.mpy import ROOT, collect_files

    with open(os.path.join(ROOT, "tests", "device", "test_flow_device.py")) as f:
        harness = f.read()
    req = {"files": collect_files(MODULES), "timeout_ms": 20000,
           "setup": harness + "\nRESULTS = []\nAPP, SPI = start_app(RESULTS)\n",
           "done": "RESULTS",
           "report": "print('RESULT', RESULTS[0]['state'], RESULTS[0]['amount'], SPI.bytes > 0, "
                     "sorted(APP.alive), APP.watchdog_ok)"}
    out = subprocess.run(["node", os.path.join(ROOT, "tests", "firmware", "mpy_async.mjs")], cwd=ROOT,
                         input=json.dumps(req), capture_output=True, text=True, timeout=60)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["done"], answer["output"]
    assert "RESULT PAID 25 True ['flow', 'keypad', 'network', 'screen'] True" in answer["output"], answer["output"]


def test_importing_the_app_leaves_the_config_checker_to_the_boot_check(micropython):
    """main.py imports firmware/app.py (the loop, its guard, the flow) before setup checks the
    config: none of the checker (config.py, the wiring rules, the board presets) may come with it,
    or it shares the heap with everything the app imports and the boot's peak is their sum."""
    out = micropython.run("import sys\nimport firmware.app\nprint('LOADED', [m for m in ('firmware.config', "
                          "'firmware.board.wiring', 'firmware.board.boards') if m in sys.modules])\n",
                          modules=MODULES)
    assert "LOADED []" in out, out
