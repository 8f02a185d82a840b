"""The device's log ring buffer: a few KB of recent events on flash, read by `alipay-terminal logs`.

Lines are appended to /log.txt; when it passes `cap` bytes it is renamed to /log.txt.1 (replacing
the older one), so at most two files exist and flash use stays under 2 × cap. A power cut loses at
most the line being written. Logging never raises: a full or broken filesystem must not stop a sale.
Each line starts with the Unix time when the clock is synced, else "t+<seconds since boot>".
"""
import os
import time

DEFAULT_CAP = 4096


class Log:
    def __init__(self, path="/log.txt", cap=DEFAULT_CAP, clock=None):
        self.path = path
        self.cap = cap
        self.clock = clock
        self._boot = time.ticks_ms()

    def _stamp(self):
        if self.clock is not None and self.clock.synced:
            return str(self.clock.now())
        return "t+%d" % (time.ticks_diff(time.ticks_ms(), self._boot) // 1000)

    def write(self, text):
        line = "%s %s\n" % (self._stamp(), text.replace("\n", " ")[:200])
        try:
            try:
                size = os.stat(self.path)[6]
            except OSError:
                size = 0
            if size + len(line) > self.cap:
                os.rename(self.path, self.path + ".1")
            with open(self.path, "a") as f:
                f.write(line)
        except Exception:  # full flash, read-only filesystem: the sale matters more than the log
            pass


def describe(name, data):
    """One short line for a flow event (see firmware/sale/flow.py `_emit`), or None to skip it."""
    sale = data.get("sale") or {}
    if name == "state":
        return "state %s %s" % (data.get("state"), sale.get("order_id") or "")
    if name == "result":
        return "result %s %s %s %s %s" % (data.get("state"), data.get("order_id"), data.get("amount"),
                                          data.get("currency"), data.get("reason") or "")
    if name in ("cancel", "doubt", "refund"):
        return "%s %s" % (name, " ".join("%s=%s" % (k, data[k]) for k in sorted(data)))
    if name == "online":
        return "online" if data.get("online") else "offline"
    return None
