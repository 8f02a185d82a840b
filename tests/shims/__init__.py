"""CPython shims for the MicroPython-only modules the device code uses.

Loaded only by the tests (tests/conftest.py) and the simulator (tools/sim), never shipped to the
device. `install()` puts `machine`, `network` and `micropython` on the import path and adds the
MicroPython extras to the real `time` and `asyncio` modules, backed by the shim clock
(tests/shims/clock.py). Each shim's docstring says which MicroPython behaviour it copies.
"""
import asyncio
import sys
import time

from tests.shims import clock as _clockmod

clock = _clockmod.clock


def _sleep_ms(ms):
    clock.sleep_us(ms * 1000)


def _sleep_us(us):
    clock.sleep_us(us)


def _ticks_cpu():
    return clock.ticks_us()


async def _asyncio_sleep_ms(ms):
    # MicroPython's asyncio has sleep_ms; the host loop keeps its own (real) time.
    await asyncio.sleep(ms / 1000)


def install():
    """Make device code importable on CPython. Safe to call more than once."""
    time.ticks_ms = clock.ticks_ms
    time.ticks_us = clock.ticks_us
    time.ticks_cpu = _ticks_cpu
    time.ticks_diff = _clockmod.ticks_diff
    time.ticks_add = _clockmod.ticks_add
    time.sleep_ms = _sleep_ms
    time.sleep_us = _sleep_us
    if not hasattr(asyncio, "sleep_ms"):
        asyncio.sleep_ms = _asyncio_sleep_ms
    for name in ("machine", "network", "micropython"):
        # Import under the device name so `import machine` gives the shim.
        if name not in sys.modules:
            __import__("tests.shims." + name)
            sys.modules[name] = sys.modules["tests.shims." + name]


def reset():
    """Return every shim to its power-on state (between tests)."""
    import tests.shims.machine as machine
    import tests.shims.network as network

    clock.running()
    clock.set_ms(0)
    machine.Pin.board.clear()
    network.air.reset()
