"""Draws the flow's `view` with firmware/display/screens.py; the countdown ticks without a full redraw.

The flow says *what* to show (a screen name and a dict); this module picks the screen method and
turns the data into its arguments, in words from the catalogue (firmware/display/texts.py).
Codes never reach the screen: a result or error code is turned into a sentence the cashier can
act on, and a code the catalogue does not know gets a generic sentence on screen and a line in
the device log (`log`, e.g. firmware/log.py's Log.write). `render()` is called when
`flow.view_seq` changed, `tick()` about every 250 ms so the QR countdown follows the wall clock.
"""
from micropython import const
import time

from firmware.sale import money

_GREY = const(0x4AAC)  # the checking screen's grey (RGB565 of 75, 85, 99)


def _customer(d):
    """"PHP 712.50": what the customer paid in their wallet's currency, when it is another one."""
    minor, code = d.get("customer_amount"), d.get("customer_currency")
    if isinstance(minor, int) and code and code != d.get("currency"):
        return money.format(minor, code, code=True)
    return None


class UI:
    def __init__(self, screens, clock, currency, log=None, utc_offset_min=0):
        self.screens = screens
        self.tx = screens.tx
        self.clock = clock
        self.currency = currency
        self.log = log
        self.utc_offset_s = utc_offset_min * 60
        self._qr_expires = None
        self._last_secs = None

    def remaining(self, expires_at):
        return max(0, expires_at - self.clock.now())

    def _note(self, text):
        if self.log is not None:
            self.log(text)

    def _code(self, kind, code, words):
        """Words for a code; an unknown one is logged (the screen says the generic sentence)."""
        text, known = words(code)
        if not known:
            self._note("%s code %s not in the catalogue: shown as %r" % (kind, code, text))
        return text

    def when(self, at):
        """A sale's time as people read it: "14:05" today, "30/11 14:05" before."""
        if not isinstance(at, int) or at <= 0:
            return "--:--"
        local = time.localtime(at + self.utc_offset_s)
        now = time.localtime(self.clock.now() + self.utc_offset_s)
        hm = "%02d:%02d" % (local[3], local[4])
        if local[:3] == now[:3]:
            return hm
        return "%d/%d %s" % (local[2], local[1], hm)

    def _offline_why(self, why):
        """Plain words for firmware/link's last error (the error itself goes to the log)."""
        if not why:
            return ""
        self._note("offline: %s" % why)
        if why.startswith("network"):
            return self.tx.t("offline.network")
        if why.startswith("unsigned") or why.startswith("unparsable"):
            return self.tx.t("offline.untrusted")
        return self.tx.t("offline.gateway")

    def _pin_status(self, d):
        if not d.get("wrong"):
            return None
        left = d.get("tries_left")
        if left == 0:
            return self.tx.t("refund.locked")
        if left == 1:
            return self.tx.t("pin.last")
        if isinstance(left, int) and left > 1:
            return self.tx.t("pin.wrong", left)
        return self.tx.t("pin.retry")

    def render(self, view):
        name, d = view
        s = self.screens
        t = self.tx.t
        self._qr_expires = None
        # amounts in the view's currency (a terminal may sell in several), else the default
        sale = d.get("sale") or d.get("refundable") or d
        cur = sale.get("currency") if isinstance(sale, dict) else None
        s.currency = cur if isinstance(cur, str) and cur else self.currency
        if name == "idle":
            s.idle()
        elif name == "offline":
            s.offline(self._offline_why(d.get("why")))
        elif name == "amount":
            msg = d.get("message")
            title = None
            if msg == "max":
                title = t("amount.max")
            elif msg == "min":
                title = t("amount.min")
            s.amount(d["amount"], title=title)
        elif name == "creating":
            s.creating(d["amount"])
        elif name == "qr":
            secs = self.remaining(d["expires_at"])
            if s.qr(d["code"], d["amount"], seconds=secs) is not False:
                self._qr_expires = d["expires_at"]
                self._last_secs = secs
        elif name == "checking":
            if d.get("cancelling"):
                s.cancelling(d.get("amount") or 0)
            else:
                s.checking(d.get("amount"))
        elif name == "result":
            st = d["state"]
            if st == "PAID":
                s.paid(d["amount"], d.get("wallet"), _customer(d))
            elif st == "FAILED":
                s.failed(self._code("result", d.get("reason"), self.tx.why))
            elif st == "EXPIRED":
                s.expired(d["amount"])
            else:
                s.cancelled(d["amount"])
        elif name == "alert":
            what = d.get("message") or ""
            returned = "return" in what or "cancel" in what or "refund" in what
            if d.get("kind") == "LATE_PAYMENT_UNRESOLVED":
                returned = False
            s.late_payment(d.get("amount") or 0, returned=returned)
        elif name == "menu":
            sale = d.get("refundable")
            if sale is None:
                s.menu(None)
            else:
                if sale.get("wallet"):
                    s.menu(t("menu.sale_with", money.format(sale["amount"], s.currency), self.when(sale.get("at")),
                             sale["wallet"]))
                else:
                    s.menu(t("menu.sale", money.format(sale["amount"], s.currency), self.when(sale.get("at"))))
        elif name == "pin":
            s.pin(d["entered"], status=self._pin_status(d))
        elif name == "refunding":
            s.refunding(d["sale"]["amount"])
        elif name == "refund_result":
            if d["outcome"] == "REFUNDED":
                s.refunded(d["sale"]["amount"])
            else:
                s.refund_failed(self._code("refund", d["outcome"], self.tx.refund_why))
        elif name == "error":
            s.error(d.get("message", ""), kind=d.get("kind", "config"))
        else:  # a view this module does not know (a firmware bug): no raw name on screen
            self._note("ui: no screen for view %r" % (name,))
            s.message(t("wait.title"), t("checking.note"), colour=_GREY)

    def tick(self):
        if self._qr_expires is None:
            return
        secs = self.remaining(self._qr_expires)
        if secs != self._last_secs:
            self._last_secs = secs
            self.screens.countdown(secs)
