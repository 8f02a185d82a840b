"""The board presets are one table (firmware/board/boards.py): docs/technician.md's wiring and
docs/display.md's preset table are generated from it and must match; `alipay-terminal boards`
lists it; the safe-mode gesture in the docs is the one boot.py samples."""
import json
import os
import re

from firmware.board import boards, safemode
from tests.terminal.conftest import ROOT, cli
from tools.terminal import boards as boards_tool


def _read(name):
    with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
        return f.read()


def test_generated_doc_sections_match_the_presets():
    for doc, makers in boards_tool.GENERATED.items():
        text = _read(doc + ".md")
        assert sorted(boards_tool.sections(text)) == sorted(makers), doc
        assert boards_tool.render_doc(text, makers) == text, (
            "docs/%s.md differs from firmware/board/boards.py: run `alipay-terminal boards --update-docs`" % doc)


def test_the_check_would_catch_a_drifted_doc():
    text = _read("technician.md")
    drifted = text.replace("| display SCK | 18 |", "| display SCK | 14 |", 1)
    assert drifted != text
    assert boards_tool.render_doc(drifted, boards_tool.GENERATED["technician"]) != drifted


def test_every_preset_is_in_both_docs_with_its_clock():
    tech, disp = _read("technician.md"), _read("display.md")
    for name, p in boards.BOARDS.items():
        assert "--panel %s" % name in tech and "`%s`" % name in disp
        d = p["display"]
        assert "| display SCK | %d |" % d["sck"] in tech
    assert "30 MHz (runs at 26.7 MHz)" in disp  # the TTGO T-Display, through the GPIO matrix


def test_display_doc_example_uses_the_ttgo_preset():
    d = boards.BOARDS["ttgo-t-display"]["display"]
    m = re.search(r"spi = SPI\((\d+), baudrate=([\d_]+), sck=Pin\((\d+)\), mosi=Pin\((\d+)\)\)", _read("display.md"))
    assert m, "the hand-made SPI example is gone from docs/display.md"
    assert (int(m.group(1)), int(m.group(2).replace("_", "")), int(m.group(3)), int(m.group(4))) == (
        d["spi"], d["baudrate"], d["sck"], d["mosi"])


def test_docs_name_the_safe_mode_gesture_boot_py_samples():
    tech = _read("technician.md")
    section = tech[tech.index("### Safe mode"):]
    section = section[:section.index("\n## ")]
    assert "**%s** key" % safemode.DEFAULT_KEY in section
    assert "for a second" in section and safemode.WINDOW_MS == 1000 and safemode.HOLD_MS == 500
    assert "download mode" in section
    # No step tells the technician to hold BOOT (GPIO0) at reset for safe mode.
    for line in tech.splitlines():
        if "safe mode" in line.lower():
            assert "BOOT key" not in line and "hold BOOT while" not in line, line


def test_boards_command_lists_and_dumps_the_table():
    r = cli("boards")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("esp32s3-st7789") and "[recommended]" in lines[0]
    assert "GPIO matrix" in r.stdout and "26.7 MHz" in r.stdout
    r = cli("boards", "--json")
    data = json.loads(r.stdout)
    assert set(data["boards"]) == set(boards.BOARDS) and data["spi_max_hz"]["iomux"] == 80000000
