"""Late-payment alerts: money the gateway reconciled after a sale had ended on this terminal.

The gateway keeps them until this terminal acknowledges them (docs/protocol.md, `GET /v1/alerts`).
At idle the flow asks every 30 s, and 3 s after a sale ended (a late payment shows up soon after);
the first unread alert is shown until the cashier presses OK, which sends the acknowledgement.
`Alerts` keeps the list and the timing; the flow (firmware/sale/flow.py) owns the screen and state.
"""
from micropython import const
import time

from firmware.link.gateway import OK

_EVERY_MS = const(30000)
_SOON_MS = const(3000)


class Alerts:
    def __init__(self, client, start):
        self.client = client
        self._start = start  # start(kind, order_id, fn, *args): a network job (firmware/link/worker.py)
        self.unread = []
        self.asked_at = None

    def current(self):
        """The alert to show now, or None."""
        return self.unread[0] if self.unread else None

    def due(self):
        return self.asked_at is None or time.ticks_diff(time.ticks_ms(), self.asked_at) >= _EVERY_MS

    def ask(self):
        self.asked_at = time.ticks_ms()
        self._start("alerts", None, self.client.alerts)

    def ask_soon(self):
        """A sale just ended: ask again in a few seconds rather than in 30."""
        self.asked_at = time.ticks_add(time.ticks_ms(), _SOON_MS - _EVERY_MS)

    def answer(self, ans):
        """Take the gateway's list; True when there is something to show."""
        if ans.kind != OK:
            return False
        alerts = ans.body.get("alerts")
        if isinstance(alerts, list) and alerts:
            self.unread = [a for a in alerts if isinstance(a, dict) and "id" in a]
        return bool(self.unread)

    def acknowledge(self):
        """The cashier saw the first alert: tell the gateway (a lost ack only shows it again)."""
        alert = self.unread.pop(0)
        # Named after the alert, so two acks waiting in the lane are never merged into one.
        self._start("ack", "alert-%s" % alert["id"], self.client.ack_alert, alert["id"])
