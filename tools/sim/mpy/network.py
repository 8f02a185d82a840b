"""Stand-in for the ESP32's `network` module inside the MicroPython unix port (simulator only).

Copies the ESP32 port's station interface: `WLAN(STA_IF)` with `active()`, `connect(ssid, key)`
(returns at once; the link comes up half a second later), `disconnect()`, `isconnected()`,
`status()` with the ESP32's STAT_* codes, `status("rssi")`, `ifconfig()`, `config()`, `scan()`.
The access points are those the host set up (the configured network, with its password); the
host's `wifi off` / `wifi on` commands make them vanish and come back (`air`). The traffic itself
goes over the host's loopback: only the radio is simulated.
"""
import time

import simlink

STA_IF = 0
AP_IF = 1

STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204

CONNECT_DELAY_MS = 500


class _Air:
    def __init__(self):
        self.up = True
        self.access_points = {}  # ssid -> (key, rssi)

    def load(self, setup):
        self.up = setup.get("air_up", True)
        for ssid, key, rssi in setup.get("access_points", ()):
            self.access_points[ssid] = (key, rssi)


air = _Air()
air.load(simlink.setup)


class WLAN:
    def __init__(self, interface_id=STA_IF):
        self.interface = interface_id
        self._active = False
        self._ssid = None
        self._key = None
        self._since = None
        self._config = {"reconnects": -1, "dhcp_hostname": "terminal", "mac": b"\x24\x0a\xc4\x12\x34\x56"}

    def active(self, is_active=None):
        if is_active is None:
            return self._active
        self._active = bool(is_active)
        if not self._active:
            self._ssid = None

    def connect(self, ssid=None, key=None, **kwargs):
        if not self._active:
            raise OSError("Wifi Not Started")  # the ESP32 port's message
        self._ssid, self._key = ssid, key
        self._since = time.ticks_ms()

    def disconnect(self):
        self._ssid = None

    def status(self, param=None):
        if param == "rssi":
            if not self.isconnected():
                raise OSError("Wifi Not Connected")
            return air.access_points[self._ssid][1]
        if param is not None:
            raise ValueError("unknown status param")
        if not self._active or self._ssid is None:
            return STAT_IDLE
        ap = air.access_points.get(self._ssid)
        if ap is None or not air.up:
            return STAT_NO_AP_FOUND
        if ap[0] != self._key:
            return STAT_WRONG_PASSWORD
        if time.ticks_diff(time.ticks_ms(), self._since) < CONNECT_DELAY_MS:
            return STAT_CONNECTING
        return STAT_GOT_IP

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self, config=None):
        if config is not None:
            return None
        if self.isconnected():
            return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")

    def config(self, *args, **kwargs):
        if kwargs:
            self._config.update(kwargs)
            return None
        if len(args) == 1:
            if args[0] == "essid":
                return self._ssid or ""
            return self._config[args[0]]
        raise TypeError("config() takes one name or keyword arguments")

    def scan(self):
        if not air.up:
            return []
        return [(ssid.encode(), b"\x00" * 6, 1, ap[1], 3, False) for ssid, ap in air.access_points.items()]
