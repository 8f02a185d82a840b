"""The simulator's live view: the QR screen drawn as terminal half-blocks still scans (zbar)."""
import re

import pytest
from PIL import Image
from pyzbar import pyzbar

from tools.sim import halfblocks
from tools.sim.rig import DisplayRig

CODE = "http://127.0.0.1:44797/c/Pzh1TzviGydYd8H6DEVVxZdr"
_CELL = re.compile(r"\x1b\[38;2;(\d+);(\d+);(\d+)m\x1b\[48;2;(\d+);(\d+);(\d+)m|(\u2580)")


def terminal_picture(text):
    """What a terminal shows for the half-block text: two pixels per character cell."""
    rows = []
    for line in text.split("\n"):
        top, bottom, fg, bg = [], [], None, None
        for m in _CELL.finditer(line):
            if m.group(1):
                fg = tuple(int(m.group(i)) for i in (1, 2, 3))
                bg = tuple(int(m.group(i)) for i in (4, 5, 6))
            else:
                top.append(fg)
                bottom.append(bg)
        rows += [top, bottom]
    img = Image.new("RGB", (len(rows[0]), len(rows)))
    for y, row in enumerate(rows):
        for x, c in enumerate(row):
            img.putpixel((x, y), c)
    return img


@pytest.mark.parametrize("panel,rotation", [("st7789-135x240", 1), ("st7789-240x320", 0)])
def test_live_qr_scans_off_the_terminal(panel, rotation):
    from firmware.display.screens import Screens

    rig = DisplayRig(panel, rotation=rotation)
    Screens(rig.lcd, merchant="Demo", currency="USD").qr(CODE, 1250, seconds=100)
    text = halfblocks.render(rig.image(), step=2)
    assert len(text.split("\n")) <= 80
    pic = terminal_picture(text)
    pic = pic.resize((pic.size[0] * 4, pic.size[1] * 4), Image.NEAREST)
    assert [r.data.decode() for r in pyzbar.decode(pic)] == [CODE]
