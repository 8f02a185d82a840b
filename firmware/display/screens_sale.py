"""A sale's screens other than the QR: creating, checking, cancelling, the results, and a late
payment. firmware/display/screens.py's Screens draws them through this module, which it loads at a
sale's first screen and drops at idle (lib/late.py), so their code is on the heap only while a sale
is on; the QR screen is firmware/display/screens_qr.py, never loaded beside this one. Each function
takes the Screens `s` (its boxes, fonts and words) and draws like a method of it; the screens
themselves are described in screens.py.
"""
from micropython import const

from fonts import small as font_small

_WHITE = const(0xFFFF)  # RGB565, as in screens.py
_INK = const(0x10A3)
_MUTED = const(0x5ACC)
_BLUE = const(0x13BF)
_GREEN = const(0x1407)
_RED = const(0xB8C3)
_AMBER = const(0xB281)
_GREY = const(0x4AAC)


def creating(s, minor):
    top, boxes = s._header(s.merchant or "Alipay", _BLUE)
    rows = s._amount_rows("amount", minor) + s._lines("status", s.t("creating"), s._body, _MUTED)
    bottom, foot = s._footer(s.t("hint.stop", s.keys[1]))
    boxes += s._stack(top, rows, bottom, _WHITE) + foot
    return s._show("creating", boxes)


def checking(s, minor=None):
    top, boxes = s._header(s.t("checking.title"), _GREY)
    rows = []
    if minor is not None:
        rows += s._amount_rows("amount", minor)
    rows += s._lines("status", s.t("checking.status"), s._body, _MUTED)
    rows += s._lines("note", s.t("checking.note"), font_small, _INK)
    bottom, foot = s._footer("")
    boxes += s._stack(top, rows, bottom, _WHITE) + foot
    return s._show("checking", boxes)


def cancelling(s, minor):
    """The cashier pressed cancel: said at once; the gateway's answer decides (PAID wins)."""
    rows = s._lines("text", s.t("cancelling.text", s._money(minor)), font_small, _INK)
    rows += s._lines("note", s.t("checking.note"), font_small, _MUTED)
    return s._result("cancelling", s.t("cancelling.title"), _GREY, rows, "")


def paid(s, minor, wallet=None, customer=None):
    """PAID with the amount; "Paid with GCash" and the customer's own amount ("PHP 712.50")
    when the gateway named them, else the customer's "Payment received"."""
    rows = s._amount_rows("amount", minor, fg=_GREEN)
    if wallet:
        rows += s._lines("wallet", s.t("paid.with", wallet), s._body, _INK)
        if customer:
            rows += s._lines("customer", customer, font_small, _MUTED)
    else:
        rows += s._customer("note", "paid.note", s._body, _INK)
    return s._result("paid", s.t("paid.title"), _GREEN, rows, s.t("hint.next", s.keys[0]))


def failed(s, reason=""):
    rows = s._lines("reason", reason or s.t("why.unknown"), s._body, _INK)
    rows += s._customer("note", "no_payment", font_small, _MUTED)
    return s._result("failed", s.t("failed.title"), _RED, rows, s.t("hint.back", s.keys[0]))


def expired(s, minor=None):
    return _ended_unpaid(s, "expired", _AMBER, minor)


def cancelled(s, minor=None):
    return _ended_unpaid(s, "cancelled", _GREY, minor)


def _ended_unpaid(s, name, colour, minor):
    """An expired or cancelled sale: its amount, what happened, and that nothing was paid."""
    rows = []
    if minor is not None:
        rows += s._amount_rows("amount", minor, fg=_MUTED)
    rows += s._customer("note", name + ".note", s._body, _INK)
    rows += s._customer("note2", "no_payment", font_small, _MUTED)
    return s._result(name, s.t(name + ".title"), colour, rows, s.t("hint.back", s.keys[0]))


def late_payment(s, minor, returned=True):
    """A payment that arrived after its sale had ended: returned to the customer, or held
    (someone at the office must act)."""
    rows = s._amount_rows("amount", minor)
    rows += s._lines("what", s.t("late.what"), font_small, _INK)
    rows += s._lines("outcome", s.t("late.returned" if returned else "late.held"), s._body, _AMBER)
    return s._result("late", s.t("late.title"), _AMBER, rows, s.t("hint.dismiss", s.keys[0]))
