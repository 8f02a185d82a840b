"""QR drawing: module size, quiet zone, centring, every input shape, zbar reads it back."""
import pytest
from pyzbar.pyzbar import decode

import qrdraw
from tests.display.conftest import URL_60, URL_120
from tests.display.helpers import GetOnlyQR, PackedQR, segno_encode, segno_matrix
from tools.sim.panel import GLASS

AREA = (0, 40, 240, 240)  # x, y, w, h on a 240x320 panel


def draw(rig, qr, area=AREA):
    mark = rig.mark()
    result = qrdraw.draw(rig.lcd, qr, *area)
    return result, rig.traffic(mark)


def decoded(image):
    return [d.data.decode() for d in decode(image)]


def test_largest_module_size_with_a_four_module_quiet_zone(rig_factory):
    rig = rig_factory("st7789-240x320")
    matrix = segno_matrix(URL_60)
    n = len(matrix)
    (size, left, top), _ = draw(rig, segno_encode(URL_60))
    assert size * (n + 8) <= 240 < (size + 1) * (n + 8)
    # centred (to the pixel) in the area
    assert abs((left - 0) - (240 - (left + n * size))) <= 1
    assert abs((top - 40) - (280 - (top + n * size))) <= 1
    # every module where it belongs, and light all around (quiet zone included)
    img = rig.image()
    for my in range(n):
        for mx in range(n):
            px = img.getpixel((left + mx * size + size // 2, top + my * size + size // 2))
            assert px == ((0, 0, 0) if matrix[my][mx] else (255, 255, 255)), (mx, my)
    quiet = 4 * size
    for x in range(left - quiet, left + n * size + quiet):
        assert img.getpixel((x, top - quiet)) == (255, 255, 255)
        assert img.getpixel((x, top + n * size + quiet - 1)) == (255, 255, 255)


def test_every_input_shape_draws_the_same_pixels(rig_factory):
    shapes = [segno_encode(URL_60), PackedQR(URL_60), GetOnlyQR(URL_60)]
    images = []
    for shape in shapes:
        rig = rig_factory("st7789-240x320")
        draw(rig, shape)
        images.append(rig.image().tobytes())
    assert images[0] == images[1] == images[2]
    assert decoded(rig.image()) == [URL_60]


def test_lib_uqr_output_draws_and_decodes(rig_factory):
    uqr = pytest.importorskip("uqr")
    for shape in (uqr.make(URL_60), uqr.make(URL_60).packed()):
        rig = rig_factory("st7789-135x240")
        qrdraw.draw(rig.lcd, shape, 0, 30, 135, 170)
        assert decoded(rig.image()) == [URL_60]


def test_area_is_painted_exactly_once_through_the_small_buffer(rig_factory):
    rig = rig_factory("st7789-240x320")
    _, (nbytes, transactions) = draw(rig, segno_encode(URL_120))
    pixel_bytes = 240 * 240 * 2
    # CASET, RASET, RAMWR and their 8 parameter bytes on top of the pixels: nothing drawn twice
    assert nbytes == pixel_bytes + 3 + 8
    assert rig.panel.errors == []
    sizes = [len(d) for dc, d in rig.spi.writes if dc == 1]
    assert max(sizes) <= len(rig.lcd.buffer)
    assert transactions < 240  # identical rows of a module row share one write


def test_too_large_to_draw_at_two_pixels_per_module(rig_factory):
    rig = rig_factory("st7789-135x240")
    big = segno_encode("x" * 600)  # version 21: 101 modules, needs 218 px at 2 px
    with pytest.raises(qrdraw.TooLarge, match="needs"):
        qrdraw.draw(rig.lcd, big, 0, 0, 135, 135)
    assert rig.panel.pixels_written == 0  # raised before anything reached the panel


@pytest.mark.parametrize("encoder", ["uqr", "segno"])
@pytest.mark.parametrize("url", [URL_60, URL_120], ids=["60 chars", "126 chars"])
@pytest.mark.parametrize("name", sorted(GLASS))
def test_zbar_reads_the_qr_screen_on_every_panel(rig_factory, name, url, encoder):
    """lib/uqr as on the device, and segno as an independent reference encoder."""
    from tools.sim.snapshot import Options, render

    rig = render("qr", name, Options(code=url, encoder=encoder))
    assert rig.panel.errors == []
    assert decoded(rig.image()) == [url]


def test_zbar_reads_the_qr_in_landscape(rig_factory):
    from tools.sim.snapshot import Options, render

    rig = render("qr", "st7789-135x240", Options(code=URL_120, encoder="segno"), rotation=1)
    assert decoded(rig.image()) == [URL_120]
