"""The 4x4 (any RxC) key matrix: scanning with debounce, the pin map and layout from config.

Wiring: row pins are open-drain outputs, released (floating) when idle; column pins are inputs with
pull-ups. A scan pulls one row low at a time and reads the columns: a pressed key connects its row
to its column, so that column reads 0. Open drain because two keys held in one column join two
rows: push-pull, the row being scanned (low) and an idle one (driven high) would short through the
keys; released, the idle row just follows the column. A key counts as pressed once the scan has seen the same single key for `debounce_ms`
(contacts bounce for a few ms), and it must be released (debounced the same way) before it can
count again: one press, one event. The loop calls `poll()` every ~10 ms.
"""
import time


class Keypad:
    def __init__(self, Pin, rows, cols, layout, keys, debounce_ms=30):
        self.rows = [Pin(r, Pin.OPEN_DRAIN, value=1) for r in rows]
        self.cols = [Pin(c, Pin.IN, Pin.PULL_UP) for c in cols]
        self.layout = layout
        self.keys = keys
        self.debounce_ms = debounce_ms
        self._seen = None  # what the last scan read
        self._since = time.ticks_ms()
        self._stable = None  # the debounced state

    def scan(self):
        """The label of the key held now (the first one found), or None."""
        found = None
        for i in range(len(self.rows)):
            row = self.rows[i]
            row.value(0)
            for j in range(len(self.cols)):
                if found is None and not self.cols[j].value():
                    found = self.layout[i][j]
            row.value(1)
        return found

    def action(self, label):
        """A layout label to the action the flow knows ("7", "ok", "cancel", ...); None if unused."""
        act = self.keys.get(label)
        if act is None and label in "0123456789":
            act = label
        return None if act == "none" else act

    def poll(self):
        """Scan once; return the action of a newly debounced press, else None."""
        now = time.ticks_ms()
        seen = self.scan()
        if seen != self._seen:
            self._seen = seen
            self._since = now
            return None
        if seen == self._stable or time.ticks_diff(now, self._since) < self.debounce_ms:
            return None
        self._stable = seen
        if seen is None:
            return None
        return self.action(seen)
