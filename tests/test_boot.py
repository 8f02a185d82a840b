"""boot.py / main.py: the safe-mode gesture (a keypad key held in the first second after reset)
skips the application; otherwise main.py starts it. GPIO0 is not the gesture: held at reset it is
the ESP32's ROM download mode, so boot.py would never run."""
import json
import runpy

import machine
import pytest

from firmware.board import boards, safemode
from tests.conftest import ROOT
from tests.shims import clock

TTGO = boards.BOARDS["ttgo-t-display"]["keypad"]


@pytest.fixture
def device(monkeypatch, tmp_path):
    config = tmp_path / "config.json"
    monkeypatch.setattr(safemode, "CONFIG_PATH", str(config))
    monkeypatch.setattr(safemode, "check", lambda path=None, _orig=safemode.check: _orig(str(config)))
    clock.manual(0)
    return config


class Key:
    """One key of the matrix, pressed by a hand: `down(ms)` says whether it is held `ms` after
    boot.py started. It joins its row to its column, so its column reads low only while the row is
    pulled low."""

    def __init__(self, row, col, down):
        self.row, self.col, self.down = row, col, down
        self.start = clock.ticks_ms()
        machine.Pin.board.source(col, self.level)

    def level(self):
        held = self.down(clock.ticks_ms() - self.start)
        return 0 if held and machine.Pin.board.driven_by_chip(self.row) == 0 else None


def d_key(rows=TTGO["rows"], cols=TTGO["cols"]):
    """Row and column pins of "D" in the 4x4 layout (row 4, column 4)."""
    return rows[3], cols[3]


def boot_and_main(capsys):
    runpy.run_path(ROOT + "/boot.py", run_name="__main__")
    runpy.run_path(ROOT + "/main.py", run_name="__main__")
    return capsys.readouterr().out


def test_without_the_key_main_starts_the_application(device, capsys):
    out = boot_and_main(capsys)
    assert "application" in out and "safe mode" not in out


def test_d_held_through_reset_enters_safe_mode(device, capsys):
    Key(*d_key(), down=lambda ms: True)
    out = boot_and_main(capsys)
    assert "safe mode" in out
    assert "not started" not in out  # the application was never built


def test_d_pressed_just_after_reset_and_held_enters_safe_mode(device, capsys):
    Key(*d_key(), down=lambda ms: ms >= 200)  # the hand arrives a moment after tapping EN
    assert "safe mode" in boot_and_main(capsys)


def test_a_key_pressed_too_late_does_not_count(device, capsys):
    Key(*d_key(), down=lambda ms: ms >= safemode.WINDOW_MS - safemode.HOLD_MS + 50)
    assert "safe mode" not in boot_and_main(capsys)


def test_a_bouncing_or_brushed_key_is_not_a_held_key(device, capsys):
    Key(*d_key(), down=lambda ms: (ms // 100) % 2 == 0)  # 100 ms on, 100 ms off
    assert "safe mode" not in boot_and_main(capsys)


def test_gpio0_at_reset_is_not_the_gesture(device, capsys):
    # GPIO0 low at reset is the ROM's download mode on a real chip; boot.py must not look at it.
    machine.Pin.board.drive(0, 0)
    out = boot_and_main(capsys)
    assert "safe mode" not in out and "application" in out


def test_the_row_is_released_after_sampling(device, capsys):
    row, col = d_key()
    Key(row, col, down=lambda ms: True)
    boot_and_main(capsys)
    assert machine.Pin.board.driven_by_chip(row) is None  # open drain, released: the keypad's idle state


def test_safe_mode_key_and_wiring_come_from_config(device, capsys):
    rows, cols = [13, 14, 27, 21], [26, 25, 33, 32]
    device.write_text(json.dumps({"keypad": {"rows": rows, "cols": cols}, "safe_mode_key": "A"}))
    Key(*d_key(rows, cols), down=lambda ms: True)  # D no longer counts
    assert "safe mode" not in boot_and_main(capsys)
    machine.Pin.board.clear()
    clock.manual(0)
    Key(rows[0], cols[3], down=lambda ms: True)  # "A": row 1, column 4
    assert "safe mode" in boot_and_main(capsys)


def test_the_board_preset_gives_the_wiring(device, capsys):
    s3 = boards.BOARDS["esp32s3-st7789"]["keypad"]
    device.write_text(json.dumps({"board": "esp32s3-st7789", "wifi": "not an object"}))
    Key(*d_key(s3["rows"], s3["cols"]), down=lambda ms: True)
    assert "safe mode" in boot_and_main(capsys)


def test_broken_config_still_allows_safe_mode(device, capsys):
    device.write_text("{not json")
    Key(*d_key(), down=lambda ms: True)
    assert "safe mode" in boot_and_main(capsys)
