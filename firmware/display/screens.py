"""Every screen of the terminal, drawn on an lib/lcd.py driver without a frame buffer.

    screens = Screens(lcd, merchant="Corner Cafe", currency="USD", texts=Texts("en", ("en", "zh-Hans")))
    screens.idle()                       # merchant name, "Enter amount"
    screens.amount(1250)                 # amount entry; call again on every key: only the amount redraws
    screens.creating(1250)               # asking the gateway for an order code
    screens.qr(code, 1250, seconds=180)  # merchant, amount, QR, the wallets that pay it, countdown, hint
    screens.countdown(179)               # only the countdown (and a rotating wallet line) redraws
    screens.checking(1250)               # result unknown, asking the gateway
    screens.cancelling(1250)             # the cashier's cancel, waiting for the gateway's word
    screens.paid(1250)
    screens.failed("Declined in the wallet")
    screens.expired(1250)
    screens.cancelled(1250)
    screens.offline("Wi-Fi lost")        # recovers by itself; detail optional
    screens.error("Missing gateway URL", kind="config")   # or kind="hardware"
    screens.menu("Last payment: $12.50 at 14:05")   # or menu(None): nothing to refund
    screens.pin(3)                       # supervisor PIN, 3 digits keyed (shown as dots)
    screens.pin(0, status="Wrong PIN: 2 tries left")
    screens.refund_amount(500, 1250)     # refund entry: amount so far, of the paid amount
    screens.refund_confirm(500)
    screens.refunding(500)
    screens.refunded(500)
    screens.refund_failed("Too late to refund this sale")
    screens.late_payment(1250, returned=True)   # a payment that landed after the sale ended
    screens.message("Title", "text")     # anything else (self-test, about)

Every word comes from the catalogue (firmware/display/texts.py) in the cashier's language; the
customer's lines of the QR and result screens come once per customer language. Text that does
not fit is wrapped, shortened with "..." (one-line boxes: names, hints) or laid out differently
(a second customer language rotates with the countdown, or is left out of a screen too small
for it); `dropped` counts lines a screen still had no room for (the tests keep it at 0).

`code` is the order code text (encoded here with lib/uqr's `uqr.make`, or with the `encode`
function given to the constructor), or what an encoder already made: the `packed()` tuple or an
object with `packed()` / `width()` + `get()`. A code too large to draw at 2 px per module shows an
error screen instead (qr() returns False then).

Amounts are integers in minor units of `currency` (firmware/sale/money.py formats them). Each screen is
a set of boxes that tile the panel; a box is drawn (background and text together, each pixel once)
only when its content differs from what the panel already shows, so repeating a call, typing a
digit or ticking the countdown costs only the boxes that changed. `invalidate()` forces a full
redraw next time (e.g. after the panel was reset). Readable on 135x240 up to 320x240.
"""
from micropython import const
from collections import namedtuple

import late
import textdraw
from fonts import codes
from fonts import large as font_large
from fonts import medium as font_medium
from fonts import small as font_small

from firmware.sale import money
from firmware.display.texts import Texts

# RGB565 colours (lib/lcd.py's color565 of the RGB in each comment), as const(): no names on the heap.
_WHITE = const(0xFFFF)
_INK = const(0x10A3)  # 20, 20, 24
_MUTED = const(0x5ACC)  # 90, 90, 100
_BLUE = const(0x13BF)  # 22, 119, 255  Alipay blue
_AMBER = const(0xB281)  # 180, 83, 9

_CENTER = const(1)  # textdraw.CENTER
_SALE = const("firmware.display.screens_sale")  # the screens' parts (_part)
_QR = const("firmware.display.screens_qr")
_REFUND = const("firmware.display.screens_refund")
_NOTICE = const("firmware.display.screens_notice")
_ELLIPSIS = const("...")

# A screen is a list of boxes that tile the panel. kind "text": content is a str drawn in font;
# "runs": content is ((text, font), ...) on one baseline; "fill": content is a colour; "qr":
# content is the code (the packed rows are in Screens._qr).
Box = namedtuple("Box", ("key", "x", "y", "w", "h", "kind", "content", "font", "fg", "bg", "align"))
# A row of a vertical stack (Screens._stack): one line of text and the height it takes. `extra`
# rows (a second customer language) are left out, all of them, when the screen is too small.
Row = namedtuple("Row", ("key", "text", "font", "fg", "h", "extra"))


def _row(key, text, font, fg, h, extra=False):
    return Row(key, text, font, fg, h, extra)


def _fill(key, x, y, w, h, colour):
    return Box(key, x, y, w, h, "fill", colour, None, None, None, None)


def _width(text, font):
    """Width of a str in font, or of ((text, font), ...) runs."""
    return textdraw.width(font, text) if isinstance(text, str) else textdraw.runs_width(text)


def has_glyphs(font, text):
    """True when the font can draw every character of text (no "?" stand-ins)."""
    covers = getattr(font, "covers", None)  # lib/fonts.py fonts; a generated font module lists CHARS
    if covers is not None:
        return covers(text)
    for ch in text:
        if font.CHARS.find(ch) < 0:
            return False
    return True


def _pick(text, fonts, w):
    """The first font of `fonts` that has text's glyphs and fits it in w pixels; else the
    smallest one with the glyphs (the caller wraps or shortens); else the last font."""
    usable = None
    for font in fonts:
        if has_glyphs(font, text):
            if textdraw.width(font, text) <= w:
                return font
            usable = font
    return usable or fonts[-1]


def shorten(text, font, w):
    """text, or its longest beginning with "..." that fits w pixels (the rule for one-line boxes)."""
    if textdraw.width(font, text) <= w:
        return text
    n = len(text)
    while n > 0:
        cut = text[:n].rstrip() + _ELLIPSIS
        if textdraw.width(font, cut) <= w:
            return cut
        n -= 1
    return _ELLIPSIS


class Screens:
    def __init__(self, display, merchant="", currency="USD", encode=None, cancel_key="CANCEL",
                 ok_key="OK", clear_key="CLEAR", texts=None):
        self.lcd = display
        self.merchant = merchant
        self.currency = currency
        self.encode = encode
        self.keys = (ok_key, cancel_key, clear_key)
        self.tx = texts if texts is not None else Texts()
        self.name = None  # the screen on the panel
        self._boxes = {}  # key -> the Box on the panel
        self._qr = None  # (code, packed rows) of the last code encoded
        self._qr_args = None
        self._turns = None  # QR screen: (box keys, lines of each customer language) taking turns
        self._wallets = {}  # width -> the wallet lines wrapped (made once per sale, forgotten at idle)
        self._dropping = 0
        self.dropped = 0  # lines the last screen had no room for (tests keep this at 0)

    # --- machinery ------------------------------------------------------------------------
    def invalidate(self):
        self.name = None
        self._boxes = {}

    def _show(self, name, boxes):
        """Draw a screen given as a list of Box; skip the boxes the panel already shows."""
        partial = name == self.name and self._same_tiles(boxes)
        drawn = 0
        for b in boxes:
            if partial and self._boxes.get(b.key) == b:
                continue
            self._draw(b)
            drawn += 1
        self.name = name
        self.dropped = self._dropping
        self._dropping = 0
        self._boxes = {}
        for b in boxes:
            self._boxes[b.key] = b
        if name != "qr":
            self._turns = None
            late.drop(_QR)  # the QR's layout code: the results need its room
            late.drop("qrdraw")
        else:
            late.drop(_SALE)  # and the QR needs the results'
        if name == "idle" or name == "offline":
            self._at_idle()
        return drawn

    def _same_tiles(self, boxes):
        """True when the boxes tile the panel as the ones on it do: the same keys in the same places."""
        old = self._boxes
        if len(old) != len(boxes):
            return False
        for b in boxes:
            o = old.get(b.key)
            if o is None or o.x != b.x or o.y != b.y or o.w != b.w or o.h != b.h:
                return False
        return True

    def _at_idle(self):
        """The sale (or the supervisor) is over: forget its code, wallet lines and the driver's
        cached buffer views, and drop the screens only a sale or a refund draws (lib/late.py): the
        heap at idle is the same after every sale, however it ended, and holds only what idle needs."""
        self._qr = None
        self._qr_args = None
        self._wallets = {}
        forget = getattr(self.lcd, "forget_views", None)  # lib/lcd.py's cached views of its buffer
        if forget is not None:
            forget()
        for name in _PARTS:
            late.drop(name)

    def _draw(self, b):
        kind = b.kind
        x, y, w, h = b.x, b.y, b.w, b.h
        if kind == "text":
            textdraw.box(self.lcd, x, y, w, h, b.content, b.font, b.fg, b.bg, b.align)
        elif kind == "runs":
            textdraw.box_runs(self.lcd, x, y, w, h, b.content, b.fg, b.bg, b.align)
        elif kind == "fill":
            self.lcd.fill_rect(x, y, w, h, b.content)
        elif kind == "qr":
            import qrdraw  # loaded by the QR's screens (screens_qr.py), which drew this box
            qrdraw.draw(self.lcd, self._qr[1], x, y, w, h)

    @property
    def narrow(self):
        return self.lcd.width < 200

    @property
    def compact(self):
        """Narrow or short (135x240 either way up): smaller title bands and fonts."""
        return self.lcd.width < 200 or self.lcd.height < 200

    @property
    def _body(self):
        """Font of a screen's main sentence: medium where the panel is large enough."""
        return font_small if self.compact else font_medium

    def t(self, key, *args):
        return self.tx.t(key, *args)

    def _fit(self, text, fonts, margin=8):
        return _pick(text, fonts, self.lcd.width - margin)

    def _word_font(self, text, fonts, w=None):
        """The first font with text's glyphs in which every word fits (so wrapping never cuts a
        word; Chinese, without spaces, breaks between any two characters)."""
        if w is None:
            w = self.lcd.width - 10
        for font in fonts:
            if has_glyphs(font, text) and all(textdraw.width(font, p) <= w for p in text.split()):
                return font
        return _pick(text, fonts, w)

    def _money(self, minor):
        return money.format(minor, self.currency)

    def _text_box(self, key, x, y, w, h, text, font, fg, bg, align=_CENTER):
        """A box of one line: "text" for a str, "runs" for ((text, font), ...) in mixed fonts."""
        return Box(key, x, y, w, h, "text" if isinstance(text, str) else "runs", text, font, fg, bg, align)

    def _stack(self, top, rows, bottom, bg, x=0, W=None):
        """Boxes for a list of Row centred vertically between top and bottom
        (in the column x .. x + W, the full width by default).

        The gaps above and below are boxes too, so the whole band is painted exactly once.
        """
        if W is None:
            W = self.lcd.width
        space = bottom - top
        if _height(rows) > space:  # a different layout by rule: without the second language
            rows = [r for r in rows if not r.extra]
        if _height(rows) > space:  # still too many lines for this panel: keep the first ones
            keep = first_rows(rows, space)
            self._dropping += len(rows) - len(keep)
            rows = keep
        gap = (space - _height(rows)) // 2
        boxes = []
        if gap > 0:
            boxes.append(_fill("gap_top", x, top, W, gap, bg))
        y = top + gap
        for r in rows:
            boxes.append(self._text_box(r.key, x, y, W, r.h, r.text, r.font, r.fg, bg))
            y += r.h
        if bottom - y > 0:
            boxes.append(_fill("gap_bottom", x, y, W, bottom - y, bg))
        return boxes

    def _header(self, text, bg, fg=_WHITE):
        h = 30 if self.compact else 36
        w = self.lcd.width - 8
        font = _pick(text, (font_medium, font_small), w)
        return h, [Box("header", 0, 0, self.lcd.width, h, "text", shorten(text, font, w), font, fg, bg, _CENTER)]

    def _footer(self, text, bg=_WHITE, fg=_MUTED):
        """Key hint at the bottom: one line, two on a narrow panel if it must wrap (then "...")."""
        H = self.lcd.height
        if not text:
            return H, []
        w = self.lcd.width - 8
        font = _pick(text, (font_small,), w)
        lines = textdraw.wrap(font, text, w)
        if len(lines) > 2:
            lines = [lines[0], shorten(" ".join(lines[1:]), font, w)]
        h = 22 if len(lines) > 1 or self.lcd.height < 200 else 24
        top = H - h * len(lines)
        boxes = []
        for i, line in enumerate(lines):
            boxes.append(Box("footer%d" % i, 0, top + i * h, self.lcd.width, h, "text", line, font, fg,
                             bg, _CENTER))
        return top, boxes

    def _lines(self, key, text, font, fg, line_h=None, w=None, extra=False):
        """Rows for text wrapped to the panel's width (narrow panels get more lines), in `font`
        or, for characters it lacks (Chinese in the large font), a smaller one that has them."""
        if w is None:
            w = self.lcd.width - 10
        if not has_glyphs(font, text):
            font = _pick(text, (font_medium, font_small) if font is font_large else (font_small,), w)
        rows = []
        lines = textdraw.wrap(font, text, w)
        if line_h is None:  # a paragraph of three lines or more is set closer
            line_h = font.HEIGHT + (5 if len(lines) < 3 else 2)
        for i, line in enumerate(lines):
            rows.append(_row("%s%d" % (key, i), line, font, fg, line_h, extra))
        return rows

    def _customer(self, key, textkey, font, fg, line_h=None, w=None):
        """Rows of a customer's line, once per customer language (the second one `extra`)."""
        rows = []
        for i, text in enumerate(self.tx.customer(textkey)):
            f = font
            if f is font_small and not self.compact and _cjk(text):
                f = font_medium  # a Chinese character needs more pixels than a letter to read
            rows += self._lines(key + "abc"[i], text, f, fg, line_h, w, extra=i > 0)
        return rows

    def _amount_rows(self, key, minor, fg=_INK, w=None, fonts=None):
        """Rows showing an amount as large as the panel allows; a currency code that leaves the
        digits too small on one line goes on a line of its own above them."""
        if fonts is None:
            fonts = (font_medium, font_small) if self.compact else (font_large, font_medium, font_small)
        if w is None:
            w = self.lcd.width - 8
        text, font = self._amount_fit(minor, fonts, w)
        too_wide = _width(text, font) > w
        if not isinstance(text, str) and (font is not fonts[0] or too_wide):
            number = money.number(minor, self.currency)
            big = textdraw.fit(fonts, number, w)
            if big is not font or too_wide:
                return [_row(key + "_code", self.currency.upper(), font_small, fg, font_small.HEIGHT + 2),
                        _row(key, number, big, fg, big.HEIGHT + 6)]
        return [_row(key, text, font, fg, font.HEIGHT + 8)]

    def _amount_text(self, minor, font):
        """An amount as drawn in `font`: a str with its symbol ("$12.50"), or for a currency shown
        by its code, runs with the code in a smaller font before the digits (("KWD ", medium),
        ("12.500", large)), so the digits keep their size."""
        cur = self.currency.upper()
        if cur in money.SYMBOLS:
            return money.format(minor, cur)
        code_font = font_medium if font is font_large else font_small
        return ((cur + " ", code_font), (money.number(minor, cur), font))

    def _amount_fit(self, minor, fonts, w):
        """(text, font) of the amount in the first font of `fonts` where it fits w pixels."""
        for font in fonts:
            text = self._amount_text(minor, font)
            if _width(text, font) <= w:
                break
        return text, font

    def _hint(self, wide, narrow):
        return narrow if self.narrow else wide

    def _result(self, name, title, colour, rows, footer):
        """A result screen: a coloured title band over white, the rows centred, a key hint."""
        W = self.lcd.width
        title_h = self._title_h()
        fonts = (font_medium, font_small) if self.compact else (font_large, font_medium, font_small)
        font = _pick(title, fonts, W - 12)
        boxes = [Box("title", 0, 0, W, title_h, "text", shorten(title, font, W - 12), font, _WHITE, colour,
                     _CENTER)]
        bottom, foot = self._footer(footer)
        boxes += self._stack(title_h, rows, bottom, _WHITE)
        boxes += foot
        return self._show(name, boxes)

    def _title_h(self):
        return (32 if self.lcd.height < 200 else 38) if self.compact else 60

    # --- screens --------------------------------------------------------------------------
    def idle(self, notice=None):
        """Merchant name and "Enter amount"; `notice` (e.g. a late-payment line) shows in amber."""
        top, boxes = self._header(self.merchant or "Alipay", _BLUE)
        prompt = self.t("idle.prompt")
        rows = self._lines("prompt", prompt, font_medium, _INK, 30)
        if notice:  # the notice takes the place of the welcome line
            rows += self._lines("notice", notice, font_small, _AMBER)
        else:
            rows += self._lines("sub", self.t("idle.sub"), font_small, _MUTED)
        bottom, foot = self._footer(self.currency)
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("idle", boxes)

    def amount(self, minor, title=None):
        top, boxes = self._header(title or self.t("amount.title"), _BLUE)
        rows = self._amount_rows("amount", minor)
        footer = self._hint(self.t("hint.confirm_clear", self.keys[0], self.keys[2]),
                            self.t("hint.confirm", self.keys[0]))
        bottom, foot = self._footer(footer)
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("amount:" + (title or ""), boxes)

    # --- a sale's screens: firmware/display/screens_sale.py, and screens_qr.py for the QR -----
    def creating(self, minor):
        return _part(_SALE).creating(self, minor)

    def qr(self, code, minor, seconds):
        return _part(_QR).qr(self, code, minor, seconds)

    def countdown(self, seconds):
        if self.name != "qr" or self._qr_args is None:
            return 0  # no QR on the panel: nothing to update (and nothing to load)
        return _part(_QR).countdown(self, seconds)

    def checking(self, minor=None):
        return _part(_SALE).checking(self, minor)

    def cancelling(self, minor):
        return _part(_SALE).cancelling(self, minor)

    def paid(self, minor, wallet=None, customer=None):
        return _part(_SALE).paid(self, minor, wallet, customer)

    def failed(self, reason=""):
        return _part(_SALE).failed(self, reason)

    def expired(self, minor=None):
        return _part(_SALE).expired(self, minor)

    def cancelled(self, minor=None):
        return _part(_SALE).cancelled(self, minor)

    # --- the offline, error and message screens: firmware/display/screens_notice.py ----------
    def offline(self, detail=""):
        return _part(_NOTICE).offline(self, detail)

    def error(self, message, kind="config"):
        return _part(_NOTICE).error(self, message, kind)

    # --- the supervisor's screens: firmware/display/screens_refund.py, loaded at the menu ------
    def menu(self, sale=None):
        return _part(_REFUND).menu(self, sale)

    def pin(self, digits, wrong=False, status=None, title=None):
        return _part(_REFUND).pin(self, digits, wrong, status, title)

    def refund_amount(self, minor, paid=None):
        return _part(_REFUND).refund_amount(self, minor, paid)

    def refund_confirm(self, minor):
        return _part(_REFUND).refund_confirm(self, minor)

    def refunding(self, minor):
        return _part(_REFUND).refunding(self, minor)

    def refunded(self, minor):
        return _part(_REFUND).refunded(self, minor)

    def refund_failed(self, reason=""):
        return _part(_REFUND).refund_failed(self, reason)

    def late_payment(self, minor, returned=True):  # (with a sale's screens: the same results' layout)
        return _part(_SALE).late_payment(self, minor, returned)

    def message(self, title, text="", colour=_BLUE, footer=""):
        return _part(_NOTICE).message(self, title, text, colour, footer)


# The screens a sale draws (creating, checking, results, late payment), its QR, the supervisor's
# (menu, PIN, refund) and the notices (offline, error, message) are modules of their own, loaded
# by the first screen of theirs and dropped at idle with the QR drawer
# (firmware/display/screens_sale.py, screens_qr.py, screens_refund.py, screens_notice.py): a
# sale's heap holds only what its screens draw with, and the QR's layout code and the results'
# take turns (Screens._show).
_PARTS = (_SALE, _QR, _REFUND, _NOTICE, "qrdraw")


def _part(name):
    """The module of a sale's (_SALE), its QR's (_QR), the supervisor's (_REFUND) or the notices'
    (_NOTICE) screens, loaded after a collection when it is not (lib/late.py)."""
    return late.load(name)


def _cjk(text):
    for c in codes(text):  # code points: a str per character would be interned (lib/fonts.py)
        if c >= 0x2E80:
            return True
    return False


def first_rows(rows, space):
    """The first rows that fit in `space` pixels together."""
    keep = []
    used = 0
    for r in rows:
        if used + r.h > space:
            break
        keep.append(r)
        used += r.h
    return keep


def _height(rows):
    total = 0
    for r in rows:
        total += r.h
    return total
