"""The CPython engine (for debugging): the firmware in this process under the CPython shims
(tests/shims), drawing through the shim SPI bus into the panel emulator (tools/sim/rig.py), its
keypad scanning the emulated matrix (tools/sim/keymatrix.py), firmware/link/http.py over CPython
sockets for both http:// and https:// (the device uses `requests` for http; the interface is the
same). The MicroPython engine (tools/sim/engine_mpy.py) is the faithful one.
"""
import asyncio
import json
import os
import sys
import time as _time

from tools.sim import device_path

device_path()

import time  # noqa: E402  (with the shims' tick functions)

import network  # noqa: E402  (the shim)

from firmware import app as fw_app  # noqa: E402
from firmware.link import http  # noqa: E402
from firmware.board.keypad import Keypad  # noqa: E402
from tools.sim.keymatrix import KeyMatrix  # noqa: E402
from tools.sim.mpy import simevents  # noqa: E402
from tools.sim.rig import DisplayRig  # noqa: E402


class Stop(Exception):
    """The user quit (q, `quit`, end of input)."""


class PowerCut(BaseException):
    pass


def _power_cut_hook(spec, harness):
    """At the journal's N-th write: after it reached the flash, or torn halfway (see terminal.py)."""
    if not spec:
        return
    from firmware.sale import journal as fw_journal

    target, _, mode = spec.partition(":")
    target = int(target)
    count = [0]
    real_save = fw_journal.Journal._save

    def save(self):
        count[0] += 1
        if count[0] != target:
            return real_save(self)
        if mode == "torn":
            data = json.dumps(self.record)
            with open(self.path + ".tmp", "w") as f:
                f.write(data[: len(data) // 2])
        else:
            real_save(self)
        harness.on_event({"event": "power_cut", "write": target, "mode": mode or "after"}, force=True)
        sys.stdout.flush()
        os._exit(137)  # skips every clean-up, as a power cut would

    fw_journal.Journal._save = save


class CPythonEngine:
    name = "cpython"

    def __init__(self, harness, flash, raw, layout, panel="st7789-240x320", rotation=0, access_point=None,
                 describe=None, power_cut=None):
        self.harness = harness
        self.rig = DisplayRig(panel, rotation=rotation)
        self.matrix = None
        keypad = None
        if layout is not None:
            import machine
            from firmware import config as fw_config
            cfg = fw_config.validate(raw)
            self.matrix = KeyMatrix(layout.rows, layout.cols, layout.layout, cfg.keypad_keys)
            keypad = Keypad(machine.Pin, cfg.keypad_rows, cfg.keypad_cols, cfg.keypad_layout, cfg.keypad_keys,
                            cfg.debounce_ms)
        if access_point is not None:
            network.air.access_points[access_point[0]] = (access_point[1], -58)
        _power_cut_hook(power_cut, harness)
        gw = raw.get("gateway") if isinstance(raw.get("gateway"), dict) else {}
        tls = None
        if str(gw.get("url", "")).startswith("https://") and gw.get("ca_cert"):
            tls = http.tls_context(gw["ca_cert"])
        self.app = fw_app.Application(root=flash, transport=http.Transport(tls), lcd=self.rig.lcd,
                                      keypad=keypad, on_event=self._event, on_render=self._render,
                                      describe=(lambda amount: describe) if describe else None)
        self.app.extra_tasks.append(self._stop_task)
        self.app.on_config_error = lambda problems: harness.on_event(
            {"event": "config_error", "problems": problems, "t": time.ticks_ms()})
        self.stopping = False
        harness.on_event(simevents.engine_event(sys))

    def _event(self, name, data):
        self.harness.on_event(simevents.flow_event(name, data, time.ticks_ms()))

    def _render(self, view):
        self.harness.on_event(simevents.screen_event(view, time.ticks_ms()))

    async def _stop_task(self, app):
        while True:
            if self.stopping:
                raise Stop()
            await asyncio.sleep_ms(50)

    def image(self, scale=1):
        return self.rig.image(scale)

    def press(self, action):
        if self.matrix is not None:
            self.matrix.press(action)

    def wifi(self, up):
        if up:
            network.air.restore()
        else:
            network.air.drop()  # the access point vanishes

    def stop(self):
        self.stopping = True

    def run(self):
        try:
            if self.app.run() is False:
                while not self.stopping:  # the config error screen stays until the technician quits
                    _time.sleep(0.1)
        except Stop:
            pass
        return 0
