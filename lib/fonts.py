"""Bitmap fonts read from flash on demand: only a small index lives in RAM.

A font is a binary file made by tools/fonts (`lib/font_small.bfn` ... on the device
`/lib/font_small.bfn`, found along sys.path). In RAM a font keeps its line metrics and the
advances of its glyphs (1 byte per glyph). The sorted code points stay in the file: printable
ASCII is stored first and complete (a character's glyph is its code - 32), so only another
character costs a binary search, reading two bytes per step. Each glyph's ink box and bitmap
stay in the file too and are read when a text box is drawn, a few bytes at a time into one small
buffer (lib/textdraw.py).

    import fonts
    fonts.small.HEIGHT, fonts.small.BASELINE
    fonts.large.has("g")              # False for a character the font lacks
    fonts.large.covers("Paid")        # True when it has every character
    fonts.medium.width("Enter amount")
    fonts.load("font_small")          # the same object as fonts.small

File layout (all numbers big-endian):
    0   4       magic b"BFN1"
    4   1       HEIGHT: line height in pixels (tight box over every glyph)
    5   1       BASELINE: rows from the line top to the baseline
    6   2       n: number of glyphs
    8   2n      code points, ascending (the Basic Multilingual Plane)
    8+2n  n     advances in pixels
    8+3n  8n    per glyph: ink x, ink width, ink y (from the line top), ink height, 4-byte offset
                of its bitmap from the start of the file
    ...         bitmaps: ink rows, ceil(width / 8) bytes per row, MSB = leftmost pixel

A font can also be made from the file's bytes already in memory (`Font(data=...)`, for a build
that freezes them into flash as a bytes constant): then nothing is copied.
"""
import sys

MAGIC = b"BFN1"
_MP = sys.implementation.name == "micropython"  # stream.readinto(buf, n) exists there


class Font:
    def __init__(self, path=None, data=None, name=None):
        self.name = name or path
        self._path = path
        self._file = None
        self._data = data
        self.data = data  # the bytes bitmaps are read from when in memory, else None
        if data is not None:
            head = data[:8]
        else:
            self._file = open(path, "rb")
            head = self._file.read(8)
        if bytes(head[:4]) != MAGIC:
            raise ValueError("not a font file: %s" % self.name)
        self.HEIGHT = head[4]
        self.BASELINE = head[5]
        n = (head[6] << 8) | head[7]
        self.count = n
        self._two = bytearray(2)
        if data is not None:
            self._codes = data[8:8 + 2 * n]
            self._adv = data[8 + 2 * n:8 + 3 * n]
        else:
            # The code points stay in the file: printable ASCII needs none of them (below), and
            # a search for another character reads a few pairs of bytes.
            self._codes = None
            self._file.seek(8 + 2 * n)
            self._adv = self._file.read(n)
        self._recs = 8 + 3 * n
        # Printable ASCII stored first and complete: index = code - 32, no search.
        self._ascii = n >= 95 and self._code(0) == 32 and self._code(94) == 126
        q = self._find(63)  # "?" stands in for a character the font lacks
        self._fallback = q if q >= 0 else 0
        self._rec = bytearray(8)

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def _code(self, i):
        codes = self._codes
        if codes is None:
            f = self._source()
            f.seek(8 + 2 * i)
            codes = self._two
            f.readinto(codes)
            return (codes[0] << 8) | codes[1]
        return (codes[2 * i] << 8) | codes[2 * i + 1]

    def _find(self, c):
        if self._ascii and 32 <= c <= 126:
            return c - 32
        lo = 95 if self._ascii else 0  # the ASCII block is complete: another character is after it
        hi = self.count - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            m = self._code(mid)
            if m == c:
                return mid
            if m < c:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def has(self, ch):
        """True if the font has a glyph for the one-character string ch."""
        return self._find(ord(ch)) >= 0

    def covers(self, text):
        """True if the font has a glyph for every character of text."""
        for c in codes(text):
            if self._find(c) < 0:
                return False
        return True

    def index(self, ch):
        """Glyph number of ch, or of "?" when the font lacks it."""
        return self.glyph(ord(ch))

    def glyph(self, c):
        """Glyph number of the code point c, or of "?" when the font lacks it."""
        i = self._find(c)
        return self._fallback if i < 0 else i

    def advance(self, i):
        return self._adv[i]

    def width(self, text):
        """Width in pixels of text drawn in this font."""
        adv = self._adv
        total = 0
        for c in codes(text):
            i = self._find(c)
            total += adv[self._fallback if i < 0 else i]
        return total

    def record(self, i, out, at):
        """Copy glyph i's 8-byte record (ink x, w, y, h, offset) into the bytearray out at `at`."""
        if self._data is not None:
            p = self._recs + 8 * i
            d = self._data
            for k in range(8):
                out[at + k] = d[p + k]
            return
        f = self._source()
        f.seek(self._recs + 8 * i)
        rec = self._rec
        f.readinto(rec)
        for k in range(8):
            out[at + k] = rec[k]

    def rows(self, offset, nbytes, buf):
        """Make bitmap bytes [offset, offset + nbytes) of the file readable; return where they
        start: in buf, read from the file (no allocation on MicroPython), or, for a font in
        memory, in `self.data` itself (nothing copied)."""
        if self._data is not None:
            return offset
        f = self._source()
        f.seek(offset)
        if _MP:
            f.readinto(buf, nbytes)
        else:
            f.readinto(memoryview(buf)[:nbytes])
        return 0

    def _source(self):
        if self._file is None:
            self._file = open(self._path, "rb")
        return self._file


def codes(text):
    """The code points of text, as ints: its bytes for ASCII text, else decoded from its UTF-8.

    Iterating a str makes a one-character str per character, and MicroPython interns each one it
    makes (a qstr: on the heap for good). A character drawn for the first time months after boot
    would grow the heap then, by a whole new chunk of the qstr pool (about 8 KB) when one is due."""
    b = text.encode()
    n = len(b)
    if n == len(text):
        return b
    out = []
    i = 0
    while i < n:
        c = b[i]
        if c < 0x80:
            i += 1
        elif c < 0xE0:
            c = ((c & 0x1F) << 6) | (b[i + 1] & 0x3F)
            i += 2
        elif c < 0xF0:
            c = ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F)
            i += 3
        else:
            c = ((c & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F)
            i += 4
        out.append(c)
    return out


_loaded = {}


def find(filename):
    """Path of a font file along sys.path (the device's /lib, the host's lib/)."""
    import os
    for folder in sys.path:
        path = (folder + "/" + filename) if folder else filename
        try:
            os.stat(path)
            return path
        except OSError:
            pass
    raise OSError("font file not found: " + filename)


def load(name):
    """The font `name` (e.g. "font_small"), opened once and shared."""
    font = _loaded.get(name)
    if font is None:
        font = Font(find(name + ".bfn"), name=name)
        _loaded[name] = font
    return font


small = load("font_small")    # labels and hints
medium = load("font_medium")  # titles; amounts on narrow panels
large = load("font_large")    # amounts and results
