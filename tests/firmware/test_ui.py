"""Every view the flow can produce is drawn by firmware/display/ui.py through the real driver into the panel
emulator without a protocol error; the QR view scans (zbar) and its countdown ticks."""
import pytest
from pyzbar import pyzbar

from firmware.display.screens import Screens
from firmware.display.ui import UI
from tests.firmware.fakes import FakeClock
from tools.sim.rig import DisplayRig

CODE = "http://127.0.0.1:8600/c/Pzh1TzviGydYd8H6DEVVxZdr"
SALE = {"order_id": "T1-ab12", "amount": 1250, "currency": "USD"}
VIEWS = [
    ("idle", {"merchant": "Demo"}), ("offline", {"why": "network: timeout"}), ("offline", {}),
    ("amount", {"amount": 0, "digits": "", "message": None}), ("amount", {"amount": 9, "message": "min"}),
    ("amount", {"amount": 500000, "message": "max"}), ("creating", dict(SALE)),
    ("checking", dict(SALE, why="x", cancelling=True)),
    ("result", dict(SALE, state="PAID")), ("result", dict(SALE, state="FAILED", reason="declined")),
    ("result", dict(SALE, state="FAILED", reason=None)), ("result", dict(SALE, state="EXPIRED")),
    ("result", dict(SALE, state="CANCELLED")),
    ("alert", {"id": 7, "order_id": "T1-9", "amount": 500, "kind": "LATE_PAYMENT",
               "message": "paid after the terminal gave up; cancelled at Antom (money returned)"}),
    ("alert", {"id": 8, "amount": 500, "kind": "LATE_PAYMENT_UNRESOLVED", "message": "operator must look"}),
    ("menu", {"refundable": None}), ("menu", {"refundable": dict(SALE, at=0)}),
    ("pin", {"entered": 3, "sale": SALE}), ("refunding", {"sale": SALE}),
    ("refund_result", {"sale": SALE, "outcome": "REFUNDED"}), ("refund_result", {"sale": SALE, "outcome": "BAD_PIN"}),
    ("refund_result", {"sale": SALE, "outcome": "UNKNOWN"}), ("error", {"message": "wifi.ssid: missing"}),
]


@pytest.fixture
def rig():
    from tests.shims import clock

    clock.manual(0)  # the panel's power-on delays pass at once
    return DisplayRig("st7789-135x240", strict=False)


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v[0])
def test_every_view_draws(rig, view):
    ui = UI(Screens(rig.lcd, merchant="Demo", currency="USD"), FakeClock(), "USD")
    before = len(rig.spi.writes)
    ui.render(view)
    assert len(rig.spi.writes) > before and rig.panel.errors == []


def test_qr_view_scans_and_counts_down(rig):
    clock = FakeClock()
    screens = Screens(rig.lcd, merchant="Demo", currency="USD")
    ui = UI(screens, clock, "USD")
    ui.render(("qr", dict(SALE, code=CODE, expires_at=clock.now() + 95, merchant="Demo")))
    img = rig.image().resize((270, 480))
    assert [r.data.decode() for r in pyzbar.decode(img)] == [CODE]
    assert screens._boxes["countdown"][6].endswith("1:35")
    clock.t += 30
    mark = len(rig.spi.writes)
    ui.tick()
    assert screens._boxes["countdown"][6].endswith("1:05")
    qr_bytes = sum(len(d) for _, d in rig.spi.writes[mark:])
    assert qr_bytes < 135 * 40 * 2  # only the countdown box was redrawn, not the QR
    ui.render(("checking", dict(SALE)))
    mark = len(rig.spi.writes)
    ui.tick()  # no countdown once the QR is gone
    assert len(rig.spi.writes) == mark
