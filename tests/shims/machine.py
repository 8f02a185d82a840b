"""CPython stand-in for MicroPython's `machine` module (tests and simulator only).

What it copies from the ESP32 port, and what it adds so tests can see and drive the hardware:
- `Pin`: one shared state per pin number (two `Pin(5)` objects are the same wire, as on the chip).
  An output reads back what was written. An OPEN_DRAIN pin drives only low: written 1 it is
  released and reads like an input. An input reads, in order: a level a test drove with
  `Pin.board.drive(id, level)`, a source function (`Pin.board.source(id, fn)`, e.g. a keypad matrix
  that looks at the row pins), else its pull (PULL_UP → 1, PULL_DOWN → 0, none → 0).
  `Pin.board.joined(pin_ids, where)` is the level of a wire that joins several pins (keys held in
  one column join their rows): low if one drives low, high if one drives high, None if none
  drives it; one driving high while another drives low is a short, recorded in
  `Pin.board.shorts` as on the chip it would burn current through the keys.
- `SPI`: `write`, `write_readinto`, `read`, `readinto`; each write is recorded as
  `(dc_level, bytes)` in `spi.writes` (dc_level is the level of the pin given to `spi.watch_dc()`,
  which the test or simulator sets, or None) and passed to every function in `spi.listeners`
  (the panel emulator). CS is honoured like the bus would: a write while the pin given to
  `spi.watch_cs()` is high reaches no listener.
- `WDT(timeout=ms)`: minimum 1 ms here as on MicroPython's API (the ESP32 rounds up to 1 s);
  `feed()`; it cannot be stopped. `wdt.overdue()` tells whether the shim clock passed the timeout
  since the last feed, which is when the chip would reset.
- `UART`: `write()` recorded in `uart.tx`; tests push received bytes with `uart.inject(b"...")`;
  `any()`, `read()`, `readline()`, `readinto()` as on the device (None when nothing is there).
- `reset()` / `soft_reset()` raise `DeviceReset` (a SystemExit), so a simulator can restart.
- `unique_id()` returns 6 bytes (the ESP32's base MAC); tests may set `machine.UNIQUE_ID`.
"""
import time as _time

from tests.shims.clock import clock as _clock
from tests.shims.clock import ticks_diff as _ticks_diff

UNIQUE_ID = b"\x24\x0a\xc4\x12\x34\x56"

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_reset_cause = PWRON_RESET
_freq = 160_000_000


class DeviceReset(SystemExit):
    """Raised by machine.reset(): the device would reboot here."""

    def __init__(self, soft=False):
        super().__init__("soft reset" if soft else "hard reset")
        self.soft = soft


def reset():
    raise DeviceReset(soft=False)


def soft_reset():
    raise DeviceReset(soft=True)


def reset_cause():
    return _reset_cause


def unique_id():
    return UNIQUE_ID


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    _freq = hz


def idle():
    return None


def disable_irq():
    return 0


def enable_irq(state=0):
    return None


class _Board:
    """The wires behind every Pin: levels written, levels driven from outside, sources."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.output = {}  # pin id -> level the chip drives
        self.driven = {}  # pin id -> level an outside circuit forces
        self.sources = {}  # pin id -> fn() -> level (or None for "not driven")
        self.modes = {}
        self.pulls = {}
        self.handlers = {}
        self.shorts = []  # (where, pins driven high, pins driven low)

    def driven_by_chip(self, pin_id):
        """The level the chip itself forces on the pin: 0/1, or None (input, or open drain released)."""
        mode = self.modes.get(pin_id)
        out = self.output.get(pin_id)
        if out is None:
            return None
        if mode == Pin.OUT:
            return out
        if mode == Pin.OPEN_DRAIN and out == 0:
            return 0
        return None

    def joined(self, pin_ids, where=""):
        """Level of one wire joining these pins (see the module docstring); records a short."""
        levels = [(p, self.driven_by_chip(p)) for p in pin_ids]
        high = [p for p, v in levels if v == 1]
        low = [p for p, v in levels if v == 0]
        if high and low:
            self.shorts.append((where, tuple(high), tuple(low)))
        if low:
            return 0
        if high:
            return 1
        return None

    def drive(self, pin_id, level):
        """Drive an input from outside (None releases it). Fires IRQ handlers on edges."""
        before = self.level(pin_id)
        if level is None:
            self.driven.pop(pin_id, None)
        else:
            self.driven[pin_id] = 1 if level else 0
        self._edge(pin_id, before)

    def source(self, pin_id, fn):
        self.sources[pin_id] = fn

    def level(self, pin_id):
        own = self.driven_by_chip(pin_id)
        if own is not None:
            return own
        if pin_id in self.driven:
            return self.driven[pin_id]
        fn = self.sources.get(pin_id)
        if fn is not None:
            value = fn()
            if value is not None:
                return 1 if value else 0
        return 1 if self.pulls.get(pin_id) == Pin.PULL_UP else 0

    def _edge(self, pin_id, before):
        after = self.level(pin_id)
        handler = self.handlers.get(pin_id)
        if handler is None or before == after:
            return
        fn, trigger, pin = handler
        if (after and trigger & Pin.IRQ_RISING) or (not after and trigger & Pin.IRQ_FALLING):
            fn(pin)


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    board = _Board()

    def __init__(self, id, mode=-1, pull=-1, value=None, **kwargs):
        self.id = id
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None, **kwargs):
        if mode != -1:
            self.board.modes[self.id] = mode
        if pull != -1:
            self.board.pulls[self.id] = pull
        if value is not None:
            self.board.output[self.id] = 1 if value else 0

    def value(self, level=None):
        if level is None:
            return self.board.level(self.id)
        before = self.board.level(self.id)
        self.board.output[self.id] = 1 if level else 0
        self.board._edge(self.id, before)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, **kwargs):
        if handler is None:
            self.board.handlers.pop(self.id, None)
        else:
            self.board.handlers[self.id] = (handler, trigger, self)

    def __repr__(self):
        return "Pin(%r)" % (self.id,)


class SPI:
    MSB = 0
    LSB = 1

    def __init__(self, id=1, baudrate=1_000_000, polarity=0, phase=0, bits=8, firstbit=0,
                 sck=None, mosi=None, miso=None, **kwargs):
        self.id = id
        self.writes = []
        self.listeners = []
        self._dc = None
        self._cs = None
        self.init(baudrate=baudrate, polarity=polarity, phase=phase)

    def init(self, baudrate=1_000_000, polarity=0, phase=0, **kwargs):
        self.baudrate = baudrate
        self.polarity = polarity
        self.phase = phase

    def deinit(self):
        return None

    def watch_dc(self, pin):
        """Record the level of this pin (a Pin or a pin id) with every write."""
        self._dc = pin.id if isinstance(pin, Pin) else pin

    def watch_cs(self, pin):
        self._cs = pin.id if isinstance(pin, Pin) else pin

    def write(self, buf):
        data = bytes(buf)
        if self._cs is not None and Pin.board.level(self._cs):
            return None  # chip not selected: the bytes go nowhere
        dc = None if self._dc is None else Pin.board.level(self._dc)
        self.writes.append((dc, data))
        for listener in self.listeners:
            listener(dc, data)
        return None

    def write_readinto(self, write_buf, read_buf):
        self.write(write_buf)
        for i in range(len(read_buf)):
            read_buf[i] = 0

    def read(self, nbytes, write=0x00):
        self.write(bytes([write]) * nbytes)
        return bytes(nbytes)

    def readinto(self, buf, write=0x00):
        self.write(bytes([write]) * len(buf))
        for i in range(len(buf)):
            buf[i] = 0

    def bytes_written(self):
        return sum(len(data) for _, data in self.writes)


class SoftSPI(SPI):
    pass


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError("timeout must be at least 1 ms")
        self.timeout = timeout
        self.feeds = 0
        self._last = _clock.ticks_ms()

    def feed(self):
        self.feeds += 1
        self._last = _clock.ticks_ms()

    def overdue(self):
        return _ticks_diff(_clock.ticks_ms(), self._last) > self.timeout


class UART:
    def __init__(self, id, baudrate=115200, **kwargs):
        self.id = id
        self.baudrate = baudrate
        self.tx = bytearray()
        self._rx = bytearray()

    def init(self, baudrate=115200, **kwargs):
        self.baudrate = baudrate

    def deinit(self):
        return None

    def inject(self, data):
        self._rx.extend(data)

    def any(self):
        return len(self._rx)

    def write(self, buf):
        self.tx.extend(buf)
        return len(buf)

    def read(self, nbytes=None):
        if not self._rx:
            return None
        n = len(self._rx) if nbytes is None else min(nbytes, len(self._rx))
        data = bytes(self._rx[:n])
        del self._rx[:n]
        return data

    def readinto(self, buf, nbytes=None):
        data = self.read(len(buf) if nbytes is None else nbytes)
        if data is None:
            return None
        buf[: len(data)] = data
        return len(data)

    def readline(self):
        if not self._rx:
            return None
        end = self._rx.find(b"\n")
        return self.read(len(self._rx) if end < 0 else end + 1)


class RTC:
    def __init__(self, id=0):
        self._offset = 0

    def datetime(self, dt=None):
        if dt is None:
            t = _time.gmtime(_time.time() + self._offset)
            return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec, 0)
        year, month, day, _wd, hour, minute, second, _sub = dt
        target = _time.mktime((year, month, day, hour, minute, second, 0, 0, 0)) - _time.timezone
        self._offset = target - _time.time()
