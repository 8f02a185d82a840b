"""Panel emulator: an ST7789V / ILI9341 controller and its glass, fed the SPI byte stream.

It listens to the bus the way the chip does (each write with the level of the DC line: 0 =
command byte, 1 = parameter or pixel data), interprets the commands as the datasheets specify
(ST7789V v1.6 section 9, ILI9341 v1.11 section 8) and keeps the controller's 240x320 RAM. The
image is what the glass would show: the glass sits at its own offset in that RAM, so a driver
with a wrong offset, rotation or colour order produces a shifted, turned or miscoloured picture,
exactly as on a real panel. The glass properties here are written from the modules' datasheets,
independently of lib/panels.py, so the emulator checks the driver rather than echoing it.

    panel = Panel.named("st7789-135x240", now_ms=time.ticks_ms)
    panel.attach(spi, dc_pin, cs_pin)      # machine shim: listens to the bus
    ... driver draws ...
    panel.image(rotation=1).save("out.png")   # as a viewer holding the device at rotation 1 sees it

Protocol errors (ProtocolError; with strict=False collected in `panel.errors` instead):
pixel or parameter data outside a command that takes it, a window beyond the RAM, outside the
glass or inverted, pixel data beyond the window, drawing before init (asleep, or not 16-bit colour),
commands inside the reset / sleep-out delays or while RST is low, unknown commands, missing
parameters.
"""
from PIL import Image

SWRESET, SLPIN, SLPOUT, NORON = 0x01, 0x10, 0x11, 0x13
INVOFF, INVON, DISPOFF, DISPON = 0x20, 0x21, 0x28, 0x29
CASET, RASET, RAMWR, MADCTL, COLMOD, RAMWRC = 0x2A, 0x2B, 0x2C, 0x36, 0x3A, 0x3C
MY, MX, MV, BGR = 0x80, 0x40, 0x20, 0x08

RAM_W, RAM_H = 240, 320

# Parameter bytes each command takes (None: a pixel stream). A (min, max) pair for commands
# whose trailing parameters are optional.
_COMMON = {
    0x00: 0, SWRESET: 0, SLPIN: 0, SLPOUT: 0, 0x12: 0, NORON: 0, INVOFF: 0, INVON: 0,
    0x26: 1, DISPOFF: 0, DISPON: 0, CASET: 4, RASET: 4, RAMWR: None, 0x30: 4, 0x33: 6,
    0x34: 0, 0x35: 1, MADCTL: 1, 0x37: 2, 0x38: 0, 0x39: 0, COLMOD: 1, RAMWRC: None,
    0x44: 2, 0x51: 1, 0x53: 1, 0x55: 1,
}
COMMANDS = {
    "st7789": {**_COMMON, **{
        0xB0: 2, 0xB2: 5, 0xB7: 1, 0xBB: 1, 0xC0: 1, 0xC2: 2, 0xC3: 1, 0xC4: 1, 0xC6: 1,
        0xD0: 2, 0xE0: 14, 0xE1: 14, 0xE7: 1,
    }},
    "ili9341": {**_COMMON, **{
        0xB0: 1, 0xB1: 2, 0xB2: 2, 0xB3: 2, 0xB4: 1, 0xB5: 4, 0xB6: (3, 4), 0xB7: 1,
        0xC0: 1, 0xC1: 1, 0xC5: 2, 0xC7: 1, 0xE0: 15, 0xE1: 15, 0xF2: 1, 0xF6: 3,
        0xCB: 5, 0xCF: 3, 0xE8: 3, 0xEA: 2, 0xED: 4, 0xF7: 1,
    }},
}

# The glass of each module: controller, size, where it sits in RAM (portrait), whether its
# sub-pixels are BGR, whether it is an IPS (normally black) glass that needs INVON for true
# colours, and whether its source lines run right to left (mirrored in x, as on ILI9341 modules).
GLASS = {
    "st7789-240x320": dict(controller="st7789", width=240, height=320, x=0, y=0, bgr=False, ips=True, mirror_x=False),
    "st7789-240x240": dict(controller="st7789", width=240, height=240, x=0, y=0, bgr=False, ips=True, mirror_x=False),
    "st7789-135x240": dict(controller="st7789", width=135, height=240, x=52, y=40, bgr=False, ips=True, mirror_x=False),
    "ili9341-240x320": dict(controller="ili9341", width=240, height=320, x=0, y=0, bgr=True, ips=False, mirror_x=True),
}

RESET_WAIT_MS = 5  # datasheets: 5 ms after SWRESET / SLPOUT before the next command
SLPOUT_AFTER_RESET_MS = 120


class ProtocolError(AssertionError):
    pass


class Panel:
    def __init__(self, controller, width, height, x=0, y=0, bgr=False, ips=False, mirror_x=False,
                 strict=True, now_ms=None, name=None):
        self.name = name or "%s-%dx%d" % (controller, width, height)
        self.controller = controller
        self.commands = COMMANDS[controller]
        self.width, self.height = width, height
        self.gx, self.gy = x, y
        self.glass_bgr, self.ips, self.mirror_x = bgr, ips, mirror_x
        self.strict = strict
        self.now_ms = now_ms
        self.errors = []
        self.in_reset = False
        self.hardware_resets = 0
        self.ram = bytearray(RAM_W * RAM_H * 2)
        self.bytes_seen = 0
        self.writes_seen = 0
        self.pixels_written = 0
        self.power_on()

    @classmethod
    def named(cls, name, **kwargs):
        if name not in GLASS:
            raise ValueError("unknown panel %r (known: %s)" % (name, ", ".join(sorted(GLASS))))
        return cls(name=name, **dict(GLASS[name], **kwargs))

    # --- state ----------------------------------------------------------------------------
    def power_on(self):
        """The state after power-on or a reset (datasheets: 'Reset table')."""
        self.asleep = True
        self.display_on = False
        self.inverted = False
        self.madctl = 0
        self.colmod = 0x66  # 18-bit colour until the host selects 16-bit
        self.xs, self.xe, self.ys, self.ye = 0, RAM_W - 1, 0, RAM_H - 1
        self.cmd = None
        self.params = bytearray()
        self.in_ram_write = False
        self.col = self.page = 0
        self.partial = None
        self.quiet_until = None  # no command accepted before this time (ms)
        self.slpout_allowed_at = None
        self.reset_count = getattr(self, "reset_count", -1) + 1

    def error(self, message):
        self.errors.append(message)
        if self.strict:
            raise ProtocolError(message)

    # --- bus ------------------------------------------------------------------------------
    def attach(self, spi, dc=None, cs=None, rst=None):
        """Listen to a machine-shim SPI bus; dc/cs are the pins (or ids) the driver uses. With
        `rst` (a shim Pin), the RST line resets the controller as the hardware pin does."""
        if dc is not None:
            spi.watch_dc(dc)
        if cs is not None:
            spi.watch_cs(cs)
        spi.listeners.append(self.feed)
        if rst is not None:
            self.in_reset = not rst.value()
            rst.irq(self._rst_edge)
        return self

    def _rst_edge(self, pin):
        """RST low holds the controller in reset; the rising edge starts it from the reset state."""
        if not pin.value():
            self.in_reset = True
            return
        self.in_reset = False
        self.power_on()
        self.hardware_resets += 1
        now = self.now_ms() if self.now_ms else None
        if now is not None:
            self.quiet_until = now + RESET_WAIT_MS
            self.slpout_allowed_at = now + SLPOUT_AFTER_RESET_MS

    def feed(self, dc, data):
        """One SPI write: dc 0 = command bytes, 1 = parameters or pixels."""
        self.writes_seen += 1
        self.bytes_seen += len(data)
        if dc is None:
            self.error("the DC line is not watched: cannot tell commands from data")
            return
        if self.in_reset:
            self.error("%d bytes sent while RST holds the controller in reset" % len(data))
            return
        if dc == 0:
            for byte in data:
                self._command(byte)
        else:
            self._data(data)

    def _command(self, byte):
        self._finish_command()
        if byte not in self.commands:
            self.error("unknown command 0x%02X for %s" % (byte, self.controller))
            self.cmd = None
            return
        now = self.now_ms() if self.now_ms else None
        if now is not None and self.quiet_until is not None and now < self.quiet_until:
            self.error("command 0x%02X sent %d ms after reset/sleep-out; the controller needs %d ms"
                       % (byte, now - (self.quiet_until - RESET_WAIT_MS), RESET_WAIT_MS))
        self.cmd = byte
        self.params = bytearray()
        self.in_ram_write = False
        if self.commands[byte] == 0:
            self._execute(now)
            self.cmd = None  # complete: any data now would be outside a command
        elif self.commands[byte] is None:
            self._start_ram_write(continue_=byte == RAMWRC)

    def _finish_command(self):
        """A new command ends the previous one: check it got its parameters."""
        if self.cmd is None:
            return
        want = self.commands[self.cmd]
        if want is None or want == 0:
            self.cmd = None
            return
        lo = want[0] if isinstance(want, tuple) else want
        got = len(self.params)
        if got < lo:
            self.error("command 0x%02X got %d parameter bytes, needs %d" % (self.cmd, got, lo))
        self.cmd = None

    def _data(self, data):
        if self.cmd is None:
            self.error("%d data bytes outside any command (pixel data outside a RAMWR)" % len(data))
            return
        want = self.commands[self.cmd]
        if want is None:
            if self.in_ram_write:
                self._pixels(data)
            return
        lo, hi = want if isinstance(want, tuple) else (want, want)
        room = hi - len(self.params)
        if len(data) > room:
            self.error("command 0x%02X takes %d parameter bytes, got %d more (pixel data outside a RAMWR?)"
                       % (self.cmd, hi, len(data) - room))
            data = data[:room]
        self.params += data
        if len(self.params) == lo or (len(self.params) == hi and lo != hi):
            self._execute(self.now_ms() if self.now_ms else None)

    def _execute(self, now):
        cmd, p = self.cmd, self.params
        if cmd == SWRESET:
            self.power_on()
            if now is not None:
                self.quiet_until = now + RESET_WAIT_MS
                self.slpout_allowed_at = now + SLPOUT_AFTER_RESET_MS
        elif cmd == SLPOUT:
            if now is not None and self.slpout_allowed_at is not None and now < self.slpout_allowed_at:
                self.error("SLPOUT %d ms after reset; the controller needs %d ms"
                           % (now - (self.slpout_allowed_at - SLPOUT_AFTER_RESET_MS), SLPOUT_AFTER_RESET_MS))
            self.asleep = False
            if now is not None:
                self.quiet_until = now + RESET_WAIT_MS
        elif cmd == SLPIN:
            self.asleep = True
        elif cmd == DISPON:
            self.display_on = True
        elif cmd == DISPOFF:
            self.display_on = False
        elif cmd == INVON:
            self.inverted = True
        elif cmd == INVOFF:
            self.inverted = False
        elif cmd == MADCTL:
            self.madctl = p[0]
        elif cmd == COLMOD:
            self.colmod = p[0]
        elif cmd == CASET:
            self.xs, self.xe = (p[0] << 8) | p[1], (p[2] << 8) | p[3]
        elif cmd == RASET:
            self.ys, self.ye = (p[0] << 8) | p[1], (p[2] << 8) | p[3]

    # --- memory ---------------------------------------------------------------------------
    def _limits(self):
        """Column and page address limits: MV exchanges them."""
        return (RAM_H, RAM_W) if self.madctl & MV else (RAM_W, RAM_H)

    def _physical(self, col, page):
        """RAM (x, y) the controller writes for a (column, page) address under MADCTL."""
        if self.madctl & MV:
            x, y = page, col
        else:
            x, y = col, page
        if self.madctl & MX:
            x = RAM_W - 1 - x
        if self.madctl & MY:
            y = RAM_H - 1 - y
        return x, y

    def _start_ram_write(self, continue_=False):
        if self.asleep:
            self.error("RAMWR before init: the controller is asleep (no SLPOUT since reset)")
        if self.colmod & 0x07 != 0x05:
            self.error("RAMWR before init: COLMOD is 0x%02X, not 16-bit colour (0x55)" % self.colmod)
        cols, pages = self._limits()
        if self.xs > self.xe or self.ys > self.ye:
            self.error("window start after its end: columns %d..%d, rows %d..%d"
                       % (self.xs, self.xe, self.ys, self.ye))
            return
        if self.xe >= cols or self.ye >= pages:
            self.error("window beyond the RAM: columns %d..%d, rows %d..%d (RAM %dx%d)"
                       % (self.xs, self.xe, self.ys, self.ye, cols, pages))
            return
        corners = [self._physical(c, p) for c in (self.xs, self.xe) for p in (self.ys, self.ye)]
        if any(not (self.gx <= x < self.gx + self.width and self.gy <= y < self.gy + self.height)
               for x, y in corners):
            self.error("window beyond the panel: columns %d..%d, rows %d..%d fall outside the %dx%d glass"
                       % (self.xs, self.xe, self.ys, self.ye, self.width, self.height))
        self.in_ram_write = True
        if not continue_:
            self.col, self.page = self.xs, self.ys
            self.partial = None

    def _pixels(self, data):
        if self.partial is not None:
            data = bytes([self.partial]) + bytes(data)
            self.partial = None
        if len(data) & 1:
            self.partial = data[-1]
            data = data[:-1]
        data = bytes(data)
        pos = 0
        n_pixels = len(data) // 2
        while pos < n_pixels:
            if self.page > self.ye:
                self.error("%d pixels beyond the window's end" % (n_pixels - pos))
                return
            run = min(self.xe - self.col + 1, n_pixels - pos)
            self._store_run(self.col, self.page, data[pos * 2:(pos + run) * 2], run)
            pos += run
            self.pixels_written += run
            self.col += run
            if self.col > self.xe:
                self.col = self.xs
                self.page += 1

    def _store_run(self, col, page, chunk, run):
        """Store `run` pixels along one window row (consecutive columns) into RAM."""
        x0, y0 = self._physical(col, page)
        start = (y0 * RAM_W + x0) * 2
        if run == 1:
            self.ram[start:start + 2] = chunk
            return
        x1, y1 = self._physical(col + 1, page)
        step = ((y1 * RAM_W + x1) * 2) - start
        last = start + step * (run - 1)
        for byte in (0, 1):
            stop = last + byte + (1 if step > 0 else -1)
            self.ram[start + byte:(stop if stop >= 0 else None):step] = chunk[byte::2]

    # --- the picture ----------------------------------------------------------------------
    def pixel(self, gx, gy):
        """The RGB565 value the glass shows at glass pixel (gx, gy) (portrait, native)."""
        rx = self.gx + (self.width - 1 - gx if self.mirror_x else gx)
        i = ((self.gy + gy) * RAM_W + rx) * 2
        value = (self.ram[i] << 8) | self.ram[i + 1]
        if not self.display_on or self.asleep:
            return 0
        if bool(self.madctl & BGR) != self.glass_bgr:
            value = ((value & 0x1F) << 11) | (value & 0x07E0) | (value >> 11)
        if self.ips != self.inverted:
            value ^= 0xFFFF
        return value

    def glass_image(self):
        """The glass as a PIL RGB image, in its native portrait orientation."""
        out = bytearray(self.width * self.height * 3)
        table = _RGB_TABLE
        i = 0
        for gy in range(self.height):
            for gx in range(self.width):
                v = self.pixel(gx, gy)
                out[i:i + 3] = table[v]
                i += 3
        return Image.frombytes("RGB", (self.width, self.height), bytes(out))

    def image(self, rotation=0, scale=1):
        """What a viewer sees holding the device at this rotation (1 = turned so that the
        glass's top-right corner is the top-left), scaled by an integer factor."""
        img = self.glass_image()
        turn = {0: None, 1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180,
                3: Image.Transpose.ROTATE_270}[rotation & 3]
        if turn is not None:
            img = img.transpose(turn)
        if scale > 1:
            img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
        return img

    def save(self, path, rotation=0, scale=1):
        self.image(rotation, scale).save(path)
        return path


def rgb888(value):
    """RGB565 to an (r, g, b) triple, replicating the high bits into the low ones."""
    r5, g6, b5 = value >> 11, (value >> 5) & 0x3F, value & 0x1F
    return ((r5 << 3) | (r5 >> 2), (g6 << 2) | (g6 >> 4), (b5 << 3) | (b5 >> 2))


_RGB_TABLE = [bytes(rgb888(v)) for v in range(65536)]
