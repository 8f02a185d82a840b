"""The journal: the open sale and the order counter, kept on flash so a power cut loses nothing.

One small JSON record, rewritten whole at every change by write-then-rename: the new record goes to
`<path>.tmp`, is flushed and closed, then renamed over `<path>` (atomic on LittleFS and POSIX). A
power cut at any byte therefore leaves either the old record or the new one, never a mix; a torn
`.tmp` is simply ignored at the next boot.

Record: {"v": 1, "series": "a1b2", "next": 7, "sale": {...} or null, "recent": [...]}
- `next` is the counter of the next order id; it is saved, together with the new sale, before the
  first network call for that sale, so an order id is never used twice.
- `series` is random per journal: a terminal whose flash was wiped (counter back at 1) still never
  repeats an earlier order id.
- `sale` is the open sale (see firmware/sale/flow.py for its fields), null when none is open.
- `recent` lists the last few paid sales (order id, amount, currency, time) for supervisor refunds.
"""
import json
import os

JOURNAL_PATH = "/journal.json"
_RECENT_MAX = 5


def _random_series():
    try:
        raw = os.urandom(3)
    except (AttributeError, NotImplementedError):
        import random
        raw = bytes([random.getrandbits(8) for _ in range(3)])
    out = ""
    for b in raw:
        out += "0123456789abcdef"[b >> 4] + "0123456789abcdef"[b & 15]
    return out


class Journal:
    def __init__(self, path=JOURNAL_PATH, opener=open, rename=None, remove=None):
        self.path = path
        self._open = opener
        self._rename = rename or os.rename
        self._remove = remove or os.remove
        self.writes = 0  # flash writes so far (tests and the benchmark read it)
        self.record = self._read()

    # --- reading ---------------------------------------------------------------------------
    def _read(self):
        try:
            with self._open(self.path, "r") as f:
                record = json.loads(f.read())
            if isinstance(record, dict) and record.get("v") == 1 and isinstance(record.get("next"), int):
                record.setdefault("recent", [])
                record.setdefault("sale", None)
                return record
        except (OSError, ValueError):
            pass
        # No journal (first boot) or one we cannot read: start a new series, so order ids from the
        # new counter cannot collide with earlier ones.
        return {"v": 1, "series": _random_series(), "next": 1, "sale": None, "recent": []}

    @property
    def sale(self):
        return self.record["sale"]

    @property
    def recent(self):
        return self.record["recent"]

    # --- writing ---------------------------------------------------------------------------
    def _save(self):
        tmp = self.path + ".tmp"
        data = json.dumps(self.record)
        f = self._open(tmp, "w")
        try:
            f.write(data)
            if hasattr(f, "flush"):
                f.flush()
        finally:
            f.close()
        self._rename(tmp, self.path)
        self.writes += 1

    def new_order_id(self, terminal_id):
        """The next order id; not yet saved: open_sale() saves it with the sale."""
        return "%s-%s%d" % (terminal_id, self.record["series"], self.record["next"])

    def open_sale(self, sale):
        """Save a new open sale and advance the counter, in one write."""
        self.record["next"] += 1
        self.record["sale"] = sale
        self._save()

    def update(self, sale):
        """Save a change to the open sale (state, code, cancel request)."""
        self.record["sale"] = sale
        self._save()

    def close_sale(self, paid_entry=None):
        """The open sale reached a final state: forget it (remember it in `recent` if paid)."""
        self.record["sale"] = None
        if paid_entry is not None:
            recent = self.record["recent"]
            recent.insert(0, paid_entry)
            del recent[_RECENT_MAX:]
        self._save()

    def forget_recent(self, order_id):
        self.record["recent"] = [r for r in self.record["recent"] if r.get("order_id") != order_id]
        self._save()
