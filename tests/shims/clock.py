"""The clock behind the `time` tick functions of the shims, which tests can stop and advance.

Copies MicroPython's tick arithmetic (py/modtime / extmod/utime_mphal.c): ticks live in a period of
2**30 (MICROPY_PY_TIME_TICKS_PERIOD on every port), so `ticks_ms()` wraps after ~12.4 days and
`ticks_us()` after ~17.9 minutes; `ticks_diff(a, b)` is the signed distance in (-2**29, 2**29];
`ticks_add(t, d)` wraps the same way. Code that compares ticks with `<` breaks at the wrap; tests
can start the clock just before it (`clock.set_ms(TICKS_PERIOD - 10)`) to catch that.

Two modes: *running* (default) follows the host's monotonic clock, for the simulator; *manual*
(`clock.manual()`) stands still until a test calls `advance_ms()`, and `sleep_ms()` then advances it
instead of sleeping, so time-dependent logic runs instantly and deterministically.
"""
import time as _time

TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALFPERIOD = TICKS_PERIOD >> 1


class Clock:
    def __init__(self):
        self._manual = False
        self._base_ns = _time.monotonic_ns()
        self._offset_us = 0  # running mode: added to host time; manual mode: the time itself

    # --- modes -------------------------------------------------------------------------------
    def manual(self, start_ms=0):
        """Stop the clock at `start_ms`; it then moves only through advance_ms() and sleep_ms()."""
        self._manual = True
        self._offset_us = start_ms * 1000

    def running(self):
        """Follow the host's monotonic clock again, continuing from the current reading."""
        now = self.now_us()
        self._manual = False
        self._base_ns = _time.monotonic_ns()
        self._offset_us = now

    @property
    def is_manual(self):
        return self._manual

    def set_ms(self, ms):
        """Jump the clock to `ms` (e.g. just before the tick wrap)."""
        if self._manual:
            self._offset_us = ms * 1000
        else:
            self._base_ns = _time.monotonic_ns()
            self._offset_us = ms * 1000

    def advance_ms(self, ms):
        self.advance_us(ms * 1000)

    def advance_us(self, us):
        if us < 0:
            raise ValueError("the clock never goes back")
        self._offset_us += us

    # --- readings ----------------------------------------------------------------------------
    def now_us(self):
        if self._manual:
            return self._offset_us
        return self._offset_us + (_time.monotonic_ns() - self._base_ns) // 1000

    def ticks_ms(self):
        return (self.now_us() // 1000) & TICKS_MAX

    def ticks_us(self):
        return self.now_us() & TICKS_MAX

    def sleep_us(self, us):
        if us <= 0:
            return
        if self._manual:
            self.advance_us(us)
        else:
            _time.sleep(us / 1e6)


def ticks_diff(ticks1, ticks2):
    """Signed distance ticks1 - ticks2, valid while the two are less than half a period apart."""
    return ((ticks1 - ticks2 + TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD


def ticks_add(ticks, delta):
    if not -TICKS_HALFPERIOD <= delta < TICKS_HALFPERIOD:
        raise OverflowError("ticks interval overflow")  # as MicroPython does
    return (ticks + delta) & TICKS_MAX


clock = Clock()
