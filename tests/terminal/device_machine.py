# A stand-in for MicroPython's `machine` module that runs INSIDE the virtual terminal (copied to its
# /lib/machine.py by tests/terminal/test_status_selftest.py), so `selftest` can exercise its display
# and keypad checks in real MicroPython. Pins keep levels; SPI counts the bytes the panel driver
# sends; a scripted "finger" (/keys.json: rows, cols, layout, order, every_ms, hold_ms, dead) presses
# the keypad's keys one after another by pulling a column low while its row is driven low.
import json
import time

_levels = {}
_pulls = {}
_t0 = None  # the finger starts when the keypad is first read, as a technician starts when asked
try:
    with open("/keys.json") as _f:
        _script = json.load(_f)
except OSError:
    _script = None
spi_bytes = 0


def _held():
    if _t0 is None:
        return None
    elapsed = time.ticks_diff(time.ticks_ms(), _t0)
    slot = elapsed // _script["every_ms"]
    order = _script["order"]
    if slot < len(order) and elapsed % _script["every_ms"] < _script["hold_ms"]:
        label = order[slot]
        if label not in _script.get("dead", ""):
            return label
    return None


def _read(pin_id):
    global _t0
    if _script and _t0 is None and pin_id == _script["cols"][0] and _levels.get(_script["rows"][0]) == 0:
        # The keypad scan has reached its first key: the technician starts pressing. (boot.py's
        # safe-mode sampling reads only the D key's row and column, at the other corner.)
        _t0 = time.ticks_ms()
    label = _held()
    if label is not None:
        layout = _script["layout"]
        for r in range(len(layout)):
            c = layout[r].find(label)
            if c >= 0 and pin_id == _script["cols"][c] and _levels.get(_script["rows"][r], 1) == 0:
                return 0
    if pin_id in _levels:
        return _levels[pin_id]
    return _pulls.get(pin_id, 0)


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7  # the keypad's rows (firmware/board/keypad.py): 0 pulls low, 1 releases
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, pin_id, mode=-1, pull=-1, value=None):
        self.id = pin_id
        if pull == Pin.PULL_UP:
            _pulls[pin_id] = 1
        if value is not None:
            _levels[pin_id] = value

    def value(self, v=None):
        if v is None:
            return _read(self.id)
        _levels[self.id] = 1 if v else 0

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class SPI:
    def __init__(self, spi_id, baudrate=1000000, sck=None, mosi=None, miso=None, **kw):
        self.id = spi_id

    def write(self, buf):
        global spi_bytes
        spi_bytes += len(buf)
