"""The terminal application: boot, build the pieces from /config.json, run the loop.

A missing or broken config shows the error screen with every problem listed and returns to the
REPL, where the screen stays and the technician works (mpremote); the watchdog is not started
before the config is good, so nothing resets the device: no crash loop. The simulator builds the
same Application with host stand-ins: a root folder as flash, the CPython transport, the emulated
panel, and hooks that print what happens.
"""
import asyncio

import late

from firmware import log
from firmware import loop
from firmware.link.clock import WallClock

VERSION = "0.2.0"


class Application:
    def __init__(self, root="/", machine=None, network=None, transport=None, lcd=None, runner=None,
                 keypad=None, on_event=None, on_render=None, describe=None, clock=None):
        self.version = VERSION
        self.root = root
        self.machine = machine
        self.network = network
        self.transport = transport
        self.lcd = lcd
        self.runner = runner
        self.keypad = keypad
        self.on_event = on_event
        self.on_render = on_render
        self.on_config_error = None
        self.describe = describe
        self.clock = clock or WallClock()
        self.extra_tasks = []
        self.alive = {}
        self.wdt = None
        self.watchdog_ok = False
        self.cfg = None
        self.problems = None
        self._log = None

    @property
    def log(self):
        if self._log is None:
            self._log = log.Log(self.path("log.txt"), clock=self.clock)
        return self._log

    def path(self, name):
        return self.root.rstrip("/") + "/" + name

    # --- building --------------------------------------------------------------------------
    def setup(self):
        """Load the config and build every piece; raises ConfigError (after showing it).

        The building (firmware/assemble.py, with the config checker, the wiring rules, board
        presets and hardware builders it uses) runs once: it is dropped afterwards (lib/late.py)."""
        from firmware import assemble
        try:
            return assemble.setup(self)
        finally:
            late.drop("firmware.assemble")

    # --- hooks the loop calls ----------------------------------------------------------------
    def start(self, job, fn, *args):
        return self.runner.start(job, fn, *args)

    def event(self, name, data):
        line = log.describe(name, data)
        if line is not None:
            self.log.write(line)
        self.signals.event(name, data)
        if self.on_event is not None:
            self.on_event(name, data)

    def rendered(self, view):
        if self.on_render is not None:
            self.on_render(view)

    def heartbeat_info(self):
        free = None
        try:
            import gc
            free = gc.mem_free()
        except AttributeError:
            pass
        return {"version": VERSION, "free_heap": free, "rssi": self.wifi.rssi() if self.wifi else None,
                "last_error": (self.gateway.last_error or "")[:128] or None}

    # --- running -----------------------------------------------------------------------------
    def run(self):
        """Run the terminal; returns False at once when the config is missing or broken."""
        self.log.write("boot firmware %s" % VERSION)
        if not self._started():
            return False  # the error screen stays up; the REPL is the technician's
        asyncio.run(loop.run(self))
        return True

    def _started(self):
        try:
            self.setup()
        except Exception:  # firmware/config.py's ConfigError (that module is dropped at boot)
            if self.problems is None:  # not a refused config: a bug, for the console to show
                raise
            return False
        return True


def main():
    return Application().run()
