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
import qrdraw
import textdraw
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
_GREEN = const(0x1407)  # 21, 128, 61
_RED = const(0xB8C3)  # 190, 24, 24
_AMBER = const(0xB281)  # 180, 83, 9
_GREY = const(0x4AAC)  # 75, 85, 99
_PURPLE = const(0x695B)  # 109, 40, 217

_LEFT = const(0)  # textdraw.LEFT, CENTER, RIGHT
_CENTER = const(1)
_RIGHT = const(2)
_ELLIPSIS = const("...")
_ROTATE_S = const(3)  # seconds each customer language shows when their lines take turns
_COMFORT = const(4)  # px per QR module a phone reads at ease; beyond it words win over a bigger code

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


def _with_content(box, content):
    """The same box showing other content (MicroPython's namedtuple has no _replace)."""
    return Box(box.key, box.x, box.y, box.w, box.h, box.kind, content, box.font, box.fg, box.bg, box.align)


def _width(text, font):
    """Width of a str in font, or of ((text, font), ...) runs."""
    return textdraw.width(font, text) if isinstance(text, str) else textdraw.runs_width(text)


def has_glyphs(font, text):
    """True when the font can draw every character of text (no "?" stand-ins)."""
    has = getattr(font, "has", None)  # lib/fonts.py fonts; a generated font module lists CHARS
    for ch in text:
        if not (has(ch) if has is not None else font.CHARS.find(ch) >= 0):
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
        self._boxes = {}
        self._layout = None
        self._qr = None  # (code, packed rows) of the last code encoded
        self._qr_args = None
        self._turns = None  # QR screen: (box keys, lines of each customer language) taking turns
        self._wallets = {}  # width -> the wallet lines wrapped (made once: every sale shows them)
        if display.width <= display.height:
            self._wallet_options(display.width - 8)
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
        if name != "qr":
            self._turns = None
        if name == "idle":  # the sale is over: forget its code (the heap at idle is the same after every sale)
            self._qr = None
            self._qr_args = None
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
            keep = []
            used = 0
            for r in rows:
                if used + r.h > space:
                    break
                keep.append(r)
                used += r.h
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

    def _clip(self, rows, space, w):
        """At most `space` pixels of the rows of one wrapped text; when they do not all fit, the
        last one kept ends in "..." (the rule for a long technician's message; the log has it all)."""
        keep = []
        used = 0
        for r in rows:
            if used + r.h > space:
                break
            keep.append(r)
            used += r.h
        if len(keep) < len(rows) and keep:
            last = keep[-1]
            rest = " ".join([r.text for r in rows[len(keep) - 1:]])
            keep[-1] = _row(last.key, shorten(rest + _ELLIPSIS, last.font, w), last.font, last.fg, last.h)
        return keep

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

    def creating(self, minor):
        top, boxes = self._header(self.merchant or "Alipay", _BLUE)
        rows = self._amount_rows("amount", minor) + self._lines("status", self.t("creating"), self._body, _MUTED)
        bottom, foot = self._footer(self.t("hint.stop", self.keys[1]))
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("creating", boxes)

    def qr(self, code, minor, seconds):
        """The order code as a QR with the merchant, the amount, which wallets pay it (in each
        customer language), a countdown and the cancel hint.

        The wallet lines show together where they cost the QR no module size, else they take
        turns in one place (a box the countdown redraws). Returns False (and shows an error
        screen) when the code cannot be drawn legibly here.
        """
        packed = self._packed(code)
        if packed is None:
            return False
        modules = packed[1][1]
        if self.lcd.width > self.lcd.height:
            boxes = self._qr_landscape(packed, minor, seconds, modules)
        else:
            boxes = self._qr_portrait(packed, minor, seconds, modules)
        if boxes is None:
            return self._too_large(modules)
        self._qr_args = (code, minor)
        self._show("qr", boxes)
        return True

    def _wallet_options(self, w):
        """Ways to show the wallet sentence in w pixels, best first: (lines of each customer
        language, together?). Together: every language's lines; else one language at a time."""
        options = self._wallets.get(w)
        if options is not None:
            return options
        options = []
        for key in ("qr.wallets", "qr.wallets_short"):
            langs = []
            for text in self.tx.customer(key):
                font = self._word_font(text, (font_small,), w)
                langs.append([(line, font) for line in textdraw.wrap(font, text, w)])
            options.append((langs, True))
        for key in ("qr.wallets", "qr.wallets_short"):
            langs = options[0 if key == "qr.wallets" else 1][0]
            if len(langs) > 1:
                options.append((langs, False))
        self._wallets[w] = options
        return options

    def _wallet_rows(self, option, seconds):
        """Rows of a wallet option; for turns, as many rows as the longest language needs, and
        self._turns set to what the countdown rotates through."""
        langs, together = option
        rows = []
        if together:
            for i, lines in enumerate(langs):
                for j, (line, font) in enumerate(lines):
                    rows.append(_row("wallet%s%d" % ("abc"[i], j), line, font, _INK, font_small.HEIGHT + 2))
            return rows, None
        n = 0
        for lines in langs:
            n = max(n, len(lines))
        keys = ["wallet%d" % j for j in range(n)]
        first = langs[_turn_of(seconds, len(langs))]
        for j in range(n):
            line, font = first[j] if j < len(first) else ("", font_small)
            rows.append(_row(keys[j], line, font, _INK, font_small.HEIGHT + 2))
        return rows, (keys, langs)

    def _merchant_row(self, w):
        if not self.merchant:
            return []
        font = _pick(self.merchant, (font_small,), w)
        return [_row("merchant", shorten(self.merchant, font, w), font, _MUTED, font.HEIGHT + 2)]

    def _qr_portrait(self, packed, minor, seconds, modules):
        W = self.lcd.width
        H = self.lcd.height
        hint = self.t("hint.stop", self.keys[1])
        count = self._countdown_text(seconds)
        foot_h = 36 if self.narrow else 28
        merchant = self._merchant_row(W - 8)
        best = None
        amounts = []  # the biggest amount font that fits the width and costs the QR no module size
        for f in (font_large, font_medium, font_small):
            t = self._amount_text(minor, f)
            if _width(t, f) <= W - 8 or f is font_small:
                amounts.append((t, f))
        # Best: the largest QR modules up to a comfortable size, every language at once, the
        # largest amount, then the largest modules and the wallets' best wording.
        for i, (t, f) in enumerate(amounts):
            for j, option in enumerate(self._wallet_options(W - 8)):
                amount_h = f.HEIGHT + (4 if self.narrow else 8)
                qr_h = H - _height(merchant) - amount_h - _option_height(option) - foot_h
                size = qrdraw.module_size(modules, W, qr_h) if qr_h > 0 else 0
                score = (min(size, _COMFORT), option[1], -i, size, -j)
                if best is None or score > best[0]:
                    best = (score, size, t, f, amount_h, qr_h, option)
        _score, size, text, font, amount_h, qr_h, option = best
        if size < qrdraw.MIN_MODULE:
            return None
        wallet, self._turns = self._wallet_rows(option, seconds)
        boxes = []
        y = 0
        for r in merchant:
            boxes.append(self._text_box(r.key, 0, y, W, r.h, r.text, r.font, r.fg, _WHITE))
            y += r.h
        boxes.append(self._text_box("amount", 0, y, W, amount_h, text, font, _INK, _WHITE))
        y += amount_h
        boxes.append(self._qr_box(0, y, W, qr_h, packed))
        y += qr_h
        for r in wallet:
            boxes.append(self._text_box(r.key, 0, y, W, r.h, r.text, r.font, r.fg, _WHITE))
            y += r.h
        if self.narrow:  # two footer lines: countdown, hint
            half = foot_h // 2
            boxes += [Box("countdown", 0, y, W, half, "text", count, font_small, _INK, _WHITE, _CENTER),
                      Box("hint", 0, y + half, W, H - y - half, "text", shorten(hint, font_small, W - 8),
                          font_small, _MUTED, _WHITE, _CENTER)]
        else:  # one footer line: countdown left, hint right
            half = W - textdraw.width(font_small, hint) - 12
            boxes += [Box("countdown", 0, y, half, H - y, "text", count, font_small, _INK, _WHITE, _LEFT),
                      Box("hint", half, y, W - half, H - y, "text", hint, font_small, _MUTED, _WHITE, _RIGHT)]
        return boxes

    def _qr_landscape(self, packed, minor, seconds, modules):
        """The QR as a square on the left, the words in a column beside it; a long amount or
        the wallet lines may take a pixel per module from the QR."""
        W = self.lcd.width
        H = self.lcd.height
        hint = self.t("hint.stop", self.keys[1])
        count = self._countdown_text(seconds)
        size = H // (modules + 2 * qrdraw.QUIET)
        if size < qrdraw.MIN_MODULE:
            return None
        chosen = None
        while chosen is None:  # the largest QR, then the largest amount, then the best wording
            side = size * (modules + 2 * qrdraw.QUIET)
            col = W - side
            w = col - 6
            tail = [_row("countdown", count, font_small, _INK, 20),
                    _row("hint", shorten(hint, font_small, w), font_small, _MUTED, 20)]
            for fonts in ((font_large, font_medium, font_small), (font_medium, font_small), (font_small,)):
                amount = self._amount_rows("amount", minor, _INK, w, fonts)
                if [r for r in amount if _width(r.text, r.font) > w]:
                    continue
                for option in self._wallet_options(w):
                    if _height(self._merchant_row(w) + amount + tail) + _option_height(option) <= H:
                        wallet, turns = self._wallet_rows(option, seconds)
                        chosen = (self._merchant_row(w) + amount + wallet + tail, turns)
                        break
                if chosen is not None:
                    break
            if chosen is None and size == qrdraw.MIN_MODULE:
                # the smallest QR and still no room: the words without the wallets (counted)
                self._dropping += 1
                chosen = (self._merchant_row(w) + amount + tail, None)
            size -= 1
        rows, self._turns = chosen
        return [self._qr_box(0, 0, side, H, packed)] + self._stack(0, rows, H, _WHITE, side, col)

    def _qr_box(self, x, y, w, h, packed):
        return Box("qr", x, y, w, h, "qr", packed[0], None, None, None, None)

    def _too_large(self, modules):
        self.error(self.t("qr.too_large", modules), kind="hardware")
        return False

    def countdown(self, seconds):
        """Update the countdown of the QR screen (nothing else is redrawn, but the wallet line
        when the customer languages take turns)."""
        if self.name != "qr" or self._qr_args is None:
            return 0
        drawn = self._turn(seconds)
        box = self._boxes["countdown"]
        text = self._countdown_text(seconds)
        if box.content == text:
            return drawn
        box = _with_content(box, text)
        self._draw(box)
        self._boxes["countdown"] = box
        return drawn + 1

    def _turn(self, seconds):
        """Show the customer language whose turn it is (every _ROTATE_S seconds)."""
        if self._turns is None:
            return 0
        keys, langs = self._turns
        lines = langs[_turn_of(seconds, len(langs))]
        drawn = 0
        for j, key in enumerate(keys):
            line, font = lines[j] if j < len(lines) else ("", font_small)
            box = self._boxes.get(key)
            if box is None or (box.content == line and box.font is font):
                continue
            box = Box(box.key, box.x, box.y, box.w, box.h, box.kind, line, font, box.fg, box.bg, box.align)
            self._draw(box)
            self._boxes[key] = box
            drawn += 1
        return drawn

    def _countdown_text(self, seconds):
        seconds = max(0, int(seconds))
        clock = "%d:%02d" % (seconds // 60, seconds % 60)
        return clock if self.narrow else self.t("qr.expires", clock)

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
                self.error("%s: %s" % (self.t("qr.cannot"), e), kind="hardware")
                return None
        else:
            encoded = code
        self._qr = (code, qrdraw.packed(encoded))
        late.drop("uqr")  # the encoder leaves the heap until the next code (lib/late.py)
        return self._qr

    def checking(self, minor=None):
        top, boxes = self._header(self.t("checking.title"), _GREY)
        rows = []
        if minor is not None:
            rows += self._amount_rows("amount", minor)
        rows += self._lines("status", self.t("checking.status"), self._body, _MUTED)
        rows += self._lines("note", self.t("checking.note"), font_small, _INK)
        bottom, foot = self._footer("")
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("checking", boxes)

    def cancelling(self, minor):
        """The cashier pressed cancel: said at once; the gateway's answer decides (PAID wins)."""
        rows = self._lines("text", self.t("cancelling.text", self._money(minor)), font_small, _INK)
        rows += self._lines("note", self.t("checking.note"), font_small, _MUTED)
        return self._result("cancelling", self.t("cancelling.title"), _GREY, rows, "")

    def paid(self, minor, wallet=None, customer=None):
        """PAID with the amount; "Paid with GCash" and the customer's own amount ("PHP 712.50")
        when the gateway named them, else the customer's "Payment received"."""
        rows = self._amount_rows("amount", minor, fg=_GREEN)
        if wallet:
            rows += self._lines("wallet", self.t("paid.with", wallet), self._body, _INK)
            if customer:
                rows += self._lines("customer", customer, font_small, _MUTED)
        else:
            rows += self._customer("note", "paid.note", self._body, _INK)
        return self._result("paid", self.t("paid.title"), _GREEN, rows, self.t("hint.next", self.keys[0]))

    def failed(self, reason=""):
        rows = self._lines("reason", reason or self.t("why.unknown"), self._body, _INK)
        rows += self._customer("note", "no_payment", font_small, _MUTED)
        return self._result("failed", self.t("failed.title"), _RED, rows, self.t("hint.back", self.keys[0]))

    def expired(self, minor=None):
        rows = []
        if minor is not None:
            rows += self._amount_rows("amount", minor, fg=_MUTED)
        rows += self._customer("note", "expired.note", self._body, _INK)
        rows += self._customer("note2", "no_payment", font_small, _MUTED)
        return self._result("expired", self.t("expired.title"), _AMBER, rows, self.t("hint.back", self.keys[0]))

    def cancelled(self, minor=None):
        rows = []
        if minor is not None:
            rows += self._amount_rows("amount", minor, fg=_MUTED)
        rows += self._customer("note", "cancelled.note", self._body, _INK)
        rows += self._customer("note2", "no_payment", font_small, _MUTED)
        return self._result("cancelled", self.t("cancelled.title"), _GREY, rows, self.t("hint.back", self.keys[0]))

    def offline(self, detail=""):
        note = self.t("offline.note")
        rows = self._lines("note", note, self._word_font(note, (font_medium, font_small)), _INK)
        rows += self._lines("detail", detail or self.t("offline.detail"), font_small, _MUTED)
        return self._result("offline", self.t("offline.title"), _AMBER, rows, self.t("offline.hint"))

    def error(self, message, kind="config"):
        """A configuration or hardware problem: says what, and who can fix it."""
        what = self.t("error.config" if kind == "config" else "error.hardware")
        font = font_small if self.compact else self._word_font(what, (font_medium, font_small))
        rows = self._lines("what", what, font, _RED)
        hint = self.t("error.hint")
        space = self._footer(hint)[0] - self._title_h() - _height(rows)
        rows += self._clip(self._lines("msg", message, font_small, _INK), space, self.lcd.width - 10)
        return self._result("error", self.t("error.title"), _RED, rows, hint)

    def menu(self, sale=None):
        """The supervisor menu: `sale` says which payment a refund would return (by time and
        amount), or None when there is nothing to refund."""
        if sale is None:
            rows = self._lines("text", self.t("menu.none"), font_small, _INK)
            return self._result("menu", self.t("menu.title"), _PURPLE, rows, self.t("hint.back", self.keys[1]))
        rows = self._lines("text", sale, self._body, _INK)
        footer = self._hint(self.t("hint.refund_back", self.keys[0], self.keys[1]),
                            self.t("hint.confirm", self.keys[0]))
        return self._result("menu", self.t("refund.title"), _PURPLE, rows, footer)

    def pin(self, digits, wrong=False, status=None, title=None):
        """The supervisor PIN prompt: dots for the digits keyed; `status` says what happened
        (a wrong PIN and the tries left) in red instead of "Enter the PIN"."""
        if wrong and not status:
            status = self.t("pin.retry")
        top, boxes = self._header(title or self.t("pin.title"), _PURPLE)
        font = font_medium if self.compact else font_large
        dots = ("\u2022 " * digits).strip() or "-"
        w = self.lcd.width - 8
        if textdraw.width(font, dots) > w:  # a long PIN: the dots closer together, then smaller
            dots = "\u2022" * digits
            font = _pick(dots, (font, font_medium, font_small), w)
        rows = [_row("dots", dots, font, _INK, font.HEIGHT + 8)]
        rows += self._lines("status", status or self.t("pin.enter"), self._body if not status else font_small,
                            _RED if status else _MUTED)
        bottom, foot = self._footer(self._hint(self.t("hint.enter_back", self.keys[0], self.keys[1]),
                                               self.t("hint.enter", self.keys[0])))
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("pin", boxes)

    def refund_amount(self, minor, paid=None):
        top, boxes = self._header(self.t("refund.title"), _PURPLE)
        rows = self._amount_rows("amount", minor)
        if paid is not None:
            rows += self._lines("of", self.t("refund.of", self._money(paid)), font_small, _MUTED)
        bottom, foot = self._footer(self._hint(self.t("hint.confirm_back", self.keys[0], self.keys[1]),
                                               self.t("hint.confirm", self.keys[0])))
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("refund_amount", boxes)

    def refund_confirm(self, minor):
        top, boxes = self._header(self.t("refund.title"), _PURPLE)
        rows = self._lines("q", self.t("refund.confirm"), self._body, _INK)
        rows += self._amount_rows("amount", minor)
        bottom, foot = self._footer(self.t("hint.yes_no", self.keys[0], self.keys[1]))
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("refund_confirm", boxes)

    def refunding(self, minor):
        top, boxes = self._header(self.t("refund.title"), _PURPLE)
        rows = self._amount_rows("amount", minor) + self._lines("status", self.t("refunding"), self._body, _MUTED)
        bottom, foot = self._footer("")
        boxes += self._stack(top, rows, bottom, _WHITE) + foot
        return self._show("refunding", boxes)

    def refunded(self, minor):
        rows = self._amount_rows("amount", minor, fg=_PURPLE)
        rows += self._lines("note", self.t("refunded.note"), self._body, _INK)
        return self._result("refunded", self.t("refunded.title"), _PURPLE, rows, self.t("hint.done", self.keys[0]))

    def refund_failed(self, reason=""):
        rows = self._lines("reason", reason or self.t("refund.unknown"), self._body, _INK)
        rows += self._lines("note", self.t("refund_failed.note"), font_small, _MUTED)
        return self._result("refund_failed", self.t("refund_failed.title"), _RED, rows,
                            self.t("hint.back", self.keys[0]))

    def late_payment(self, minor, returned=True):
        """A payment that arrived after its sale had ended: returned to the customer, or held
        (someone at the office must act)."""
        rows = self._amount_rows("amount", minor)
        rows += self._lines("what", self.t("late.what"), font_small, _INK)
        rows += self._lines("outcome", self.t("late.returned" if returned else "late.held"), self._body, _AMBER)
        return self._result("late", self.t("late.title"), _AMBER, rows, self.t("hint.dismiss", self.keys[0]))

    def message(self, title, text="", colour=_BLUE, footer=""):
        rows = self._lines("text", text, font_small, _INK)
        return self._result("message:" + title, title, colour, rows, footer)


def _cjk(text):
    for ch in text:
        if ord(ch) >= 0x2E80:
            return True
    return False


def _turn_of(seconds, n):
    """Which of n customer languages shows at this countdown value."""
    return (max(0, int(seconds)) // _ROTATE_S) % n


def _option_height(option):
    """Height of the wallet rows an option of Screens._wallet_options makes."""
    langs, together = option
    n = 0
    for lines in langs:
        n = n + len(lines) if together else max(n, len(lines))
    return n * (font_small.HEIGHT + 2)


def _height(rows):
    total = 0
    for r in rows:
        total += r.h
    return total
