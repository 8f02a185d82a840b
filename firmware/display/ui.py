"""Draws the flow's `view` with firmware/display/screens.py; the countdown ticks without a full redraw.

The flow says *what* to show (a screen name and a dict); this module picks the screen method and
turns the data into its arguments. `render()` is called when `flow.view_seq` changed, `tick()`
about every 250 ms so the QR countdown follows the wall clock.
"""
from firmware.sale import money

_GREY = 0x4AAC  # the checking screen's grey (RGB565 of 75, 85, 99)

_REASONS = {"declined": "Declined by the customer", "ORDER_MISMATCH": "Order number clash",
            "INVALID_AMOUNT": "Amount not accepted", "UNKNOWN_CURRENCY": "Currency not accepted"}
_REFUND_WHY = {"BAD_PIN": "Wrong supervisor PIN", "PIN_LOCKED": "PIN locked for 5 minutes",
               "NOT_REFUNDABLE": "Payment cannot be refunded", "FAILED": "Refused by Alipay",
               "PENDING": "Refund pending: check again later", "UNKNOWN": "No answer: try again later",
               "REFUND_EXCEEDS_PAYMENT": "Already refunded"}


def _customer(d):
    """"PHP 712.50": what the customer paid in their wallet's currency, when it is another one."""
    minor, code = d.get("customer_amount"), d.get("customer_currency")
    if isinstance(minor, int) and code and code != d.get("currency"):
        return money.format(minor, code, code=True)
    return None


class UI:
    def __init__(self, screens, clock, currency):
        self.screens = screens
        self.clock = clock
        self.currency = currency
        self._qr_expires = None
        self._last_secs = None

    def remaining(self, expires_at):
        return max(0, expires_at - self.clock.now())

    def render(self, view):
        name, d = view
        s = self.screens
        self._qr_expires = None
        # amounts in the view's currency (a terminal may sell in several), else the default
        sale = d.get("sale") or d.get("refundable") or d
        cur = sale.get("currency") if isinstance(sale, dict) else None
        s.currency = cur if isinstance(cur, str) and cur else self.currency
        if name == "idle":
            s.idle()
        elif name == "offline":
            s.offline(d.get("why") or "")
        elif name == "amount":
            msg = d.get("message")
            title = "Amount"
            if msg == "max":
                title = "Maximum reached"
            elif msg == "min":
                title = "Amount too small"
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
                # The cashier's cancel: say so at once; the gateway's answer decides (PAID wins).
                s.message("Cancelling", "%s: waiting for the gateway. If the customer has already paid, "
                          "PAID will show." % money.format(d.get("amount") or 0, s.currency),
                          colour=_GREY, footer="Do not hand over goods yet")
            else:
                s.checking(d.get("amount"))
        elif name == "result":
            st = d["state"]
            if st == "PAID":
                s.paid(d["amount"], d.get("wallet"), _customer(d))
            elif st == "FAILED":
                r = d.get("reason")
                s.failed(_REASONS.get(r, r or ""))
            elif st == "EXPIRED":
                s.expired(d["amount"])
            else:
                s.cancelled(d["amount"])
        elif name == "alert":
            what = d.get("message") or ""
            outcome = "returned" if "return" in what or "cancel" in what or "refund" in what else "held: call the office"
            if d.get("kind") == "LATE_PAYMENT_UNRESOLVED":
                outcome = "held: call the office"
            s.late_payment(d.get("amount") or 0, outcome)
        elif name == "menu":
            sale = d.get("refundable")
            if sale is None:
                s.message("Menu", "No recent payment to refund", footer="CANCEL: back")
            else:
                text = "Last payment %s (%s)" % (money.format(sale["amount"], s.currency), sale["order_id"])
                if sale.get("wallet"):
                    text += " with " + sale["wallet"]
                s.message("Refund", text, footer="OK: refund  CANCEL: back")
        elif name == "pin":
            s.pin(d["entered"])
        elif name == "refunding":
            s.refunding(d["sale"]["amount"])
        elif name == "refund_result":
            if d["outcome"] == "REFUNDED":
                s.refunded(d["sale"]["amount"])
            else:
                s.refund_failed(_REFUND_WHY.get(d["outcome"], d["outcome"]))
        elif name == "error":
            s.error(d.get("message", ""), kind=d.get("kind", "config"))
        else:
            s.message(name, "")

    def tick(self):
        if self._qr_expires is None:
            return
        secs = self.remaining(self._qr_expires)
        if secs != self._last_secs:
            self._last_secs = secs
            self.screens.countdown(secs)
