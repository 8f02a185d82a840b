"""Run N whole sales inside the WebAssembly MicroPython (tests/firmware/mpy_sales.mjs) and return
the bytes each sale allocated and the heap retained after each (collected between sales).

The sale is tests/device/test_flow_device.py's `Terminal.sale()`: flow, gateway client with
real HMAC signing, journal on the in-memory filesystem, screens drawing to a null SPI bus, and an
in-process fake gateway instead of the network.
"""
import json
import os
import subprocess

from tests.mpy import ROOT, collect_files

DRIVER = os.path.join(ROOT, "tests", "firmware", "mpy_sales.mjs")
MODULES = ["firmware", "lib"]


def run_sales(n, timeout=300, sale="T.sale()", setup=""):
    """`sale` is the expression each sale runs (after `setup`, code run once after the harness)."""
    with open(os.path.join(ROOT, "tests", "device", "test_flow_device.py")) as f:
        harness = f.read()
    req = {"files": collect_files(MODULES), "setup": harness + "\nT = Terminal()\n" + setup, "sale": sale, "n": n}
    out = subprocess.run(["node", DRIVER], cwd=ROOT, input=json.dumps(req), capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "error" in result:
        raise RuntimeError(result["error"] + "\n" + result.get("output", ""))
    return result
