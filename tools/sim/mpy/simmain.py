"""The MicroPython engine's entry point: boots the unmodified firmware in the unix port with the
hardware stand-ins of this folder (machine, network, simkeys) wired to the simulator's host.

    SIM_LINK=<port> MICROPYPATH=tools/sim/mpy:.frozen:lib:. micropython tools/sim/mpy/simmain.py

(the host, tools/sim/engine_mpy.py, starts it so). The firmware builds its own display, keypad,
Wi-Fi and transport from the flash's config.json, as on the device: micropython-lib `requests` for
http://, firmware/link/http.py on MicroPython's ssl for https://. This file only adds what the host needs
to see: flow events and screens, and the simulated power cut (SIM_POWER_CUT semantics, see
tools/sim/terminal.py).
"""
import asyncio
import sys
import time

import simlink

setup = simlink.open_link()

import machine  # noqa: E402  (the stand-ins read simlink.setup)
import network  # noqa: E402,F401
import simevents  # noqa: E402
import simkeys  # noqa: E402


class Quit(Exception):
    pass


def _power_cut_hook(spec):
    if not spec:
        return
    from firmware.sale import journal as fw_journal

    target, _, mode = spec.partition(":")
    target = int(target)
    real_save = fw_journal.Journal._save
    count = [0]

    def save(self):
        count[0] += 1
        if count[0] != target:
            return real_save(self)
        if mode == "torn":  # halfway through writing the new record, before the rename
            import json
            data = json.dumps(self.record)
            with open(self.path + ".tmp", "w") as f:
                f.write(data[: len(data) // 2])
        else:
            real_save(self)
        simlink.power_cut({"event": "power_cut", "write": target, "mode": mode or "after"})

    fw_journal.Journal._save = save


def _on_event(name, data):
    simlink.event(simevents.flow_event(name, data, time.ticks_ms()))


def _on_render(view):
    simlink.event(simevents.screen_event(view, time.ticks_ms()))


def _command(line, matrix):
    parts = line.split()
    if not parts:
        return
    if parts[0] == "press" and matrix is not None:
        matrix.press(int(parts[1]), int(parts[2]))
    elif parts[0] == "wifi" and len(parts) == 2:
        network.air.up = parts[1] != "off"
    elif parts[0] == "quit":
        raise Quit()


def main():
    m = setup.get("matrix")
    matrix = simkeys.Matrix(m["rows"], m["cols"]) if m else None
    simlink.event(simevents.engine_event(sys))
    _power_cut_hook(setup.get("power_cut"))

    from firmware import app as fw_app

    lcd = None
    if setup.get("display"):  # the host chose another glass (--panel): the firmware's own driver set-up
        from firmware.board import hw
        lcd = hw.make_lcd(machine, setup["display"])
    describe = setup.get("describe")
    app = fw_app.Application(root=setup["flash"], lcd=lcd, on_event=_on_event, on_render=_on_render,
                             describe=(lambda amount: describe) if describe else None)
    app.on_config_error = lambda problems: simlink.event({"event": "config_error", "problems": problems,
                                                          "t": time.ticks_ms()})

    async def link_task(app):
        while True:
            for line in simlink.commands():
                _command(line, matrix)
            simlink.flush()
            await asyncio.sleep_ms(20)

    app.extra_tasks.append(link_task)
    try:
        if app.run() is False:  # the config error screen stays until the technician quits
            simlink.flush()
            while True:
                for line in simlink.commands():
                    _command(line, matrix)
                time.sleep_ms(50)
    except Quit:
        pass
    simlink.flush()


main()
