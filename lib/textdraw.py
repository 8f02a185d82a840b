"""Text on an LCD without a frame buffer: one window per text box, rows streamed through the
driver's shared buffer.

A font is a module made by tools/fonts/make_fonts.py (font_small, font_medium, font_large):
HEIGHT, CHARS, META (7 bytes per glyph), BITMAPS (1-bit ink rows, MSB first).

    textdraw.box(lcd, 0, 40, lcd.width, 50, "$12.50", font_large, fg, bg)

`box` paints every pixel of the box exactly once (background and text together), so a screen
built from boxes sends each pixel once: no clear-then-draw overdraw on the bus.
Characters a font lacks are drawn as "?".
"""
from micropython import const

LEFT = const(0)
CENTER = const(1)
RIGHT = const(2)


def _glyph(font, ch):
    i = font.CHARS.find(ch)
    if i < 0:
        i = font.CHARS.find("?")
        if i < 0:
            i = 0
    return i * 7


def width(font, text):
    """Width in pixels of text drawn in this font."""
    meta = font.META
    total = 0
    for ch in text:
        total += meta[_glyph(font, ch)]
    return total


def fit(fonts, text, w):
    """The first font of `fonts` in which text fits w pixels (the last one if none does)."""
    for font in fonts:
        if width(font, text) <= w:
            return font
    return fonts[-1]


def wrap(font, text, w):
    """Split text into lines no wider than w pixels, breaking at spaces (a long word is cut)."""
    lines = []
    line = ""
    for word in text.split():
        candidate = word if not line else line + " " + word
        if width(font, candidate) <= w:
            line = candidate
            continue
        if line:
            lines.append(line)
        while width(font, word) > w and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and width(font, word[:cut]) > w:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def box(lcd, x, y, w, h, text, font, fg, bg, align=CENTER, margin=6):
    """Fill the box with bg and draw one line of text in it, vertically centred."""
    box_runs(lcd, x, y, w, h, ((text, font),), fg, bg, align, margin)


def runs_width(runs):
    """Width of ((text, font), ...) drawn one after another."""
    total = 0
    for text, font in runs:
        total += width(font, text)
    return total


def box_runs(lcd, x, y, w, h, runs, fg, bg, align=CENTER, margin=6):
    """Like box, for a line made of runs in different fonts, ((text, font), ...), on one baseline
    (e.g. a currency code in a small font before large digits). The tallest font is centred."""
    buf = lcd.begin(x, y, w, h)
    row_bytes = w * 2
    rows_per = len(buf) // row_bytes
    if rows_per < 1:
        lcd.end()
        raise ValueError("box wider than the driver's buffer")
    tw = runs_width(runs)
    if align == CENTER:
        pen0 = (w - tw) // 2
    elif align == RIGHT:
        pen0 = w - tw - margin
    else:
        pen0 = margin
    tallest = runs[0][1]
    for text, font in runs:
        if font.HEIGHT > tallest.HEIGHT:
            tallest = font
    baseline = (h - tallest.HEIGHT) // 2 + tallest.BASELINE
    # Per run, found once per box so that the row loop allocates nothing (iterating a str would
    # make a one-character string per character per row): font, top row, first pen x, and the
    # glyphs' offsets into META as 2-byte pairs.
    fonts = []
    tops = []
    pens = []
    glyphs = []
    pen = pen0
    for text, font in runs:
        g = bytearray(2 * len(text))
        j = 0
        for ch in text:
            m = _glyph(font, ch)
            g[j] = m >> 8
            g[j + 1] = m & 0xFF
            j += 2
        fonts.append(font)
        tops.append(baseline - font.BASELINE)
        pens.append(pen)
        glyphs.append(g)
        pen += width(font, text)
    fh = fg >> 8
    fl = fg & 0xFF
    nruns = len(runs)
    r = 0
    while r < h:
        n = rows_per if h - r > rows_per else h - r
        lcd.fill(n * row_bytes, bg)
        for k in range(n):
            base_row = k * row_bytes
            for q in range(nruns):
                font = fonts[q]
                fy = r + k - tops[q]
                if fy < 0 or fy >= font.HEIGHT:
                    continue
                meta = font.META
                bits = font.BITMAPS
                g = glyphs[q]
                pen = pens[q]
                for j in range(0, len(g), 2):
                    m = (g[j] << 8) | g[j + 1]
                    gy = fy - meta[m + 3]
                    ih = meta[m + 4]
                    if 0 <= gy < ih:
                        iw = meta[m + 2]
                        bpr = (iw + 7) >> 3
                        src = ((meta[m + 5] << 8) | meta[m + 6]) + gy * bpr
                        left = pen + meta[m + 1]
                        for c in range(iw):
                            if bits[src + (c >> 3)] & (0x80 >> (c & 7)):
                                p = left + c
                                if 0 <= p < w:
                                    i = base_row + p * 2
                                    buf[i] = fh
                                    buf[i + 1] = fl
                    pen += meta[m]
        lcd.send(n * row_bytes)
        r += n
    lcd.end()
