"""Wall-clock time in Unix seconds, learned from NTP or from the gateway's signed answers.

`time.time()` on the ESP32 counts from 2000-01-01 and starts at 0 after a power cut; the protocol
speaks Unix seconds. The clock keeps an offset: `set(unix)` (from a verified gateway answer's
X-Timestamp, or after ntptime) makes `now()` follow from there, whatever the port's epoch.
"""
import time


class WallClock:
    def __init__(self, source=None):
        self._source = source or time.time
        self.offset = 0
        self.synced = False

    def now(self):
        return int(self._source()) + self.offset

    def set(self, unix_seconds):
        self.offset = int(unix_seconds) - int(self._source())
        self.synced = True
