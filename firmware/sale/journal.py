"""The journal: the open sale and the order counter, kept on flash so a power cut loses nothing.

One small JSON record, rewritten whole at every change by write-then-rename: the new record goes to
`<path>.tmp`, is flushed and closed, then renamed over `<path>` (atomic on LittleFS and POSIX). A
power cut at any byte therefore leaves either the old record or the new one, never a mix; a torn
`.tmp` is simply ignored at the next boot.

Record: {"v": 1, "series": "a1b2c3", "next": 7, "sale": {...} or null, "recent": [...]}
- Order ids are `<terminal id>-<counter>-<12 random hex digits>` (`T1-7-3fa9c2d81b0e`, at most
  16 + 1 + 8 + 1 + 12 = 38 characters, so the refund id `<order id>-R` fits the gateway's 40).
  The counter makes every id of a journal unique; the random part (os.urandom: the ESP32's
  hardware generator) makes the next id unguessable, so nobody can enumerate a terminal's sales.
- `next` is the counter of the next order id; it is saved, together with the new sale (which holds
  its id), before the first network call for that sale, so an id is never used twice and a sale
  resumed after a reboot keeps its id.
- `series` is random per journal (shown by `alipay-terminal status`); a wiped flash starts a new one.
- `sale` is the open sale (see firmware/sale/flow.py for its fields), null when none is open. A
  decided sale (state PAID, FAILED, EXPIRED or CANCELLED) stays until the cashier has seen its
  result (`close_sale`), so a power cut in between shows the result again at boot.
- `recent` lists the last two paid sales (order id, amount, currency, time) for supervisor refunds:
  the menu offers the latest one, and once that is refunded the one before; anything older is the
  office's (the gateway's operator `refund` command). Two, not more: the list lives in RAM with the
  record and grows until it is full, so it is full after the second paid sale.
"""
from micropython import const
import json
import os

JOURNAL_PATH = "/journal.json"
_RECENT_MAX = const(2)


_ID_RANDOM_BYTES = const(6)


def random_hex(nbytes):
    """2 * nbytes lowercase hex digits from the system's random source."""
    try:
        raw = os.urandom(nbytes)
    except (AttributeError, NotImplementedError, OSError):
        import random  # builds without os.urandom (the WebAssembly port)
        raw = bytes([random.getrandbits(8) for _ in range(nbytes)])
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
        return {"v": 1, "series": random_hex(3), "next": 1, "sale": None, "recent": []}

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
        """A new order id, unguessable; not yet saved: open_sale() saves it with the sale."""
        return "%s-%d-%s" % (terminal_id, self.record["next"], random_hex(_ID_RANDOM_BYTES))

    def open_sale(self, sale):
        """Save a new open sale and advance the counter, in one write."""
        self.record["next"] += 1
        self.record["sale"] = sale
        self._save()

    def update(self, sale):
        """Save a change to the open sale (state, code, cancel request)."""
        self.record["sale"] = sale
        self._save()

    def decide(self, sale, paid_entry=None):
        """Save the sale's result (its final state) and, when paid, its refund entry: one write."""
        self.record["sale"] = sale
        if paid_entry is not None:
            self._remember(paid_entry)
        self._save()

    def close_sale(self, paid_entry=None):
        """The cashier has seen the result: forget the sale (remember it in `recent` if paid)."""
        self.record["sale"] = None
        if paid_entry is not None:
            self._remember(paid_entry)
        self._save()

    def _remember(self, paid_entry):
        recent = [r for r in self.record["recent"] if r.get("order_id") != paid_entry["order_id"]]
        recent.insert(0, paid_entry)
        del recent[_RECENT_MAX:]
        self.record["recent"] = recent

    def forget_recent(self, order_id):
        self.record["recent"] = [r for r in self.record["recent"] if r.get("order_id") != order_id]
        self._save()
