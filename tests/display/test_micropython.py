"""The display stack inside the real MicroPython: same bytes on the bus as under CPython, no
allocation in the per-row paths, and the allocation figures the benchmark reports."""
import pytest

from tests.display.conftest import URL_60
from tests.display.helpers import segno_encode
from tests.display.mpy_harness import MODULES, cpython_stream_hash, setup

pytestmark = pytest.mark.micropython


@pytest.mark.parametrize("panel", ["st7789-135x240", "ili9341-240x320"])
def test_qr_screen_sends_the_same_bytes_as_under_cpython(micropython, rig_factory, panel):
    packed = segno_encode(URL_60)
    out = micropython.run(setup(panel, packed) + (
        "spi.h = hashlib.sha256()\n"
        "screens.qr(PACKED, 1250, 178)\nscreens.countdown(177)\n"
        "import binascii\nprint(binascii.hexlify(spi.h.digest()).decode())\n"
    ), modules=MODULES)
    from firmware.display.screens import Screens

    rig = rig_factory(panel)
    mark = rig.mark()
    screens = Screens(rig.lcd, merchant="Corner Cafe", currency="USD")
    screens.qr(packed, 1250, 178)
    screens.countdown(177)
    assert rig.panel.errors == []
    assert out.strip() == cpython_stream_hash(rig, mark)


def test_no_allocation_per_row(micropython):
    """Drawing twice the rows allocates the same bytes: the row paths allocate nothing."""
    packed = segno_encode(URL_60)
    base = setup("st7789-240x320", packed) + "import qrdraw, textdraw\nfrom fonts import large as font_large\n"
    warm = "qrdraw.draw(lcd, PACKED, 0, 0, 240, 240)\nqrdraw.draw(lcd, PACKED, 0, 0, 240, 120)\n"
    qr_tall = micropython.alloc("qrdraw.draw(lcd, PACKED, 0, 0, 240, 240)", setup=base + warm, modules=MODULES)
    qr_short = micropython.alloc("qrdraw.draw(lcd, PACKED, 0, 0, 240, 120)", setup=base + warm, modules=MODULES)
    assert qr_tall == qr_short
    text = "textdraw.box(lcd, 0, 0, 240, %d, '$12.50', font_large, 0, 0xFFFF)"
    warm = (text % 200) + "\n" + (text % 50) + "\n"
    tall = micropython.alloc(text % 200, setup=base + warm, modules=MODULES)
    short = micropython.alloc(text % 50, setup=base + warm, modules=MODULES)
    assert tall == short < 256
    fill = micropython.alloc("lcd.fill_rect(0, 0, 240, 320, 0)", setup=base + "lcd.fill_rect(0, 0, 240, 320, 0)\n",
                             modules=MODULES)
    assert fill == 0


def test_the_driver_buffer_is_the_largest_allocation(micropython):
    """The LCD's row buffer (3840 bytes) is the one buffer; a whole QR screen (merchant, amount,
    QR, the wallet lines in two customer languages, countdown, hint: nine boxes, each a small glyph
    index while it is drawn) allocates less than two of it, and none of it per pixel row. Measured
    as the QR is drawn whole again within a sale: the sale's first screen loaded the sale's screens
    and its first QR wrapped the wallet lines (code and a once-per-sale layout, not a draw's)."""
    packed = segno_encode(URL_60)
    base = setup("st7789-240x320", packed)
    driver = micropython.alloc("panels.make(PANEL, spi, dc, cs=Pin(1))", setup=base, modules=MODULES)
    assert 3840 <= driver < 4096 + 512
    in_sale = base + "screens.creating(1250)\nscreens.qr(PACKED, 1250, 178)\nscreens.invalidate()\n"
    screen = micropython.alloc("screens.qr(PACKED, 1250, 178)", setup=in_sale, modules=MODULES)
    assert screen < 2 * 3840



def test_drawing_characters_for_the_first_time_interns_nothing(micropython):
    """Text goes to the fonts by code point (lib/fonts.py's codes): iterating a str would make a
    one-character str per character, which MicroPython interns for good, so a character drawn
    for the first time (a Chinese sentence, a new wallet's name) would grow the heap then."""
    code = setup("st7789-240x320", segno_encode(URL_60)) + (
        "import micropython, textdraw\n"
        "from fonts import medium, small\n"
        "def names():\n"
        "    micropython.qstr_info()\n"
        "screens.message('About', 'Terminal')\n"  # its module's names are interned at its first load
        "names()\n"
        "textdraw.box(lcd, 0, 0, 240, 40, '\u6536\u6b3e\u6210\u529f Zq|~', medium, 0, 0xFFFF)\n"
        "textdraw.wrap(small, '\u4ed8\u6b3e\u5931\u8d25 XJ', 60)\n"
        "screens.message('\u9000\u6b3e', '\u5df2\u53d6\u6d88 Wq')\n"
        "names()\n")
    out = micropython.run(code, modules=MODULES)
    counts = [line.split("n_qstr=")[1].split(",")[0] for line in out.splitlines() if "n_qstr=" in line]
    assert len(counts) == 2 and counts[0] == counts[1], out


def test_a_sales_screens_and_the_qr_drawer_leave_the_heap_at_idle(micropython):
    """The screens only a sale or the supervisor draws (and lib/qrdraw.py) are loaded by their first
    screen and dropped at idle: none of them is in sys.modules at idle, after a sale as after a
    refund (that their heap is freed, bench/bench_heap.py measures: this port collects nothing
    inside one run)."""
    packed = segno_encode(URL_60)
    sale = ("screens.creating(1250)\nscreens.qr(PACKED, 1250, 178)\nscreens.countdown(177)\n"
            "screens.checking(1250)\nscreens.paid(1250)\nscreens.idle()\n"
            "screens.menu('Last payment: $12.50 at 14:05')\nscreens.pin(2)\nscreens.refunded(1250)\n"
            "screens.idle()\n")
    loaded = ("print('LOADED', [m for m in ('qrdraw', 'firmware.display.screens_sale', 'firmware.display.screens_qr',"
              " 'firmware.display.screens_refund') if m in sys.modules])\n")
    out = micropython.run(setup("st7789-240x320", packed) + "import sys\nscreens.idle()\n" + loaded + sale + loaded
                          + sale + loaded, modules=MODULES)
    assert out.count("LOADED []") == 3, out


CALLS = [
    "screens.idle()", "screens.idle(notice='Late payment of $3.00 was refunded')", "screens.amount(0)",
    "screens.amount(123456)", "screens.creating(1250)", "screens.qr(PACKED, 1250, 178)",
    "screens.countdown(61)", "screens.checking(1250)", "screens.paid(1250)",
    "screens.failed('Declined by the wallet')", "screens.expired(1250)", "screens.cancelled(1250)",
    "screens.offline('Wi-Fi lost')", "screens.error('gateway_url missing in /config.json', 'config')",
    "screens.error('Keypad not responding', 'hardware')", "screens.pin(2)", "screens.pin(0, wrong=True)",
    "screens.refund_amount(500, 1250)", "screens.refund_confirm(500)", "screens.refunding(500)",
    "screens.refunded(500)", "screens.refund_failed('Refund window closed')",
    "screens.late_payment(1250, 'refunded')", "screens.message('About', 'Terminal 0.1.0')",
    "screens.cancelling(1250)", "screens.menu(None)", "screens.menu('Last payment: $12.50 at 14:05')",
    "screens.pin(0, status='Wrong PIN: 2 tries left')",
]


@pytest.mark.parametrize("panel", ["st7789-135x240", "st7789-240x320"])
def test_every_screen_draws_the_same_inside_micropython(micropython, rig_factory, panel):
    """Each screen method, in order, inside MicroPython: the bytes on the bus equal CPython's."""
    packed = segno_encode(URL_60)
    program = setup(panel, packed) + "import binascii\n"
    for call in CALLS:
        program += "spi.h = hashlib.sha256()\n%s\nprint(binascii.hexlify(spi.h.digest()).decode())\n" % call
    out = micropython.run(program, modules=MODULES).split()
    from firmware.display.screens import Screens

    rig = rig_factory(panel)
    screens = Screens(rig.lcd, merchant="Corner Cafe", currency="USD")
    expected = []
    for call in CALLS:
        mark = rig.mark()
        eval(call, {"screens": screens, "PACKED": packed})
        expected.append(cpython_stream_hash(rig, mark))
    assert rig.panel.errors == []
    assert out == expected
