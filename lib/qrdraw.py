"""Draw a QR code from packed rows, streamed row by row: no frame buffer, no per-row allocation.

Input (normalised by `packed`), any of the shapes a QR encoder may hand over:
- the tuple `(row_bits, width, data)` from `uqr.make(text).packed()` (lib/uqr.py, or the `uqr` C
  module built into a custom firmware, which shadows lib/ and draws the same code faster): each
  row padded to a multiple of 8 bits, most significant bit first, no quiet zone included;
- an object with `packed()` (either uqr);
- an object with `width()` and `get(x, y)` (the C module's other accessors).

    size = qrdraw.module_size(21 + 4, area_w, area_h)     # largest integer px per module
    qrdraw.draw(lcd, packed, x, y, w, h)                  # centred, quiet zone >= 4 modules

The whole area (x, y, w, h) is painted exactly once, white around the code, so drawing it costs
its pixel bytes on the bus and a few command bytes. A module size below 2 px raises TooLarge: the
caller shows an error screen instead of a picture no camera can read.
"""
from micropython import const

QUIET = const(4)  # modules of quiet zone the standard asks for on each side
MIN_MODULE = const(2)
DARK = const(0x0000)
LIGHT = const(0xFFFF)


class TooLarge(ValueError):
    pass


def packed(qr):
    """Normalise an encoder's output to the packed() tuple (row_bits, width, data)."""
    if isinstance(qr, tuple):
        return qr
    if hasattr(qr, "packed"):
        return qr.packed()
    width = qr.width()
    row_bytes = (width + 7) >> 3
    data = bytearray(row_bytes * width)
    for y in range(width):
        for x in range(width):
            if qr.get(x, y):
                data[y * row_bytes + (x >> 3)] |= 0x80 >> (x & 7)
    return row_bytes * 8, width, data


def module_size(width, area_w, area_h, quiet=QUIET):
    """Largest integer module size that fits the code plus its quiet zone in the area."""
    return min(area_w, area_h) // (width + 2 * quiet)


def draw(lcd, qr, x, y, w, h, dark=DARK, light=LIGHT):
    """Paint the area (x, y, w, h): the code centred on light. Returns (module px, left, top)."""
    row_bits, width, data = packed(qr)
    row_bytes = row_bits >> 3
    size = module_size(width, w, h)
    if size < MIN_MODULE:
        raise TooLarge("QR code of %d modules needs %d px, area is %d px" % (
            width, (width + 2 * QUIET) * MIN_MODULE, min(w, h)))
    side = width * size
    left = (w - side) // 2
    top = (h - side) // 2
    line = w * 2
    buf = lcd.begin(x, y, w, h)
    per_chunk = len(buf) // line
    if per_chunk < 1:
        lcd.end()
        raise ValueError("area wider than the driver's buffer")
    # Light rows above and below the code: one filled chunk, sent as often as needed.
    lcd.fill(per_chunk * line, light)
    _send_rows(lcd, top, per_chunk, line)
    lh = light >> 8
    ll = light & 0xFF
    dh = dark >> 8
    dl = dark & 0xFF
    reps = per_chunk if per_chunk < size else size
    first_row = lcd.view(line)
    for my in range(width):
        # Build one pixel row of this module row, then copy it so that one SPI write carries
        # up to `reps` identical rows.
        lcd.fill(line, light)
        src = my * row_bytes
        i = left * 2
        for mx in range(width):
            if data[src + (mx >> 3)] & (0x80 >> (mx & 7)):
                for _ in range(size):
                    buf[i] = dh
                    buf[i + 1] = dl
                    i += 2
            else:
                i += size * 2
        for k in range(1, reps):
            buf[k * line:(k + 1) * line] = first_row
        left_rows = size
        while left_rows > 0:
            n = reps if left_rows > reps else left_rows
            lcd.send(n * line)
            left_rows -= n
    # Restore the light rows in the buffer for the bottom margin.
    lcd.fill(per_chunk * line, light)
    _send_rows(lcd, h - top - side, per_chunk, line)
    lcd.end()
    return size, x + left, y + top


def _send_rows(lcd, rows, per_chunk, line):
    while rows > 0:
        n = per_chunk if rows > per_chunk else rows
        lcd.send(n * line)
        rows -= n
