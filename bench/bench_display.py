"""Benchmark the QR screen: bus traffic (host, through the real driver and the panel emulator) and
memory inside the real MicroPython (WebAssembly build).

    .venv/bin/python bench/bench_display.py [--code TEXT]

For each panel, one QR screen drawn over whatever was there before (a full redraw):
  bytes on the bus, SPI transactions (spi.write calls), the ratio of bytes sent to the screen's
  pixel bytes (target <= 1.05), and the wire time at 40 MHz (bits / 40e6: the floor a real bus
  reaches; CS/DC toggles between transactions add a few microseconds each on an ESP32);
  the countdown tick that follows (bytes, transactions).
Inside MicroPython: the driver's buffer (the largest allocation, target <= 4 KB), bytes allocated by
one QR screen given packed rows, and by one QR screen encoding the text with lib/uqr first, and the
time of that draw in the WebAssembly build on this machine (not an ESP32 figure).
"""
import argparse
import os
import platform
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.sim import device_path  # noqa: E402

device_path()

from tests.shims import clock  # noqa: E402

from tests.display.mpy_harness import MODULES, setup  # noqa: E402
from tools.sim.rig import DisplayRig  # noqa: E402
from tools.sim.snapshot import DEMO_CODE, segno_encode  # noqa: E402

PANELS = ["st7789-135x240", "st7789-240x240", "st7789-240x320", "ili9341-240x320"]
SPI_HZ = 40_000_000


def bus_figures(panel, code):
    from firmware.display.screens import Screens

    import uqr

    clock.manual(0)
    rig = DisplayRig(panel)
    screens = Screens(rig.lcd, merchant="Corner Cafe", currency="USD")
    screens.idle()
    packed = uqr.make(code).packed()
    mark = rig.mark()
    screens.qr(packed, 1250, 178)
    nbytes, transactions = rig.traffic(mark)
    pixels = rig.lcd.width * rig.lcd.height * 2
    mark = rig.mark()
    screens.countdown(177)
    tick_bytes, tick_tx = rig.traffic(mark)
    module = screens._boxes["qr"]
    return {
        "panel": panel, "modules": packed[1], "bytes": nbytes, "transactions": transactions,
        "ratio": nbytes / pixels, "ms_40mhz": nbytes * 8 / SPI_HZ * 1000,
        "tick_bytes": tick_bytes, "tick_tx": tick_tx, "qr_area": module[3:5],
        "errors": len(rig.panel.errors),
    }


def micropython_figures(code):
    from tests.mpy import MicroPython

    import uqr

    packed = uqr.make(code).packed()
    mp = MicroPython()
    try:
        base = setup("st7789-240x320", packed)
        driver = mp.alloc("panels.make(PANEL, spi, dc, cs=Pin(1))", setup=base, modules=MODULES)
        draw = mp.alloc("screens.qr(PACKED, 1250, 178)", setup=base, modules=MODULES)
        with_uqr = mp.alloc("screens.qr(CODE, 1250, 178)", setup=base + "import uqr\nCODE = %r\n" % code,
                            modules=MODULES + ["lib/uqr.py"])
        tick = mp.alloc("screens.countdown(177)", setup=base + "screens.qr(PACKED, 1250, 178)\n",
                        modules=MODULES)
        timing = mp.run(base + (
            "import time\nts = []\n"
            "for i in range(7):\n"
            "    screens.invalidate()\n"
            "    t = time.ticks_us()\n"
            "    screens.qr(PACKED, 1250, 178)\n"
            "    ts.append(time.ticks_diff(time.ticks_us(), t))\n"
            "print(' '.join(str(t) for t in ts))\n"), modules=MODULES)
        times = [int(t) for t in timing.split()]
    finally:
        mp.close()
    return {"driver": driver, "draw": draw, "with_uqr": with_uqr, "tick": tick,
            "draw_ms": statistics.median(times) / 1000}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=DEMO_CODE)
    args = parser.parse_args(argv)
    print("QR screen, code of %d characters; machine: %s, Python %s" % (
        len(args.code), platform.processor() or platform.machine(), platform.python_version()))
    print("%-16s %7s %9s %6s %7s %9s %11s %9s" % ("panel", "modules", "bytes", "tx", "ratio",
                                                  "ms@40MHz", "tick bytes", "tick tx"))
    for panel in PANELS:
        f = bus_figures(panel, args.code)
        print("%-16s %7d %9d %6d %7.4f %9.2f %11d %9d" % (
            f["panel"], f["modules"], f["bytes"], f["transactions"], f["ratio"], f["ms_40mhz"],
            f["tick_bytes"], f["tick_tx"]))
        if f["errors"]:
            print("  protocol errors: %d" % f["errors"])
    m = micropython_figures(args.code)
    print()
    print("inside MicroPython (WebAssembly 1.27, st7789-240x320):")
    print("  driver incl. its row buffer (largest allocation): %d bytes" % m["driver"])
    print("  QR screen from packed rows:                       %d bytes allocated" % m["draw"])
    print("  QR screen encoding the text with lib/uqr first:   %d bytes allocated" % m["with_uqr"])
    print("  countdown tick:                                   %d bytes allocated" % m["tick"])
    print("  QR screen draw time (median of 7, WebAssembly):   %.1f ms" % m["draw_ms"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
