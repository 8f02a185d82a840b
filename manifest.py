# MicroPython freeze manifest: builds an ESP32 image with the terminal firmware frozen in (its
# bytecode runs from flash, which saves RAM and import time). Step by step in docs/technician.md:
#
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/this/checkout/manifest.py
#
# then `python -m tools.terminal flash build-ESP32_GENERIC/firmware.bin` and
# `python -m tools.terminal deploy --frozen` (boot.py and main.py stay on the filesystem, where
# MicroPython looks for them; a filesystem copy of firmware/ or lib/ would shadow the frozen one).
# Paths are relative to this file. tests/terminal/test_packaging.py checks every device module is here.

# The port's own frozen modules (asyncio, requests, ntptime, ...): the firmware uses them.
include("$(PORT_DIR)/boards/manifest.py")

# The terminal application, as the `firmware` package.
package("firmware", opt=3)

# Device libraries, imported as top-level modules (`import uqr`), as from /lib.
for _name in ("font_large", "font_medium", "font_small", "lcd", "panels", "qrdraw", "textdraw", "uqr"):
    module(_name + ".py", base_path="lib", opt=3)
