"""The open sale's steps: create, show the QR, poll, cancel, resolve doubt, decide.

firmware/sale/flow.py's Flow hands them its sale through the few functions below; this module is
loaded when a sale starts (or a reboot finds one in the journal) and dropped when the flow is
back at idle (lib/late.py), so its code is on the heap only while a sale is open. Each function
takes the Flow `f` (its journal, gateway client, jobs and view) and acts like a method of it;
the rules the sale keeps are in flow.py's docstring.

    start_sale(f, amount)          the amount keyed: journal the sale, send the create
    cancel(f, reason)              the cancel key or expiry: journal the wish, send the cancel
    tick(f, state, sale)           SHOW_QR / CHECKING: expiry, the long poll, the next question
    answer(f, job, ans, sale)      a gateway answer about the open sale
    show_result(f, again)          a decided sale on screen (again: found in the journal at boot)
    checking(f, why)               the outcome is in doubt: ask the gateway
"""
from micropython import const
import time

from firmware.link import gateway as gw
from firmware.sale.flow import (CANCELLED, CHECKING, CREATING, EXPIRED, FAILED, PAID, SHOW_QR)

_GATEWAY_FINAL = const(("PAID", "FAILED", "CANCELLED", "EXPIRED"))
_BACKOFF_MS = const((300, 600, 1200, 2500, 5000))


def _ticks():
    return time.ticks_ms()


def tick(f, st, sale):
    if st == SHOW_QR:
        exp = sale.get("expires_at")
        if exp is not None and f.clock.now() >= exp:
            cancel(f, "expiry")
        elif not f.busy("poll") and (f.retry_at is None or time.ticks_diff(_ticks(), f.retry_at) >= 0):
            f._start("poll", f.client.status, sale["order_id"], f.cfg.long_poll_s)
    elif st == CHECKING:
        if not _resolving(f) and (f.retry_at is None or time.ticks_diff(_ticks(), f.retry_at) >= 0):
            _resolve(f)


def answer(f, job, ans, sale):
    """A signed or doubtful answer (`ans`, firmware/link/gateway.py) to `job`, about this sale."""
    if ans.kind == gw.OK:
        if _names_this_sale(f, ans.body, sale):
            _verified(f, job, ans.body, sale)
            return
        _doubt(f, job, "answer about another order")
        return
    if ans.kind == gw.ERROR:
        _error(f, job, ans, sale)
        return
    _doubt(f, job, ans.why or "no answer")


def _resolving(f):
    """A question about the open sale is outstanding (the long poll does not count: it may
    take 20 s to come back and must not hold up a cancel retry)."""
    for job in f.jobs:
        if job.kind in ("create", "cancel", "status") and f._mine(job):
            return True
    return False


def _schedule_retry(f):
    delay = _BACKOFF_MS[min(f.attempt, len(_BACKOFF_MS) - 1)]
    f.attempt += 1
    f.retry_at = time.ticks_add(_ticks(), delay)


def _sale_view(f, extra=None):
    sale = f.journal.sale
    data = {"amount": sale["amount"], "currency": sale["currency"], "order_id": sale["order_id"]}
    if extra:
        data.update(extra)
    return data


def checking(f, why):
    f._set(CHECKING)
    sale = f.journal.sale
    if sale.get("state") != CHECKING:
        sale["state"] = CHECKING
        f.journal.update(sale)
    f.retry_at = None  # act at the next tick
    f._show("checking", _sale_view(f, {"why": why, "cancelling": bool(sale.get("cancel"))}))


def _show_qr(f):
    sale = f.journal.sale
    f._set(SHOW_QR)
    f._show("qr", _sale_view(f, {"code": sale["code"], "expires_at": sale["expires_at"],
                                      "merchant": f.cfg.merchant_name}))
    f.attempt = 0
    f.retry_at = None


def _final(f, state, body):
    """The sale is decided: the result goes to flash first, and stays there until it is seen."""
    sale = f.journal.sale
    paid_entry = None
    who = _who_paid(body) if state == PAID else {}
    if state == PAID:
        paid_entry = {"order_id": sale["order_id"], "amount": sale["amount"],
                      "currency": sale["currency"], "at": f.clock.now()}
        paid_entry.update(who)  # the refund screen names the wallet
    sale["state"] = state
    sale["reason"] = (body or {}).get("reason")
    if who:
        sale["who"] = who  # shown with the result, again after a reboot
    f.journal.decide(sale, paid_entry)
    f.retry_at = None
    f.attempt = 0
    f.alerts.ask_soon()  # money that lands after a sale ended shows up as an alert soon after
    show_result(f)


def show_result(f, again=False):
    sale = f.journal.sale
    f.result = {"state": sale["state"], "order_id": sale["order_id"], "amount": sale["amount"],
                   "currency": sale["currency"], "reason": sale.get("reason")}
    f.result.update(sale.get("who") or {})
    f.result_at = _ticks()
    f._set(sale["state"])
    f._show("result", f.result)
    f._emit("result", dict(f.result, again=True) if again else f.result)


def start_sale(f, amount):
    """A new sale: on flash first, then the create goes out."""
    order_id = f.journal.new_order_id(f.cfg.terminal_id)
    sale = {"order_id": order_id, "amount": amount, "currency": f._currency()["code"],
            "state": CREATING, "created": False, "cancel": None, "code": None,
            "expires_at": None, "description": f.describe(amount)}
    f.journal.open_sale(sale)  # on flash before any network call
    f._set(CREATING)
    f._show("creating", _sale_view(f))
    f.attempt = 0
    f._start("create", f.client.create, order_id, amount, sale["currency"], sale["description"])


def cancel(f, reason="cashier"):
    """The cashier's cancel key (or expiry): journal the wish, tell the gateway at once."""
    sale = f.journal.sale
    if sale is None or sale.get("cancel"):
        return
    sale["cancel"] = reason
    sale["state"] = CHECKING
    f.journal.update(sale)  # the wish is on flash before the cancel goes out
    f._emit("cancel", {"order_id": sale["order_id"], "reason": reason})
    checking(f, "cancelling" if reason == "cashier" else "expired")
    if not f.busy("create"):  # a create in flight is answered first, then cancelled
        f._start("cancel", f.client.cancel, sale["order_id"])


def _resolve(f):
    """One step out of doubt: the question to ask depends on what the journal knows."""
    sale = f.journal.sale
    f.retry_at = None
    if sale.get("cancel"):
        f._start("cancel", f.client.cancel, sale["order_id"])
    elif not sale.get("created"):
        # Creating is idempotent by order id: asking again can never make a second payment.
        f._start("create", f.client.create, sale["order_id"], sale["amount"], sale["currency"],
                    sale["description"])
    else:
        f._start("status", f.client.status, sale["order_id"], 0)


def _names_this_sale(f, body, sale):
    return (body.get("order_id") == sale["order_id"] and body.get("amount") == sale["amount"]
            and body.get("currency") == sale["currency"] and body.get("status") in
            ("PENDING",) + _GATEWAY_FINAL)


def _verified(f, job, body, sale):
    f.attempt = 0
    status = body["status"]
    if status in _GATEWAY_FINAL:
        if status == "CANCELLED" and sale.get("cancel") == "expiry":
            status = EXPIRED
        _final(f, status, body)
        return
    # PENDING: the payment exists and waits for the customer.
    if not sale.get("created") or sale.get("code") != body.get("code_value"):
        code = body.get("code_value")
        exp = body.get("expires_at")
        if not isinstance(code, str) or not code or not isinstance(exp, int):
            _doubt(f, job, "pending answer without a code")
            return
        sale["created"] = True
        sale["code"] = code
        sale["expires_at"] = exp
    if sale.get("cancel"):
        # Cancel asked for; a pending answer (from create or a poll) does not settle it.
        if not f.busy("cancel"):
            if job.kind == "cancel":
                _schedule_retry(f)
            else:
                f.retry_at = None
        if sale.get("state") != CHECKING:
            sale["state"] = CHECKING
        f.journal.update(sale)
        if f.state != CHECKING:
            checking(f, "cancelling")
        return
    if f.state != SHOW_QR:
        sale["state"] = SHOW_QR
        f.journal.update(sale)
        _show_qr(f)
    elif job.kind == "poll":
        f.retry_at = None  # the long poll ended with no news: ask again at once


def _error(f, job, ans, sale):
    """A signed 4xx (or 502). Only a refusal that names this order can end the sale; a signed
    answer without it (an unknown route, an auth problem) is doubt like any other."""
    code = ans.code
    if (ans.body or {}).get("order_id") != sale["order_id"]:
        _doubt(f, job, code)
    elif ans.status == 404 and job.kind in ("poll", "status", "cancel"):
        _unknown_order(f, job, sale)
    elif job.kind == "create" and ans.status not in (401, 404, 408, 429):
        if code == "ORDER_CANCELLED":  # a cancel overtook this create at the gateway
            _final(f, CANCELLED, {"reason": code})
        else:
            # A refusal of this order (bad amount, mismatch, upstream refused): it was not
            # created, so the sale failed. The reason is the gateway's stable code.
            _final(f, FAILED, {"reason": code})
    else:
        _doubt(f, job, code)


def _unknown_order(f, job, sale):
    """The gateway has no payment for this order: its create never landed."""
    if sale.get("created"):
        _doubt(f, job, "gateway does not know a created order")
    elif job.kind == "cancel":
        # The gateway stored the cancel (a tombstone) and refuses the create if it still
        # lands later: CANCELLED is true.
        _final(f, CANCELLED, {"reason": "never created"})
    elif sale.get("cancel"):
        _doubt(f, job, "cancel to send")  # the cancel's own answer decides
    else:
        checking(f, "creating again")


def _doubt(f, job, why):
    sale = f.journal.sale
    f._emit("doubt", {"order_id": sale["order_id"], "job": job.kind, "why": why})
    if f.state == SHOW_QR and job.kind == "poll" and not sale.get("cancel"):
        # The QR stays up (the customer may be paying); the poll is retried with back-off.
        _schedule_retry(f)
        f._show("qr", _sale_view(f, {"code": sale["code"], "expires_at": sale["expires_at"],
                                          "merchant": f.cfg.merchant_name, "offline": True}))
        return
    if f.state != CHECKING:
        checking(f, why)
    if job.kind == "poll" and sale.get("cancel"):
        return  # a poll overtaken by a cancel: the cancel's own answer decides
    if not _resolving(f):
        _schedule_retry(f)


def _printable_ascii(text):
    """True when every character of text is printable ASCII. Checked by bytes: a str per character
    would be interned, for good (lib/fonts.py), and wallet names come from the network."""
    raw = text.encode()
    if len(raw) != len(text):
        return False
    for c in raw:
        if c < 32 or c > 126:
            return False
    return True


def _who_paid(body):
    """The wallet and the customer's own amount of a verified PAID answer (docs/protocol.md), each
    only when well formed: {"wallet": "GCash", "customer_amount": 71250, "customer_currency": "PHP"}."""
    out = {}
    name = (body or {}).get("wallet")
    if isinstance(name, str) and 0 < len(name) <= 32 and _printable_ascii(name):
        out["wallet"] = name
    minor, code = (body or {}).get("customer_amount"), (body or {}).get("customer_currency")
    if (isinstance(minor, int) and not isinstance(minor, bool) and 0 < minor < 10 ** 15
            and isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        out["customer_amount"] = minor
        out["customer_currency"] = code
    return out
