"""The wiring in /config.json checked against the chip: which GPIO may do what.

firmware/config.py calls `validate(checker, raw, cfg)`; every problem is reported in words a
technician can act on, all at once. The facts live in firmware/board/boards.py (CHIPS); the rules:
- a pin must exist on the chip; the SPI flash pins are never usable, nor the PSRAM's on a module
  that has it; the console pins (UART0, and the S3's USB) only when listed in "allow_pins";
- input-only pins (ESP32 34-39) cannot drive an output and have no pull-up, so they serve neither
  the display, a keypad row nor a keypad column (which needs the pull-up);
- keypad rows stay off strapping pins: a key held at power-on joins a row to a column, and a
  strapping pin pulled then changes how the chip boots (GPIO12 high: 1.8 V flash);
- one pin, one job;
- the display bus: `miso` unset, and a clock within what the route to its pins allows.
Unset wiring comes from the named preset ("board"), else from boards.DEFAULT_BOARD.
"""
from firmware.board import boards as B

_DISPLAY_PINS = ("sck", "mosi", "dc", "cs", "rst", "backlight")
_REQUIRED_DISPLAY_PINS = ("sck", "mosi", "dc")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _span(pins):
    """(6, 7, 8, 9, 10, 11) -> "6-11"; (1, 3) -> "1, 3"."""
    pins = sorted(pins)
    if len(pins) > 2 and pins[-1] - pins[0] == len(pins) - 1:
        return "%d-%d" % (pins[0], pins[-1])
    return ", ".join(str(p) for p in pins)


class Pins:
    """Checks each use of a pin and remembers who uses which."""

    def __init__(self, bad, chip, psram, allowed):
        self.bad = bad
        self.chip = chip
        self.facts = B.CHIPS[chip]
        self.reserved = self.facts["psram"].get(psram, ())
        self.allowed = allowed
        self.users = {}

    def use(self, field, pin, role):
        """role: "out" (drives a level), "row" (keypad row), "pullup" (input with the pull-up).
        Returns the pin, or None after reporting why it cannot be used."""
        f = self.facts
        name = f["title"]
        if not _is_int(pin) or pin not in f["gpio"]:
            self.bad(field, "%s is not a GPIO of the %s" % (pin, name))
            return None
        why = None
        if pin in f["flash"]:
            why = "GPIO %d is the %s's SPI flash (%s): using it stops the chip" % (pin, name, _span(f["flash"]))
        elif pin in self.reserved:
            why = "GPIO %d carries the PSRAM on this module (%s)" % (pin, _span(self.reserved))
        elif pin in f["console"] and pin not in self.allowed:
            why = ("GPIO %d is the console (%s: the REPL and flashing): add it to \"allow_pins\" to use it "
                   "anyway" % (pin, _span(f["console"])))
        elif pin in f["input_only"]:
            why = ("GPIO %d is input-only on the %s (%s): it has no pull-up and cannot drive a line"
                   % (pin, name, _span(f["input_only"])))
        elif role == "row" and pin in f["strapping"]:
            why = ("GPIO %d is a strapping pin (%s) read at reset: a key held at power-on would change how "
                   "the chip boots; wire keypad rows to other pins" % (pin, _span(f["strapping"])))
        if why is not None:
            self.bad(field, why)
            return None
        other = self.users.get(pin)
        if other is not None:
            self.bad(field, "GPIO %d is already %s" % (pin, other))
            return None
        self.users[pin] = field
        return pin


def validate(c, raw, cfg):
    """Board, chip, display, keypad wiring, buzzer and LED: sets them on cfg (None when wrong)."""
    name = raw.get("board")
    preset = None
    if name is not None:
        preset = B.BOARDS.get(name) if isinstance(name, str) else None
        if preset is None:
            c.bad("board", "unknown preset %r: one of %s" % (name, ", ".join(sorted(B.BOARDS))))
    cfg.board = name if preset is not None else None
    base = preset or B.BOARDS[B.DEFAULT_BOARD]

    chip = raw.get("chip", base["chip"])
    if chip not in B.CHIPS:
        c.bad("chip", "must be one of %s" % ", ".join(sorted(B.CHIPS)))
        chip = base["chip"]
    cfg.chip = chip
    if preset is None and base["chip"] != chip:  # unset wiring from a preset for that chip
        for n in sorted(B.BOARDS):
            if B.BOARDS[n]["chip"] == chip:
                base = B.BOARDS[n]
                break
    psram = raw.get("psram", base["psram"] if base["chip"] == chip else "none")
    if psram not in B.CHIPS[chip]["psram"]:
        c.bad("psram", "must be one of %s for the %s" % (", ".join(sorted(B.CHIPS[chip]["psram"])),
                                                        B.CHIPS[chip]["title"]))
        psram = "none"
    cfg.psram = psram
    allowed = raw.get("allow_pins", [])
    console = B.CHIPS[chip]["console"]
    if not isinstance(allowed, list) or [p for p in allowed if p not in console]:
        c.bad("allow_pins", "may list only the console pins of the %s (%s)" % (B.CHIPS[chip]["title"],
                                                                              _span(console)))
        allowed = []
    pins = Pins(c.bad, chip, psram, allowed)

    cfg.display = _display(c, raw, base, pins, chip)

    keypad = raw.get("keypad")
    keypad = keypad if isinstance(keypad, dict) else {}  # config.py reports a keypad that is not an object
    cfg.keypad_rows = _pin_list(c, pins, keypad, "rows", base["keypad"]["rows"], "row")
    cfg.keypad_cols = _pin_list(c, pins, keypad, "cols", base["keypad"]["cols"], "pullup")
    cfg.buzzer_pin = _one(c, pins, raw, "buzzer_pin")
    cfg.led_pin = _one(c, pins, raw, "led_pin")


def _one(c, pins, raw, key):
    value = raw.get(key)
    return None if value is None else pins.use(key, value, "out")


def _pin_list(c, pins, keypad, key, default, role):
    value = keypad.get(key, default)
    field = "keypad." + key
    if not isinstance(value, list) or not 1 <= len(value) <= 8:
        c.bad(field, "must be a list of 1 to 8 GPIO numbers")
        return None
    ok = True
    for i in range(len(value)):
        if pins.use("%s[%d]" % (field, i), value[i], role) is None:
            ok = False
    return list(value) if ok else None


def _display(c, raw, base, pins, chip):
    given = raw.get("display")
    if given is None:
        given = {}
    if not isinstance(given, dict):
        c.bad("display", "must be an object")
        return None
    d = dict(base["display"])
    d.update(given)
    good = True
    if not isinstance(d.get("panel"), str):
        c.bad("display.panel", "must be a panel name such as st7789-240x320")
        good = False
    if d.get("spi") not in (1, 2):
        c.bad("display.spi", "must be 1 or 2 (the SPI bus)")
        good = False
    if d.get("rotation", 0) not in (0, 1, 2, 3):
        c.bad("display.rotation", "must be 0, 1, 2 or 3")
        good = False
    if d.get("miso") is not None:
        c.bad("display.miso", "must be unset: the panel is only written (a MISO pin would also cap the "
                              "clock at 26.7 MHz off the native pins)")
        good = False
    for key in _DISPLAY_PINS:
        if d.get(key) is None:
            if key in _REQUIRED_DISPLAY_PINS:
                c.bad("display." + key, "missing")
                good = False
        elif pins.use("display." + key, d[key], "out") is None:
            good = False
    hz = d.get("baudrate")
    if not _is_int(hz) or not 100000 <= hz <= B.SPI_APB_HZ:
        c.bad("display.baudrate", "must be a clock in Hz from 100000 to %d" % B.SPI_APB_HZ)
        return None
    if good:
        route = B.spi_route(chip, d["spi"], d["sck"], d["mosi"])
        actual = B.spi_actual_hz(hz)
        if actual > B.SPI_MAX_HZ[route]:
            native = B.CHIPS[chip]["spi_native"].get(d["spi"])
            where = ("SPI %d's native pins are SCK %d, MOSI %d" % (d["spi"], native[0], native[1]) if native
                     else "SPI %d has no native pins on the %s" % (d["spi"], B.CHIPS[chip]["title"]))
            c.bad("display.baudrate", "%d Hz runs at %s MHz, over the %s MHz the GPIO matrix allows (%s): use "
                                      "at most 30000000 (runs at 26.7 MHz) or the native pins" % (
                                          hz, _mhz(actual), _mhz(B.SPI_MAX_HZ[route]), where))
            good = False
    return d if good else None


def _mhz(hz):
    hz += 50000  # rounded to 0.1 MHz: 26666667 -> "26.7"
    return "%d.%d" % (hz // 1000000, (hz % 1000000) // 100000)
