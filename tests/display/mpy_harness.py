"""Run the display stack inside the real MicroPython (WebAssembly build, tests/mpy) with a
recording SPI stand-in: the build has no `machine`, so the pins and the bus are small classes here.

Used by tests/display/test_micropython.py and bench/bench_display.py.
"""
MODULES = ["lib/lcd.py", "lib/panels.py", "lib/qrdraw.py", "lib/textdraw.py", "lib/fonts.py", "lib/late.py",
           "lib/font_small.bfn", "lib/font_medium.bfn", "lib/font_large.bfn", "lib/kvfile.py", "firmware/__init__.py",
           "firmware/sale/money.py", "firmware/display/screens.py", "firmware/display/screens_sale.py",
           "firmware/display/screens_qr.py", "firmware/display/screens_refund.py", "firmware/display/screens_notice.py",
           "firmware/display/texts.py",
           "firmware/display/texts_en.txt", "firmware/display/texts_zh_hans.txt", "firmware/display/texts_zh_hant.txt",
           "firmware/display/reasons.txt"]

# Recording stand-ins: Pin keeps a level; SPI hashes every write with the DC level, so the whole
# stream can be compared with the one CPython produces, and counts bytes and transactions.
SETUP = '''
import hashlib
class Pin:
    def __init__(self, level=0):
        self.level = level
    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v
class SPI:
    def __init__(self, dc):
        self.dc = dc
        self.h = hashlib.sha256()
        self.bytes = 0
        self.writes = 0
        self.largest = 0
        self._tag = bytearray(1)
    def write(self, buf):
        self._tag[0] = self.dc.level
        self.h.update(self._tag)
        self.h.update(buf)
        self.bytes += len(buf)
        self.writes += 1
        if len(buf) > self.largest:
            self.largest = len(buf)
import panels
dc = Pin()
spi = SPI(dc)
lcd = panels.make(PANEL, spi, dc, cs=Pin(1), rst=Pin(1), backlight=Pin())
lcd.init()
from firmware.display.screens import Screens
screens = Screens(lcd, merchant="Corner Cafe", currency="USD")
'''


def setup(panel, packed):
    return "PANEL = %r\nPACKED = %r\n" % (panel, packed) + SETUP


def cpython_stream_hash(rig, since=0):
    """The same digest as the MicroPython SPI stand-in, over the machine shim's recorded writes."""
    import hashlib

    h = hashlib.sha256()
    for dc, data in rig.spi.writes[since:]:
        h.update(bytes([dc]))
        h.update(data)
    return h.hexdigest()
