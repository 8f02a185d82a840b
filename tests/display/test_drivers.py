"""The ST7789 and ILI9341 drivers against the panel emulator: init streams, rotation, offsets,
colour order, and the drawing primitives."""
import pytest

import lcd as lcdmod
from tools.sim.panel import GLASS

PANELS = sorted(GLASS)
RED, GREEN, BLUE, WHITE, BLACK = 0xF800, 0x07E0, 0x001F, 0xFFFF, 0x0000


def commands(spi):
    return [data[0] for dc, data in spi.writes if dc == 0]


def test_st7789_init_stream(rig_factory):
    rig = rig_factory("st7789-135x240")
    # hardware reset pulse, SWRESET, SLPOUT, COLMOD, MADCTL, INVON (IPS glass), NORON, DISPON
    assert commands(rig.spi) == [0x01, 0x11, 0x3A, 0x36, 0x21, 0x13, 0x29]
    assert rig.panel.hardware_resets == 1
    p = rig.panel
    assert (p.asleep, p.display_on, p.colmod, p.inverted, p.madctl) == (False, True, 0x55, True, 0x00)
    assert p.errors == [] and rig.bl.value() == 1


def test_ili9341_init_stream(rig_factory):
    rig = rig_factory("ili9341-240x320")
    assert commands(rig.spi) == [0x01, 0xC0, 0xC1, 0xC5, 0xC7, 0xB1, 0xB6, 0x26, 0xE0, 0xE1, 0x11,
                                 0x3A, 0x36, 0x20, 0x13, 0x29]
    p = rig.panel
    # MX because ILI9341 modules' glass is mirrored in x; BGR sub-pixels; TN glass: INVOFF
    assert (p.asleep, p.display_on, p.colmod, p.inverted, p.madctl) == (False, True, 0x55, False, 0x48)
    assert p.errors == []


def test_init_respects_the_controller_delays(rig_factory):
    """The emulator checks the 5 ms / 120 ms waits against the shim clock: a driver that skipped
    them would fail here."""
    class Hasty(lcdmod.ST7789):
        INIT = ((0x11, None, 0),)

    rig = rig_factory("st7789-240x320", init=False)
    rig.lcd.__class__ = Hasty
    rig.lcd.reset = lambda: rig.lcd.command(0x01)  # no wait after the reset either
    with pytest.raises(AssertionError, match="after reset"):
        rig.lcd.init()


def glass_of(rotation, lx, ly, gw, gh):
    """Where a logical pixel must land on the glass (portrait, native) for each rotation:
    1 = the picture turned a quarter clockwise, origin at the glass's top-right corner."""
    return [(lx, ly), (gw - 1 - ly, lx), (gw - 1 - lx, gh - 1 - ly), (ly, gh - 1 - lx)][rotation]


@pytest.mark.parametrize("rotation", [0, 1, 2, 3])
@pytest.mark.parametrize("name", PANELS)
def test_known_pattern_lands_where_it_should_in_every_rotation(rig_factory, name, rotation):
    rig = rig_factory(name, rotation=rotation)
    lcd, panel = rig.lcd, rig.panel
    gw, gh = GLASS[name]["width"], GLASS[name]["height"]
    assert (lcd.width, lcd.height) == ((gh, gw) if rotation & 1 else (gw, gh))
    w, h = lcd.width, lcd.height
    lcd.fill_rect(0, 0, w, h, BLACK)
    corners = {(0, 0): RED, (w - 1, 0): GREEN, (0, h - 1): BLUE, (w - 1, h - 1): WHITE}
    for (x, y), colour in corners.items():
        lcd.fill_rect(x, y, 1, 1, colour)
    lcd.fill_rect(5, 2, 1, 1, RED)  # asymmetric: tells a mirror from a rotation
    assert panel.errors == []
    for (x, y), colour in list(corners.items()) + [((5, 2), RED)]:
        assert panel.pixel(*glass_of(rotation, x, y, gw, gh)) == colour, (x, y)
    # The viewer's picture puts the logical origin top-left with true colours.
    view = rig.image()
    assert view.size == (w, h)
    assert view.getpixel((0, 0)) == (255, 0, 0) and view.getpixel((5, 2)) == (255, 0, 0)
    assert view.getpixel((w - 1, h - 1)) == (255, 255, 255) and view.getpixel((0, h - 1)) == (0, 0, 255)


@pytest.mark.parametrize("name", PANELS)
def test_full_screen_fill_covers_exactly_the_glass(rig_factory, name):
    rig = rig_factory(name, rotation=1)
    rig.lcd.fill_rect(0, 0, rig.lcd.width, rig.lcd.height, GREEN)
    colours = rig.panel.glass_image().getcolors()
    assert colours == [(rig.panel.width * rig.panel.height, (0, 255, 0))]
    assert rig.panel.pixels_written == rig.panel.width * rig.panel.height


def test_a_wrong_rotation_table_shows_a_mirrored_picture(rig_factory):
    """The emulator is not a mirror of the driver: the ILI9341 table on an ST7789 glass mirrors."""
    rig = rig_factory("st7789-240x320", init=False)
    rig.lcd.ROTATIONS = lcdmod.ILI9341.ROTATIONS
    rig.lcd._set_rotation_fields(0)
    rig.lcd.init()
    rig.lcd.fill_rect(0, 0, 1, 1, RED)
    assert rig.panel.pixel(239, 0) == RED and rig.panel.pixel(0, 0) == BLACK


def test_a_missing_offset_draws_off_the_glass(rig_factory):
    rig = rig_factory("st7789-135x240", strict=False, init=False)
    rig.lcd.x0 = rig.lcd.y0 = 0
    rig.lcd._set_rotation_fields(0)
    rig.lcd.init()
    rig.lcd.fill_rect(0, 0, 135, 240, RED)
    assert any("beyond the panel" in e for e in rig.panel.errors)
    assert rig.panel.pixel(0, 0) == RED and rig.panel.pixel(134, 239) == BLACK  # shifted by 52/40


def test_wrong_colour_order_swaps_red_and_blue(rig_factory):
    rig = rig_factory("ili9341-240x320", init=False)
    rig.lcd.bgr = False
    rig.lcd._set_rotation_fields(0)
    rig.lcd.init()
    rig.lcd.fill_rect(0, 0, 1, 1, RED)
    assert rig.panel.pixel(0, 0) == BLUE


def test_fill_rect_clips_and_blit_copies(rig_factory):
    rig = rig_factory("st7789-240x240")
    lcd = rig.lcd
    lcd.fill_rect(-5, -5, 10, 10, RED)  # clipped to 5x5
    lcd.fill_rect(300, 0, 10, 10, RED)  # fully outside: nothing sent
    assert rig.panel.pixels_written == 25
    lcd.blit(10, 10, 2, 1, b"\x07\xe0\x00\x1f")
    assert rig.panel.pixel(10, 10) == GREEN and rig.panel.pixel(11, 10) == BLUE
    with pytest.raises(ValueError):
        lcd.blit(0, 0, 4, 4, b"\x00\x00")
    with pytest.raises(ValueError):
        lcd.begin(230, 0, 20, 1)


def test_fill_rect_streams_through_the_small_buffer(rig_factory):
    rig = rig_factory("st7789-240x320")
    mark = rig.mark()
    rig.lcd.fill_rect(0, 0, 240, 320, WHITE)
    sizes = [len(d) for dc, d in rig.spi.writes[mark:] if dc == 1]
    assert max(sizes) <= len(rig.lcd.buffer) == 3840
    assert sum(sizes) == 240 * 320 * 2 + 8  # pixels plus the CASET/RASET parameters


def test_unknown_panel_name():
    import panels

    with pytest.raises(ValueError, match="unknown panel"):
        panels.make("st7735-80x160", None, None)


def test_fill_writes_exactly_n_bytes_of_the_colour_for_every_length(rig_factory):
    lcd = rig_factory("st7789-240x240", init=False).lcd
    for n in list(range(2, 200, 2)) + [478, 480, 482, 2046, 2048, 2050, 3838, 3840]:
        lcd.buffer[:] = b"\xaa" * len(lcd.buffer)
        lcd.fill(n, 0x1234)
        assert lcd.buffer[:n] == b"\x12\x34" * (n // 2), n
        assert lcd.buffer[n:n + 2] in (b"\xaa\xaa", b"\xaa", b""), n


def test_the_rst_line_resets_the_controller(rig_factory):
    rig = rig_factory("st7789-240x320")
    rig.lcd.fill_rect(0, 0, 1, 1, RED)
    rig.rst.value(0)
    assert rig.panel.in_reset
    with pytest.raises(AssertionError, match="RST holds"):
        rig.lcd.fill_rect(0, 0, 1, 1, RED)
    rig.rst.value(1)
    assert rig.panel.asleep and not rig.panel.display_on and rig.panel.hardware_resets == 2
    with pytest.raises(AssertionError, match="after reset"):  # no wait after the reset
        rig.lcd.command(0x29)


def test_init_after_a_hardware_reset_draws_again(rig_factory):
    rig = rig_factory("ili9341-240x320")
    rig.lcd.init()  # a second init (e.g. after a panel fault) pulses RST and starts over
    rig.lcd.fill_rect(0, 0, 1, 1, GREEN)
    assert rig.panel.pixel(0, 0) == GREEN and rig.panel.errors == []
