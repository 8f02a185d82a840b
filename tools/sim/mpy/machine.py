"""Stand-in for the ESP32's `machine` module inside the MicroPython unix port (the simulator's
MicroPython engine; never on a device, where the real module is built in).

It shadows the unix port's own small `machine` (this folder comes first on the path) and copies
the ESP32 port's behaviour the firmware relies on, wired to the simulator's host (simlink):
- `Pin`: one shared state per pin number. An output reads back what was written; OPEN_DRAIN
  written 1 lets the line go (it then reads its pull). Level changes of the pins the host taps
  (the display's DC/CS/RST/backlight) are streamed to the host. An input reads the keypad matrix
  (simkeys) when it is one of its columns, else its pull.
- `SPI` / `SoftSPI`: every write is streamed to the host's panel emulator; reads return zeros.
- `WDT(timeout=ms)`: cannot be stopped; a watcher thread resets the device when it is not fed in
  time, as the chip's watchdog would (the host then boots the process again from the same flash).
- `RTC`: `datetime()` reads and sets a clock that runs from the host's, offset by what was set
  (under SIM_CLOCK_AT: the process's own clock, which mbedTLS reads too).
- `reset()` / `soft_reset()`: the host boots the process again. `reset_cause()`: what the host
  says caused this boot (power on, or the watchdog). `unique_id()`: 6 bytes, as the ESP32's MAC.
- `PWM` (the buzzer): keeps freq and duty, makes no sound.
"""
import os
import time

import simlink

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_freq = 160000000


def reset():
    simlink.reset("reset")


def soft_reset():
    simlink.reset("soft reset")


def reset_cause():
    return simlink.setup.get("reset_cause", PWRON_RESET)


def unique_id():
    return bytes(simlink.setup.get("unique_id", (0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56)))


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
    """The wires behind every Pin."""

    def __init__(self):
        self.output = {}
        self.modes = {}
        self.pulls = {}
        self.handlers = {}
        self.sources = {}  # pin id -> fn() -> 0/1, or None when the source does not drive it
        self.tapped = set()
        self.reported = {}  # tapped pin id -> the level the host knows

    def line(self, pin_id):
        """The level on the wire: what the chip drives, else an outside source, else the pull."""
        mode = self.modes.get(pin_id)
        out = self.output.get(pin_id)
        if mode == Pin.OUT and out is not None:
            return out
        if mode == Pin.OPEN_DRAIN and out == 0:
            return 0
        fn = self.sources.get(pin_id)
        if fn is not None:
            v = fn()
            if v is not None:
                return v
        return 1 if self.pulls.get(pin_id) == Pin.PULL_UP else 0

    def driven_low(self, pin_id):
        """The chip pulls this line to ground: an output, push-pull or open drain, written 0. (A
        released open-drain row floats: a held key then joins it to a pulled-up column, high.)"""
        return self.modes.get(pin_id) in (Pin.OUT, Pin.OPEN_DRAIN) and self.output.get(pin_id) == 0

    def write(self, pin_id, level):
        before = self.line(pin_id)
        self.output[pin_id] = level
        after = self.line(pin_id)
        if pin_id in self.tapped and self.reported.get(pin_id) != after:
            self.reported[pin_id] = after
            simlink.pin(pin_id, after)
        if before != after:
            handler = self.handlers.get(pin_id)
            if handler is not None:
                fn, trigger, pin = handler
                if (after and trigger & Pin.IRQ_RISING) or (not after and trigger & Pin.IRQ_FALLING):
                    fn(pin)


board = _Board()
board.tapped.update(simlink.setup.get("tap", ()))  # the display's lines the host listens to


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None, **kwargs):
        if not isinstance(id, int) or id < 0:
            raise ValueError("invalid pin")
        self.id = id
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None, **kwargs):
        if mode != -1:
            board.modes[self.id] = mode
        if pull != -1:
            board.pulls[self.id] = pull
        if value is not None:
            board.write(self.id, 1 if value else 0)

    def value(self, level=None):
        if level is None:
            return board.line(self.id)
        board.write(self.id, 1 if level else 0)

    def __call__(self, level=None):
        return self.value(level)

    def on(self):
        board.write(self.id, 1)

    def off(self):
        board.write(self.id, 0)

    def irq(self, handler=None, trigger=3, **kwargs):
        if handler is None:
            board.handlers.pop(self.id, None)
        else:
            board.handlers[self.id] = (handler, trigger, self)

    def __repr__(self):
        return "Pin(%d)" % self.id


class SPI:
    MSB = 0
    LSB = 1

    def __init__(self, id=1, baudrate=1000000, polarity=0, phase=0, bits=8, firstbit=0, sck=None,
                 mosi=None, miso=None, **kwargs):
        self.id = id if isinstance(id, int) else 0
        self.init(baudrate=baudrate, polarity=polarity, phase=phase)

    def init(self, baudrate=1000000, polarity=0, phase=0, **kwargs):
        self.baudrate = baudrate
        self.polarity = polarity
        self.phase = phase

    def deinit(self):
        return None

    def write(self, buf):
        simlink.spi(self.id, buf)

    def write_readinto(self, write_buf, read_buf):
        simlink.spi(self.id, write_buf)
        for i in range(len(read_buf)):
            read_buf[i] = 0

    def read(self, nbytes, write=0):
        simlink.spi(self.id, bytes((write,)) * nbytes)
        return bytes(nbytes)

    def readinto(self, buf, write=0):
        simlink.spi(self.id, bytes((write,)) * len(buf))
        for i in range(len(buf)):
            buf[i] = 0


class SoftSPI(SPI):
    pass


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError("timeout must be at least 1 ms")
        self.timeout = timeout
        self._last = time.ticks_ms()
        import _thread

        _thread.start_new_thread(self._watch, ())

    def feed(self):
        self._last = time.ticks_ms()

    def _watch(self):
        while True:
            time.sleep_ms(100)
            if time.ticks_diff(time.ticks_ms(), self._last) > self.timeout:
                simlink.reset("watchdog")


class RTC:
    _offset = 0  # seconds added to the host's clock, shared by every RTC() as on the chip
    # Under SIM_CLOCK_AT (tools/sim/engine_mpy.py) the process's clock is libfaketime's: the RTC is
    # that clock, and setting it rewrites libfaketime's offset file, so time.time() and mbedTLS
    # follow at once, as on the ESP32 where the RTC is the system clock.
    _faked = os.getenv("FAKETIME_TIMESTAMP_FILE")
    _fake_offset = int(os.getenv("SIM_CLOCK_OFFSET") or "0")

    def __init__(self, id=0):
        pass

    def datetime(self, dt=None):
        if dt is None:
            t = time.gmtime(int(time.time()) + RTC._offset)
            wday = t[6]
            return (t[0], t[1], t[2], wday, t[3], t[4], t[5], 0)
        year, month, day, _wd, hour, minute, second = dt[:7]
        target = time.mktime((year, month, day, hour, minute, second, 0, 0))
        if RTC._faked:
            real = int(time.time()) - RTC._fake_offset
            RTC._fake_offset = target - real
            with open(RTC._faked + ".tmp", "w") as f:
                f.write("%+d\n" % RTC._fake_offset)
            os.rename(RTC._faked + ".tmp", RTC._faked)
            return
        RTC._offset = target - int(time.time())

    def init(self, dt):
        self.datetime(dt)


class PWM:
    def __init__(self, pin, freq=1000, duty=0, **kwargs):
        self.pin = pin
        self._freq = freq
        self._duty = duty

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value

    def duty(self, value=None):
        if value is None:
            return self._duty
        self._duty = value

    def duty_u16(self, value=None):
        if value is None:
            return self._duty * 64
        self._duty = value // 64

    def deinit(self):
        self._duty = 0
