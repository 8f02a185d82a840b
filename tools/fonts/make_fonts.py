"""Make the terminal's bitmap fonts: lib/font_small.bfn, lib/font_medium.bfn, lib/font_large.bfn.

Latin, digits and currency signs come from the DejaVu fonts (Debian `fonts-dejavu-core`, Bitstream
Vera licence with DejaVu changes in the public domain: tools/fonts/LICENSE-DejaVu.txt); any other
character the device can show (tools/fonts/subset.py: the strings of the device code and of
tools/fonts/strings.py), Chinese first of all, comes from WenQuanYi Micro Hei (Debian
`fonts-wqy-microhei`, Apache 2.0: tools/fonts/LICENSE-WenQuanYi.txt), subset to exactly those
characters. FreeType renders each glyph in monochrome mode with the font's own hinting (crisper
than thresholding an anti-aliased glyph); each glyph's ink box is stored as 1-bit rows.

    python -m tools.fonts.make_fonts            # rewrite the three lib/font_*.bfn files
    python -m tools.fonts.make_fonts --check    # exit 1 if they are not what this would write
    python -m tools.fonts.make_fonts --preview out.png

The file format is described (and read) by lib/fonts.py. The device keeps only the advances in
RAM (1 byte per glyph); code points and bitmaps are read from flash.
"""
import argparse
import os
import sys

from PIL import Image, ImageDraw, ImageFont

from tools.fonts import subset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEJAVU = "/usr/share/fonts/truetype/dejavu"
WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # face 0: WenQuanYi Micro Hei
MAGIC = b"BFN1"

ASCII = "".join(chr(c) for c in range(32, 127))
SYMBOLS = "\u20ac\u00a3\u00a5\u20a9"  # € £ ¥ ₩: the currency signs firmware/sale/money.py shows
BULLET = "\u2022"  # PIN digits

# The large font draws amounts and result titles: letters, digits, what amounts and titles use.
LARGE = "".join(chr(c) for c in range(0x30, 0x3A)) + "".join(chr(c) for c in range(0x41, 0x5B)) + \
    "".join(chr(c) for c in range(0x61, 0x7B)) + " !$%'()+,-./:?" + SYMBOLS + BULLET

# name -> (Latin source file, px, CJK px, base characters, why). The base characters' ink box is
# the line box; every other character the device shows (subset.needed_chars) is added where its
# glyph fits that box (Chinese is moved into it), so a language costs no line height.
FONTS = {
    "font_small": ("DejaVuSans-Bold.ttf", 15, 16, ASCII + SYMBOLS + BULLET, "labels and hints"),
    "font_medium": ("DejaVuSans-Bold.ttf", 24, 24, ASCII + SYMBOLS + BULLET, "titles; amounts on narrow panels"),
    "font_large": ("DejaVuSansCondensed-Bold.ttf", 46, 40, LARGE, "amounts and results (digits >= 32 px)"),
}
TIGHT = ("font_large",)


class Source:
    """One TrueType face at one size, rendered in FreeType's monochrome mode."""

    def __init__(self, path, size, index=0, embolden=False):
        self.font = ImageFont.truetype(path, size, index=index)
        self.embolden = embolden  # one more pixel of ink to the right: a regular face beside a bold one
        self.ascent, self.descent = self.font.getmetrics()
        self._notdef = self._render("\uffff")  # a code point no font maps: its "missing" box

    def _render(self, ch):
        advance = int(round(self.font.getlength(ch)))
        pad = advance + 8
        image = Image.new("1", (advance + 2 * pad, self.ascent + self.descent + 8), 0)
        draw = ImageDraw.Draw(image)
        draw.fontmode = "1"  # FreeType monochrome rendering, hinted
        draw.text((pad, 0), ch, font=self.font, fill=1)
        return advance, image.getbbox(), image, pad

    def has(self, ch):
        if ch.isspace():
            return True
        advance, box, image, _pad = self._render(ch)
        n_advance, n_box, n_image, _ = self._notdef
        if box is None:
            return False
        return not (advance == n_advance and box == n_box and image.tobytes() == n_image.tobytes())

    def glyph(self, ch):
        """(advance, ink x, ink width, ink rows [(bits...)], ink top relative to the baseline)."""
        advance, box, image, pad = self._render(ch)
        if box is None:
            return advance, 0, 0, [], 0
        x0, y0, x1, y1 = box
        ink_x = x0 - pad
        if ink_x < 0:  # ink left of the pen position (e.g. 'j'): widen the cell instead of clipping
            advance -= ink_x
            pad += ink_x
            ink_x = 0
        advance = max(advance, x1 - pad)
        rows = [[1 if image.getpixel((x, y)) else 0 for x in range(x0, x1)] for y in range(y0, y1)]
        if self.embolden:
            rows = [[a | b for a, b in zip(row + [0], [0] + row)] for row in rows]
            x1 += 1
            advance = max(advance, ink_x + x1 - x0)
        return advance, ink_x, x1 - x0, rows, y0 - self.ascent


def build(name, extra=None):
    """The font file's bytes and a summary, for font `name`."""
    if extra is None:
        extra = subset.needed_chars()
    filename, px, cjk_px, base, _why = FONTS[name]
    tight = name in TIGHT
    latin = Source(os.path.join(DEJAVU, filename), px)
    cjk = Source(WQY, cjk_px, embolden=cjk_px >= 32)  # WenQuanYi has one weight; DejaVu here is bold
    glyphs = []
    for ch in sorted(set(base) | set(extra)):
        if latin.has(ch):
            glyphs.append((ch, False, ch in base) + latin.glyph(ch))
        elif cjk.has(ch):
            glyphs.append((ch, True, False) + cjk.glyph(ch))
        else:
            raise SystemExit("no font has a glyph for %r (U+%04X)" % (ch, ord(ch)))
    # The line box is the base characters' ink box.
    inked = [g for g in glyphs if g[2] and g[6]]
    top = min(g[7] for g in inked)
    bottom = max(g[7] + len(g[6]) for g in inked)
    placed = []
    left_out = ""
    for ch, is_cjk, in_base, advance, ink_x, width, rows, ink_top in glyphs:
        h = len(rows)
        if is_cjk and rows and h <= bottom - top:  # centred on the line box if it sticks out
            if ink_top < top or ink_top + h > bottom:
                ink_top = top + (bottom - top - h) // 2
        if rows and (ink_top < top or ink_top + h > bottom):
            left_out += ch  # would make the line taller: not in this font (has() says so)
            continue
        if tight and not is_cjk and rows:  # 2 px less air and snug punctuation: "$1,234.56" fits 240 px
            if ch in ".,":
                advance = width + 4
                ink_x = 2
            else:
                advance = max(ink_x + width + 1, advance - 2)
        placed.append((ch, advance, ink_x, width, rows, ink_top))
    n = len(placed)
    index = bytearray()
    advances = bytearray()
    records = bytearray()
    bitmaps = bytearray()
    base = 8 + 11 * n
    for ch, advance, ink_x, width, rows, ink_top in placed:
        assert ord(ch) < 0x10000 and 0 <= advance < 256 and width < 256
        index += ord(ch).to_bytes(2, "big")
        advances.append(advance)
        offset = base + len(bitmaps)
        records += bytes([ink_x, width, (ink_top - top) if rows else 0, len(rows)]) + offset.to_bytes(4, "big")
        nbytes = (width + 7) // 8
        for row in rows:
            bits = 0
            for b in row:
                bits = (bits << 1) | b
            bitmaps += (bits << (nbytes * 8 - width)).to_bytes(nbytes, "big")
    height, baseline = bottom - top, -top
    assert 0 < height < 256 and 0 < baseline < 256
    data = MAGIC + bytes([height, baseline]) + n.to_bytes(2, "big") + index + advances + records + bitmaps
    return data, {"name": name, "glyphs": n, "height": height, "baseline": baseline, "bitmap_bytes": len(bitmaps),
                  "ram_bytes": n, "chars": "".join(p[0] for p in placed), "left_out": left_out, "source": "%s %d px, WenQuanYi Micro Hei %d px" % (
                      filename, px, cjk_px)}


def read(data):
    """Parse a font file on the host: {"height", "baseline", "glyphs": {ch: (advance, x, y, rows)}}."""
    assert data[:4] == MAGIC
    n = int.from_bytes(data[6:8], "big")
    out = {"height": data[4], "baseline": data[5], "glyphs": {}}
    for i in range(n):
        ch = chr(int.from_bytes(data[8 + 2 * i:10 + 2 * i], "big"))
        advance = data[8 + 2 * n + i]
        rec = data[8 + 3 * n + 8 * i:16 + 3 * n + 8 * i]
        ink_x, width, ink_y, height = rec[0], rec[1], rec[2], rec[3]
        offset = int.from_bytes(rec[4:8], "big")
        nbytes = (width + 7) // 8
        rows = []
        for r in range(height):
            bits = int.from_bytes(data[offset + r * nbytes:offset + (r + 1) * nbytes], "big")
            rows.append([(bits >> (nbytes * 8 - 1 - c)) & 1 for c in range(width)])
        out["glyphs"][ch] = (advance, ink_x, ink_y, rows)
    return out


def preview(path, extra=None):
    fonts = [read(build(name, extra)[0]) for name in FONTS]
    width = 1000
    lines = sum((len(f["glyphs"]) * 30 // width + 2) * (f["height"] + 2) + 10 for f in fonts)
    image = Image.new("L", (width, lines), 255)
    y = 0
    for f in fonts:
        x = 4
        for ch, (adv, ix, iy, rows) in f["glyphs"].items():
            if x + adv > width - 4:
                x = 4
                y += f["height"] + 2
            for r, row in enumerate(rows):
                for c, bit in enumerate(row):
                    if bit:
                        image.putpixel((x + ix + c, y + iy + r), 0)
            x += adv
        y += f["height"] + 10
    image.crop((0, 0, width, y)).save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", help="write a PNG showing every glyph instead")
    parser.add_argument("--check", action="store_true", help="only check that the committed files are current")
    parser.add_argument("--out", default=os.path.join(ROOT, "lib"), help="folder for the font files")
    args = parser.parse_args(argv)
    if args.preview:
        preview(args.preview)
        return 0
    extra = subset.needed_chars()
    stale = []
    for name in FONTS:
        data, info = build(name, extra)
        path = os.path.join(args.out, name + ".bfn")
        if args.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                stale.append(path)
            continue
        with open(path, "wb") as f:
            f.write(data)
        print("%s: %d glyphs, height %d px, %d bitmap bytes in flash, %d bytes of index in RAM%s" % (
            name, info["glyphs"], info["height"], info["bitmap_bytes"], info["ram_bytes"],
            "; taller than the line, left out: " + info["left_out"] if info["left_out"] else ""))
    if stale:
        print("out of date (run python -m tools.fonts.make_fonts): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
