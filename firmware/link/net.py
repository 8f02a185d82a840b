"""Wi-Fi: connect, notice a lost link, reconnect with back-off (NTP: firmware/link/clock.py).

`step()` is called by the network task every ~250 ms and never blocks: `connect()` on the ESP32
returns at once and the link comes up later. After a failed attempt the next waits longer
(1, 2, 4 ... 30 s), so a missing access point does not keep the radio busy.
"""
from micropython import const
import time

_BACKOFF_MS = const((1000, 2000, 4000, 8000, 15000, 30000))
_CONNECT_TIMEOUT_MS = const(15000)


class Wifi:
    def __init__(self, network, ssid, password):
        self.ssid = ssid
        self.password = password
        self.wlan = network.WLAN(network.STA_IF)
        self.attempts = 0
        self._started = None  # ticks of the attempt in progress
        self._next = time.ticks_ms()

    def connected(self):
        try:
            return self.wlan.isconnected()
        except Exception:
            return False

    def step(self):
        """Drive the link; returns True while connected."""
        if self.connected():
            self.attempts = 0
            self._started = None
            return True
        now = time.ticks_ms()
        if self._started is not None:
            if time.ticks_diff(now, self._started) < _CONNECT_TIMEOUT_MS:
                return False  # still trying
            self._started = None  # gave up on this attempt: back off
            self._next = time.ticks_add(now, _BACKOFF_MS[min(self.attempts, len(_BACKOFF_MS) - 1)])
            self.attempts += 1
            return False
        if time.ticks_diff(now, self._next) < 0:
            return False
        try:
            self.wlan.active(True)
            try:
                self.wlan.disconnect()
            except Exception:
                pass
            self.wlan.connect(self.ssid, self.password)
            self._started = now
        except OSError:
            self._next = time.ticks_add(now, _BACKOFF_MS[min(self.attempts, len(_BACKOFF_MS) - 1)])
            self.attempts += 1
        return False

    def rssi(self):
        try:
            return self.wlan.status("rssi")
        except Exception:
            return None
