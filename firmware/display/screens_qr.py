"""The QR screen of a sale, with its countdown. firmware/display/screens.py's Screens draws it
through this module, loaded for the QR and dropped when another screen takes its place (lib/late.py):
the heap holds the QR's layout code or the results' (firmware/display/screens_sale.py), never both.
Each function takes the Screens `s` and draws like a method of it.
"""
from micropython import const

import late
import qrdraw
import textdraw
from fonts import large as font_large
from fonts import medium as font_medium
from fonts import small as font_small

from firmware.display.screens import Box, _height, _pick, _row, _width, shorten

_WHITE = const(0xFFFF)  # RGB565, as in screens.py
_INK = const(0x10A3)
_MUTED = const(0x5ACC)

_LEFT = const(0)  # textdraw.LEFT, CENTER, RIGHT
_CENTER = const(1)
_RIGHT = const(2)
_ROTATE_S = const(3)  # seconds each customer language shows when their lines take turns
_COMFORT = const(4)  # px per QR module a phone reads at ease; beyond it words win over a bigger code


def qr(s, code, minor, seconds):
    """The order code as a QR with the merchant, the amount, which wallets pay it (in each
    customer language), a countdown and the cancel hint.

    The wallet lines show together where they cost the QR no module size, else they take
    turns in one place (a box the countdown redraws). Returns False (and shows an error
    screen) when the code cannot be drawn legibly here.
    """
    packed = _packed(s, code)
    if packed is None:
        return False
    modules = packed[1][1]
    if s.lcd.width > s.lcd.height:
        boxes = _qr_landscape(s, packed, minor, seconds, modules)
    else:
        boxes = _qr_portrait(s, packed, minor, seconds, modules)
    if boxes is None:
        return _too_large(s, modules)
    s._qr_args = (code, minor)
    s._show("qr", boxes)
    return True


def _wallet_options(s, w):
    """Ways to show the wallet sentence in w pixels, best first: (lines of each customer
    language, together?). Together: every language's lines; else one language at a time."""
    options = s._wallets.get(w)
    if options is not None:
        return options
    options = []
    for key in ("qr.wallets", "qr.wallets_short"):
        langs = []
        for text in s.tx.customer(key):
            font = s._word_font(text, (font_small,), w)
            langs.append([(line, font) for line in textdraw.wrap(font, text, w)])
        options.append((langs, True))
    for key in ("qr.wallets", "qr.wallets_short"):
        langs = options[0 if key == "qr.wallets" else 1][0]
        if len(langs) > 1:
            options.append((langs, False))
    s._wallets[w] = options
    return options


def _wallet_rows(s, option, seconds):
    """Rows of a wallet option; for turns, as many rows as the longest language needs, and
    s._turns set to what the countdown rotates through."""
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


def _merchant_row(s, w):
    if not s.merchant:
        return []
    font = _pick(s.merchant, (font_small,), w)
    return [_row("merchant", shorten(s.merchant, font, w), font, _MUTED, font.HEIGHT + 2)]


def _qr_portrait(s, packed, minor, seconds, modules):
    W = s.lcd.width
    H = s.lcd.height
    hint = s.t("hint.stop", s.keys[1])
    count = _countdown_text(s, seconds)
    foot_h = 36 if s.narrow else 28
    merchant = _merchant_row(s, W - 8)
    best = None
    amounts = []  # the biggest amount font that fits the width and costs the QR no module size
    for f in (font_large, font_medium, font_small):
        t = s._amount_text(minor, f)
        if _width(t, f) <= W - 8 or f is font_small:
            amounts.append((t, f))
    # Best: the largest QR modules up to a comfortable size, every language at once, the
    # largest amount, then the largest modules and the wallets' best wording.
    for i, (t, f) in enumerate(amounts):
        for j, option in enumerate(_wallet_options(s, W - 8)):
            amount_h = f.HEIGHT + (4 if s.narrow else 8)
            qr_h = H - _height(merchant) - amount_h - _option_height(option) - foot_h
            size = qrdraw.module_size(modules, W, qr_h) if qr_h > 0 else 0
            score = (min(size, _COMFORT), option[1], -i, size, -j)
            if best is None or score > best[0]:
                best = (score, size, t, f, amount_h, qr_h, option)
    _score, size, text, font, amount_h, qr_h, option = best
    if size < qrdraw.MIN_MODULE:
        return None
    wallet, s._turns = _wallet_rows(s, option, seconds)
    boxes = []
    y = 0
    for r in merchant:
        boxes.append(s._text_box(r.key, 0, y, W, r.h, r.text, r.font, r.fg, _WHITE))
        y += r.h
    boxes.append(s._text_box("amount", 0, y, W, amount_h, text, font, _INK, _WHITE))
    y += amount_h
    boxes.append(_qr_box(s, 0, y, W, qr_h, packed))
    y += qr_h
    for r in wallet:
        boxes.append(s._text_box(r.key, 0, y, W, r.h, r.text, r.font, r.fg, _WHITE))
        y += r.h
    if s.narrow:  # two footer lines: countdown, hint
        half = foot_h // 2
        boxes += [Box("countdown", 0, y, W, half, "text", count, font_small, _INK, _WHITE, _CENTER),
                  Box("hint", 0, y + half, W, H - y - half, "text", shorten(hint, font_small, W - 8),
                      font_small, _MUTED, _WHITE, _CENTER)]
    else:  # one footer line: countdown left, hint right
        half = W - textdraw.width(font_small, hint) - 12
        boxes += [Box("countdown", 0, y, half, H - y, "text", count, font_small, _INK, _WHITE, _LEFT),
                  Box("hint", half, y, W - half, H - y, "text", hint, font_small, _MUTED, _WHITE, _RIGHT)]
    return boxes


def _qr_landscape(s, packed, minor, seconds, modules):
    """The QR as a square on the left, the words in a column beside it; a long amount or
    the wallet lines may take a pixel per module from the QR."""
    W = s.lcd.width
    H = s.lcd.height
    hint = s.t("hint.stop", s.keys[1])
    count = _countdown_text(s, seconds)
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
            amount = s._amount_rows("amount", minor, _INK, w, fonts)
            if [r for r in amount if _width(r.text, r.font) > w]:
                continue
            for option in _wallet_options(s, w):
                if _height(_merchant_row(s, w) + amount + tail) + _option_height(option) <= H:
                    wallet, turns = _wallet_rows(s, option, seconds)
                    chosen = (_merchant_row(s, w) + amount + wallet + tail, turns)
                    break
            if chosen is not None:
                break
        if chosen is None and size == qrdraw.MIN_MODULE:
            # the smallest QR and still no room: the words without the wallets (counted)
            s._dropping += 1
            chosen = (_merchant_row(s, w) + amount + tail, None)
        size -= 1
    rows, s._turns = chosen
    return [_qr_box(s, 0, 0, side, H, packed)] + s._stack(0, rows, H, _WHITE, side, col)


def _qr_box(s, x, y, w, h, packed):
    return Box("qr", x, y, w, h, "qr", packed[0], None, None, None, None)


def _too_large(s, modules):
    s.error(s.t("qr.too_large", modules), kind="hardware")
    return False


def countdown(s, seconds):
    """Update the countdown of the QR screen (nothing else is redrawn, but the wallet line
    when the customer languages take turns)."""
    if s.name != "qr" or s._qr_args is None:
        return 0
    drawn = _turn(s, seconds)
    box = s._boxes["countdown"]
    text = _countdown_text(s, seconds)
    if box.content == text:
        return drawn
    box = _with_content(box, text)
    s._draw(box)
    s._boxes["countdown"] = box
    return drawn + 1


def _turn(s, seconds):
    """Show the customer language whose turn it is (every _ROTATE_S seconds)."""
    if s._turns is None:
        return 0
    keys, langs = s._turns
    lines = langs[_turn_of(seconds, len(langs))]
    drawn = 0
    for j, key in enumerate(keys):
        line, font = lines[j] if j < len(lines) else ("", font_small)
        box = s._boxes.get(key)
        if box is None or (box.content == line and box.font is font):
            continue
        box = Box(box.key, box.x, box.y, box.w, box.h, box.kind, line, font, box.fg, box.bg, box.align)
        s._draw(box)
        s._boxes[key] = box
        drawn += 1
    return drawn


def _countdown_text(s, seconds):
    seconds = max(0, int(seconds))
    clock = "%d:%02d" % (seconds // 60, seconds % 60)
    return clock if s.narrow else s.t("qr.expires", clock)


def _packed(s, code):
    """Encode (once per code) and return (code key, packed rows); None after an error screen."""
    if s._qr is not None and s._qr[0] == code:
        return s._qr
    if isinstance(code, str):
        try:
            if s.encode is not None:
                encoded = s.encode(code)
            else:
                import uqr
                encoded = uqr.make(code, max_version=40)
        except MemoryError:
            raise  # a full heap says nothing of the code: the screen is drawn again once it has room
        except Exception as e:  # too long for any QR version, or no encoder
            s.error("%s: %s" % (s.t("qr.cannot"), e), kind="hardware")
            return None
    else:
        encoded = code
    s._qr = (code, qrdraw.packed(encoded))
    late.drop("uqr")  # the encoder leaves the heap until the next code (lib/late.py)
    return s._qr


def _with_content(box, content):
    """The same box showing other content (MicroPython's namedtuple has no _replace)."""
    return Box(box.key, box.x, box.y, box.w, box.h, box.kind, content, box.font, box.fg, box.bg, box.align)


def _turn_of(seconds, n):
    """Which of n customer languages shows at this countdown value."""
    return (max(0, int(seconds)) // _ROTATE_S) % n


def _option_height(option):
    """Height of the wallet rows an option of _wallet_options makes."""
    langs, together = option
    n = 0
    for lines in langs:
        n = n + len(lines) if together else max(n, len(lines))
    return n * (font_small.HEIGHT + 2)
