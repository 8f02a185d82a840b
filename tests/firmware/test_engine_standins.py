"""The MicroPython engine's hardware stand-ins (tools/sim/mpy), inside the real unix port, talking
the simulator's wire protocol to a host played by the test: pins (push-pull and open drain), the
key matrix, the watchdog that resets an unfed device, the RTC, the SPI stream."""
import json
import os
import socket
import struct
import subprocess

import pytest

from tools.sim import engines
from tools.sim.engine_mpy import MPY_DIR

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = struct.Struct("<BII")


def run_device(script, setup=None, timeout=20):
    """Run `script` in the unix port with the stand-ins; returns [(kind, payload)] it sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(timeout)
    env = dict(os.environ, SIM_LINK=str(server.getsockname()[1]),
               MICROPYPATH=os.pathsep.join([MPY_DIR, ".frozen", os.path.join(ROOT, "lib"), ROOT]))
    code = "import simlink\nsimlink.open_link()\n" + script + "\nsimlink.flush()\n"
    proc = subprocess.Popen([engines.micropython_binary(), "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    frames = []
    try:
        conn, _ = server.accept()
        conn.settimeout(timeout)
        conn.sendall(json.dumps(setup or {}).encode() + b"\n")
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if data and _frames(data)[-1:] and _frames(data)[-1][0] in (b"R", b"X"):
                break  # the device stopped for good: a reset or a power cut
        frames = _frames(data)
    finally:
        proc.kill()
        out = proc.communicate()[0]
        server.close()
    return frames, out


def _frames(data):
    out, i = [], 0
    while i + HEADER.size <= len(data):
        kind, _t, length = HEADER.unpack_from(data, i)
        if i + HEADER.size + length > len(data):
            break
        out.append((bytes([kind]), data[i + HEADER.size:i + HEADER.size + length]))
        i += HEADER.size + length
    return out


def events(frames):
    return [json.loads(p) for k, p in frames if k == b"E"]


def test_open_drain_rows_and_the_key_matrix():
    script = """
import machine, simkeys, simlink
m = simkeys.Matrix([1, 2], [3, 4])
rows = [machine.Pin(1, machine.Pin.OPEN_DRAIN, value=1), machine.Pin(2, machine.Pin.OPEN_DRAIN, value=1)]
cols = [machine.Pin(3, machine.Pin.IN, machine.Pin.PULL_UP), machine.Pin(4, machine.Pin.IN, machine.Pin.PULL_UP)]
m.press(1, 0)
seen = []
for scan in range(8):
    for i in range(2):
        rows[i].value(0)
        seen.append((scan, i, cols[0].value(), cols[1].value()))
        rows[i].value(1)
simlink.event({"event": "levels", "seen": seen})
"""
    frames, out = run_device(script)
    (ev,) = [e for e in events(frames) if e["event"] == "levels"]
    pressed = [s for s in ev["seen"] if s[2] == 0 or s[3] == 0]
    # the held key (row 1, column 0) pulls column 0 low only while row 1 is driven low: the other,
    # released open-drain row floats and pulls nothing down
    assert pressed and all(s[1] == 1 and s[2] == 0 and s[3] == 1 for s in pressed), (ev, out)


def test_tapped_pins_and_spi_writes_reach_the_host_in_order():
    script = """
import machine
dc = machine.Pin(16, machine.Pin.OUT, value=0)
spi = machine.SPI(1, baudrate=26000000, sck=machine.Pin(18), mosi=machine.Pin(19))
spi.write(b"\\x2a")
dc.value(1)
spi.write(bytearray(b"\\x00\\x00\\x00\\x86"))
machine.Pin(21, machine.Pin.OUT, value=1).value(0)   # not tapped: never streamed
"""
    frames, out = run_device(script, setup={"tap": [16]})
    stream = [(k, p) for k, p in frames if k in (b"W", b"L")]
    assert stream == [(b"L", struct.pack("<HB", 16, 0)), (b"W", b"\x01\x2a"), (b"L", struct.pack("<HB", 16, 1)),
                      (b"W", b"\x01\x00\x00\x00\x86")], out


def test_an_unfed_watchdog_resets_the_device():
    script = """
import machine, time
wdt = machine.WDT(timeout=300)
for _ in range(5):
    time.sleep_ms(100)
    wdt.feed()
simlink.event({"event": "fed"})
time.sleep_ms(2000)
simlink.event({"event": "not reset"})
"""
    frames, out = run_device(script)
    kinds = [k for k, _ in frames]
    assert b"R" in kinds, out
    assert [e["event"] for e in events(frames)] == ["fed"]
    assert json.loads(frames[kinds.index(b"R")][1]) == {"why": "watchdog"}


def test_the_rtc_keeps_what_was_set():
    script = """
import machine
rtc = machine.RTC()
rtc.datetime((2000, 1, 1, 5, 0, 0, 10, 0))
simlink.event({"event": "rtc", "now": list(machine.RTC().datetime())})
"""
    frames, out = run_device(script)
    (ev,) = events(frames)
    year, month, day, _wd, hour, minute, second, _ = ev["now"]
    assert (year, month, day, hour, minute) == (2000, 1, 1, 0, 0) and 10 <= second <= 12, (ev, out)


@pytest.mark.parametrize("cause", [1, 3])
def test_reset_cause_is_what_the_host_says(cause):
    frames, out = run_device("import machine\nsimlink.event({'event': 'cause', 'cause': machine.reset_cause()})",
                             setup={"reset_cause": cause})
    assert events(frames) == [{"event": "cause", "cause": cause}], out
