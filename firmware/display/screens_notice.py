"""The notices: offline, a configuration or hardware error, and any other message.
firmware/display/screens.py's Screens draws them through this module, which it loads at the first
notice and drops at idle (lib/late.py): a sale's heap does not hold them. Each function takes the
Screens `s` and draws like a method of it.
"""
from micropython import const

from fonts import medium as font_medium
from fonts import small as font_small

from firmware.display.screens import _height, _row, first_rows, shorten

_INK = const(0x10A3)  # RGB565, as in screens.py
_MUTED = const(0x5ACC)
_RED = const(0xB8C3)
_AMBER = const(0xB281)


def offline(s, detail=""):
    note = s.t("offline.note")
    rows = s._lines("note", note, s._word_font(note, (font_medium, font_small)), _INK)
    rows += s._lines("detail", detail or s.t("offline.detail"), font_small, _MUTED)
    return s._result("offline", s.t("offline.title"), _AMBER, rows, s.t("offline.hint"))


def error(s, message, kind="config"):
    """A configuration or hardware problem: says what, and who can fix it."""
    what = s.t("error.config" if kind == "config" else "error.hardware")
    font = font_small if s.compact else s._word_font(what, (font_medium, font_small))
    rows = s._lines("what", what, font, _RED)
    hint = s.t("error.hint")
    space = s._footer(hint)[0] - s._title_h() - _height(rows)
    rows += _clip(s._lines("msg", message, font_small, _INK), space, s.lcd.width - 10)
    return s._result("error", s.t("error.title"), _RED, rows, hint)


def message(s, title, text, colour, footer):
    rows = s._lines("text", text, font_small, _INK)
    return s._result("message:" + title, title, colour, rows, footer)


def _clip(rows, space, w):
    """At most `space` pixels of the rows of one wrapped text; when they do not all fit, the last
    one kept ends in "..." (the rule for a long technician's message; the log has it all)."""
    keep = first_rows(rows, space)
    if len(keep) < len(rows) and keep:
        last = keep[-1]
        rest = " ".join([r.text for r in rows[len(keep) - 1:]])
        keep[-1] = _row(last.key, shorten(rest + "...", last.font, w), last.font, last.fg, last.h)
    return keep
