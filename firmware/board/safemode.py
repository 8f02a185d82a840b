"""Safe mode: a keypad key held in the first second after reset skips the application, so a
technician reaches the REPL (and no watchdog is started).

boot.py calls `check()`; main.py asks `active()`. The gesture: hold the safe-mode key (`D` on the
4x4 keypad, or the label in "safe_mode_key") while pressing reset, and keep holding it for a
second. It is a key of the keypad rather than GPIO0 because GPIO0 held at reset is the ESP32's ROM
download mode: the chip would wait for esptool and never run boot.py.

The key counts once it reads pressed for HOLD_MS without a break within the first WINDOW_MS after
boot.py starts (a bouncing contact or a brushed key does not), so a normal boot waits only until a
press can no longer fit the window. Its row is driven low through open drain and its column read
through the pull-up, as firmware/board/keypad.py scans. The wiring comes from /config.json's keypad
section, else its board preset, else boards.DEFAULT_BOARD: a missing or broken config never
blocks safe mode.
"""
import json

DEFAULT_KEY = "D"
DEFAULT_LAYOUT = ("123A", "456B", "789C", "*0#D")
CONFIG_PATH = "/config.json"
WINDOW_MS = 1000
HOLD_MS = 500
_SAMPLE_MS = 10

_active = False


def _read(path):
    try:
        with open(path) as f:
            raw = json.load(f)
        return raw if isinstance(raw, dict) else {}
    except Exception:  # no config, unreadable, not JSON: the defaults
        return {}


def _pins(value):
    if isinstance(value, list) and value and not [p for p in value if not isinstance(p, int) or p < 0]:
        return value
    return None


def key_wiring(path=CONFIG_PATH):
    """(row GPIO, column GPIO) of the safe-mode key, from whatever part of the config is usable."""
    from firmware.board import boards

    raw = _read(path)
    preset = boards.BOARDS.get(raw.get("board")) if isinstance(raw.get("board"), str) else None
    preset = preset or boards.BOARDS[boards.DEFAULT_BOARD]
    keypad = raw.get("keypad") if isinstance(raw.get("keypad"), dict) else {}
    rows = _pins(keypad.get("rows")) or preset["keypad"]["rows"]
    cols = _pins(keypad.get("cols")) or preset["keypad"]["cols"]
    layout = keypad.get("layout", DEFAULT_LAYOUT)
    key = raw.get("safe_mode_key", DEFAULT_KEY)
    found = _find(layout, key, rows, cols) or _find(DEFAULT_LAYOUT, DEFAULT_KEY, rows, cols)
    if found is None:  # the keypad is smaller than 4x4: its last key
        found = (len(rows) - 1, len(cols) - 1)
    return rows[found[0]], cols[found[1]]


def _find(layout, key, rows, cols):
    if not isinstance(layout, (list, tuple)) or not isinstance(key, str) or len(key) != 1:
        return None
    for i in range(min(len(layout), len(rows))):
        line = layout[i]
        j = line.find(key) if isinstance(line, str) else -1
        if 0 <= j < len(cols):
            return i, j
    return None


def key_held(row_pin, col_pin):
    """Sample the key for up to WINDOW_MS; True once it stayed pressed for HOLD_MS."""
    import machine
    import time

    Pin = machine.Pin
    row = Pin(row_pin, Pin.OPEN_DRAIN, value=0)
    col = Pin(col_pin, Pin.IN, Pin.PULL_UP)
    start = time.ticks_ms()
    since = None
    try:
        while True:
            now = time.ticks_ms()
            elapsed = time.ticks_diff(now, start)
            if not col.value():  # pressed: the row pulls the column low
                if since is None:
                    since = now
                if time.ticks_diff(now, since) >= HOLD_MS:
                    return True
            else:
                since = None
                if elapsed >= WINDOW_MS - HOLD_MS:  # a press starting now would end past the window
                    return False
            if elapsed >= WINDOW_MS:
                return False
            time.sleep_ms(_SAMPLE_MS)
    finally:
        row.value(1)  # released (open drain: floating), as the keypad scan leaves an idle row


def check(path=CONFIG_PATH):
    """Sample the safe-mode key once, at boot. Returns and remembers whether it was held."""
    global _active
    try:
        _active = key_held(*key_wiring(path))
    except Exception:  # no usable pin hardware: never block the application for that
        _active = False
    return _active


def active():
    return _active
