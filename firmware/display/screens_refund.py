"""The supervisor's screens: the menu, the PIN prompt and the refund's steps and results.
firmware/display/screens.py's Screens draws them through this module, which it loads at the menu
and drops at idle (lib/late.py): their code is on the heap only while the supervisor is at the
terminal. Each function takes the Screens `s` and draws like a method of it.
"""
from micropython import const

import textdraw
from fonts import large as font_large
from fonts import medium as font_medium
from fonts import small as font_small

from firmware.display.screens import _pick, _row

_WHITE = const(0xFFFF)  # RGB565, as in screens.py
_INK = const(0x10A3)
_MUTED = const(0x5ACC)
_RED = const(0xB8C3)
_PURPLE = const(0x695B)


def menu(s, sale=None):
    """The supervisor menu: `sale` says which payment a refund would return (by time and
    amount), or None when there is nothing to refund."""
    if sale is None:
        rows = s._lines("text", s.t("menu.none"), font_small, _INK)
        return s._result("menu", s.t("menu.title"), _PURPLE, rows, s.t("hint.back", s.keys[1]))
    rows = s._lines("text", sale, s._body, _INK)
    footer = s._hint(s.t("hint.refund_back", s.keys[0], s.keys[1]),
                        s.t("hint.confirm", s.keys[0]))
    return s._result("menu", s.t("refund.title"), _PURPLE, rows, footer)


def pin(s, digits, wrong=False, status=None, title=None):
    """The supervisor PIN prompt: dots for the digits keyed; `status` says what happened
    (a wrong PIN and the tries left) in red instead of "Enter the PIN"."""
    if wrong and not status:
        status = s.t("pin.retry")
    top, boxes = s._header(title or s.t("pin.title"), _PURPLE)
    font = font_medium if s.compact else font_large
    dots = ("\u2022 " * digits).strip() or "-"
    w = s.lcd.width - 8
    if textdraw.width(font, dots) > w:  # a long PIN: the dots closer together, then smaller
        dots = "\u2022" * digits
        font = _pick(dots, (font, font_medium, font_small), w)
    rows = [_row("dots", dots, font, _INK, font.HEIGHT + 8)]
    rows += s._lines("status", status or s.t("pin.enter"), s._body if not status else font_small,
                        _RED if status else _MUTED)
    bottom, foot = s._footer(s._hint(s.t("hint.enter_back", s.keys[0], s.keys[1]),
                                           s.t("hint.enter", s.keys[0])))
    boxes += s._stack(top, rows, bottom, _WHITE) + foot
    return s._show("pin", boxes)


def refund_amount(s, minor, paid=None):
    top, boxes = s._header(s.t("refund.title"), _PURPLE)
    rows = s._amount_rows("amount", minor)
    if paid is not None:
        rows += s._lines("of", s.t("refund.of", s._money(paid)), font_small, _MUTED)
    bottom, foot = s._footer(s._hint(s.t("hint.confirm_back", s.keys[0], s.keys[1]),
                                           s.t("hint.confirm", s.keys[0])))
    boxes += s._stack(top, rows, bottom, _WHITE) + foot
    return s._show("refund_amount", boxes)


def refund_confirm(s, minor):
    top, boxes = s._header(s.t("refund.title"), _PURPLE)
    rows = s._lines("q", s.t("refund.confirm"), s._body, _INK)
    rows += s._amount_rows("amount", minor)
    bottom, foot = s._footer(s.t("hint.yes_no", s.keys[0], s.keys[1]))
    boxes += s._stack(top, rows, bottom, _WHITE) + foot
    return s._show("refund_confirm", boxes)


def refunding(s, minor):
    top, boxes = s._header(s.t("refund.title"), _PURPLE)
    rows = s._amount_rows("amount", minor) + s._lines("status", s.t("refunding"), s._body, _MUTED)
    bottom, foot = s._footer("")
    boxes += s._stack(top, rows, bottom, _WHITE) + foot
    return s._show("refunding", boxes)


def refunded(s, minor):
    rows = s._amount_rows("amount", minor, fg=_PURPLE)
    rows += s._lines("note", s.t("refunded.note"), s._body, _INK)
    return s._result("refunded", s.t("refunded.title"), _PURPLE, rows, s.t("hint.done", s.keys[0]))


def refund_failed(s, reason=""):
    rows = s._lines("reason", reason or s.t("refund.unknown"), s._body, _INK)
    rows += s._lines("note", s.t("refund_failed.note"), font_small, _MUTED)
    return s._result("refund_failed", s.t("refund_failed.title"), _RED, rows,
                        s.t("hint.back", s.keys[0]))
