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
        if self.down and machine.Pin.board.driven_by_chip(ROWS[self.row]) == 0:
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


class PushPullKeypad(Keypad):
    """The old wiring, for contrast: rows driven push-pull (idle rows held high)."""

    def __init__(self, *args, **kw):
        Keypad.__init__(self, *args, **kw)
        self.rows = [machine.Pin(r, machine.Pin.OUT, value=1) for r in ROWS]


def test_rows_are_open_drain_released_when_idle(pad):
    for r in ROWS:
        assert machine.Pin.board.modes[r] == machine.Pin.OPEN_DRAIN
        assert machine.Pin.board.driven_by_chip(r) is None  # released between scans
    pad.scan()
    assert [machine.Pin.board.driven_by_chip(r) for r in ROWS] == [None] * len(ROWS)


def test_two_keys_in_one_column_never_short_the_rows(pad):
    m = KeyMatrix(ROWS, COLS, DEFAULT_LAYOUT, DEFAULT_KEYS)
    m.hold("2", "5")  # same column: each row joined to the other through the keys
    for _ in range(20):
        pad.scan()
        clock.advance_ms(10)
    assert machine.Pin.board.shorts == []
    assert pad.scan() == "2"  # the first key found, as before


def test_the_matrix_model_catches_push_pull_rows():
    # The model must be able to fail: push-pull rows with two keys in one column short a high row
    # to the low one being scanned.
    clock.manual(0)
    pad = PushPullKeypad(machine.Pin, ROWS, COLS, DEFAULT_LAYOUT, DEFAULT_KEYS)
    m = KeyMatrix(ROWS, COLS, DEFAULT_LAYOUT, DEFAULT_KEYS)
    m.hold("2", "5")
    pad.scan()
    assert machine.Pin.board.shorts
    where, high, low = machine.Pin.board.shorts[0]
    assert where == "keypad column %d" % COLS[1] and set(high + low) == {ROWS[0], ROWS[1]}

