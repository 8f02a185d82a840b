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
    # Warm-up: modules loaded, the journal's list of recent payments fills (5 entries). After
    # that the heap in use after a collection is the same after every sale.
    assert max(retained[5:]) - min(retained[5:]) < 256, retained
    assert r["allocated"][-1] < 200_000
