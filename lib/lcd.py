"""SPI colour LCD drivers: ST7789(V) and ILI9341, one shared base.

Both controllers share the write path (datasheets: ST7789V v1.6 sections 9.1, ILI9341 v1.11
section 8.2): CASET 0x2A and RASET 0x2B take start/end addresses as big-endian 16-bit pairs, RAMWR
0x2C is followed by the pixels, RGB565 big-endian when COLMOD is 0x55. They differ in their
init sequences and in how the glass is wired (ILI9341 modules are mirrored in x, so their
rotation table carries MX where the ST7789's does not).

    lcd = ST7789(spi, dc=Pin(16, Pin.OUT), cs=Pin(5, Pin.OUT), rst=Pin(23, Pin.OUT),
                 backlight=Pin(4, Pin.OUT), width=135, height=240, x_offset=52, y_offset=40,
                 invert=True)
    lcd.init()
    lcd.fill_rect(0, 0, lcd.width, lcd.height, WHITE)
    buf = lcd.begin(x, y, w, h)     # one window; then stream rows through `buf` (the shared buffer)
    lcd.send(n)                     # send the first n bytes of buf
    lcd.end()

No frame buffer: every drawing streams through one bytearray (`buffer_size`, default 3840 bytes =
eight 240-pixel rows) allocated at construction. The per-row path allocates nothing.
Panels by name (with offsets and colour order) live in lib/panels.py.
"""
import time

from micropython import const

_SWRESET = const(0x01)
_SLPOUT = const(0x11)
_NORON = const(0x13)
_INVOFF = const(0x20)
_INVON = const(0x21)
_DISPOFF = const(0x28)
_DISPON = const(0x29)
_CASET = const(0x2A)
_RASET = const(0x2B)
_RAMWR = const(0x2C)
_MADCTL = const(0x36)
_COLMOD = const(0x3A)

MADCTL_MY = const(0x80)  # row (page) address order
MADCTL_MX = const(0x40)  # column address order
MADCTL_MV = const(0x20)  # row/column exchange
MADCTL_BGR = const(0x08)


def color565(r, g, b):
    """24-bit colour to the 16-bit value the panel stores (5 bits red, 6 green, 5 blue)."""
    return ((r & 0xF8) << 8) | ((g & 0xFC) << 3) | (b >> 3)


BLACK = const(0x0000)
WHITE = const(0xFFFF)


class LCD:
    """Shared driver. Subclasses set INIT (before the colour/rotation set-up) and ROTATIONS.

    width/height: the glass in portrait (rotation 0); x_offset/y_offset: where the glass sits in
    the controller's RAM in that orientation. Rotation r in 0..3 turns the picture by r * 90
    degrees; the offsets for each rotation are worked out from the MADCTL mirror bits, as the
    controller maps addresses (a mirrored axis counts from the far end of the RAM).
    """

    RAM_WIDTH = 240
    RAM_HEIGHT = 320
    # (command, parameters, delay ms after) sent after the hardware/software reset
    INIT = ()
    ROTATIONS = (0, MADCTL_MX | MADCTL_MV, MADCTL_MX | MADCTL_MY, MADCTL_MY | MADCTL_MV)

    def __init__(self, spi, dc, cs=None, rst=None, backlight=None, width=240, height=320,
                 x_offset=0, y_offset=0, rotation=0, bgr=False, invert=False, buffer_size=3840):
        self.spi = spi
        self.dc = dc
        self.cs = cs
        self.rst = rst
        self.bl = backlight
        self.panel_width = width
        self.panel_height = height
        self.x0 = x_offset
        self.y0 = y_offset
        self.bgr = bgr
        self.invert = invert
        self.buffer = bytearray(buffer_size)
        self.mv = memoryview(self.buffer)
        self._views = {}
        # Views of the first 2**k bytes, for fill(): made once, so filling never allocates.
        self._pows = []
        k = 0
        while (1 << k) <= buffer_size:
            self._pows.append(self.mv[:1 << k])
            k += 1
        self._cmd = bytearray(1)
        self._arg = bytearray(4)
        self._argv = memoryview(self._arg)
        self.transactions = 0
        if cs is not None:
            cs.value(1)
        dc.value(0)
        self._set_rotation_fields(rotation)

    # --- bus ------------------------------------------------------------------------------
    def _write(self, buf):
        self.spi.write(buf)
        self.transactions += 1

    def command(self, cmd, args=None):
        """One command byte (DC low), then its parameters (DC high)."""
        if self.cs is not None:
            self.cs.value(0)
        self.dc.value(0)
        self._cmd[0] = cmd
        self._write(self._cmd)
        if args:
            self.dc.value(1)
            self._write(args)
        if self.cs is not None:
            self.cs.value(1)

    # --- set-up ---------------------------------------------------------------------------
    def reset(self):
        """Hardware reset when RST is wired, else SWRESET; the controller needs 120 ms after."""
        if self.rst is not None:
            self.rst.value(1)
            time.sleep_ms(1)
            self.rst.value(0)
            time.sleep_ms(1)  # datasheets: a low pulse of at least 10 us
            self.rst.value(1)
            time.sleep_ms(120)
        self.command(_SWRESET)
        time.sleep_ms(150)

    def init(self):
        self.reset()
        for cmd, args, delay in self.INIT:
            self.command(cmd, args)
            if delay:
                time.sleep_ms(delay)
        self.command(_COLMOD, b"\x55")  # 16 bits per pixel on the 4-wire bus
        time.sleep_ms(10)
        self.rotation(self._rotation)
        self.command(_INVON if self.invert else _INVOFF)
        self.command(_NORON)
        time.sleep_ms(10)
        self.command(_DISPON)
        time.sleep_ms(20)
        self.backlight(1)

    def backlight(self, on):
        if self.bl is not None:
            self.bl.value(1 if on else 0)

    def display(self, on):
        self.command(_DISPON if on else _DISPOFF)

    def _set_rotation_fields(self, rotation):
        rotation &= 3
        self._rotation = rotation
        madctl = self.ROTATIONS[rotation]
        w, h = self.panel_width, self.panel_height
        # Where the glass sits along each RAM axis, counted as the controller counts addresses.
        xs = self.RAM_WIDTH - self.x0 - w if madctl & MADCTL_MX else self.x0
        ys = self.RAM_HEIGHT - self.y0 - h if madctl & MADCTL_MY else self.y0
        if madctl & MADCTL_MV:  # columns now run along the RAM's height, pages along its width
            self.width, self.height = h, w
            self.col_offset, self.row_offset = ys, xs
        else:
            self.width, self.height = w, h
            self.col_offset, self.row_offset = xs, ys
        self.madctl = madctl | (MADCTL_BGR if self.bgr else 0)

    def rotation(self, rotation):
        """Set rotation 0..3; width/height swap for 1 and 3."""
        self._set_rotation_fields(rotation)
        self._arg[0] = self.madctl
        self.command(_MADCTL, self._argv[:1])

    # --- drawing --------------------------------------------------------------------------
    def begin(self, x, y, w, h):
        """Open a window and RAMWR; return the shared buffer. Stream with send(), close with end()."""
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > self.width or y + h > self.height:
            raise ValueError("window outside the screen")
        a = self._arg
        c0 = x + self.col_offset
        c1 = c0 + w - 1
        a[0] = c0 >> 8
        a[1] = c0 & 0xFF
        a[2] = c1 >> 8
        a[3] = c1 & 0xFF
        self.command(_CASET, a)
        r0 = y + self.row_offset
        r1 = r0 + h - 1
        a[0] = r0 >> 8
        a[1] = r0 & 0xFF
        a[2] = r1 >> 8
        a[3] = r1 & 0xFF
        self.command(_RASET, a)
        if self.cs is not None:
            self.cs.value(0)
        self.dc.value(0)
        self._cmd[0] = _RAMWR
        self._write(self._cmd)
        self.dc.value(1)
        return self.buffer

    def view(self, n):
        """The first n bytes of the shared buffer as a memoryview, cached: slicing a memoryview
        allocates on MicroPython, and a screen uses only a few lengths."""
        view = self._views.get(n)
        if view is None:
            if len(self._views) >= 8:
                self._views.clear()
            view = self._views[n] = self.mv[:n]
        return view

    def forget_views(self):
        """Drop the cached views (made again when next needed): which lengths are cached depends
        on what was drawn last, so a caller that wants the heap the same whatever came before (the
        firmware at idle) forgets them."""
        self._views = {}

    def send(self, n):
        """Send the first n bytes of the shared buffer as pixel data."""
        self._write(self.view(n))

    def write(self, buf):
        """Send caller-owned pixel bytes (RGB565 big-endian) inside an open window."""
        self._write(buf)

    def end(self):
        if self.cs is not None:
            self.cs.value(1)

    def fill(self, n, color):
        """Fill the first n bytes (even) of the shared buffer with one colour, without allocating.

        One pixel is written by hand, then the filled part is copied onto the rest in doubling
        power-of-two slices (memmove speed, log2(n) steps) through views made once in __init__.
        """
        buf = self.buffer
        if n <= 0:
            return
        buf[0] = color >> 8
        buf[1] = color & 0xFF
        pows = self._pows
        filled = 2
        k = 1
        while filled * 2 <= n:
            buf[filled:filled * 2] = pows[k]
            filled *= 2
            k += 1
        while filled < n:  # the rest, in the largest power-of-two pieces that fit
            k -= 1
            size = 1 << k
            if filled + size <= n:
                buf[filled:filled + size] = pows[k]
                filled += size

    def fill_rect(self, x, y, w, h, color):
        """Fill a rectangle, clipped to the screen."""
        if x < 0:
            w += x
            x = 0
        if y < 0:
            h += y
            y = 0
        w = min(w, self.width - x)
        h = min(h, self.height - y)
        if w <= 0 or h <= 0:
            return
        total = w * h * 2
        chunk = min(total, len(self.buffer) & ~1)
        self.fill(chunk, color)
        self.begin(x, y, w, h)
        while total > 0:
            n = chunk if total > chunk else total
            self.send(n)
            total -= n
        self.end()

    def blit(self, x, y, w, h, buf):
        """Copy a w*h RGB565 (big-endian) buffer to the screen."""
        if len(buf) < w * h * 2:
            raise ValueError("buffer smaller than the window")
        self.begin(x, y, w, h)
        self.write(buf)
        self.end()


class ST7789(LCD):
    """Sitronix ST7789V: 240x320 RAM; IPS glass usually wants INVON and RGB order."""

    # Power-on defaults (porch, gate, VCOM, gamma) suit the common modules; the datasheet's
    # sequence only needs sleep out (5 ms before the next command, 120 ms before a sleep in).
    INIT = ((_SLPOUT, None, 120),)
    ROTATIONS = (0, MADCTL_MX | MADCTL_MV, MADCTL_MX | MADCTL_MY, MADCTL_MY | MADCTL_MV)


class ILI9341(LCD):
    """Ilitek ILI9341: 240x320 RAM; the glass is mirrored in x and uses BGR order."""

    INIT = (
        (0xC0, b"\x23", 0),  # power control 1: GVDD 4.6 V
        (0xC1, b"\x10", 0),  # power control 2: step-up factor
        (0xC5, b"\x3e\x28", 0),  # VCOM control 1
        (0xC7, b"\x86", 0),  # VCOM control 2
        (0xB1, b"\x00\x18", 0),  # frame rate 79 Hz
        (0xB6, b"\x08\x82\x27", 0),  # display function control: 320 lines
        (0x26, b"\x01", 0),  # gamma curve 1
        (0xE0, b"\x0f\x31\x2b\x0c\x0e\x08\x4e\xf1\x37\x07\x10\x03\x0e\x09\x00", 0),  # +gamma
        (0xE1, b"\x00\x0e\x14\x03\x11\x07\x31\xc1\x48\x08\x0f\x0c\x31\x36\x0f", 0),  # -gamma
        (_SLPOUT, None, 120),
    )
    ROTATIONS = (MADCTL_MX, MADCTL_MV, MADCTL_MY, MADCTL_MX | MADCTL_MY | MADCTL_MV)
