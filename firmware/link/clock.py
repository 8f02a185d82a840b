"""Wall-clock time: the RTC, set from NTP or from the gateway's signed time before any https call.

Why the RTC and not an offset kept in Python: mbedTLS checks the gateway certificate's validity
dates against the system clock, which is the RTC. After a power cut the ESP32's RTC reads
2000-01-01, so every verified handshake fails ("The certificate validity starts in the future")
until `machine.RTC().datetime(...)` has been set; an offset in Python does not reach mbedTLS.
So `set(unix)` writes the RTC, and `now()` reads `time.time()` (the RTC's count), corrected by an
offset measured right after the write (the port's epoch: 2000 on the ESP32, 1970 elsewhere; and
whatever a stand-in RTC that cannot move `time.time()` leaves over).

`sntp(host)` asks an NTP server once (one UDP exchange). The gateway's signed time comes from
firmware/link/owner.py. A clock reading before FLOOR is not set.
"""
from micropython import const
import time

# 2026-01-01T00:00:00Z: no real time is earlier than this firmware; an RTC reading before it was
# never set (after a power cut the ESP32 says 2000-01-01).
FLOOR = 1767225600
_DRIFT_S = const(2)  # a signed time this far off the clock re-sets it
_NTP_DELTA = const(2208988800)  # 1900-01-01 to 1970-01-01


def _port_epoch():
    return 946684800 if time.gmtime(0)[0] == 2000 else 0


def civil(unix):
    """Unix seconds -> (year, month, day, weekday Mon=0, hour, minute, second), no port epoch."""
    days, rem = divmod(int(unix), 86400)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    # Howard Hinnant's days-to-civil, integers only
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d, weekday, rem // 3600, rem % 3600 // 60, rem % 60


def unix_of(year, month, day, hour=0, minute=0, second=0):
    """(year, month, day, h, m, s) in UTC -> Unix seconds (the inverse of `civil`)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second


class WallClock:
    def __init__(self, rtc=None, source=None):
        self.rtc = None
        self._source = source or time.time
        self.offset = _port_epoch()
        self.synced = False
        self.source = None  # "rtc", "ntp" or "gateway": where the time came from
        self.sets = 0  # RTC writes
        if rtc is not None:
            self.attach(rtc)

    def attach(self, rtc):
        """Use `rtc` (machine.RTC()); a reading after FLOOR means it kept its time."""
        self.rtc = rtc
        try:
            y, mo, d, _wd, h, mi, s = rtc.datetime()[:7]
            t = unix_of(y, mo, d, h, mi, s)
        except Exception:
            t = 0
        if t >= FLOOR:  # the RTC kept its time (a soft reset, a backup battery)
            self.offset = t - int(self._source())
            self.synced = True
            self.source = "rtc"

    def now(self):
        return int(self._source()) + self.offset

    def set(self, unix_seconds, source="gateway"):
        unix_seconds = int(unix_seconds)
        if self.rtc is not None:
            y, mo, d, wd, h, mi, s = civil(unix_seconds)
            self.rtc.datetime((y, mo, d, wd, h, mi, s, 0))
            self.sets += 1
        self.offset = unix_seconds - int(self._source())
        self.synced = True
        self.source = source

    def learn(self, unix_seconds, source="gateway"):
        """A trusted time (a signed answer): set the clock if it is unset or off by more than 2 s."""
        try:
            unix_seconds = int(unix_seconds)
        except (TypeError, ValueError):
            return False
        if unix_seconds < FLOOR:
            return False
        if self.synced and abs(unix_seconds - self.now()) <= _DRIFT_S:
            return False
        self.set(unix_seconds, source)
        return True

    def plausible(self):
        return self.synced and self.now() >= FLOOR


def sntp(host, port=123, timeout_s=2):
    """Unix seconds from one NTP exchange with `host`, or raises OSError."""
    import socket
    import struct
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout_s)
        query = bytearray(48)
        query[0] = 0x23  # leap 0, version 4, mode 3 (client)
        s.sendto(query, ai[-1])
        msg = s.recv(64)
    finally:
        s.close()
    if len(msg) < 48:
        raise OSError("short NTP answer")
    leap, mode, stratum = msg[0] >> 6, msg[0] & 7, msg[1]
    if mode != 4 or leap == 3 or not 1 <= stratum <= 15:
        raise OSError("NTP server not synchronised")
    t = struct.unpack("!I", msg[40:44])[0] - _NTP_DELTA
    if t < FLOOR:
        raise OSError("NTP time before this firmware")
    return t


def ntp_address(spec):
    """"host" or "host:port" (tests run a server on a free port) -> (host, port)."""
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host, int(port)
    return spec, 123
