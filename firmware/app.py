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
from firmware.sale.flow import Flow
from firmware.sale.journal import Journal
from firmware.board.signals import Signals
from firmware.display.ui import UI
from firmware.link.owner import Link

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
    def _machine(self):
        if self.machine is None:
            import machine
            self.machine = machine
        return self.machine

    def _screens(self, merchant, currency):
        from firmware.display.screens import Screens
        from firmware.display.texts import Texts
        if self.lcd is None:
            from firmware.board import hw
            display = self.cfg.display if self.cfg is not None else _lenient_display(self.path("config.json"))
            self.lcd = hw.make_lcd(self._machine(), display)
        cfg = self.cfg
        texts = Texts(cfg.cashier_language, cfg.customer_languages) if cfg is not None else Texts()
        return Screens(self.lcd, merchant=merchant, currency=currency, texts=texts)

    def setup(self):
        """Load the config and build every piece; raises ConfigError (after showing it).

        The config checker (firmware/config.py with the wiring rules and board presets) and the
        hardware builders (firmware/board/hw.py) are needed only here: once the pieces are built
        they are dropped (lib/late.py)."""
        from firmware import config
        try:
            cfg = config.load(self.path("config.json"))
            self.cfg = cfg
            try:
                self._build(cfg)
            except Exception as e:  # a pin the chip lacks, a panel the driver does not know...
                raise config.ConfigError(["hardware: %s (check the pin map and display)" % (e,)])
        except config.ConfigError as e:
            self.problems = e.problems
            self.log.write("config: " + "; ".join(e.problems))
            try:
                screens = self._screens("", "USD")
                screens.error("; ".join(e.problems[:4]), kind="config")
            except Exception as err:  # no usable display either: the console is all there is
                print("display unavailable:", err)
            print("terminal application %s not started: configuration problems: %s"
                  % (VERSION, "; ".join(e.problems)))
            if self.on_config_error is not None:
                self.on_config_error(e.problems)
            raise
        for name in ("firmware.config", "firmware.board.wiring", "firmware.board.boards", "firmware.board.safemode",
                     "firmware.board.hw", "panels"):
            late.drop(name)
        return self

    def _build(self, cfg):
        self.screens = self._screens(cfg.merchant_name, cfg.currency)
        self.ui = UI(self.screens, self.clock, cfg.currency, log=self.log.write, utc_offset_min=cfg.utc_offset_min)
        wired = cfg.buzzer_pin is not None or cfg.led_pin is not None
        self.signals = Signals(self._machine() if wired else None, cfg.buzzer_pin, cfg.led_pin)
        if self.keypad is None:
            from firmware.board import hw
            self.keypad = hw.make_keypad(self._machine(), cfg)
        net = self.network
        if net is None:
            try:
                import network as net
            except ImportError:
                net = None
        self._attach_rtc()
        # The one owner of the network: Wi-Fi, time, the two lanes and their connections.
        self.link = Link(cfg, self.clock, network=net, transport=self.transport, runner=self.runner)
        self.link.heartbeat_source = self.heartbeat_info
        self.gateway = self.link.gateway
        self.runner = self.link.runner
        self.wifi = self.link.wifi
        self.journal = Journal(self.path("journal.json"))
        self.flow = Flow(cfg, self.journal, self.gateway, self.runner, self.clock, describe=self.describe,
                         events=self.event, online=False)
        if cfg.watchdog_ms:
            self.wdt = self._machine().WDT(timeout=cfg.watchdog_ms)

    def _attach_rtc(self):
        # The RTC is what mbedTLS reads: the clock sets it before the first https call.
        if self.clock.rtc is not None or not hasattr(self.clock, "attach"):
            return
        try:
            rtc = getattr(self._machine(), "RTC", None)
            if rtc is not None:
                self.clock.attach(rtc())
        except Exception:  # no RTC on this board or stand-in: the clock keeps an offset
            pass

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
        from firmware import config  # only while setting up: setup() drops it when it succeeds
        try:
            self.setup()
        except config.ConfigError:
            return False
        return True


def _lenient_display(path):
    """The display section of a config that failed validation, if it can be read at all."""
    try:
        import json
        with open(path) as f:
            d = json.load(f).get("display")
        return d if isinstance(d, dict) else None
    except Exception:
        return None


def main():
    return Application().run()
