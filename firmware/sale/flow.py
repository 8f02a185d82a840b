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

The open sale's steps (firmware/sale/payment.py: create, QR, poll, cancel, doubt, decide, loaded
when a sale starts and dropped at idle), supervisor refunds (firmware/sale/refunds.py, loaded at
the menu key and dropped when the supervisor leaves) and late-payment alerts
(firmware/sale/alerts.py) are their own modules; the flow hands them keys and answers and draws
what they say.

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
_STEPS = const("firmware.sale.payment")  # the open sale's steps (_steps() below)
_MAX_DIGITS = const(9)  # amounts stay small ints on MicroPython (< 2**30)


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
            _steps().show_result(self, again=True)
        elif sale is not None:  # a sale survived a reboot: resolve it first
            _steps().checking(self, "resuming after restart")
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
        return self._run(gw_job(kind, sale["order_id"] if sale else None), fn, args)

    def _start_free(self, kind, order_id, fn, *args):
        """A call that is not a question about the open sale (alerts, acks, refunds)."""
        return self._run(gw_job(kind, order_id), fn, args)

    def _run(self, job, fn, args):
        # Watched only once it is started: a runner that raised (a MemoryError, which the loop's
        # guard collects and retries) must not leave a job that never ends, which would keep the
        # flow "busy" with that call for good (CHECKING forever). Not started, it is asked again.
        self.runner.start(job, fn, *args)
        self.jobs.append(job)
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

    # --- states --------------------------------------------------------------------------
    def _idle(self):
        self._set(IDLE)
        self.digits = ""
        late.drop(_STEPS)  # no sale is open: its steps leave the heap until the next one
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

    # --- the sale: its steps are firmware/sale/payment.py, loaded while a sale is open -------
    def start_sale(self, amount):
        _steps().start_sale(self, amount)

    def cancel(self, reason="cashier"):
        """The cashier's cancel key (or expiry): journal the wish, tell the gateway at once."""
        if self.journal.sale is not None:  # no open sale: nothing to cancel (and nothing to load)
            _steps().cancel(self, reason)

    def tick(self):
        """Called by the loop every few ms: finished jobs, retries, expiry, result timeout."""
        if self.jobs:
            for job in [j for j in self.jobs if j.done]:
                self.jobs.remove(job)
                self._answer(job)
        st = self.state
        sale = self.journal.sale
        if st == SHOW_QR or st == CHECKING:
            _steps().tick(self, st, sale)
        elif st in FINAL:
            limit = self.cfg.result_timeout_s
            if limit and _since(self.result_at) >= limit * 1000:
                self._seen()
        elif st == IDLE and self.online and not self.jobs and self.alerts.due():
            self.alerts.ask()

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
        _steps().answer(self, job, ans, sale)

    def _note_link(self, ans):
        online = gw.reachable(ans)
        if online != self.online:
            self.online = online
            self._emit("online", {"online": online})

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


def gw_job(kind, order_id):
    from firmware.link.worker import Job
    return Job(kind, order_id)


def _steps():
    return late.load("firmware.sale.payment")
