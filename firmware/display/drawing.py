"""What the loop's screen task draws with: the drawing code loads for a view and is dropped once the
terminal rests on the idle (or offline) screen.

    drawing = Drawing(lcd, merchant="Corner Cafe", currency="USD", languages=("en", ("en", "zh-Hans")),
                      clock=clock, log=log.write)
    drawing.render(view)   # the flow's view changed: firmware/display/ui.py draws it
    drawing.tick()         # about every 250 ms: the QR countdown

The screens, the text drawer, the fonts' index, the word catalogue and the view-to-screen rules
(firmware/display/ui.py and what it imports: about 22 KB of heap from .mpy) are needed only
while something is drawn. At rest nothing on the panel changes until a key or the network
changes the view, and the heap they would hold is what the link's TLS sessions and Wi-Fi grow
into, so they leave it (lib/late.py) when a resting screen is on the panel, and load again with
the next view (the first key of a sale). The panel keeps what it shows; a resting view drawn
again unchanged is not redrawn. The display driver (lib/lcd.py) and its row buffer stay: the
panel is initialised once, and the buffer made at boot is never looked for again in a
fragmented heap.

A QR view's code is encoded here (lib/uqr.py, once per code) with the drawing code dropped for the
while: the encoder's 10 KB of code and its work never share the heap with the screens, which
then get the packed rows. The heap's peak in a sale is the larger of the two, not their sum.
"""
import late

# The views the terminal rests on: once drawn, the panel stays as it is until the view changes.
_RESTING = ("idle", "offline")
# What drawing imports, dropped at rest and while a code is encoded: all of it, the screens' parts
# too (a sale's screens hold names of firmware/display/screens.py: left loaded, they would keep
# the old module alive beside the one loaded next).
_DRAWING = ("firmware.display.ui", "firmware.display.screens", "firmware.display.screens_sale",
            "firmware.display.screens_qr", "firmware.display.screens_refund", "firmware.display.screens_notice",
            "qrdraw", "textdraw", "fonts", "firmware.display.texts", "kvfile", "firmware.sale.money")


class Drawing:
    def __init__(self, lcd, merchant="", currency="USD", languages=None, clock=None, log=None,
                 utc_offset_min=0):
        self.lcd = lcd
        self.merchant = merchant
        self.currency = currency
        self.languages = languages  # (cashier, customer languages), or None: the catalogue's defaults
        self.clock = clock
        self.log = log
        self.utc_offset_min = utc_offset_min
        self.ui = None  # firmware/display/ui.py's UI while the drawing code is loaded
        self.resting = None  # the resting view on the panel while it is not
        self.code = None  # (order code, its packed rows) of the sale's QR

    def render(self, view):
        if view == self.resting:
            return  # already on the panel
        self.resting = None
        try:
            if view[0] == "qr":
                view = self._encoded(view)
            ui = self.ui
            if ui is None:
                ui = self.ui = self._load()
            ui.render(view)
        except MemoryError:
            # Let go of all the drawing code before the loop's guard collects and draws again:
            # kept, it would fill the heap the retry needs, and every later screen would fail too.
            self.rest()
            raise
        if view[0] in _RESTING:
            self.rest(view)

    def tick(self):
        if self.ui is not None:
            self.ui.tick()

    def rest(self, view=None):
        """Drop the drawing code; `view` (on the panel) is not drawn again until it changes."""
        self.resting = view
        self.code = None
        self.ui = None
        for name in _DRAWING:
            late.drop(name)
        late.collect()

    def _encoded(self, view):
        """The QR view with its code as packed rows (firmware/display/screens.py draws those)."""
        d = view[1]
        code = d.get("code")
        if not isinstance(code, str):
            return view
        if self.code is None or self.code[0] != code:
            self.rest()  # the drawing code goes while the encoder works (nothing rests on the panel)
            try:
                import uqr
                self.code = (code, uqr.make(code, max_version=40).packed())
            except MemoryError:
                raise  # not the code's fault: render() lets go and the guard draws again
            except Exception:  # too long for any QR version: the screens say so, as for any code
                return view
            finally:
                late.drop("uqr")
                late.collect()
        shown = dict(d)
        shown["code"] = self.code[1]
        return view[0], shown

    def _load(self):
        late.collect()  # the code lands in the space freed since, not between the garbage
        from firmware.display.screens import Screens
        from firmware.display.texts import Texts
        from firmware.display.ui import UI
        texts = Texts(*self.languages) if self.languages else Texts()
        screens = Screens(self.lcd, merchant=self.merchant, currency=self.currency, texts=texts)
        return UI(screens, self.clock, self.currency, log=self.log, utc_offset_min=self.utc_offset_min)
