"""Safe mode: a key held at power-on skips the application so a technician reaches the REPL.

boot.py calls `check()`; main.py asks `active()`. The key is a GPIO wired to ground when pressed
(GPIO0 by default: the BOOT button on ESP32 DevKits and the TTGO T-Display), or the pin named by
`"safe_mode_pin"` in /config.json. A missing or broken config never blocks safe mode: it falls back
to the default pin. The key must be held for the whole sampling window (about 100 ms) so a bouncing
contact or noise does not trigger it.
"""
import json

DEFAULT_PIN = 0
CONFIG_PATH = "/config.json"
_SAMPLES = 10
_SAMPLE_MS = 10

_active = False


def configured_pin(path=CONFIG_PATH):
    try:
        with open(path) as f:
            pin = json.load(f).get("safe_mode_pin", DEFAULT_PIN)
        if isinstance(pin, int) and 0 <= pin <= 39:
            return pin
    except Exception:  # no config, unreadable, not JSON, not an object: keep the default
        pass
    return DEFAULT_PIN


def key_held(pin_number):
    import machine
    import time

    pin = machine.Pin(pin_number, machine.Pin.IN, machine.Pin.PULL_UP)
    for _ in range(_SAMPLES):
        if pin.value():  # released (pulled up): not held
            return False
        time.sleep_ms(_SAMPLE_MS)
    return True


def check(path=CONFIG_PATH):
    """Sample the safe-mode key once, at boot. Returns and remembers whether it was held."""
    global _active
    try:
        _active = key_held(configured_pin(path))
    except Exception:  # no usable pin hardware: never block the application for that
        _active = False
    return _active


def active():
    return _active
