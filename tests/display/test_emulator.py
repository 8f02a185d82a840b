"""The panel emulator interprets the controller protocol and reports every protocol error."""
import pytest

from tools.sim.panel import GLASS, Panel, ProtocolError


def cmd(panel, c, *params):
    panel.feed(0, bytes([c]))
    if params:
        panel.feed(1, bytes(params))


def awake(name="st7789-240x320", now=None, **kw):
    """A panel after a correct init: reset, sleep out, 16-bit colour, display on."""
    t = [0]
    panel = Panel.named(name, now_ms=(lambda: t[0]) if now is None else now, **kw)
    cmd(panel, 0x01)
    t[0] += 150
    cmd(panel, 0x11)
    t[0] += 120
    cmd(panel, 0x3A, 0x55)
    cmd(panel, 0x36, 0x00)
    cmd(panel, 0x21)
    cmd(panel, 0x29)
    panel.t = t
    return panel


def window(panel, x0, y0, x1, y1):
    cmd(panel, 0x2A, x0 >> 8, x0 & 255, x1 >> 8, x1 & 255)
    cmd(panel, 0x2B, y0 >> 8, y0 & 255, y1 >> 8, y1 & 255)
    panel.feed(0, b"\x2c")


def test_pixels_land_in_the_window_in_order():
    panel = awake()
    window(panel, 10, 20, 11, 21)
    # Four pixels split across writes, one of them mid-pixel: red, green, blue, white.
    panel.feed(1, b"\xf8\x00\x07")
    panel.feed(1, b"\xe0\x00\x1f\xff\xff")
    assert [panel.pixel(x, y) for y in (20, 21) for x in (10, 11)] == [0xF800, 0x07E0, 0x001F, 0xFFFF]
    assert panel.pixel(12, 20) == 0x0000  # untouched RAM is black


def test_ramwr_continue_resumes_where_the_last_write_stopped():
    panel = awake()
    window(panel, 0, 0, 3, 0)
    panel.feed(1, b"\xf8\x00\xf8\x00")
    panel.feed(0, b"\x3c")
    panel.feed(1, b"\x00\x1f\x00\x1f")
    assert [panel.pixel(x, 0) for x in range(4)] == [0xF800, 0xF800, 0x001F, 0x001F]


def test_display_off_and_sleep_show_black_and_inversion_follows_the_glass():
    panel = awake()
    window(panel, 0, 0, 0, 0)
    panel.feed(1, b"\xf8\x00")
    assert panel.pixel(0, 0) == 0xF800
    cmd(panel, 0x20)  # INVOFF on an IPS glass: colours come out inverted
    assert panel.pixel(0, 0) == 0xF800 ^ 0xFFFF
    cmd(panel, 0x21)
    cmd(panel, 0x28)  # DISPOFF
    assert panel.pixel(0, 0) == 0


def test_bgr_bit_against_the_glass_swaps_red_and_blue():
    panel = awake()
    cmd(panel, 0x36, 0x08)  # BGR on an RGB glass
    window(panel, 0, 0, 0, 0)
    panel.feed(1, b"\xf8\x00")
    assert panel.pixel(0, 0) == 0x001F


def test_wrong_offset_shows_a_shifted_picture():
    """The T-Display's glass starts at column 52: a driver that forgets this draws off-glass."""
    panel = awake("st7789-135x240", strict=False)
    window(panel, 52, 40, 52, 40)
    panel.feed(1, b"\xf8\x00")
    assert panel.pixel(0, 0) == 0xF800 and not panel.errors
    window(panel, 0, 0, 0, 0)
    panel.feed(1, b"\x07\xe0")
    assert panel.errors and "beyond the panel" in panel.errors[-1]


@pytest.mark.parametrize("name, feed, message", [
    ("data before any command", lambda p: p.feed(1, b"\x00\x00"), "outside any command"),
    ("data after a command without parameters", lambda p: (cmd(p, 0x29), p.feed(1, b"\x12")), "outside a RAMWR"),
    ("too many parameters", lambda p: (p.feed(0, b"\x3a"), p.feed(1, b"\x55\x00\x00")), "outside a RAMWR"),
    ("missing parameters", lambda p: (p.feed(0, b"\x2a"), p.feed(1, b"\x00\x00"), p.feed(0, b"\x2c")), "needs 4"),
    ("unknown command", lambda p: p.feed(0, b"\x99"), "unknown command"),
    ("window beyond the RAM", lambda p: window(p, 0, 0, 240, 10), "beyond the RAM"),
    ("window beyond the panel", lambda p: window(p, 0, 200, 10, 250), "beyond the panel"),
    ("window start after end", lambda p: window(p, 20, 0, 10, 10), "start after its end"),
    ("pixels beyond the window", lambda p: (window(p, 0, 0, 0, 0), p.feed(1, b"\x00\x00\xff\xff")), "beyond the window"),
])
def test_protocol_errors_are_reported(name, feed, message):
    panel = awake("st7789-240x240")
    with pytest.raises(ProtocolError, match=message):
        feed(panel)


def test_drawing_before_sleep_out_is_an_error():
    t = [0]
    panel = Panel.named("st7789-240x320", now_ms=lambda: t[0])
    cmd(panel, 0x3A, 0x55)
    with pytest.raises(ProtocolError, match="asleep"):
        window(panel, 0, 0, 0, 0)


def test_drawing_without_16_bit_colour_is_an_error():
    t = [0]
    panel = Panel.named("ili9341-240x320", now_ms=lambda: t[0])
    cmd(panel, 0x11)
    t[0] += 10
    with pytest.raises(ProtocolError, match="COLMOD"):
        window(panel, 0, 0, 0, 0)


def test_commands_inside_the_reset_delay_are_errors():
    t = [0]
    panel = Panel.named("st7789-240x320", now_ms=lambda: t[0])
    cmd(panel, 0x01)
    t[0] += 2
    with pytest.raises(ProtocolError, match="after reset"):
        cmd(panel, 0x3A, 0x55)
    t[0] += 10  # past 5 ms but SLPOUT needs 120 ms after a reset
    with pytest.raises(ProtocolError, match="SLPOUT"):
        cmd(panel, 0x11)


def test_a_swreset_returns_to_power_on_state():
    panel = awake()
    panel.t[0] += 10
    cmd(panel, 0x01)
    assert panel.asleep and not panel.display_on and panel.colmod == 0x66


def test_unwatched_dc_line_is_an_error():
    panel = awake()
    with pytest.raises(ProtocolError, match="DC line"):
        panel.feed(None, b"\x2c")


def test_non_strict_mode_collects_errors_and_keeps_going():
    panel = awake(strict=False)
    panel.feed(1, b"\x00")
    panel.feed(0, b"\x99")
    assert len(panel.errors) == 2


def test_listens_on_the_machine_shim_bus_and_honours_chip_select():
    import machine

    spi = machine.SPI(1)
    dc, cs = machine.Pin(2, machine.Pin.OUT), machine.Pin(3, machine.Pin.OUT, value=1)
    panel = Panel.named("st7789-240x320", strict=False).attach(spi, dc, cs)
    dc.value(0)
    spi.write(b"\x29")  # CS high: the controller is not listening
    assert not panel.display_on
    cs.value(0)
    spi.write(b"\x29")
    assert panel.display_on


def test_unknown_panel_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown panel"):
        Panel.named("st7735-80x160")


def test_every_supported_panel_has_a_glass():
    import panels

    assert sorted(GLASS) == panels.names()


def test_png_is_the_glass_turned_for_the_viewer(tmp_path):
    from PIL import Image

    panel = awake("st7789-135x240")
    window(panel, 52, 40, 52, 40)  # glass pixel (0, 0): the top-left corner in portrait
    panel.feed(1, b"\xf8\x00")
    path = panel.save(str(tmp_path / "p.png"), rotation=1, scale=2)
    img = Image.open(path)
    assert img.size == (480, 270)
    # Held at rotation 1 the glass's top-left corner is the viewer's bottom-left.
    assert img.getpixel((0, 269)) == (255, 0, 0) and img.getpixel((0, 0)) == (0, 0, 0)
