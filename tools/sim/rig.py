"""A display on the host: the real driver (lib/lcd.py via lib/panels.py) on the machine shim's SPI
bus, with the panel emulator listening to that bus.

    rig = DisplayRig("st7789-135x240", rotation=0)
    rig.lcd.fill_rect(0, 0, 10, 10, 0xF800)
    rig.panel.image(rig.rotation).save("x.png")
    rig.spi.writes      # every (dc, bytes) write the driver made
"""
import time

from tools.sim import device_path

device_path()

import machine  # noqa: E402  (the shim, installed by device_path)
import panels  # noqa: E402

from tools.sim.panel import Panel  # noqa: E402

# Pin numbers of the TTGO T-Display wiring; any free numbers would do on the host.
PIN_DC, PIN_CS, PIN_RST, PIN_BL = 16, 5, 23, 4


class DisplayRig:
    def __init__(self, panel_name, rotation=0, strict=True, init=True, buffer_size=3840):
        self.name = panel_name
        self.rotation = rotation
        self.spi = machine.SPI(1, baudrate=40_000_000)
        self.dc = machine.Pin(PIN_DC, machine.Pin.OUT)
        self.cs = machine.Pin(PIN_CS, machine.Pin.OUT, value=1)
        self.rst = machine.Pin(PIN_RST, machine.Pin.OUT, value=1)
        self.bl = machine.Pin(PIN_BL, machine.Pin.OUT, value=0)
        self.panel = Panel.named(panel_name, strict=strict, now_ms=time.ticks_ms).attach(
            self.spi, self.dc, self.cs, self.rst)
        self.lcd = panels.make(panel_name, self.spi, self.dc, cs=self.cs, rst=self.rst,
                               backlight=self.bl, rotation=rotation, buffer_size=buffer_size)
        if init:
            self.lcd.init()

    def mark(self):
        """Start counting bus traffic from here: returns the index into spi.writes."""
        return len(self.spi.writes)

    def traffic(self, since=0):
        """(bytes, transactions) written on the bus since a mark()."""
        writes = self.spi.writes[since:]
        return sum(len(d) for _, d in writes), len(writes)

    def image(self, scale=1):
        return self.panel.image(self.rotation, scale)
