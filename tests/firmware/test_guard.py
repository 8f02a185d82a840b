"""Every loop task guarded (firmware/guard.py): a task that raises is logged and restarted, a
MemoryError collects the heap and retries, repeated failures or hours without a signed answer
reboot the terminal, and only at the idle screen."""
import asyncio
import gc
import types

import pytest

from firmware import guard as G
from firmware import loop
from firmware.sale import flow as F
from tests.shims import clock
from tests.shims import machine as shim_machine


class Log:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)


def _app(state=F.IDLE, **cfg):
    settings = dict(watchdog_ms=0, liveness_ms=4000, reboot_after_failures=5, reboot_after_silent_h=12)
    settings.update(cfg)
    app = types.SimpleNamespace(cfg=types.SimpleNamespace(**settings), log=Log(), machine=shim_machine,
                                flow=types.SimpleNamespace(state=state), gateway=types.SimpleNamespace(answered_at=None),
                                alive={}, wdt=None, watchdog_ok=None)
    app.guard = G.Guard(app)
    return app


def _run(coro, seconds=0.3):
    async def go():
        task = asyncio.create_task(coro)
        await asyncio.sleep(seconds)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    asyncio.run(go())


def test_a_task_that_raises_is_logged_and_restarted():
    app = _app()
    runs = []

    async def flaky_task(a):
        runs.append(1)
        if len(runs) < 3:
            raise ValueError("bad byte from the panel")
        while True:  # third time lucky: runs on
            a.alive["flaky"] = 1
            await asyncio.sleep(0.01)

    _run(G.guarded(app, flaky_task), seconds=1.0)
    assert len(runs) == 3 and app.alive.get("flaky") == 1
    assert [l for l in app.log.lines if l.startswith("task flaky failed")] == [
        "task flaky failed (1 in 10 min), restarting: ValueError: bad byte from the panel",
        "task flaky failed (2 in 10 min), restarting: ValueError: bad byte from the panel"]
    assert app.guard.reboot_reason is None


def test_a_memory_error_collects_the_heap_and_retries(monkeypatch):
    app = _app()
    collected = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or 0)
    runs = []

    async def hungry_task(a):
        runs.append(len(collected))
        if len(runs) == 1:
            raise MemoryError("memory allocation failed, allocating 4096 bytes")
        await asyncio.sleep(10)

    _run(G.guarded(app, hungry_task))
    assert runs == [0, 1]  # the retry ran after one collection
    assert "MemoryError (heap collected)" in app.log.lines[0]


def test_repeated_failures_reboot_at_the_idle_screen_only():
    app = _app(state=F.SHOW_QR, reboot_after_failures=3)
    for _ in range(3):
        app.guard.failed("screen", "OSError: 5")
    assert app.guard.reboot_reason == "task screen failed 3 times in 10 minutes"
    app.guard.look()  # mid-sale: no reboot
    app.flow.state = F.CHECKING
    app.guard.look()
    app.flow.state = F.IDLE
    with pytest.raises(shim_machine.DeviceReset):
        app.guard.look()
    assert app.log.lines[-1] == "reboot at the idle screen: task screen failed 3 times in 10 minutes"


def test_failures_spread_over_more_than_ten_minutes_do_not_add_up():
    clock.manual(0)
    app = _app(reboot_after_failures=3)
    for _ in range(5):
        app.guard.failed("network", "OSError: 113")
        clock.advance_ms(G.WINDOW_MS // 2 + 1000)
    assert app.guard.reboot_reason is None


def test_hours_without_a_signed_answer_reboot_at_idle():
    clock.manual(0)
    app = _app(state=F.AMOUNT, reboot_after_silent_h=2)
    for _ in range(4):  # one hour in half-hour looks, with an answer in the middle
        clock.advance_ms(1800 * 1000)
        app.guard.look()
    app.gateway.answered_at = 123  # a verified answer: the silence starts again
    app.guard.look()
    assert app.guard.silent_ms == 0
    for _ in range(4):
        clock.advance_ms(1800 * 1000)
        app.guard.look()  # the cashier is typing an amount: not now
    assert app.guard.reboot_reason == "no signed answer from the gateway for 2 h"
    app.flow.state = F.IDLE
    with pytest.raises(shim_machine.DeviceReset):
        app.guard.look()


def test_silence_is_counted_across_the_ticks_wrap():
    clock.manual((1 << 30) - 1000)
    app = _app(reboot_after_silent_h=1)
    app.flow.state = F.AMOUNT
    for _ in range(3):
        clock.advance_ms(1500 * 1000)
        app.guard.look()
    assert app.guard.reboot_reason is not None


def test_silent_reboot_can_be_turned_off():
    clock.manual(0)
    app = _app(reboot_after_silent_h=0)
    for _ in range(100):
        clock.advance_ms(3600 * 1000)
        app.guard.look()
    assert app.guard.reboot_reason is None


def test_every_firmware_task_of_the_loop_runs_guarded(monkeypatch):
    started = []
    real = G.guarded

    def spy(app, fn):
        started.append(G.task_name(fn))
        return real(app, fn)

    monkeypatch.setattr(loop, "guarded", spy)

    async def boom(app):
        raise RuntimeError("stop the loop")  # host tasks are not guarded: raising stops the loop

    app = _app()
    app.extra_tasks = [boom]
    monkeypatch.setattr(loop, "keypad_task", _idle_task("keypad"))
    monkeypatch.setattr(loop, "flow_task", _idle_task("flow"))
    monkeypatch.setattr(loop, "screen_task", _idle_task("screen"))
    monkeypatch.setattr(loop, "network_task", _idle_task("network"))
    with pytest.raises(RuntimeError):
        asyncio.run(loop.run(app))
    assert sorted(started) == ["flow", "keypad", "network", "screen", "watchdog"]
    assert isinstance(app.guard, G.Guard)


def _idle_task(name):
    async def task(app):
        while True:
            await asyncio.sleep(0.01)
    task.__name__ = name + "_task"
    return task
