"""Small helpers shared by the display tests."""
import segno

from tools.sim.snapshot import segno_encode  # noqa: F401  (re-exported for the tests)


def segno_matrix(text):
    return [[bool(v) for v in row] for row in segno.make(text, micro=False).matrix]


class GetOnlyQR:
    """The C module's other accessors only: width() and get(x, y)."""

    def __init__(self, text):
        self.m = segno_matrix(text)

    def width(self):
        return len(self.m)

    def get(self, x, y):
        return self.m[y][x]


class PackedQR:
    """An object with packed(), like both uqr implementations."""

    def __init__(self, text):
        self._packed = segno_encode(text)

    def packed(self):
        return self._packed


def glass_rgb565(panel, gx, gy):
    return panel.pixel(gx, gy)


def missing(font, text):
    """The characters of text the font lacks, each once, in order ("" when it has them all)."""
    out = ""
    for ch in text:
        if not font.has(ch) and ch not in out:
            out += ch
    return out
