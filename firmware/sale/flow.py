"""The payment flow: the state machine of a sale, driven by keys, answers and time.

States (docs/firmware.md has the diagram):
    IDLE -> AMOUNT -> CREATING -> SHOW_QR -> PAID | FAILED | EXPIRED | CANCELLED
    CHECKING whenever the outcome is in doubt (no answer, unsigned answer, reboot mid-sale,
    cancel or expiry waiting for the gateway's word). MENU/PIN/REFUND* for supervisor refunds.

Rules it keeps:
- The sale is journaled (firmware/sale/journal.py) before the first network call and at every change.
- Only a verified gateway answer ("ok", naming this order, amount and currency) moves a sale to a
  final state; everything doubtful leads to asking again with back-off, never to PAID.
- Cancel while the QR shows sends a cancel at once, even while a long poll is outstanding; if the
  customer paid meanwhile the gateway answers PAID and PAID is shown. Expiry cancels the same way.
- After a reboot, an open sale in the journal is resolved before a new one can start.

Supervisor refunds (firmware/sale/refunds.py, loaded at the menu key and dropped when the
supervisor leaves) and late-payment alerts (firmware/sale/alerts.py) are their own modules; the
flow hands them keys and answers and draws what they say.

The flow never blocks and never touches hardware: `key(name)` takes a key, `tick()` (called every
few ms by the loop) collects finished network jobs and starts the next ones; network calls go
through `runner.start(job, fn, *args)` (firmware/link/worker.py). What the screen should show is
`self.view` (a screen name and a dict), with `self.view_seq` bumped on every change.
"""
from micropython import const
import time

import late

from firmware.link import gateway as gw
from firmware.sale.alerts import Alerts

IDLE = "IDLE"
AMOUNT = "AMOUNT"
CREATING = "CREATING"
SHOW_QR = "SHOW_QR"
CHECKING = "CHECKING"
PAID = "PAID"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
CANCELLED = "CANCELLED"
# The supervisor's refund steps (firmware/sale/refunds.py, which has the same names): that module
# loads at the menu key and is dropped when the supervisor leaves (lib/late.py).
MENU = "MENU"
REFUND_PIN = "REFUND_PIN"
REFUNDING = "REFUNDING"
REFUND_DONE = "REFUND_DONE"
REFUND_STATES = (MENU, REFUND_PIN, REFUNDING, REFUND_DONE)
ALERT = "ALERT"

FINAL = (PAID, FAILED, EXPIRED, CANCELLED)
_GATEWAY_FINAL = const(("PAID", "FAILED", "CANCELLED", "EXPIRED"))
_BACKOFF_MS = const((300, 600, 1200, 2500, 5000))
_MAX_DIGITS = const(9)  # amounts stay small ints on MicroPython (< 2**30)


def _ticks():
    return time.ticks_ms()


def _since(t):
    return time.ticks_diff(time.ticks_ms(), t)


class Flow:
    def __init__(self, cfg, journal, client, runner, clock, describe=None, events=None, online=True):
        self.cfg = cfg
        self.journal = journal
        self.client = client
        self.runner = runner
        self.clock = clock
        self.describe = describe or (lambda amount: cfg.merchant_name)
        self.events = events  # optional callable(name, dict): the simulator's log, buzzer, LED
        self.jobs = []
        self.state = IDLE
        self.view = ("idle", {})
        self.view_seq = 0
        self.online = online  # the app starts offline until the gateway has answered once
        self.digits = ""
        self.message = None
        self.cur = 0  # which of the config's currencies the amount is in (0: the default)
        self.result = None  # the last final result shown: {"state", "order_id", "amount", ...}
        self.result_at = 0
        self.retry_at = None
        self.attempt = 0
        self.alerts = Alerts(client, self._start_free)
        self.refunds = None  # a Refunds while the supervisor is in the menu, else None
        sale = journal.sale
        if sale is not None and sale.get("state") in FINAL:  # decided, not yet seen: show it again
            self._show_result(again=True)
        elif sale is not None:  # a sale survived a reboot: resolve it first
            self._checking("resuming after restart")
        else:
            self._idle()

    # --- helpers -------------------------------------------------------------------------
    def _emit(self, name, data=None):
        if self.events is not None:
            self.events(name, data or {})

    def _show(self, screen, data=None):
        self.view = (screen, data or {})
        self.view_seq += 1

    def _set(self, state):
        if state != self.state:
            self.state = state
            self._emit("state", {"state": state, "sale": self.journal.sale})

    def _start(self, kind, fn, *args):
        sale = self.journal.sale
        job = gw_job(kind, sale["order_id"] if sale else None)
        self.jobs.append(job)
        self.runner.start(job, fn, *args)
        return job

    def _start_free(self, kind, order_id, fn, *args):
        """A call that is not a question about the open sale (alerts, acks, refunds)."""
        job = gw_job(kind, order_id)
        self.jobs.append(job)
        self.runner.start(job, fn, *args)
        return job

    def _mine(self, job):
        # A call about an earlier sale (its long poll can outlive it by a socket timeout) must not
        # hold up the questions about the open one.
        sale = self.journal.sale
        return sale is None or job.order_id is None or job.order_id == sale["order_id"]

    def busy(self, kind=None):
        for job in self.jobs:
            if (kind is None or job.kind == kind) and self._mine(job):
                return True
        return False

    def _resolving(self):
        """A question about the open sale is outstanding (the long poll does not count: it may
        take 20 s to come back and must not hold up a cancel retry)."""
        for job in self.jobs:
            if job.kind in ("create", "cancel", "status") and self._mine(job):
                return True
        return False

    def _schedule_retry(self):
        delay = _BACKOFF_MS[min(self.attempt, len(_BACKOFF_MS) - 1)]
        self.attempt += 1
        self.retry_at = time.ticks_add(_ticks(), delay)

    def _sale_view(self, extra=None):
        sale = self.journal.sale
        data = {"amount": sale["amount"], "currency": sale["currency"], "order_id": sale["order_id"]}
        if extra:
            data.update(extra)
        return data

    # --- states --------------------------------------------------------------------------
    def _idle(self):
        self._set(IDLE)
        self.digits = ""
        alert = self.alerts.current()
        if alert is not None:
            self._set(ALERT)
            self._show("alert", alert)
        elif not self.online:
            self._show("offline", {"why": self.client.last_error if self.client else None})
        else:
            self._show("idle", {"merchant": self.cfg.merchant_name})

    def _currencies(self):
        """The config's currencies ({code, min, max}; the first is the default)."""
        return getattr(self.cfg, "currencies", None) or [
            {"code": self.cfg.currency, "min": self.cfg.amount_min, "max": self.cfg.amount_max}]

    def _currency(self):
        options = self._currencies()
        return options[self.cur % len(options)]

    def _amount_view(self):
        self._show("amount", {"digits": self.digits, "amount": int(self.digits or "0"),
                              "currency": self._currency()["code"], "message": self.message,
                              "currencies": len(self._currencies())})

    def _checking(self, why):
        self._set(CHECKING)
        sale = self.journal.sale
        if sale.get("state") != CHECKING:
            sale["state"] = CHECKING
            self.journal.update(sale)
        self.retry_at = None  # act at the next tick
        self._show("checking", self._sale_view({"why": why, "cancelling": bool(sale.get("cancel"))}))

    def _show_qr(self):
        sale = self.journal.sale
        self._set(SHOW_QR)
        self._show("qr", self._sale_view({"code": sale["code"], "expires_at": sale["expires_at"],
                                          "merchant": self.cfg.merchant_name}))
        self.attempt = 0
        self.retry_at = None

    def _final(self, state, body):
        """The sale is decided: the result goes to flash first, and stays there until it is seen."""
        sale = self.journal.sale
        paid_entry = None
        who = _who_paid(body) if state == PAID else {}
        if state == PAID:
            paid_entry = {"order_id": sale["order_id"], "amount": sale["amount"],
                          "currency": sale["currency"], "at": self.clock.now()}
            paid_entry.update(who)  # the refund screen names the wallet
        sale["state"] = state
        sale["reason"] = (body or {}).get("reason")
        if who:
            sale["who"] = who  # shown with the result, again after a reboot
        self.journal.decide(sale, paid_entry)
        self.retry_at = None
        self.attempt = 0
        self.alerts.ask_soon()  # money that lands after a sale ended shows up as an alert soon after
        self._show_result()

    def _show_result(self, again=False):
        sale = self.journal.sale
        self.result = {"state": sale["state"], "order_id": sale["order_id"], "amount": sale["amount"],
                       "currency": sale["currency"], "reason": sale.get("reason")}
        self.result.update(sale.get("who") or {})
        self.result_at = _ticks()
        self._set(sale["state"])
        self._show("result", self.result)
        self._emit("result", dict(self.result, again=True) if again else self.result)

    def _seen(self):
        """The cashier has seen the result (a key, or `result_timeout_s`): now the sale is closed."""
        if self.journal.sale is not None:
            self.journal.close_sale()
        self.result = None  # seen and closed: nothing of the sale stays in RAM
        self._idle()

    # --- keys ----------------------------------------------------------------------------
    def key(self, name):
        """A debounced key press: "0".."9", "ok", "cancel", "clear", "back", "menu"."""
        st = self.state
        if st == IDLE:
            if name in "0123456789" and len(name) == 1 and self.online:
                self.digits = ""
                self.message = None
                self.cur = 0  # every sale starts in the default currency
                self._set(AMOUNT)
                self._digit(name)
            elif name == "menu":
                from firmware.sale.refunds import Refunds
                self.refunds = Refunds(self.cfg, self.journal, self.clock, self.client, self._start_free, self._emit)
                self.refunds.open()
                self._refund_view()
        elif st == AMOUNT:
            self._amount_key(name)
        elif st in (CREATING, SHOW_QR, CHECKING):
            if name == "cancel":
                self.cancel()
        elif st in FINAL:
            if name in ("ok", "cancel", "clear"):
                self._seen()
        elif st == ALERT:
            if name in ("ok", "cancel"):
                self.alerts.acknowledge()
                self._idle()
        elif st in REFUND_STATES and self.refunds is not None:
            if self.refunds.key(name):
                self._refund_view()

    def _digit(self, d):
        candidate = (self.digits + d).lstrip("0")
        if len(candidate) > _MAX_DIGITS or int(candidate or "0") > self._currency()["max"]:
            self.message = "max"
            self._emit("beep", {"error": True})
        else:
            self.digits = candidate
            self.message = None
        self._amount_view()

    def _amount_key(self, name):
        if len(name) == 1 and name in "0123456789":
            self._digit(name)
        elif name == "back":
            self.digits = self.digits[:-1]
            self.message = None
            self._amount_view()
        elif name == "clear":
            self.digits = ""
            self.message = None
            self._amount_view()
        elif name == "cancel":
            self._idle()
        elif name == "menu" and len(self._currencies()) > 1:
            # the next currency; the digits typed meant minor units of the old one, so they go
            self.cur = (self.cur + 1) % len(self._currencies())
            self.digits = ""
            self.message = None
            self._amount_view()
        elif name == "ok":
            amount = int(self.digits or "0")
            if amount < self._currency()["min"]:
                self.message = "min"
                self._amount_view()
            elif not self.online:
                self._idle()
            else:
                self.start_sale(amount)

    # --- the sale ------------------------------------------------------------------------
    def start_sale(self, amount):
        order_id = self.journal.new_order_id(self.cfg.terminal_id)
        sale = {"order_id": order_id, "amount": amount, "currency": self._currency()["code"],
                "state": CREATING, "created": False, "cancel": None, "code": None,
                "expires_at": None, "description": self.describe(amount)}
        self.journal.open_sale(sale)  # on flash before any network call
        self._set(CREATING)
        self._show("creating", self._sale_view())
        self.attempt = 0
        self._start("create", self.client.create, order_id, amount, sale["currency"], sale["description"])

    def cancel(self, reason="cashier"):
        """The cashier's cancel key (or expiry): journal the wish, tell the gateway at once."""
        sale = self.journal.sale
        if sale is None or sale.get("cancel"):
            return
        sale["cancel"] = reason
        sale["state"] = CHECKING
        self.journal.update(sale)  # the wish is on flash before the cancel goes out
        self._emit("cancel", {"order_id": sale["order_id"], "reason": reason})
        self._checking("cancelling" if reason == "cashier" else "expired")
        if not self.busy("create"):  # a create in flight is answered first, then cancelled
            self._start("cancel", self.client.cancel, sale["order_id"])

    def tick(self):
        """Called by the loop every few ms: finished jobs, retries, expiry, result timeout."""
        if self.jobs:
            for job in [j for j in self.jobs if j.done]:
                self.jobs.remove(job)
                self._answer(job)
        st = self.state
        sale = self.journal.sale
        if st == SHOW_QR:
            exp = sale.get("expires_at")
            if exp is not None and self.clock.now() >= exp:
                self.cancel("expiry")
            elif not self.busy("poll") and (self.retry_at is None or time.ticks_diff(_ticks(), self.retry_at) >= 0):
                self._start("poll", self.client.status, sale["order_id"], self.cfg.long_poll_s)
        elif st == CHECKING:
            if not self._resolving() and (self.retry_at is None or time.ticks_diff(_ticks(), self.retry_at) >= 0):
                self._resolve()
        elif st in FINAL:
            limit = self.cfg.result_timeout_s
            if limit and _since(self.result_at) >= limit * 1000:
                self._seen()
        elif st == IDLE and self.online and not self.jobs and self.alerts.due():
            self.alerts.ask()

    def _resolve(self):
        """One step out of doubt: the question to ask depends on what the journal knows."""
        sale = self.journal.sale
        self.retry_at = None
        if sale.get("cancel"):
            self._start("cancel", self.client.cancel, sale["order_id"])
        elif not sale.get("created"):
            # Creating is idempotent by order id: asking again can never make a second payment.
            self._start("create", self.client.create, sale["order_id"], sale["amount"], sale["currency"],
                        sale["description"])
        else:
            self._start("status", self.client.status, sale["order_id"], 0)

    # --- answers -------------------------------------------------------------------------
    def _answer(self, job):
        ans = job.value
        if job.kind == "alerts":
            self._note_link(ans)
            if self.alerts.answer(ans) and self.state == IDLE:
                self._idle()
            return
        if job.kind in ("ack", "heartbeat"):
            return
        if job.kind == "refund":
            if self.refunds is not None and self.refunds.answer(ans):
                self._refund_view()
            return
        sale = self.journal.sale
        if sale is None or sale["order_id"] != job.order_id or sale.get("state") in FINAL:
            return  # an answer about a sale already decided (e.g. the long poll after a cancel)
        self._note_link(ans)
        if ans.kind == gw.OK:
            if self._names_this_sale(ans.body, sale):
                self._payment(job, ans.body, sale)
                return
            self._doubt(job, "answer about another order")
            return
        if ans.kind == gw.ERROR:
            self._error(job, ans, sale)
            return
        self._doubt(job, ans.why or "no answer")

    def _note_link(self, ans):
        online = ans.kind != gw.DOUBT
        if online != self.online:
            self.online = online
            self._emit("online", {"online": online})

    def _names_this_sale(self, body, sale):
        return (body.get("order_id") == sale["order_id"] and body.get("amount") == sale["amount"]
                and body.get("currency") == sale["currency"] and body.get("status") in
                ("PENDING",) + _GATEWAY_FINAL)

    def _payment(self, job, body, sale):
        self.attempt = 0
        status = body["status"]
        if status in _GATEWAY_FINAL:
            if status == "CANCELLED" and sale.get("cancel") == "expiry":
                status = EXPIRED
            self._final(status, body)
            return
        # PENDING: the payment exists and waits for the customer.
        if not sale.get("created") or sale.get("code") != body.get("code_value"):
            code = body.get("code_value")
            exp = body.get("expires_at")
            if not isinstance(code, str) or not code or not isinstance(exp, int):
                self._doubt(job, "pending answer without a code")
                return
            sale["created"] = True
            sale["code"] = code
            sale["expires_at"] = exp
        if sale.get("cancel"):
            # Cancel asked for; a pending answer (from create or a poll) does not settle it.
            if not self.busy("cancel"):
                if job.kind == "cancel":
                    self._schedule_retry()
                else:
                    self.retry_at = None
            if sale.get("state") != CHECKING:
                sale["state"] = CHECKING
            self.journal.update(sale)
            if self.state != CHECKING:
                self._checking("cancelling")
            return
        if self.state != SHOW_QR:
            sale["state"] = SHOW_QR
            self.journal.update(sale)
            self._show_qr()
        elif job.kind == "poll":
            self.retry_at = None  # the long poll ended with no news: ask again at once

    def _error(self, job, ans, sale):
        """A signed 4xx (or 502). Only a refusal that names this order can end the sale; a signed
        answer without it (an unknown route, an auth problem) is doubt like any other."""
        code = ans.code
        if (ans.body or {}).get("order_id") != sale["order_id"]:
            self._doubt(job, code)
        elif ans.status == 404 and job.kind in ("poll", "status", "cancel"):
            self._unknown_order(job, sale)
        elif job.kind == "create" and ans.status not in (401, 404, 408, 429):
            if code == "ORDER_CANCELLED":  # a cancel overtook this create at the gateway
                self._final(CANCELLED, {"reason": code})
            else:
                # A refusal of this order (bad amount, mismatch, upstream refused): it was not
                # created, so the sale failed. The reason is the gateway's stable code.
                self._final(FAILED, {"reason": code})
        else:
            self._doubt(job, code)

    def _unknown_order(self, job, sale):
        """The gateway has no payment for this order: its create never landed."""
        if sale.get("created"):
            self._doubt(job, "gateway does not know a created order")
        elif job.kind == "cancel":
            # The gateway stored the cancel (a tombstone) and refuses the create if it still
            # lands later: CANCELLED is true.
            self._final(CANCELLED, {"reason": "never created"})
        elif sale.get("cancel"):
            self._doubt(job, "cancel to send")  # the cancel's own answer decides
        else:
            self._checking("creating again")

    def _doubt(self, job, why):
        sale = self.journal.sale
        self._emit("doubt", {"order_id": sale["order_id"], "job": job.kind, "why": why})
        if self.state == SHOW_QR and job.kind == "poll" and not sale.get("cancel"):
            # The QR stays up (the customer may be paying); the poll is retried with back-off.
            self._schedule_retry()
            self._show("qr", self._sale_view({"code": sale["code"], "expires_at": sale["expires_at"],
                                              "merchant": self.cfg.merchant_name, "offline": True}))
            return
        if self.state != CHECKING:
            self._checking(why)
        if job.kind == "poll" and sale.get("cancel"):
            return  # a poll overtaken by a cancel: the cancel's own answer decides
        if not self._resolving():
            self._schedule_retry()

    def _refund_view(self):
        """Draw the refund step the supervisor is at (firmware/sale/refunds.py), or leave to idle."""
        r = self.refunds
        if r.state is None:
            self.refunds = None
            late.drop("firmware.sale.refunds")  # its bytecode leaves the heap until the next menu key
            self._idle()
        else:
            self._set(r.state)
            self._show(r.view[0], r.view[1])

    # --- from the loop's network task ----------------------------------------------------
    def set_online(self, online):
        if online == self.online:
            return
        self.online = online
        self._emit("online", {"online": online})
        if self.state == IDLE:
            self._idle()


def _who_paid(body):
    """The wallet and the customer's own amount of a verified PAID answer (docs/protocol.md), each
    only when well formed: {"wallet": "GCash", "customer_amount": 71250, "customer_currency": "PHP"}."""
    out = {}
    name = (body or {}).get("wallet")
    if isinstance(name, str) and 0 < len(name) <= 32 and not [ch for ch in name if not " " <= ch <= "~"]:
        out["wallet"] = name
    minor, code = (body or {}).get("customer_amount"), (body or {}).get("customer_currency")
    if (isinstance(minor, int) and not isinstance(minor, bool) and 0 < minor < 10 ** 15
            and isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        out["customer_amount"] = minor
        out["customer_currency"] = code
    return out


def gw_job(kind, order_id):
    from firmware.link.worker import Job
    return Job(kind, order_id)
