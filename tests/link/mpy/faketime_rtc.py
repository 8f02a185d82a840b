"""machine.RTC stand-in for the MicroPython unix port running under libfaketime (tests only).

On the ESP32 the RTC is the system clock: `time.time()` and mbedTLS's certificate date check both
read it. Here the process's clock is libfaketime's, read from FAKETIME_TIMESTAMP_FILE on every call
(FAKETIME_NO_CACHE=1) as an offset in seconds from the host's real time: reading the RTC reads
`time.time()`, and writing it rewrites that offset, so mbedTLS sees the new time at once."""
import os
import time

from firmware.link.clock import unix_of

PATH = os.getenv("FAKETIME_TIMESTAMP_FILE")


class RTC:
    offset = int(os.getenv("LINK_FAKE_OFFSET") or "0")  # what the file says now
    writes = []  # (unix seconds written, connections the gateway had seen then)
    watch = None  # callable giving the count to record with each write

    def __init__(self, id=0):
        pass

    def datetime(self, dt=None):
        if dt is None:
            t = time.gmtime(int(time.time()))
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        target = unix_of(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])
        real = int(time.time()) - RTC.offset
        RTC.offset = target - real
        with open(PATH + ".tmp", "w") as f:
            f.write("%+d\n" % RTC.offset)
        os.rename(PATH + ".tmp", PATH)
        RTC.writes.append((target, RTC.watch() if RTC.watch else None))
