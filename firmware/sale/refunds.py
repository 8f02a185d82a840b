"""Supervisor refunds from the terminal: the menu key, the PIN, one full refund of a recent sale.

    MENU --ok--> REFUND_PIN --PIN, ok--> REFUNDING --answer--> REFUND_DONE --ok--> (idle)
                     ^                      |
                     +---- wrong PIN -------+   (with the tries left the gateway counts)
    CANCEL leaves at any step but REFUNDING (the call is out; its answer is still shown).

A wrong PIN goes back to the PIN prompt, which says so and how many tries are left before the
gateway locks refunds ("one more wrong PIN locks refunds" on the last one), as long as the
gateway's BAD_PIN answer carries `tries_left`; a locked terminal's answer (PIN_LOCKED) ends the
attempt on a screen that says refunds are locked.

Only the latest paid sale within `supervisor.refund_window_s` (the journal's `recent` list) can be
refunded, in full; the gateway checks the PIN. The refund id is `<order id>-R`, derived from the
order, so a retry (or a second try after a doubtful answer) can never refund twice.
`Refunds` keeps its own step and view; the flow (firmware/sale/flow.py) draws them.
"""
from micropython import const
from firmware.link.gateway import ERROR, OK

MENU = "MENU"
REFUND_PIN = "REFUND_PIN"
REFUNDING = "REFUNDING"
REFUND_DONE = "REFUND_DONE"
STATES = (MENU, REFUND_PIN, REFUNDING, REFUND_DONE)
_PIN_MAX = const(12)


class Refunds:
    def __init__(self, cfg, journal, clock, client, start, emit):
        self.cfg = cfg
        self.journal = journal
        self.clock = clock
        self.client = client
        self._start = start  # start(kind, order_id, fn, *args): a network job (firmware/link/worker.py)
        self._emit = emit
        self.state = None  # one of STATES while the supervisor is at work, else None
        self.view = None
        self.sale = None  # the paid sale offered for refund (an entry of journal.recent)
        self.pin = ""
        self.wrong = None  # after a wrong PIN: {"wrong": True, "tries_left": n or None}

    def _go(self, state, screen, data):
        self.state = state
        self.view = (screen, data)

    def _leave(self):
        self.state = None
        self.view = None
        self.sale = None
        self.pin = ""
        self.wrong = None

    def _pin_view(self):
        data = {"entered": len(self.pin), "sale": self.sale}
        if self.wrong:
            data.update(self.wrong)
        self.view = ("pin", data)

    def open(self):
        """The menu key at idle."""
        window = self.cfg.refund_window_s
        now = self.clock.now()
        recent = [r for r in self.journal.recent if now - r.get("at", 0) <= window]
        self.sale = recent[0] if recent else None
        self.pin = ""
        self.wrong = None
        self._go(MENU, "menu", {"refundable": self.sale})

    def key(self, name):
        """A key while in a refund step; True when the step or its view changed (state None: done)."""
        st = self.state
        if st == REFUNDING:
            return False  # the call is out: wait for its answer
        if name == "cancel" or (st == REFUND_DONE and name == "ok"):
            self._leave()
            return True
        if st == MENU:
            if name == "ok" and self.sale is not None:
                self.state = REFUND_PIN
                self._pin_view()
                return True
            return False
        if st == REFUND_PIN:
            if len(name) == 1 and name in "0123456789" and len(self.pin) < _PIN_MAX:
                self.pin += name
            elif name == "back":
                self.pin = self.pin[:-1]
            elif name == "clear":
                self.pin = ""
            elif name == "ok" and len(self.pin) >= self.cfg.pin_length:
                self._send()
                return True
            self._pin_view()
            return True
        return False

    def _send(self):
        sale = self.sale
        self._go(REFUNDING, "refunding", {"sale": sale})
        self._start("refund", sale["order_id"], self.client.refund, sale["order_id"], sale["order_id"] + "-R",
                    sale["amount"], self.pin)
        self.pin = ""  # the PIN is not kept once sent

    def answer(self, ans):
        """The gateway's answer to the refund call; True when it is shown."""
        sale = self.sale
        if sale is None or self.state != REFUNDING:
            return False
        if ans.kind == OK:
            status = ans.body.get("status")
            if status == "SUCCEEDED":
                self.journal.forget_recent(sale["order_id"])
                outcome = "REFUNDED"
            elif status == "FAILED":
                outcome = "FAILED"
            else:
                outcome = "PENDING"  # the gateway is still asking Antom: the same request later shows it
        elif ans.kind == ERROR and ans.code == "BAD_PIN":
            # Back to the prompt: the supervisor may have mistyped; the gateway counts the tries.
            self.wrong = {"wrong": True, "tries_left": _tries_left(ans.body)}
            self.state = REFUND_PIN
            self._pin_view()
            self._emit("refund", {"order_id": sale["order_id"], "outcome": "BAD_PIN",
                                  "tries_left": self.wrong["tries_left"]})
            return True
        elif ans.kind == ERROR:
            outcome = ans.code or "REFUSED"
        else:
            outcome = "UNKNOWN"  # no signed answer: try again later, the refund id stays the same
        self._go(REFUND_DONE, "refund_result", {"sale": sale, "outcome": outcome})
        self._emit("refund", {"order_id": sale["order_id"], "outcome": outcome})
        return True


def _tries_left(body):
    """The wrong PINs the gateway still accepts before it locks refunds, if its answer says."""
    if not isinstance(body, dict):
        return None
    left = body.get("tries_left")
    err = body.get("error")
    if left is None and isinstance(err, dict):
        left = err.get("tries_left")
    if isinstance(left, int) and not isinstance(left, bool) and left >= 0:
        return left
    return None
