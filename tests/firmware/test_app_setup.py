"""A config that validates but names hardware the board does not have (a GPIO the chip lacks, a
panel the driver does not know) ends on the error screen like any broken config: run() returns,
no exception (no stack trace for the cashier), no watchdog started (no crash loop)."""
import json

import pytest

from firmware import app as fw_app
from firmware.link.worker import InlineRunner
from tests.firmware.fakes import SECRET
from tests.shims import machine as shim_machine
from tools.sim.rig import DisplayRig

CONFIG = {"wifi": {"ssid": "shop", "password": "pw"}, "gateway": {"url": "http://127.0.0.1:9"},
          "terminal": {"id": "T1", "secret": SECRET}, "merchant": {"name": "Shop"}, "currency": "USD",
          "chip": "esp32s3", "keypad": {"rows": [4, 5, 6, 47], "cols": [15, 16, 17, 18]}}


class BoardWithoutPin47:
    """The config says ESP32-S3, where GPIO 47 exists, but the board is an ESP32, which has none:
    Pin(47) raises, as on the device (config validation cannot know which chip it runs on)."""

    def __init__(self):
        self.wdt = None

    def Pin(self, n, *args, **kw):
        if n == 47:
            raise ValueError("invalid pin")
        return shim_machine.Pin(n, *args, **kw)

    def WDT(self, timeout):
        self.wdt = timeout
        return shim_machine.WDT(timeout=timeout)


BoardWithoutPin47.Pin.OUT = shim_machine.Pin.OUT
BoardWithoutPin47.Pin.OPEN_DRAIN = shim_machine.Pin.OPEN_DRAIN
BoardWithoutPin47.Pin.IN = shim_machine.Pin.IN
BoardWithoutPin47.Pin.PULL_UP = shim_machine.Pin.PULL_UP


@pytest.fixture
def rig():
    from tests.shims import clock

    clock.manual(0)
    return DisplayRig("st7789-135x240", strict=False)


def test_hardware_the_board_lacks_is_an_error_screen_not_a_crash(tmp_path, rig):
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    board = BoardWithoutPin47()
    shown = []
    application = fw_app.Application(root=str(tmp_path), machine=board, lcd=rig.lcd, runner=InlineRunner(),
                                      network=False, transport=object())
    application.on_config_error = shown.append
    mark = rig.mark()
    assert application.run() is False
    assert shown and "invalid pin" in "; ".join(shown[0])
    assert rig.traffic(mark), "the error screen was drawn"
    assert board.wdt is None
