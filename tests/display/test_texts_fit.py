"""Every word the terminal can put on a screen has its glyphs and fits its box.

Walks each screen the flow can show (through firmware/display/ui.py, so every reason and refund
code goes through the words the cashier reads), each supported currency's symbol and format, the
longest merchant name, the configuration problems, and every language configuration of
firmware/display/texts.py, on every panel preset and rotation. A line that does not fit, a line
left out, or a character a font lacks (drawn as "?") fails. The layout alone is computed (the
emulator tests draw the pixels), which keeps thousands of screens fast.
"""
import itertools

import pytest

import panels
from firmware import config as fw_config
from firmware.display import catalogue
from firmware.display import texts as T
from firmware.display.screens import Screens, has_glyphs
from firmware.display.ui import UI
from tests.firmware.fakes import FakeClock
from tools.gateway.currencies import DEFAULT_ACCEPTED

URL = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"
LONGEST_MERCHANT = "Wonderful Wholesome Wok Warehouse Mall W"  # 40 characters, the config's maximum
assert len(LONGEST_MERCHANT) == 40
CURRENCIES = sorted(set(DEFAULT_ACCEPTED) | {"KWD", "BHD", "VND"})  # + 3 decimals, 0 decimals
NOW = 1_764_600_000


_ENCODED = {}


def encode(text):
    """lib/uqr, once per text (the same code on thousands of layouts)."""
    if text not in _ENCODED:
        import uqr
        _ENCODED[text] = uqr.make(text, max_version=40)
    return _ENCODED[text]


class LayoutLCD:
    """Only the size: the screens compute their boxes, nothing is sent."""

    def __init__(self, width, height):
        self.width = width
        self.height = height


class LayoutScreens(Screens):
    def _draw(self, b):
        pass


def panel_sizes():
    out = []
    for name in panels.names():
        _driver, w, h = panels.spec(name)[:3]
        for rotation in range(4):
            out.append(("%s-r%d" % (name, rotation), (h, w) if rotation % 2 else (w, h)))
    return out


def language_configs():
    customers = []
    for n in range(1, T.MAX_CUSTOMER + 1):
        customers += list(itertools.permutations(T.CUSTOMER_LANGUAGES, n))
    return [(c, cust) for c in T.CASHIER_LANGUAGES for cust in customers]


SALE = {"order_id": "T1-ab12", "amount": 1250, "currency": "USD", "at": NOW - 3600}


def views():
    """Every view the flow can produce, with every code the gateway or Antom can send."""
    v = [("idle", {}), ("offline", {"why": None}), ("offline", {"why": "network: OSError(113)"}),
         ("offline", {"why": "unsigned or forged answer (HTTP 200)"}), ("offline", {"why": "gateway said X"}),
         ("amount", {"amount": 0, "message": None}), ("amount", {"amount": 9, "message": "min"}),
         ("amount", {"amount": 999999999, "message": "max"}), ("creating", dict(SALE)),
         ("qr", dict(SALE, code=URL, expires_at=NOW + 179)), ("qr", dict(SALE, code=URL, expires_at=NOW + 2)),
         ("checking", dict(SALE, cancelling=False)), ("checking", dict(SALE, cancelling=True)),
         ("result", dict(SALE, state="PAID")), ("result", dict(SALE, state="EXPIRED")),
         ("result", dict(SALE, state="CANCELLED")), ("result", dict(SALE, state="FAILED", reason=None)),
         ("result", dict(SALE, state="FAILED", reason="A_CODE_NOBODY_KNOWS")),
         ("alert", {"amount": 500, "kind": "LATE_PAYMENT", "message": "cancelled at Antom (money returned)"}),
         ("alert", {"amount": 500, "kind": "LATE_PAYMENT_UNRESOLVED", "message": "operator must look"}),
         ("menu", {"refundable": None}), ("menu", {"refundable": dict(SALE)}),
         ("menu", {"refundable": dict(SALE, at=NOW - 80000)}),
         ("pin", {"entered": 0}), ("pin", {"entered": 12}), ("pin", {"entered": 0, "wrong": True}),
         ("pin", {"entered": 0, "wrong": True, "tries_left": 4}),
         ("pin", {"entered": 0, "wrong": True, "tries_left": 1}),
         ("refunding", {"sale": SALE}), ("refund_result", {"sale": SALE, "outcome": "REFUNDED"}),
         ("refund_result", {"sale": SALE, "outcome": "SOMETHING_ELSE"}),
         ("error", {"message": "; ".join(_all_config_problems()[:4]), "kind": "config"}),
         ("error", {"message": "hardware: pin 6 is a flash pin (check the pin map and display)", "kind": "hardware"}),
         ("no-such-view", {})]
    for code in sorted(catalogue.reasons("why")):
        v.append(("result", dict(SALE, state="FAILED", reason=code)))
    for code in sorted(catalogue.reasons("refund")):
        v.append(("refund_result", {"sale": SALE, "outcome": code}))
    return v


def _all_config_problems():
    try:
        fw_config.validate({"locale": {"cashier": "xx"}})
    except fw_config.ConfigError as e:
        return e.problems
    raise AssertionError("an empty config must not validate")


def check(screens, what):
    """Every text box: glyphs present, fits its box; no line left out."""
    assert screens.dropped == 0, "%s: %d line(s) had no room" % (what, screens.dropped)
    problems = []
    for b in screens._boxes.values():
        if b.kind not in ("text", "runs"):
            continue
        runs = ((b.content, b.font),) if b.kind == "text" else b.content
        width = 0
        for text, font in runs:
            if not has_glyphs(font, text):
                problems.append("%s: no glyph for %r in %r" % (b.key, [c for c in text if not has_glyphs(font, c)],
                                                                 text))
            width += screens_width(font, text)
            if font.HEIGHT > b.h:
                problems.append("%s: %r is %d px tall in a %d px box" % (b.key, text, font.HEIGHT, b.h))
        margin = 0 if b.align == 1 else 6  # textdraw.box: left/right text starts 6 px in
        if width + margin > b.w:
            problems.append("%s: %r is %d px wide in a %d px box" % (b.key, runs[0][0], width, b.w))
    assert not problems, "%s:\n  %s" % (what, "\n  ".join(problems))


def screens_width(font, text):
    import textdraw
    return textdraw.width(font, text)


def render_all(size, cashier, customer, merchant="Corner Cafe", currency="USD", seconds_list=(179,)):
    clock = FakeClock()
    clock.t = NOW
    logged = []
    screens = LayoutScreens(LayoutLCD(*size), merchant=merchant, currency=currency,
                            texts=T.Texts(cashier, customer), encode=encode)
    ui = UI(screens, clock, currency, log=logged.append)
    for view in views():
        screens.invalidate()
        ui.render(view)
        check(screens, "%s %s/%s %r" % (size, cashier, "+".join(customer), view[0]))
        if view[0] == "qr":
            for secs in range(0, 12):  # the customer languages taking turns: each line fits too
                screens.countdown(secs)
                check(screens, "%s %s/%s qr at %d s" % (size, cashier, "+".join(customer), secs))
    return logged


@pytest.mark.parametrize("panel, size", panel_sizes())
@pytest.mark.parametrize("cashier, customer", language_configs(), ids=lambda x: x if isinstance(x, str) else "+".join(x))
def test_every_screen_in_every_language_fits_every_panel(panel, size, cashier, customer):
    render_all(size, cashier, customer)


@pytest.mark.parametrize("panel, size", panel_sizes())
def test_every_currency_and_the_longest_merchant_name_fit(panel, size):
    for currency in CURRENCIES:
        for cashier in T.CASHIER_LANGUAGES:
            render_all(size, cashier, T.DEFAULT_CUSTOMER, merchant=LONGEST_MERCHANT, currency=currency)


def test_an_unknown_code_is_logged_not_shown():
    logged = render_all((240, 320), "en", ("en",))
    assert any("A_CODE_NOBODY_KNOWS" in line for line in logged)
    assert any("SOMETHING_ELSE" in line for line in logged)
    screens = LayoutScreens(LayoutLCD(240, 320), texts=T.Texts())
    ui = UI(screens, FakeClock(), "USD")
    ui.render(("result", dict(SALE, state="FAILED", reason="A_CODE_NOBODY_KNOWS")))
    shown = " ".join(str(b.content) for b in screens._boxes.values())
    assert "A_CODE_NOBODY_KNOWS" not in shown and "did not go through" in shown


def test_every_code_the_gateway_or_antom_sends_has_plain_words():
    """The codes of tools/gateway (ServiceError, AuthError), of the Antom sandbox (tools/sandbox)
    and of Antom's result table (ALIPAY.md, "Codes worth handling by name") each map to a
    sentence of the catalogue, never to the generic one."""
    import glob
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    codes = set()
    for path in glob.glob(os.path.join(root, "tools", "gateway", "*.py")):
        src = open(path, encoding="utf-8").read()
        codes |= set(re.findall(r'(?:ServiceError|AuthError|error_body)\(\s*(?:\d+,\s*)?"([A-Z_]{4,})"', src))
    for path in glob.glob(os.path.join(root, "tools", "sandbox", "*.py")):
        src = open(path, encoding="utf-8").read()
        codes |= set(re.findall(r'(?:failure|unsigned|Invalid|result)\("([A-Z_]{4,})"', src))
        codes |= set(re.findall(r'result_code="([A-Z_]{4,})"', src))
    design = "/work/shared/design/ALIPAY.md"
    if os.path.exists(design):
        text = open(design, encoding="utf-8").read()
        table = text[text.index("Codes worth handling by name"):]
        codes |= set(re.findall(r"`([A-Z][A-Z_]{5,})`", table[:table.index("\n- Antom")]))
    states = {"SUCCESS", "PAYMENT_IN_PROCESS", "UNKNOWN_EXCEPTION_U"}  # not reasons: the payment goes on
    prompt = {"BAD_PIN"}  # goes back to the PIN prompt with the tries left (test_supervisor)
    tx = T.Texts()
    unknown = sorted(c for c in codes - states - prompt if not tx.why(c)[1] and not tx.refund_why(c)[1])
    assert len(codes) > 30 and unknown == []


def test_every_catalogue_key_exists_in_english_and_every_cashier_language_is_complete():
    en = catalogue.load("en")
    for lang in T.CASHIER_LANGUAGES:
        assert set(catalogue.load(lang)) == set(en), lang
    for lang in T.CUSTOMER_LANGUAGES:
        table = catalogue.load(lang)
        assert set(T.CUSTOMER_KEYS) <= set(table), lang
        assert set(table) <= set(en), lang
    for key in list(catalogue.reasons("why").values()) + list(catalogue.reasons("refund").values()):
        assert key in en


def test_the_qr_screen_names_the_merchant_and_the_wallets_in_english_and_chinese():
    screens = LayoutScreens(LayoutLCD(240, 320), merchant="Corner Cafe", texts=T.Texts("en", ("en", "zh-Hans")))
    screens.qr(URL, 1250, 179)
    shown = " ".join(str(b.content) for b in screens._boxes.values() if b.kind == "text")
    assert "Corner Cafe" in shown
    assert "Alipay+" in shown and "支付宝" in shown.replace(" ", "")


def test_no_word_of_the_catalogue_is_cut_on_the_narrowest_panel():
    """Wrapping breaks at spaces: a word wider than the narrowest panel (135 px less the
    margins) in the small font would be cut in the middle. Chinese breaks between characters."""
    from fonts import small as font_small
    import textdraw

    too_wide = []
    for lang, key, text in catalogue.every_text():
        for word in text.replace("%s", "CANCEL").replace("%d", "12").split():
            if textdraw.width(font_small, word) > 135 - 10 and all(ord(c) < 0x2E80 for c in word):
                too_wide.append((lang, key, word))
    assert too_wide == []
