# MicroPython freeze manifest: builds an ESP32 image with the terminal firmware frozen in. Frozen
# bytecode and constant data run from flash: the heap keeps only what the program makes at run
# time, the way further than the .mpy files of a plain deploy (docs/firmware.md, "Heap"). Step by
# step in docs/technician.md:
#
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/this/checkout/manifest.py
#
# then `python -m tools.terminal flash build-ESP32_GENERIC/firmware.bin` and
# `python -m tools.terminal deploy --frozen` (boot.py, main.py, the font files lib/*.bfn and the
# word catalogues firmware/display/*.txt stay on the filesystem, where MicroPython, lib/fonts.py
# and lib/kvfile.py look for them; a filesystem copy of firmware/
# or lib/ modules would shadow the frozen ones).
# Paths are relative to this file. tests/terminal/test_packaging.py checks every device module is
# here and that the version is firmware/app.py's VERSION.

metadata(version="0.2.0", description="Alipay Order Code payment terminal firmware")

# The port's own frozen modules (asyncio, requests, ntptime, ...): the firmware uses them.
include("$(PORT_DIR)/boards/manifest.py")
# micropython-lib's HTTP client, named so a board manifest without the networking bundle has it
# too (a package already required is frozen once).
require("requests")

# The terminal application, as the `firmware` package.
package("firmware", opt=3)

# Device libraries, imported as top-level modules (`import uqr`), as from /lib.
for _name in ("fonts", "kvfile", "late", "lcd", "panels", "qrdraw", "textdraw", "uqr"):
    module(_name + ".py", base_path="lib", opt=3)
