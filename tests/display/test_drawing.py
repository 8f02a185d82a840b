"""firmware/display/drawing.py: the drawing code loads for a view and leaves at the resting screens.

Under CPython (here) modules are never dropped (lib/late.py), so these tests check what the
drawing does with its UI and the panel; the MicroPython test at the end checks what leaves
sys.modules and that the QR encoder never shares the heap with the screens."""
import pytest

from tests.display.conftest import URL_60
from tests.display.mpy_harness import MODULES, SETUP

from firmware.display.drawing import Drawing

IDLE = ("idle", {"merchant": "Corner Cafe"})
OFFLINE = ("offline", {"why": "network: no route"})


class Clock:
    def __init__(self, t=1_800_000_000):
        self.t = t

    def now(self):
        return self.t


def make(rig, **kw):
    return Drawing(rig.lcd, merchant="Corner Cafe", currency="USD", languages=("en", ("en", "zh-Hans")),
                   clock=Clock(), log=kw.pop("log", None), **kw)


def test_a_resting_screen_is_drawn_once_and_the_drawing_code_let_go(rig_factory):
    rig = rig_factory("st7789-240x320")
    drawing = make(rig)
    mark = rig.mark()
    drawing.render(IDLE)
    assert rig.traffic(mark)[0] > 0 and drawing.ui is None and drawing.resting == IDLE
    mark = rig.mark()
    drawing.render(("idle", {"merchant": "Corner Cafe"}))  # the flow showed the same view again
    drawing.tick()
    assert rig.traffic(mark) == (0, 0)
    drawing.render(OFFLINE)  # another resting view: drawn, then let go as well
    assert rig.traffic(mark)[0] > 0 and drawing.ui is None and drawing.resting == OFFLINE
    assert rig.panel.errors == []


def test_a_key_at_idle_loads_the_drawing_again_and_the_sale_keeps_it(rig_factory):
    rig = rig_factory("st7789-240x320")
    drawing = make(rig)
    drawing.render(IDLE)
    mark = rig.mark()
    drawing.render(("amount", {"digits": "1", "amount": 1, "currency": "USD", "message": None, "currencies": 1}))
    assert rig.traffic(mark)[0] > 0 and drawing.ui is not None and drawing.resting is None
    assert drawing.ui.screens.name.startswith("amount")
    ui = drawing.ui
    drawing.render(("creating", {"amount": 1250}))
    assert drawing.ui is ui  # nothing is reloaded between two screens of a sale
    drawing.render(IDLE)
    assert drawing.ui is None


def test_a_qr_code_is_encoded_once_with_the_drawing_code_let_go(rig_factory, monkeypatch):
    import uqr

    rig = rig_factory("st7789-240x320")
    drawing = make(rig)
    drawing.render(("creating", {"amount": 1250}))
    calls = []
    real = uqr.make

    def recording(text, **kw):
        calls.append((text, drawing.ui))  # the UI (and so the screens) must be let go by now
        return real(text, **kw)

    monkeypatch.setattr(uqr, "make", recording)
    clock = drawing.clock
    view = ("qr", {"code": URL_60, "amount": 1250, "expires_at": clock.now() + 180})
    drawing.render(view)
    assert calls == [(URL_60, None)]
    screens = drawing.ui.screens
    assert screens.name == "qr" and isinstance(screens._qr[0], tuple)  # the screens got packed rows
    assert view[1]["code"] == URL_60  # the flow's view is not changed
    drawing.render(("qr", dict(view[1])))  # the same code again (e.g. after a redraw): not encoded again
    assert len(calls) == 1 and drawing.ui.screens is screens
    clock.t += 1
    mark = rig.mark()
    drawing.tick()
    assert rig.traffic(mark)[0] > 0  # the countdown moved
    assert rig.panel.errors == []
    drawing.render(IDLE)
    assert drawing.code is None


def test_a_code_too_long_for_any_qr_shows_the_error_screen(rig_factory):
    rig = rig_factory("st7789-240x320")
    log = []
    drawing = make(rig, log=log.append)
    drawing.render(("qr", {"code": "x" * 3000, "amount": 1250, "expires_at": drawing.clock.now() + 180}))
    assert drawing.ui.screens.name == "error" and drawing.code is None


def test_a_full_heap_while_encoding_is_no_error_screen_and_the_next_try_draws_the_qr(rig_factory, monkeypatch):
    """A MemoryError says nothing of the code: no "cannot draw" screen (with the exception's words)
    for the cashier; the loop's guard collects and draws the view again, which then works."""
    import uqr

    rig = rig_factory("st7789-240x320")
    drawing = make(rig)
    drawing.render(("creating", {"amount": 1250}))
    real = uqr.make
    full = [True]

    def once_out_of_memory(text, **kw):
        if full[0]:
            full[0] = False
            raise MemoryError("memory allocation failed, allocating 752 bytes")
        return real(text, **kw)

    monkeypatch.setattr(uqr, "make", once_out_of_memory)
    view = ("qr", {"code": URL_60, "amount": 1250, "expires_at": drawing.clock.now() + 180})
    with pytest.raises(MemoryError):
        drawing.render(view)
    assert drawing.ui is None and drawing.code is None  # everything let go for the retry
    drawing.render(view)  # the screen task, restarted by its guard
    assert drawing.ui.screens.name == "qr" and isinstance(drawing.ui.screens._qr[0], tuple)
    assert rig.panel.errors == []


def test_a_full_heap_while_drawing_lets_the_drawing_code_go_before_the_retry(rig_factory, monkeypatch):
    from firmware.display.screens import Screens

    rig = rig_factory("st7789-240x320")
    drawing = make(rig)
    drawing.render(("amount", {"digits": "1", "amount": 1, "currency": "USD", "message": None, "currencies": 1}))
    real = Screens.amount

    def out_of_memory(self, *a, **kw):
        raise MemoryError("memory allocation failed, allocating 192 bytes")

    monkeypatch.setattr(Screens, "amount", out_of_memory)
    view = ("amount", {"digits": "12", "amount": 12, "currency": "USD", "message": None, "currencies": 1})
    with pytest.raises(MemoryError):
        drawing.render(view)
    assert drawing.ui is None and drawing.resting is None  # kept, it would fill the heap of the retry
    monkeypatch.setattr(Screens, "amount", real)
    mark = rig.mark()
    drawing.render(view)
    assert rig.traffic(mark)[0] > 0 and drawing.ui.screens.name.startswith("amount")


@pytest.mark.micropython
def test_inside_micropython_the_drawing_leaves_sys_modules_at_rest_and_the_encoder_runs_alone(micropython):
    """Idle drawn: none of the drawing modules is loaded; a sale's screens load them; the QR
    encoder runs while none of them is (its make() looks); idle again: all gone."""
    code = ("PANEL = 'st7789-240x320'\n" + SETUP + """
import sys
from firmware.display.drawing import Drawing
class Clock:
    t = 1800000000
    def now(self):
        return self.t
DRAWING = ('firmware.display.ui', 'firmware.display.screens', 'firmware.display.screens_sale', 'textdraw',
           'firmware.display.screens_qr', 'fonts', 'firmware.sale.money', 'qrdraw', 'uqr', 'firmware.display.texts',
           'kvfile')
def loaded():
    return [m for m in DRAWING if m in sys.modules]
d = Drawing(lcd, merchant='Corner Cafe', currency='USD', languages=('en', ('en', 'zh-Hans')), clock=Clock())
del screens
d.render(('idle', {'merchant': 'Corner Cafe'}))
print('IDLE', loaded())
n = spi.bytes
d.render(('idle', {'merchant': 'Corner Cafe'}))
print('AGAIN', spi.bytes - n)
d.render(('amount', {'digits': '1', 'amount': 1, 'currency': 'USD', 'message': None, 'currencies': 1}))
print('AMOUNT', loaded())
d.render(('creating', {'amount': 1250}))  # a sale's screens are loaded when its code arrives
import uqr
_real = uqr.make
_seen = []
def _make(text, **kw):
    _seen.append(loaded())
    return _real(text, **kw)
uqr.make = _make
d.render(('qr', {'code': %r, 'amount': 1250, 'expires_at': Clock.t + 180}))
print('ENCODING', _seen)
print('QR', d.ui.screens.name, loaded())
d.render(('result', {'state': 'PAID', 'amount': 1250}))
print('PAID', d.ui.screens.name, loaded())
d.render(('idle', {'merchant': 'Corner Cafe'}))
print('IDLE', loaded())
""" % URL_60)
    out = micropython.run(code, modules=MODULES + ["firmware/display/drawing.py", "firmware/display/ui.py",
                                                   "lib/uqr.py"])
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines() if " " in line)
    assert "IDLE []" in out and out.count("IDLE [") == 2 and "IDLE ['" not in out, out
    assert lines["AGAIN"] == "0", out
    assert "firmware.display.screens" in lines["AMOUNT"] and "fonts" in lines["AMOUNT"], out
    # only the encoder itself while it encodes: no screens, fonts, text drawer or catalogue
    assert lines["ENCODING"] == "[['uqr']]", out
    assert lines["QR"].startswith("qr ") and "qrdraw" in lines["QR"] and "uqr" not in lines["QR"], out
    # the QR's layout code and the results' take turns: never both on the heap
    assert "screens_qr" in lines["QR"] and "screens_sale" not in lines["QR"], out
    assert lines["PAID"].startswith("paid ") and "screens_sale" in lines["PAID"], out
    assert "screens_qr" not in lines["PAID"] and "qrdraw" not in lines["PAID"], out
