"""Text on an LCD without a frame buffer: one window per text box, rows streamed through the
driver's shared buffer.

A font is a lib/fonts.py `Font` (fonts.small, fonts.medium, fonts.large): metrics and advances
in RAM, glyph bitmaps read from flash while a box is drawn.

    textdraw.box(lcd, 0, 40, lcd.width, 50, "$12.50", fonts.large, fg, bg)

`box` paints every pixel of the box exactly once (background and text together), so a screen
built from boxes sends each pixel once: no clear-then-draw overdraw on the bus.
Characters a font lacks are drawn as "?" (`font.has(ch)` / `font.covers(text)` tell beforehand).
"""
from micropython import const

from fonts import codes

LEFT = const(0)
CENTER = const(1)
RIGHT = const(2)

def width(font, text):
    """Width in pixels of text drawn in this font."""
    return font.width(text)


def fit(fonts, text, w):
    """The first font of `fonts` in which text fits w pixels (the last one if none does)."""
    for font in fonts:
        if font.width(text) <= w:
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
        total += font.width(text)
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
    # Once per box, so that the band loop allocates nothing: per glyph its pen x, top row in the
    # box, run number and its record from the font file (ink x, w, y, h, bitmap offset), 13 bytes
    # each. Characters go by code point (fonts.codes): a str per character would be interned.
    count = 0
    for text, font in runs:
        count += len(text)
    glyphs = bytearray(13 * count)
    need = 0
    j = 0
    pen = pen0
    for q in range(len(runs)):
        text, font = runs[q]
        top = baseline - font.BASELINE
        for c in codes(text):
            i = font.glyph(c)
            font.record(i, glyphs, j + 5)
            p = pen + glyphs[j + 5]
            t = top + glyphs[j + 7]
            glyphs[j] = (p >> 8) & 0xFF
            glyphs[j + 1] = p & 0xFF
            glyphs[j + 2] = (t >> 8) & 0xFF
            glyphs[j + 3] = t & 0xFF
            glyphs[j + 4] = q
            k = ((glyphs[j + 6] + 7) >> 3) * (rows_per if rows_per < glyphs[j + 8] else glyphs[j + 8])
            if k > need:
                need = k
            pen += font.advance(i)
            j += 13
    # The bitmap rows of one glyph within one band are read into this buffer: made per box (a few
    # dozen bytes: a band is a few rows), not kept grown to the largest glyph drawn so far, which
    # would leave the heap depending on which text, in which language, was drawn first.
    scratch = bytearray(need)
    fh = fg >> 8
    fl = fg & 0xFF
    r = 0
    while r < h:
        n = rows_per if h - r > rows_per else h - r
        lcd.fill(n * row_bytes, bg)
        for j in range(0, 13 * count, 13):
            ih = glyphs[j + 8]
            if ih == 0:
                continue
            gtop = (glyphs[j + 2] << 8) | glyphs[j + 3]
            if gtop & 0x8000:
                gtop -= 0x10000
            g0 = r - gtop
            if g0 < 0:
                g0 = 0
            g1 = r + n - gtop
            if g1 > ih:
                g1 = ih
            if g0 >= g1:
                continue
            left = (glyphs[j] << 8) | glyphs[j + 1]
            if left & 0x8000:
                left -= 0x10000
            iw = glyphs[j + 6]
            bpr = (iw + 7) >> 3
            off = (glyphs[j + 9] << 24) | (glyphs[j + 10] << 16) | (glyphs[j + 11] << 8) | glyphs[j + 12]
            font = runs[glyphs[j + 4]][1]
            src = font.rows(off + g0 * bpr, (g1 - g0) * bpr, scratch)
            bits = scratch if font.data is None else font.data
            for gy in range(g0, g1):
                base_row = (gtop + gy - r) * row_bytes
                for c in range(iw):
                    if bits[src + (c >> 3)] & (0x80 >> (c & 7)):
                        p = left + c
                        if 0 <= p < w:
                            k = base_row + p * 2
                            buf[k] = fh
                            buf[k + 1] = fl
                src += bpr
        lcd.send(n * row_bytes)
        r += n
    lcd.end()
