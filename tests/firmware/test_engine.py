"""The simulator's engines: the MicroPython unix port runs the unmodified firmware (the default for
the end-to-end tests and `make demo`), CPython with the shims stays for debugging. What the
engine's stand-ins must get right: the panel sees exactly what the firmware drew (the QR scans off
the emulated glass), a power cut kills the firmware's process, nothing outlives the simulator."""
import glob
import os
import time

import pytest
from PIL import Image
from pyzbar import pyzbar

from tools.sim import engines

pytestmark = pytest.mark.slow


def _gone(pid, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    return True  # a zombie: dead, waiting to be reaped
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_the_firmware_runs_in_the_micropython_unix_port_and_its_qr_scans(system, tmp_path):
    term = system.terminal()
    term.frames = str(tmp_path / "frames")
    term.start()
    term.wait_ready()
    assert term.engine.startswith("MicroPython 1.") and term.engine.endswith("unix port"), term.engine
    term.keys("1250", "ok")
    qr = term.wait_state("SHOW_QR")
    term.wait_screen("qr")
    time.sleep(0.3)  # the frame is written right after the screen event
    frame = sorted(glob.glob(os.path.join(term.frames, "*-qr.png")))[-1]
    img = Image.open(frame).convert("L")
    img = img.resize((img.size[0] * 3, img.size[1] * 3), Image.NEAREST)
    assert [r.data.decode() for r in pyzbar.decode(img)] == [qr["code"]]
    system.sandbox.pay(qr["code"])
    assert term.wait_result()["state"] == "PAID"
    term.stop()
    # the emulated controller saw a clean command stream: no data outside a command, no window
    # beyond the glass, nothing drawn inside a reset delay
    assert not [e for e in term.history if e.get("event") == "panel_error"]


def test_a_power_cut_kills_the_firmware_process(system):
    term = system.terminal()
    term.start(env={"SIM_POWER_CUT": "1"})
    term.wait_ready()
    device = [e for e in term.history if e.get("event") == "engine"][0]["pid"]
    term.keys("5", "ok")
    term.wait(lambda e: e.get("event") == "power_cut", timeout=30)
    term.wait_exit()
    assert _gone(device)
    term.start()  # boots again from the same flash and resolves the open sale
    qr = term.wait_state("SHOW_QR", timeout=30)
    term.keys("cancel")
    assert term.wait_result()["order_id"] == qr["order_id"]
    term.stop()


def test_killing_the_simulator_leaves_no_firmware_process(system):
    term = system.terminal().start()
    term.wait_ready()
    device = [e for e in term.history if e.get("event") == "engine"][0]["pid"]
    term.kill()
    assert _gone(device)


def test_the_cpython_engine_still_runs_a_sale(system):
    from tools.sim.control import SimProcess

    term = system.terminal()
    term = SimProcess(term.flash, engine="cpython")
    term.start()
    term.wait_ready()
    assert term.engine.startswith("CPython 3."), term.engine
    term.keys("250", "ok")
    qr = term.wait_state("SHOW_QR")
    system.sandbox.pay(qr["code"])
    assert term.wait_result()["state"] == "PAID"
    term.stop()


def test_without_the_unix_port_the_cpython_engine_runs_with_a_notice(monkeypatch, capsys):
    monkeypatch.setattr(engines, "micropython_binary", lambda: None)
    assert engines.choose("micropython") == "cpython"
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "MicroPython unix port is not installed" in notice[0]
    assert engines.choose("cpython") == "cpython"


def test_the_pinned_requests_is_the_one_the_unix_port_freezes():
    import json
    import subprocess

    from tests.conftest import ROOT
    from tools.terminal import build

    out = subprocess.run([engines.micropython_binary(), "-c", "import requests; print(requests.__version__)"],
                         capture_output=True, text=True, timeout=30)
    frozen = out.stdout.strip()
    assert frozen and build.MIP_PACKAGES["requests"] == frozen
    with open(os.path.join(ROOT, "package.json")) as f:
        assert ["requests", frozen] in json.load(f)["deps"]
