"""A real reader on the emulated panel: tesseract reads every screen of a scripted run (a sale
paid, one declined in the wallet, one cancelled, one expired, the supervisor's menu, a wrong PIN,
a refund, the link lost) on each panel preset, and the words match what the flow meant to show.

The run is the real flow (firmware/sale) and UI (firmware/display/ui.py) on the real driver
over the shim SPI bus into the panel emulator, with the gateway faked at the flow's edge
(tests/firmware/fakes.py). What the flow meant is said here from the view and the catalogue
(firmware/display/texts.py), not from the boxes the screens made; the OCR must find each phrase
(English at 80 % similarity, Chinese at 50 %: tesseract slips on 15- to 25-px glyphs; a "?" stand-in or
a cut line fails all the same).
"""
import pytest

from firmware.display import texts as T
from firmware.display.screens import Screens
from firmware.display.ui import UI
from firmware.sale import flow as F
from firmware.sale import money
from firmware.sale.journal import Journal
from tests.display import ocr
from tests.firmware.fakes import FakeClock, FakeGateway, StepRunner, make_config
from tests.shims import clock as shim_clock
from tools.sim.rig import DisplayRig

MERCHANT = "Corner Cafe"
PANELS = [("st7789-240x320", 0), ("st7789-240x240", 0), ("st7789-135x240", 0), ("ili9341-240x320", 0),
          ("st7789-135x240", 1)]


class Run:
    """The flow and the UI on one emulated panel; every new view is drawn, read and checked."""

    def __init__(self, tmp_path, panel, rotation, cashier="en", customer=("en", "zh-Hans")):
        shim_clock.manual(1000)
        self.clock = FakeClock()
        self.gw = FakeGateway(self.clock)
        self.runner = StepRunner()
        self.cfg = make_config(merchant={"name": MERCHANT}, locale={"cashier": cashier, "customer": list(customer)})
        self.rig = DisplayRig(panel, rotation=rotation)
        self.tx = T.Texts(cashier, customer)
        self.screens = Screens(self.rig.lcd, merchant=MERCHANT, currency="USD", texts=self.tx)
        self.ui = UI(self.screens, self.clock, "USD")
        self.flow = F.Flow(self.cfg, Journal(str(tmp_path / "journal.json")), self.gw, self.runner, self.clock)
        self.seen = -1
        self.pending = None  # (view, picture, phrases) drawn but not read yet
        self.checked = []
        self.misses = []

    def t(self, key, *args):
        return self.tx.t(key, *args)

    def money(self, minor):
        return money.format(minor, "USD")

    def customer(self, prefix, key):
        """The customer's lines of `key` the layout shows (a second language can give way)."""
        out = []
        for i, text in enumerate(self.tx.customer(key)):
            if "%s%s0" % (prefix, "abc"[i]) in self.screens._boxes:
                out.append(text)
        return out

    def wallets(self):
        """The wallet sentence in each language on the QR screen now (full or short wording)."""
        shown = " ".join(str(b.content) for k, b in self.screens._boxes.items() if k.startswith("wallet"))
        out = []
        for full, short in zip(self.tx.customer("qr.wallets"), self.tx.customer("qr.wallets_short")):
            if any(ord(c) > 0x2E80 for c in full) == any(ord(c) > 0x2E80 for c in shown):
                out.append((full, short))
            elif not self.screens._turns:
                out.append((full, short))
        return out

    def expected(self, view):
        """(phrase, or-phrase) the flow meant the person at the counter to read."""
        name, d = view
        t = self.t
        if name == "idle":
            return [MERCHANT, t("idle.prompt")]
        if name == "amount":
            return [t({"max": "amount.max", "min": "amount.min"}.get(d.get("message"), "amount.title")),
                    self.money(d["amount"])]
        if name == "creating":
            return [MERCHANT, self.money(d["amount"]), t("creating")]
        if name == "qr":
            return [MERCHANT, self.money(d["amount"])] + self.wallets()
        if name == "checking":
            if d.get("cancelling"):
                return [t("cancelling.title"), t("checking.note")]
            return [t("checking.title"), t("checking.status")]
        if name == "result":
            st = d["state"]
            if st == "PAID":
                return [t("paid.title"), self.money(d["amount"])] + self.customer("note", "paid.note")
            if st == "FAILED":
                return [t("failed.title"), self.tx.why(d.get("reason"))[0]] + self.customer("note", "no_payment")
            if st == "EXPIRED":
                return [t("expired.title")] + self.customer("note", "expired.note")
            return [t("cancelled.title"), self.money(d["amount"])] + self.customer("note", "cancelled.note")
        if name == "menu":
            sale = d["refundable"]
            return [t("refund.title"), self.money(sale["amount"])] if sale else [t("menu.title"), t("menu.none")]
        if name == "pin":
            if d.get("wrong"):
                return [t("pin.title"), t("pin.wrong", d["tries_left"])]
            return [t("pin.title"), t("pin.enter")]
        if name == "refunding":
            return [t("refund.title"), t("refunding")]
        if name == "refund_result":
            return [t("refunded.title"), self.money(d["sale"]["amount"])]
        if name == "offline":
            return [t("offline.title"), t("offline.note")]
        raise AssertionError("no expectation for view %r" % name)

    def look(self):
        """Draw the view if it changed; a screen is read once the flow moves on to another
        screen (typing a digit redraws the amount, the last amount is read)."""
        if self.flow.view_seq == self.seen:
            return
        self.seen = self.flow.view_seq
        view = self.flow.view
        if self.pending is not None and _screen(self.pending[0]) != _screen(view):
            self.read(*self.pending)
        self.ui.render(view)
        self.pending = (view, self.rig.image(), self.expected(view))

    def read(self, view, image, want):
        text = {"eng": ocr.read(image, "eng")}
        if any(ord(c) > 0x2E80 for p in want for c in (p if isinstance(p, str) else p[0])):
            text["chi_sim"] = ocr.read(image, "chi_sim")
        for phrase in want:
            options = (phrase,) if isinstance(phrase, str) else phrase
            lang = "chi_sim" if any(ord(c) > 0x2E80 for c in options[0]) else "eng"
            if not any(ocr.found(text[lang], p) for p in options):
                self.misses.append("%s: %r not read; tesseract read %r" % (view[0], options[0], text[lang]))
        self.checked.append(view[0])

    def finish(self):
        if self.pending is not None:
            self.read(*self.pending)
            self.pending = None

    def keys(self, *names):
        for n in names:
            for k in (n if n.isdigit() else (n,)):
                self.flow.key(k)
                self.look()

    def step(self):
        for _ in range(3):
            self.flow.tick()
            self.look()
            self.runner.run()
            self.flow.tick()
            self.look()

    def sale(self, amount):
        self.keys(str(amount), "ok")
        self.step()
        assert self.flow.state == F.SHOW_QR
        return self.flow.journal.sale["order_id"]


def scripted_run(run):
    run.flow.online = True
    run.flow.set_online(True)
    run.look()
    order = run.sale(1250)  # paid
    run.gw.pay(order)
    run.step()
    run.keys("ok")
    order = run.sale(480)  # declined in the wallet
    run.gw.payments[order].update(status="FAILED", reason="ORDER_IS_CLOSED")
    run.step()
    run.keys("ok")
    run.sale(2999)  # the cashier cancels
    run.keys("cancel")
    run.step()
    run.keys("ok")
    run.sale(700)  # nobody pays
    run.clock.t += 1000
    run.step()
    run.keys("ok")
    run.keys("menu", "ok", "999999", "ok")  # the supervisor: a wrong PIN first
    run.step()
    run.keys("cancel", "menu", "ok", "123456", "ok")
    run.step()
    run.keys("ok")
    run.finish()


def _screen(view):
    """What makes a different screen: the view's name and, for results, the state."""
    name, d = view
    return (name, d.get("state"), d.get("message"), d.get("cancelling"), d.get("wrong"), d.get("outcome"))


@pytest.mark.parametrize("panel, rotation", PANELS, ids=["%s-r%d" % p for p in PANELS])
def test_tesseract_reads_what_the_flow_meant_on_every_panel(tmp_path, panel, rotation):
    run = Run(tmp_path, panel, rotation)
    scripted_run(run)
    for screen in ("idle", "amount", "creating", "qr", "result", "checking", "menu", "pin", "refunding",
                   "refund_result"):
        assert screen in run.checked
    assert run.misses == []


def test_tesseract_reads_the_cashier_in_chinese(tmp_path):
    run = Run(tmp_path, "st7789-240x320", 0, cashier="zh-Hans", customer=("zh-Hans", "en"))
    scripted_run(run)
    assert run.misses == []
