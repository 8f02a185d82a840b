"""The snapshot command end to end, the font generator's reproducibility, and text drawing."""
import os

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

import fonts
import textdraw
from fonts import large as font_large
from fonts import small as font_small
from tests.display.conftest import URL_120
from tests.display.helpers import missing
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


def test_font_files_are_what_the_generator_makes(tmp_path):
    """lib/font_*.bfn are exactly what tools/fonts makes from today's strings: a word added to the
    firmware's texts without regenerating the fonts fails here."""
    from tools.fonts.make_fonts import main as make_fonts

    assert make_fonts(["--out", str(tmp_path)]) == 0
    for name in ("font_small", "font_medium", "font_large"):
        with open(os.path.join(ROOT, "lib", name + ".bfn"), "rb") as f:
            committed = f.read()
        assert (tmp_path / (name + ".bfn")).read_bytes() == committed, name
    assert make_fonts(["--check"]) == 0


def test_the_check_notices_a_stale_font_file(tmp_path, capsys):
    from tools.fonts.make_fonts import main as make_fonts

    make_fonts(["--out", str(tmp_path)])
    data = bytearray((tmp_path / "font_small.bfn").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "font_small.bfn").write_bytes(bytes(data))
    assert make_fonts(["--check", "--out", str(tmp_path)]) == 1
    assert "font_small.bfn" in capsys.readouterr().err


def _record(font, ch):
    rec = bytearray(8)
    font.record(font.index(ch), rec, 0)
    return rec


def test_large_digits_are_at_least_32_px_tall():
    for digit in "0123456789":
        assert _record(font_large, digit)[3] >= 32


def test_every_character_the_device_shows_is_in_the_small_and_medium_fonts():
    """What tools/fonts/subset.py finds in the device strings (Chinese included) has glyphs, and
    the large font has lowercase letters (titles once read "C?????????")."""
    from tools.fonts import subset

    needed = subset.needed_chars()
    assert set("\u652f\u4ed8\u5b9d\u9322") <= set(needed)  # zh-Hans and zh-Hant of tools/fonts/strings.py
    for font in (fonts.small, fonts.medium):
        assert missing(font, needed) == ""
    assert missing(font_large, "Cancelled Refund Menu 0123456789 $.,") == ""
    assert font_large.has("\u652f") and not font_large.has("\u00e9")  # Chinese yes; accents too tall


def test_chinese_sits_inside_the_latin_line_box():
    """A Chinese glyph never makes a line taller: its ink lies within the font's HEIGHT."""
    for font in (fonts.small, fonts.medium, fonts.large):
        for ch in "\u652f\u4ed8\u5b9d\u9322":
            rec = _record(font, ch)
            assert font.has(ch) and rec[3] >= 0.75 * font.HEIGHT and rec[2] + rec[3] <= font.HEIGHT


def test_a_missing_character_is_reported_and_drawn_as_a_question_mark():
    assert not font_small.has("\u0416") and missing(font_small, "a\u0416b\u0416") == "\u0416"
    assert font_small.width("\u0416") == font_small.width("?")
    assert font_small.index("\u0416") == font_small.index("?")


def test_a_font_from_bytes_in_memory_draws_like_the_file(rig_factory):
    """Font(data=...) (fonts frozen into flash as a bytes constant) gives the same pixels."""
    with open(os.path.join(ROOT, "lib", "font_medium.bfn"), "rb") as f:
        in_memory = fonts.Font(data=f.read(), name="medium-in-memory")
    rig = rig_factory("st7789-240x320")
    out = []
    for font in (fonts.medium, in_memory):
        mark = rig.mark()
        textdraw.box(rig.lcd, 0, 0, 240, 40, "Pay \u652f\u4ed8 $9.99", font, 0, 0xFFFF)
        out.append(rig.spi.writes[mark:])
    assert out[0] == out[1]


def test_not_a_font_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.bfn"
    bad.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not a font file"):
        fonts.Font(str(bad))


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
