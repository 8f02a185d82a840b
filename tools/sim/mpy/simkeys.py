"""The keypad's switch matrix inside the MicroPython engine, pressed by the host (simulator only).

The firmware scans it as it scans the real one: it drives one row low and reads the columns through
their pull-ups; a column reads 0 only while a held key joins it to a row the chip drives low right
now (push-pull or open drain; a released open-drain row floats and pulls nothing down).
The host sends `press I J` (row and column index); presses are queued and each is held, then
released, long enough for the firmware's debounce, so typed keys arrive one by one in order. As
in tools/sim/keymatrix.py (the CPython engine's matrix): a press lasts HOLD_MS and at least
HOLD_SCANS full scans, since a busy loop may scan rarely (a QR being drawn).
"""
import time

import machine

HOLD_MS = 60
GAP_MS = 60
HOLD_SCANS = 5
GAP_SCANS = 3


class Matrix:
    def __init__(self, rows, cols):
        self.rows = rows
        self.cols = cols
        self.queue = []
        self.held = None  # (row index, col index)
        self.releasing = False
        self.until = None
        self.until_scans = 0
        self.scans = 0
        for j in range(len(cols)):
            machine.board.sources[cols[j]] = self._reader(j)

    def press(self, i, j):
        self.queue.append((i, j))

    def _advance(self):
        now = time.ticks_ms()
        if self.until is not None and (time.ticks_diff(now, self.until) < 0 or self.scans < self.until_scans):
            return
        if self.held is not None:
            self.held = None
            self.releasing = True
            self.until = time.ticks_add(now, GAP_MS)
            self.until_scans = self.scans + GAP_SCANS
        elif self.queue:
            self.held = self.queue.pop(0)
            self.releasing = False
            self.until = time.ticks_add(now, HOLD_MS)
            self.until_scans = self.scans + HOLD_SCANS
        else:
            self.releasing = False
            self.until = None

    def _reader(self, j):
        def level():
            if j == 0 and machine.board.driven_low(self.rows[0]):
                self.scans += 1
            self._advance()
            held = self.held
            if held is None or held[1] != j:
                return None
            if machine.board.driven_low(self.rows[held[0]]):
                return 0
            return None
        return level
