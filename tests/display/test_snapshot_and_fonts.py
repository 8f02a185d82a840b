"""The snapshot command end to end, the font generator's reproducibility, and text drawing."""
import os

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

import font_large
import font_small
import textdraw
from tests.display.conftest import URL_120
from tools.sim.__main__ import main as sim_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_snapshot_command_writes_a_png_zbar_reads(tmp_path, capsys):
    out = tmp_path / "qr.png"
    rc = sim_main(["snapshot", "--screen", "qr", "--code", URL_120, "--amount", "150000",
                   "--currency", "JPY", "--panel", "ili9341-240x320", "--out", str(out)])
    assert rc == 0 and out.exists()
    img = Image.open(out)
    assert img.size == (240, 320)
    assert [d.data.decode() for d in decode(img)] == [URL_120]


def test_snapshot_rotation_and_scale(tmp_path):
    out = tmp_path / "paid.png"
    assert sim_main(["snapshot", "--screen", "paid", "--panel", "st7789-135x240", "--rotation", "1",
                     "--scale", "2", "--out", str(out)]) == 0
    assert Image.open(out).size == (480, 270)


def test_snapshot_unknown_panel_is_a_clear_error(tmp_path, capsys):
    rc = sim_main(["snapshot", "--screen", "idle", "--panel", "st7735-80x160", "--out", str(tmp_path / "x.png")])
    assert rc == 2 and "unknown panel" in capsys.readouterr().err


def test_snapshot_unknown_screen_is_refused(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        sim_main(["snapshot", "--screen", "nope", "--panel", "st7789-240x320", "--out", str(tmp_path / "x.png")])
    assert exit_.value.code == 2


@pytest.mark.skipif(not os.path.exists("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
                    reason="DejaVu fonts (fonts-dejavu-core) not installed")
def test_font_modules_are_what_the_generator_makes(tmp_path):
    from tools.fonts.make_fonts import main as make_fonts

    make_fonts(["--out", str(tmp_path)])
    for name in ("font_small", "font_medium", "font_large"):
        with open(os.path.join(ROOT, "lib", name + ".py"), encoding="utf-8") as f:
            committed = f.read()
        assert (tmp_path / (name + ".py")).read_text(encoding="utf-8") == committed, name


def test_large_digits_are_at_least_32_px_tall():
    for digit in "0123456789":
        m = font_large.CHARS.index(digit) * 7
        assert font_large.META[m + 4] >= 32


def test_text_width_fit_and_wrap():
    assert textdraw.width(font_small, "") == 0
    assert textdraw.runs_width((("ab", font_small), ("12", font_large))) == (
        textdraw.width(font_small, "ab") + textdraw.width(font_large, "12"))
    assert textdraw.fit((font_large, font_small), "$1,234,567.89", 200) is font_small
    assert textdraw.fit((font_large, font_small), "$1.00", 200) is font_large
    lines = textdraw.wrap(font_small, "the wallet declined this payment", 100)
    assert len(lines) > 1 and all(textdraw.width(font_small, line) <= 100 for line in lines)
    assert " ".join(lines) == "the wallet declined this payment"
    cut = textdraw.wrap(font_small, "x" * 40, 100)
    assert "".join(cut) == "x" * 40 and all(textdraw.width(font_small, c) <= 100 for c in cut)


def test_text_box_paints_every_pixel_once_with_the_ink_inside(rig_factory):
    rig = rig_factory("st7789-240x320")
    mark = rig.mark()
    textdraw.box(rig.lcd, 10, 20, 200, 60, "PAID \u00e9", font_large, 0xF800, 0x001F)  # é: drawn as "?"
    nbytes, _ = rig.traffic(mark)
    assert nbytes == 200 * 60 * 2 + 11
    img = rig.image()
    colours = dict((c, n) for n, c in img.crop((10, 20, 210, 80)).getcolors())
    assert set(colours) == {(255, 0, 0), (0, 0, 255)} and colours[(255, 0, 0)] > 500
    assert img.getpixel((9, 20)) == (0, 0, 0) and img.getpixel((210, 79)) == (0, 0, 0)  # nothing outside


def test_alignment(rig_factory):
    rig = rig_factory("st7789-240x320")

    def ink_columns(align):
        textdraw.box(rig.lcd, 0, 0, 240, 30, "OK", font_small, 0x0000, 0xFFFF, align)
        img = rig.image().crop((0, 0, 240, 30))
        cols = [x for x in range(240) if any(img.getpixel((x, y)) == (0, 0, 0) for y in range(30))]
        return cols[0], cols[-1]

    left, right, centre = ink_columns(textdraw.LEFT), ink_columns(textdraw.RIGHT), ink_columns(textdraw.CENTER)
    assert left[0] < 12 and right[1] > 228 and abs((centre[0] + centre[1]) / 2 - 120) < 4
