"""Keypad matrix scanning with debounce, on the machine shim's pins (the simulator's matrix)."""
import pytest

import machine
from firmware.config import DEFAULT_KEYS, DEFAULT_LAYOUT
from firmware.board.keypad import Keypad
from tests.shims import clock
from tools.sim.keymatrix import KeyMatrix

ROWS = [13, 12, 14, 27]
COLS = [26, 25, 33, 32]


@pytest.fixture
def pad():
    clock.manual(0)
    return Keypad(machine.Pin, ROWS, COLS, DEFAULT_LAYOUT, DEFAULT_KEYS, debounce_ms=30)


class Switch:
    """One key held by hand: joins its row to its column while pressed (bouncy if asked)."""

    def __init__(self, row, col):
        self.row, self.col = row, col
        self.down = False
        machine.Pin.board.source(COLS[col], self.level)

    def level(self):
        if self.down and machine.Pin.board.level(ROWS[self.row]) == 0:
            return 0
        return None


def run(pad, ms, every=10):
    got = []
    for _ in range(ms // every):
        a = pad.poll()
        if a is not None:
            got.append(a)
        clock.advance_ms(every)
    return got


def test_one_press_one_event(pad):
    sw = Switch(0, 1)  # "2"
    assert run(pad, 100) == []
    sw.down = True
    assert run(pad, 300) == ["2"]  # held: no repeats
    sw.down = False
    assert run(pad, 100) == []
    sw.down = True
    assert run(pad, 100) == ["2"]


def test_bounce_shorter_than_debounce_is_ignored(pad):
    sw = Switch(3, 2)  # "#" = ok
    for _ in range(5):  # 10 ms on / 10 ms off chatter
        sw.down = True
        assert run(pad, 10) == []
        sw.down = False
        assert run(pad, 10) == []
    sw.down = True
    assert run(pad, 60) == ["ok"]


def test_layout_labels_map_to_actions(pad):
    assert pad.action("A") == "menu" and pad.action("*") == "cancel" and pad.action("7") == "7"
    custom = Keypad(machine.Pin, [1], [2, 3], ["1D"], {"D": "none"})
    assert custom.action("D") is None


def test_matrix_emulator_types_in_order(pad):
    m = KeyMatrix(ROWS, COLS, DEFAULT_LAYOUT, DEFAULT_KEYS)
    for a in ["1", "2", "5", "0", "ok", "cancel", "menu", "back", "clear"]:
        m.press(a)
    got = run(pad, 2000)
    assert got == ["1", "2", "5", "0", "ok", "cancel", "menu", "back", "clear"]
    assert m.idle()
