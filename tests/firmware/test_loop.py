"""The loop's watchdog task feeds the hardware watchdog only while every other task is alive."""
import asyncio
import time
import types

import pytest

from firmware import loop
from tests.shims import clock


class WDT:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


def _app(stale=None):
    app = types.SimpleNamespace(alive={}, wdt=WDT(), cfg=types.SimpleNamespace(watchdog_ms=4000, feed_ms=500),
                                watchdog_ok=None)
    now = time.ticks_ms()
    for name in ("keypad", "flow", "screen", "network"):
        app.alive[name] = now
    if stale == "missing":
        del app.alive["screen"]
    elif stale:
        app.alive[stale] = time.ticks_add(now, -3000)  # has not run for 3 s (limit: 2 s)
    return app


def _run_watchdog(app):
    async def go():
        task = asyncio.create_task(loop.watchdog_task(app))
        await asyncio.sleep(0.05)
        task.cancel()
    asyncio.run(go())
    return app


def test_fed_when_every_task_runs():
    clock.set_ms(100000)
    app = _run_watchdog(_app())
    assert app.wdt.feeds == 1 and app.watchdog_ok is True


@pytest.mark.parametrize("stale", ["keypad", "flow", "screen", "network", "missing"])
def test_not_fed_when_a_task_stalls(stale):
    clock.set_ms(100000)
    app = _run_watchdog(_app(stale))
    assert app.wdt.feeds == 0 and app.watchdog_ok is False


def test_tick_wrap_is_harmless():
    clock.set_ms((1 << 30) - 5)  # ticks_ms wraps 5 ms from now, while the watchdog runs
    app = _run_watchdog(_app())
    assert time.ticks_ms() < 1000 and app.wdt.feeds == 1
