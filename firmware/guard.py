"""Every loop task guarded, and the reboots that keep a terminal alive for months unattended.

firmware/loop.py starts each task as `guarded(app, task)`:
- an exception is logged (/log.txt, and the console) and the task starts again after a short
  back-off; a MemoryError first collects the heap, then retries;
- `reboot_after_failures` failures of one task within 10 minutes, or no signed answer from the
  gateway for `reboot_after_silent_h` hours (0: never), ask for a reboot;
- the reboot happens only at the idle screen (never mid-sale: the sale's journal would survive it,
  but the cashier would not understand it), logged with its reason. The watchdog task calls
  `Guard.look()` every half second, which is where both are checked.
"""
from micropython import const
import asyncio
import gc
import sys
import time

from firmware.sale import flow as F

RESTART_MS = (100, 500, 1000, 2000, 5000)  # back-off between restarts of a failing task
WINDOW_MS = 600000  # failures counted over the last 10 minutes
_HOUR_MS = const(3600000)


def task_name(fn):
    name = getattr(fn, "__name__", "task")
    return name[:-5] if name.endswith("_task") else name


class Guard:
    def __init__(self, app):
        self.app = app
        self.failures = {}  # task name -> ticks of its failures in the last WINDOW_MS
        self.reboot_reason = None
        self.silent_ms = 0  # accumulated, so no ticks_diff spans more than a look (ticks wrap)
        self._answered = None
        self._looked = time.ticks_ms()

    def _cfg(self, name, default):
        return getattr(self.app.cfg, name, default)

    def _log(self, text):
        log = getattr(self.app, "log", None)
        if log is not None:
            log.write(text)

    def failed(self, name, why):
        """A task raised: log it, count it; returns how often it failed within the window."""
        now = time.ticks_ms()
        recent = [t for t in self.failures.get(name, ()) if time.ticks_diff(now, t) < WINDOW_MS]
        recent.append(now)
        self.failures[name] = recent
        self._log("task %s failed (%d in 10 min), restarting: %s" % (name, len(recent), why))
        limit = self._cfg("reboot_after_failures", 5)
        if len(recent) >= limit and self.reboot_reason is None:
            self.reboot_reason = "task %s failed %d times in 10 minutes" % (name, len(recent))
        return len(recent)

    def look(self):
        """Count silent time; reboot if a reboot is due and the terminal is idle."""
        now = time.ticks_ms()
        step = time.ticks_diff(now, self._looked)
        self._looked = now
        gateway = getattr(self.app, "gateway", None)
        answered = getattr(gateway, "answered_at", None)  # ticks of its last verified answer
        if answered != self._answered:
            self._answered = answered
            self.silent_ms = 0
        elif step > 0:
            self.silent_ms += step
        hours = self._cfg("reboot_after_silent_h", 0)
        if hours and self.silent_ms >= hours * _HOUR_MS and self.reboot_reason is None:
            self.reboot_reason = "no signed answer from the gateway for %d h" % hours
        if self.reboot_reason is not None and getattr(self.app.flow, "state", None) == F.IDLE:
            self.reboot(self.reboot_reason)

    def reboot(self, why):
        self._log("reboot at the idle screen: " + why)
        print("terminal: rebooting (%s)" % why)
        machine = getattr(self.app, "machine", None)
        if machine is None:
            import machine
        machine.reset()


def _print_exception(e):
    show = getattr(sys, "print_exception", None)  # MicroPython: the traceback on the console
    if show is not None:
        try:
            show(e)
        except Exception:
            pass


async def guarded(app, fn):
    """Run one loop task; restart it whenever it raises (see the module docstring)."""
    name = task_name(fn)
    guard = app.guard
    while True:
        try:
            await fn(app)
            return  # a task that ends by itself has finished its job
        except MemoryError:
            gc.collect()  # free what the failed attempt held before trying again
            why = "MemoryError (heap collected)"
        except Exception as e:
            _print_exception(e)
            why = "%s: %s" % (type(e).__name__, e)
        n = guard.failed(name, why)
        await asyncio.sleep_ms(RESTART_MS[min(n, len(RESTART_MS)) - 1])
