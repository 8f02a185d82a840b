"""Every screen of the terminal, drawn on an lib/lcd.py driver without a frame buffer.

    screens = Screens(lcd, merchant="Corner Cafe", currency="USD")
    screens.idle()                       # merchant name, "Enter amount"
    screens.amount(1250)                 # amount entry; call again on every key: only the amount redraws
    screens.creating(1250)               # asking the gateway for an order code
    screens.qr(code, 1250, seconds=180)  # QR + amount + countdown + cancel hint
    screens.countdown(179)               # only the countdown redraws, never the QR
    screens.checking(1250)               # result unknown, asking the gateway
    screens.paid(1250)
    screens.failed("Declined by wallet")
    screens.expired(1250)
    screens.cancelled(1250)
    screens.offline("Wi-Fi lost")        # recovers by itself; detail optional
    screens.error("Missing gateway URL", kind="config")   # or kind="hardware"
    screens.pin(3)                       # supervisor PIN, 3 digits keyed (shown as dots)
    screens.pin(0, wrong=True)           # after a wrong PIN
    screens.refund_amount(500, 1250)     # refund entry: amount so far, of the paid amount
    screens.refund_confirm(500)
    screens.refunding(500)
    screens.refunded(500)
    screens.refund_failed("Too late to refund")
    screens.late_payment(1250, "refunded")   # a payment that landed after the sale ended
    screens.message("Title", "text")     # anything else (self-test, about)

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
from collections import namedtuple

import late
import qrdraw
import textdraw
from fonts import large as font_large
from fonts import medium as font_medium
from fonts import small as font_small
from lcd import color565

from firmware.sale import money

WHITE = 0xFFFF
INK = color565(20, 20, 24)
MUTED = color565(90, 90, 100)
BLUE = color565(22, 119, 255)  # Alipay blue
GREEN = color565(21, 128, 61)
RED = color565(190, 24, 24)
AMBER = color565(180, 83, 9)
GREY = color565(75, 85, 99)
PURPLE = color565(109, 40, 217)

_LEFT = textdraw.LEFT

# A screen is a list of boxes that tile the panel. kind "text": content is a str drawn in font;
# "runs": content is ((text, font), ...) on one baseline; "fill": content is a colour; "qr":
# content is the code (the packed rows are in Screens._qr).
Box = namedtuple("Box", ("key", "x", "y", "w", "h", "kind", "content", "font", "fg", "bg", "align"))
# A row of a vertical stack (Screens._stack): one line of text and the height it takes.
Row = namedtuple("Row", ("key", "text", "font", "fg", "h"))


def _fill(key, x, y, w, h, colour):
    return Box(key, x, y, w, h, "fill", colour, None, None, None, None)


def _with_content(box, content):
    """The same box showing other content (MicroPython's namedtuple has no _replace)."""
    return Box(box.key, box.x, box.y, box.w, box.h, box.kind, content, box.font, box.fg, box.bg, box.align)


def _width(text, font):
    """Width of a str in font, or of ((text, font), ...) runs."""
    return textdraw.width(font, text) if isinstance(text, str) else textdraw.runs_width(text)
_CENTER = textdraw.CENTER
_RIGHT = textdraw.RIGHT


class Screens:
    def __init__(self, display, merchant="", currency="USD", encode=None, cancel_key="CANCEL",
                 ok_key="OK", clear_key="CLEAR"):
        self.lcd = display
        self.merchant = merchant
        self.currency = currency
        self.encode = encode
        self.keys = (ok_key, cancel_key, clear_key)
        self.name = None  # the screen on the panel
        self._boxes = {}
        self._layout = None
        self._qr = None  # (code, packed rows) of the last code encoded
        self._qr_args = None
        self._dropping = 0
        self.dropped = 0  # lines the last screen had no room for (tests keep this at 0)

    # --- machinery ------------------------------------------------------------------------
    def invalidate(self):
        self.name = None
        self._boxes = {}
        self._layout = None

    def _show(self, name, boxes):
        """Draw a screen given as a list of Box; skip the boxes the panel already shows."""
        layout = [(b.key, b.x, b.y, b.w, b.h) for b in boxes]
        partial = name == self.name and layout == self._layout
        drawn = 0
        for b in boxes:
            if partial and self._boxes.get(b.key) == b:
                continue
            self._draw(b)
            drawn += 1
        self.name = name
        self.dropped = self._dropping
        self._dropping = 0
        self._layout = layout
        self._boxes = {}
        for b in boxes:
            self._boxes[b.key] = b
        return drawn

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

    def _fit(self, text, fonts, margin=8):
        return textdraw.fit(fonts, text, self.lcd.width - margin)

    def _word_font(self, text, fonts):
        """The first font in which every word fits the width (so wrapping never cuts a word)."""
        for font in fonts:
            if all(textdraw.width(font, w) <= self.lcd.width - 10 for w in text.split()):
                return font
        return fonts[-1]

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
        used = 0
        for r in rows:
            used += r.h
        space = bottom - top
        if used > space:  # too many lines for this panel: keep the first ones that fit
            keep = []
            used = 0
            for r in rows:
                if used + r.h > space:
                    break
                keep.append(r)
                used += r.h
            self._dropping += len(rows) - len(keep)
            rows = keep
        gap = (space - used) // 2
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

    def _header(self, text, bg, fg=WHITE):
        h = 30 if self.compact else 36
        font = self._fit(text, (font_medium, font_small), 12)
        return h, [Box("header", 0, 0, self.lcd.width, h, "text", text, font, fg, bg, _CENTER)]

    def _footer(self, text, bg=WHITE, fg=MUTED):
        """Key hint at the bottom: one line, two on a narrow panel if it must wrap."""
        H = self.lcd.height
        if not text:
            return H, []
        lines = textdraw.wrap(font_small, text, self.lcd.width - 8)[:2]
        h = 22 if len(lines) > 1 or self.lcd.height < 200 else 24
        top = H - h * len(lines)
        boxes = []
        for i, line in enumerate(lines):
            boxes.append(Box("footer%d" % i, 0, top + i * h, self.lcd.width, h, "text", line, font_small, fg,
                             bg, _CENTER))
        return top, boxes

    def _lines(self, key, text, font, fg, line_h=None):
        """Rows for text wrapped to the panel's width (narrow panels get more lines)."""
        rows = []
        if line_h is None:
            line_h = font.HEIGHT + 5
        for i, line in enumerate(textdraw.wrap(font, text, self.lcd.width - 10)):
            rows.append(Row("%s%d" % (key, i), line, font, fg, line_h))
        return rows

    def _amount_rows(self, key, minor, fg=INK, w=None, fonts=None):
        """Rows showing an amount as large as the panel allows; a currency code that leaves the
        digits too small on one line goes on a line of its own above them."""
        if fonts is None:
            fonts = (font_medium, font_small) if self.compact else (font_large, font_medium, font_small)
        if w is None:
            w = self.lcd.width - 8
        text, font = self._amount_fit(minor, fonts, w)
        if not isinstance(text, str) and font is not fonts[0]:
            number = money.number(minor, self.currency)
            big = textdraw.fit(fonts, number, w)
            if big is not font:
                return [Row(key + "_code", self.currency.upper(), font_small, fg, font_small.HEIGHT + 2),
                        Row(key, number, big, fg, big.HEIGHT + 6)]
        return [Row(key, text, font, fg, font.HEIGHT + 8)]

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
        H = self.lcd.height
        title_h = (32 if self.lcd.height < 200 else 38) if self.compact else 60
        fonts = (font_medium, font_small) if self.compact else (font_large, font_medium, font_small)
        font = self._fit(title, fonts, 12)
        boxes = [Box("title", 0, 0, W, title_h, "text", title, font, WHITE, colour, _CENTER)]
        bottom, foot = self._footer(footer)
        boxes += self._stack(title_h, rows, bottom, WHITE)
        boxes += foot
        return self._show(name, boxes)

    # --- screens --------------------------------------------------------------------------
    def idle(self, notice=None):
        """Merchant name and "Enter amount"; `notice` (e.g. a late-payment line) shows in amber."""
        top, boxes = self._header(self.merchant or "Alipay", BLUE)
        rows = self._lines("prompt", "Enter amount", font_medium, INK, 30)
        if notice:  # the notice takes the place of the welcome line
            rows += self._lines("notice", notice, font_small, AMBER)
        else:
            rows += self._lines("sub", "Alipay accepted here", font_small, MUTED)
        bottom, foot = self._footer(self.currency)
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("idle", boxes)

    def amount(self, minor, title="Amount"):
        top, boxes = self._header(title, BLUE)
        rows = self._amount_rows("amount", minor)
        footer = self._hint("%s: confirm  %s: clear" % (self.keys[0], self.keys[2]),
                            "%s: confirm" % self.keys[0])
        bottom, foot = self._footer(footer)
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("amount:" + title, boxes)

    def creating(self, minor):
        top, boxes = self._header(self.merchant or "Alipay", BLUE)
        rows = self._amount_rows("amount", minor) + self._lines("status", "Creating order...", self._body, MUTED)
        bottom, foot = self._footer("%s: stop" % self.keys[1])
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("creating", boxes)

    def qr(self, code, minor, seconds):
        """The order code as a QR with the amount, a countdown and the cancel hint.

        Returns False (and shows an error screen) when the code cannot be drawn legibly here.
        """
        packed = self._packed(code)
        if packed is None:
            return False
        W = self.lcd.width
        H = self.lcd.height
        hint = "%s: stop" % self.keys[1]
        count = self._countdown_text(seconds)
        modules = packed[1][1]
        if W > H:  # landscape: the QR as a square on the left, the words in a column beside it
            size = H // (modules + 2 * qrdraw.QUIET)
            if size < qrdraw.MIN_MODULE:
                return self._too_large(modules)
            fonts = (font_large, font_medium, font_small)
            while True:  # a very long amount may take a pixel per module from the QR
                side = size * (modules + 2 * qrdraw.QUIET)
                col = W - side
                amount = self._amount_rows("amount", minor, INK, col - 6, fonts)
                fits = True
                for r in amount:
                    if _width(r.text, r.font) > col - 6:
                        fits = False
                if fits or size == qrdraw.MIN_MODULE:
                    break
                size -= 1
            rows = amount + [Row("countdown", count, font_small, INK, 24),
                             Row("hint", hint, font_small, MUTED, 24)]
            boxes = [self._qr_box(0, 0, side, H, packed)] + self._stack(0, rows, H, WHITE, side, col)
            self._qr_args = (code, minor)
            self._show("qr", boxes)
            return True
        foot_h = 40 if self.narrow else 28
        # The biggest amount font that fits the width and costs the QR no module size (on a
        # square 240x240 panel the medium font buys the QR a pixel per module).
        font = None
        best = -1
        for f in (font_large, font_medium, font_small):
            t = self._amount_text(minor, f)
            if _width(t, f) > W - 8 and f is not font_small:
                continue
            size = qrdraw.module_size(modules, W, H - f.HEIGHT - (6 if self.narrow else 10) - foot_h)
            if size > best:
                text, font, best = t, f, size
        amount_h = font.HEIGHT + (6 if self.narrow else 10)
        qr_h = H - amount_h - foot_h
        if self.narrow:  # two footer lines: countdown, hint
            boxes = [self._text_box("amount", 0, 0, W, amount_h, text, font, INK, WHITE),
                     self._qr_box(0, amount_h, W, qr_h, packed),
                     Box("countdown", 0, H - foot_h, W, 20, "text", count, font_small, INK, WHITE, _CENTER),
                     Box("hint", 0, H - 20, W, 20, "text", hint, font_small, MUTED, WHITE, _CENTER)]
        else:  # one footer line: countdown left, hint right
            half = W - textdraw.width(font_small, hint) - 12
            boxes = [self._text_box("amount", 0, 0, W, amount_h, text, font, INK, WHITE),
                     self._qr_box(0, amount_h, W, qr_h, packed),
                     Box("countdown", 0, H - foot_h, half, foot_h, "text", count, font_small, INK, WHITE, _LEFT),
                     Box("hint", half, H - foot_h, W - half, foot_h, "text", hint, font_small, MUTED, WHITE, _RIGHT)]
        if qrdraw.module_size(modules, W, qr_h) < qrdraw.MIN_MODULE:
            return self._too_large(modules)
        self._qr_args = (code, minor)
        self._show("qr", boxes)
        return True

    def _qr_box(self, x, y, w, h, packed):
        return Box("qr", x, y, w, h, "qr", packed[0], None, None, None, None)

    def _too_large(self, modules):
        self.error("QR code too large for this display (%d modules)" % modules, kind="hardware")
        return False

    def countdown(self, seconds):
        """Update the countdown of the QR screen (nothing else is redrawn)."""
        if self.name != "qr" or self._qr_args is None:
            return 0
        box = self._boxes["countdown"]
        text = self._countdown_text(seconds)
        if box.content == text:
            return 0
        box = _with_content(box, text)
        self._draw(box)
        self._boxes["countdown"] = box
        return 1

    def _countdown_text(self, seconds):
        seconds = max(0, int(seconds))
        return "%s%d:%02d" % ("" if self.narrow else "Expires ", seconds // 60, seconds % 60)

    def _packed(self, code):
        """Encode (once per code) and return (code key, packed rows); None after an error screen."""
        if self._qr is not None and self._qr[0] == code:
            return self._qr
        if isinstance(code, str):
            try:
                if self.encode is not None:
                    encoded = self.encode(code)
                else:
                    import uqr
                    encoded = uqr.make(code, max_version=40)
            except Exception as e:  # too long for any QR version, or no encoder
                self.error("Cannot make the QR code: %s" % e, kind="hardware")
                return None
        else:
            encoded = code
        self._qr = (code, qrdraw.packed(encoded))
        late.drop("uqr")  # the encoder leaves the heap until the next code (lib/late.py)
        return self._qr

    def checking(self, minor=None):
        top, boxes = self._header("Checking", GREY)
        rows = []
        if minor is not None:
            rows += self._amount_rows("amount", minor)
        rows += self._lines("status", "Checking payment...", self._body, MUTED)
        rows += self._lines("note", "Do not hand over goods yet", font_small, INK)
        bottom, foot = self._footer("")
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("checking", boxes)

    def paid(self, minor, wallet=None, customer=None):
        """PAID with the amount; "Paid with GCash" and the customer's own amount ("PHP 712.50")
        when the gateway named them."""
        rows = self._amount_rows("amount", minor, fg=GREEN)
        if wallet:
            rows += self._lines("wallet", "Paid with " + wallet, self._body, INK)
            if customer:
                rows += self._lines("customer", customer, font_small, MUTED)
        else:
            rows += self._lines("note", "Payment received", self._body, INK)
        return self._result("paid", "PAID", GREEN, rows, "%s: next sale" % self.keys[0])

    def failed(self, reason=""):
        rows = self._lines("reason", reason or "The payment did not go through", self._body, INK)
        rows += self._lines("note", "No payment taken", font_small, MUTED)
        return self._result("failed", "FAILED", RED, rows, "%s: back" % self.keys[0])

    def expired(self, minor=None):
        rows = []
        if minor is not None:
            rows += self._amount_rows("amount", minor, fg=MUTED)
        rows += self._lines("note", "The code timed out", self._body, INK)
        rows += self._lines("note2", "No payment taken", font_small, MUTED)
        return self._result("expired", "EXPIRED", AMBER, rows, "%s: back" % self.keys[0])

    def cancelled(self, minor=None):
        rows = []
        if minor is not None:
            rows += self._amount_rows("amount", minor, fg=MUTED)
        rows += self._lines("note", "Sale cancelled", self._body, INK)
        rows += self._lines("note2", "No payment taken", font_small, MUTED)
        return self._result("cancelled", "CANCELLED", GREY, rows, "%s: back" % self.keys[0])

    def offline(self, detail=""):
        rows = self._lines("note", "No connection", self._word_font("No connection", (font_medium, font_small)), INK)
        rows += self._lines("detail", detail or "Reconnecting...", font_small, MUTED)
        return self._result("offline", "OFFLINE", AMBER, rows, "Resumes by itself")

    def error(self, message, kind="config"):
        """A configuration or hardware problem: says what, and who can fix it."""
        what = "Configuration error" if kind == "config" else "Hardware error"
        font = font_small if self.compact else self._word_font(what, (font_medium, font_small))
        rows = self._lines("what", what, font, RED)
        rows += self._lines("msg", message, font_small, INK)
        return self._result("error", "ERROR", RED, rows, "Call a technician")

    def pin(self, digits, wrong=False, title="Supervisor PIN"):
        top, boxes = self._header(title, PURPLE)
        font = font_medium if self.compact else font_large
        dots = ("\u2022 " * digits).strip() or "-"
        rows = [Row("dots", dots, font, INK, font.HEIGHT + 8)]
        rows += self._lines("status", "Wrong PIN, try again" if wrong else "Enter the PIN", self._body,
                            RED if wrong else MUTED)
        bottom, foot = self._footer(self._hint("%s: enter  %s: back" % (self.keys[0], self.keys[1]),
                                               "%s: enter" % self.keys[0]))
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("pin", boxes)

    def refund_amount(self, minor, paid=None):
        top, boxes = self._header("Refund", PURPLE)
        rows = self._amount_rows("amount", minor)
        if paid is not None:
            rows += self._lines("of", "of %s paid" % self._money(paid), font_small, MUTED)
        bottom, foot = self._footer(self._hint("%s: confirm  %s: back" % (self.keys[0], self.keys[1]),
                                               "%s: confirm" % self.keys[0]))
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("refund_amount", boxes)

    def refund_confirm(self, minor):
        top, boxes = self._header("Refund", PURPLE)
        rows = self._lines("q", "Refund this amount?", self._body, INK)
        rows += self._amount_rows("amount", minor)
        bottom, foot = self._footer("%s: yes  %s: no" % (self.keys[0], self.keys[1]))
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("refund_confirm", boxes)

    def refunding(self, minor):
        top, boxes = self._header("Refund", PURPLE)
        rows = self._amount_rows("amount", minor) + self._lines("status", "Refunding...", self._body, MUTED)
        bottom, foot = self._footer("")
        boxes += self._stack(top, rows, bottom, WHITE) + foot
        return self._show("refunding", boxes)

    def refunded(self, minor):
        rows = self._amount_rows("amount", minor, fg=PURPLE)
        rows += self._lines("note", "Refund accepted", self._body, INK)
        return self._result("refunded", "REFUNDED", PURPLE, rows, "%s: done" % self.keys[0])

    def refund_failed(self, reason=""):
        rows = self._lines("reason", reason or "The refund did not go through", self._body, INK)
        rows += self._lines("note", "Nothing was refunded", font_small, MUTED)
        return self._result("refund_failed", "NO REFUND", RED, rows, "%s: back" % self.keys[0])

    def late_payment(self, minor, outcome="refunded"):
        """A payment that arrived after its sale had ended. `outcome` is a short phrase saying what
        happened to the money ("refunded", "held: call the office"), shown on its own line."""
        rows = self._amount_rows("amount", minor)
        rows += self._lines("what", "paid after its sale ended", font_small, INK)
        outcome = outcome[:1].upper() + outcome[1:]
        rows += self._lines("outcome", outcome, self._body, AMBER)
        return self._result("late", "LATE PAYMENT", AMBER, rows, "%s: dismiss" % self.keys[0])

    def message(self, title, text="", colour=BLUE, footer=""):
        rows = self._lines("text", text, font_small, INK)
        return self._result("message:" + title, title, colour, rows, footer)
