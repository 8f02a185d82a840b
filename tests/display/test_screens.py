"""Every screen on a narrow and a tall panel: drawn without protocol errors, each pixel painted
once, every text fitting its box; redraws touch only what changed."""
import pytest
from pyzbar.pyzbar import decode

import textdraw
from tests.display.conftest import URL_60
from tests.display.helpers import segno_encode
from tools.sim.snapshot import SCREENS, Options, render

TWO_PANELS = ["st7789-135x240", "st7789-240x320"]


def boxes_of(screens):
    return list(screens._boxes.values())


@pytest.mark.parametrize("name, rotation", [(p, 0) for p in TWO_PANELS] + [("st7789-135x240", 1)])
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_each_screen_draws_cleanly(name, rotation, screen):
    rig = render(screen, name, Options(encoder="segno"), rotation=rotation)
    assert rig.screens.dropped == 0  # every line of the screen found room
    lcd, panel = rig.lcd, rig.panel
    assert panel.errors == []
    # The boxes tile the screen: every pixel painted exactly once, no clear-then-draw.
    cover = bytearray(lcd.width * lcd.height)
    for b in boxes_of(rig.screens):
        key, x, y, w, h = b[:5]
        for yy in range(y, y + h):
            for xx in range(x, x + w):
                cover[yy * lcd.width + xx] += 1
    assert set(cover) == {1}
    init_pixels = 0
    assert panel.pixels_written - init_pixels == lcd.width * lcd.height
    # Readable: no text is cut off by its box.
    for b in boxes_of(rig.screens):
        if b[5] in ("text", "runs"):
            key, x, y, w, h, kind, text, font = b[:8]
            runs = ((text, font),) if kind == "text" else text
            assert textdraw.runs_width(runs) <= w, (key, text)
            assert all(f.HEIGHT <= h for _, f in runs), (key, text)


@pytest.mark.parametrize("name", TWO_PANELS)
def test_result_screens_say_what_happened_in_their_colour(name):
    from lcd import color565

    green, red, amber, grey = color565(21, 128, 61), color565(190, 24, 24), color565(180, 83, 9), color565(75, 85, 99)
    for screen, title, colour in [("paid", "PAID", green), ("failed", "FAILED", red),
                                  ("expired", "EXPIRED", amber), ("cancelled", "CANCELLED", grey),
                                  ("offline", "OFFLINE", amber)]:
        rig = render(screen, name, Options(amount=4599))
        title_box = rig.screens._boxes["title"]
        assert title_box[6] == title and title_box[9] == colour
        assert rig.panel.pixel(1, 1) == colour  # the band's corner on the glass
    rig = render("paid", name, Options(amount=4599))
    assert rig.screens._boxes["amount"][6] == "$45.99"


def test_amount_entry_redraws_only_the_amount():
    rig = render("amount", "st7789-240x320", Options(amount=0))
    box = rig.screens._boxes["amount"]
    mark = rig.mark()
    assert rig.screens.amount(125) == 1
    nbytes, _ = rig.traffic(mark)
    assert nbytes == box[3] * box[4] * 2 + 3 + 8
    assert rig.screens._boxes["amount"][6] == "$1.25"
    mark = rig.mark()
    assert rig.screens.amount(125) == 0 and rig.traffic(mark) == (0, 0)


def windows(writes):
    """(x0, x1, y0, y1) of every window the traffic opened (panel addresses)."""
    out, pending = [], {}
    last = None
    for dc, data in writes:
        if dc == 0:
            last = data[0]
        elif last in (0x2A, 0x2B) and len(data) == 4:
            pending[last] = ((data[0] << 8) | data[1], (data[2] << 8) | data[3])
            if last == 0x2B:
                out.append(pending[0x2A] + pending[0x2B])
    return out


@pytest.mark.parametrize("name", TWO_PANELS)
def test_countdown_never_redraws_the_qr(name):
    rig = render("qr", name, Options(encoder="segno", seconds=125))
    screens = rig.screens
    qr_box = screens._boxes["qr"]
    count_box = screens._boxes["countdown"]
    before = rig.image().crop((qr_box[1], qr_box[2], qr_box[1] + qr_box[3], qr_box[2] + qr_box[4]))
    mark = rig.mark()
    assert screens.countdown(124) == 1
    assert screens.countdown(124) == 0  # same second: nothing sent
    nbytes, _ = rig.traffic(mark)
    assert nbytes == count_box[3] * count_box[4] * 2 + 3 + 8
    ox, oy = rig.lcd.col_offset, rig.lcd.row_offset
    for x0, x1, y0, y1 in windows(rig.spi.writes[mark:]):
        assert (x0 - ox, y0 - oy) == (count_box[1], count_box[2])
        assert y1 - oy < qr_box[2] or y0 - oy >= qr_box[2] + qr_box[4]
    after = rig.image().crop((qr_box[1], qr_box[2], qr_box[1] + qr_box[3], qr_box[2] + qr_box[4]))
    assert before.tobytes() == after.tobytes()
    assert screens._boxes["countdown"][6].endswith("2:04")
    # Showing the same QR again (e.g. after a status poll) sends nothing either.
    mark = rig.mark()
    screens.qr(URL_60, 1250, 124)
    assert rig.traffic(mark) == (0, 0)


def test_countdown_outside_the_qr_screen_does_nothing():
    rig = render("paid", "st7789-240x320")
    mark = rig.mark()
    assert rig.screens.countdown(10) == 0 and rig.traffic(mark) == (0, 0)


def test_a_new_screen_redraws_everything():
    rig = render("paid", "st7789-135x240")
    before = rig.panel.pixels_written
    rig.screens.failed("Wallet declined")
    assert rig.panel.pixels_written - before == 135 * 240


def test_code_too_large_shows_an_error_screen():
    rig = render("idle", "st7789-135x240")
    assert rig.screens.qr(segno_encode("x" * 400), 1250, 60) is False
    assert rig.screens.name == "error"
    assert "too large" in " ".join(b[6] for b in boxes_of(rig.screens) if b[5] == "text")


def test_unencodable_text_shows_an_error_screen():
    def refuse(text):
        raise ValueError("data overflow")

    rig = render("idle", "st7789-240x320")
    rig.screens.encode = refuse
    assert rig.screens.qr("x" * 3000, 1250, 60) is False and rig.screens.name == "error"


def test_a_full_heap_while_encoding_is_raised_not_an_error_screen():
    """The loop's guard collects and draws again; "cannot draw this code" is for codes, not heaps."""
    def out_of_memory(text):
        raise MemoryError("memory allocation failed, allocating 1258 bytes")

    rig = render("idle", "st7789-240x320")
    rig.screens.encode = out_of_memory
    with pytest.raises(MemoryError):
        rig.screens.qr(URL_60, 1250, 60)
    assert rig.screens.name == "idle"


def test_text_codes_are_encoded_with_lib_uqr():
    pytest.importorskip("uqr")
    rig = render("qr", "st7789-240x320", Options(code=URL_60, encoder="uqr"))
    assert [d.data.decode() for d in decode(rig.image())] == [URL_60]


def test_pin_shows_one_dot_per_digit_and_redraws_only_them():
    rig = render("pin", "st7789-240x320")
    assert rig.screens._boxes["dots"][6] == "\u2022 \u2022 \u2022"
    mark = rig.mark()
    rig.screens.pin(4)
    box = rig.screens._boxes["dots"]
    assert rig.traffic(mark)[0] == box[3] * box[4] * 2 + 11


def test_long_words_and_reasons_wrap_inside_the_narrow_panel():
    rig = render("idle", "st7789-135x240")
    rig.screens.failed("The wallet declined this payment because the balance was too low")
    for b in boxes_of(rig.screens):
        if b[5] == "text":
            assert textdraw.width(b[7], b[6]) <= b[3]


@pytest.mark.parametrize("name, rotation", [("st7789-135x240", 0), ("st7789-135x240", 1), ("st7789-240x320", 0),
                                            ("st7789-240x240", 0)])
@pytest.mark.parametrize("currency, amount", [("USD", 123456789), ("JPY", 150000), ("KWD", 12500),
                                              ("SGD", 4590), ("MYR", 1234567), ("KRW", 99999999)])
def test_amounts_in_every_currency_fit_every_screen_that_shows_them(name, rotation, currency, amount):
    for screen in ("amount", "qr", "paid", "refund-confirm", "late-payment"):
        rig = render(screen, name, Options(currency=currency, amount=amount, encoder="segno"), rotation=rotation)
        assert rig.panel.errors == [] and rig.screens.dropped == 0
        shown = []
        for b in boxes_of(rig.screens):
            if b[5] in ("text", "runs"):
                runs = ((b[6], b[7]),) if b[5] == "text" else b[6]
                assert textdraw.runs_width(runs) <= b[3], (screen, b[0], b[6])
                if b[0].startswith("amount"):
                    shown += [t for t, _ in runs]
        from firmware.sale import money

        text = "".join(shown).replace(" ", "")
        assert money.number(amount, currency) in text and (currency in text or money.SYMBOLS[currency] in text)


def test_code_currencies_keep_large_digits_on_a_wide_panel():
    # (the QR screen trades the large font for a bigger QR once it carries the wallet lines)
    from fonts import large as font_large

    rig = render("amount", "st7789-240x320", Options(currency="KWD", amount=12500, encoder="segno"))
    box = rig.screens._boxes["amount"]
    assert box[5] == "runs" and box[6][0][0] == "KWD " and box[6][1] == ("12.500", font_large)
