"""The keypad's switch matrix, wired to the machine shim's pins, pressed from the computer keyboard.

The firmware scans it exactly as it scans the real one (firmware/board/keypad.py): it pulls one
row low and reads the columns through their pull-ups. A column reads 0 only while a held key joins
it to a row that is low right now. Keys held together (`hold`) join their rows through the column
as wires do, so rows driven push-pull (one low, one high) show up as a short in
`machine.Pin.board.shorts`; open-drain rows (released when idle) do not. Presses are queued and
each is held, then released, long enough for the firmware's debounce (on the shim clock), so typed
keys arrive one by one in order.
"""
import collections
import threading
import time

import machine

# The firmware's key actions -> the layout label that produces them, for typing by action name.
HOLD_MS = 60
GAP_MS = 60
# A hand holds a key for a time, but a busy host loop may scan rarely (a QR being drawn): a press
# also lasts at least this many full scans, so the firmware's debounce always sees it.
HOLD_SCANS = 5
GAP_SCANS = 3


class KeyLayout:
    """Where each key sits: the layout label, or the firmware action it produces ("7", "ok",
    "cancel", ...), to its (row index, column index). Both engines' matrices press by position."""

    def __init__(self, rows, cols, layout, keys):
        self.rows = rows
        self.cols = cols
        self.layout = layout
        self.where = {}
        for i, line in enumerate(layout):
            for j, label in enumerate(line):
                self.where[label] = (i, j)
        self.label_for = {}
        for label, action in keys.items():
            self.label_for.setdefault(action, label)
        for d in "0123456789":
            self.label_for.setdefault(d, d)

    def position(self, action):
        label = self.label_for.get(action, action)
        if label not in self.where:
            raise ValueError("no key for %r" % action)
        return self.where[label]


class KeyMatrix:
    def __init__(self, rows, cols, layout, keys):
        self.rows = rows
        self.cols = cols
        self.layout = layout
        self.keys = KeyLayout(rows, cols, layout, keys)
        self._queue = collections.deque()
        self._lock = threading.Lock()
        self._held = None  # (row, col) held now
        self._phase_until = None
        self._phase_scans = 0
        self.scans = 0  # full matrix scans seen (column 0 read while row 0 is driven low)
        self._releasing = False
        for j, col in enumerate(cols):
            machine.Pin.board.source(col, self._reader(j))

    def press(self, action):
        """Queue a press of the key that produces `action` ("7", "ok", "cancel", ...)."""
        where = self.keys.position(action)
        with self._lock:
            self._queue.append(where)

    def idle(self):
        with self._lock:
            return not self._queue and self._held is None and not self._releasing

    def _advance(self):
        now = time.ticks_ms()
        with self._lock:
            if self._phase_until is not None and (time.ticks_diff(now, self._phase_until) < 0
                                                  or self.scans < self._phase_scans):
                return
            if self._held is not None:  # held long enough: release, then a gap
                self._held = None
                self._releasing = True
                self._phase_until = time.ticks_add(now, GAP_MS)
                self._phase_scans = self.scans + GAP_SCANS
            elif self._queue:
                self._held = self._queue.popleft()
                self._releasing = False
                self._phase_until = time.ticks_add(now, HOLD_MS)
                self._phase_scans = self.scans + HOLD_SCANS
            else:
                self._releasing = False
                self._phase_until = None

    def hold(self, *actions):
        """Hold these keys down together (on top of the typed ones) until `release()`."""
        where = [self.keys.position(a) for a in actions]
        with self._lock:
            self._chord = set(self._chord) | set(where)

    def release(self):
        with self._lock:
            self._chord = set()

    _chord = frozenset()

    def _reader(self, j):
        board = machine.Pin.board

        def level():
            if j == 0 and board.driven_by_chip(self.rows[0]) == 0:
                self.scans += 1
            self._advance()
            held = set(self._chord)
            if self._held is not None:
                held.add(self._held)
            rows = [self.rows[i] for (i, col) in sorted(held) if col == j]
            if not rows:
                return None  # not driven: the pull-up reads 1
            # The held keys join these rows to the column: one wire.
            return 0 if board.joined(rows, "keypad column %d" % self.cols[j]) == 0 else None
        return level
