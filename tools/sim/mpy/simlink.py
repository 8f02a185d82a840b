"""The wire between the MicroPython process and the simulator's host side (tools/sim/engine_mpy.py).

Runs inside the MicroPython unix port, never on a device. One loopback TCP connection, opened at
start to the port in the SIM_LINK environment variable:
- host -> device: text lines. The first is the JSON set-up (what hardware to stand in for, see
  tools/sim/engine_mpy.py); then commands: `press I J` (hold the key at row I, column J of the
  matrix), `wifi off`, `wifi on`, `quit`.
- device -> host: frames `kind (1 byte) | ticks_ms (4, LE) | length (4, LE) | payload`:
  b"W" an SPI write (bus id byte + the bytes), b"L" a tapped pin changed level (pin, level),
  b"E" an event (JSON), b"R" the device resets (a JSON reason), b"X" power is cut (the host kills
  the process at once).
SPI and pin frames are buffered and flushed with the next event, when the buffer fills, or by the
loop's flush task, so a screen's pixels always reach the host before the event that names it.
"""
import json
import os
import socket
import struct
import time

try:
    import _thread

    _lock = _thread.allocate_lock()
except ImportError:  # pragma: no cover (the unix port has threads)
    _lock = None

_FLUSH_AT = 16384
# frame kinds
_W, _L, _E, _R, _X = 87, 76, 69, 82, 88  # "W", "L", "E", "R", "X"

sock = None
setup = {}
_out = bytearray()
_inbox = b""


def open_link():
    global sock, setup
    port = int(os.getenv("SIM_LINK"))
    ai = socket.getaddrinfo("127.0.0.1", port, 0, socket.SOCK_STREAM)[0]
    sock = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    sock.connect(ai[-1])
    line = _read_line_blocking()
    setup = json.loads(line)
    sock.setblocking(False)
    return setup


def _read_line_blocking():
    global _inbox
    while b"\n" not in _inbox:
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError("simulator host went away")
        _inbox += chunk
    line, _, _inbox = _inbox.partition(b"\n")
    return line.decode()


def _frame(kind, payload):
    _out.extend(struct.pack("<BII", kind, time.ticks_ms(), len(payload)))
    _out.extend(payload)


def _send_all():
    global _out
    if not _out:
        return
    data = memoryview(_out)
    sent = 0
    while sent < len(data):
        try:
            n = sock.send(data[sent:])
        except OSError as e:
            if e.errno == 11:  # EAGAIN: the host reads slower than we write, wait a moment
                time.sleep_ms(1)
                continue
            raise
        sent += n
    _out = bytearray()


def _locked(fn, *args):
    if _lock is None:
        return fn(*args)
    with _lock:
        return fn(*args)


def spi(bus, data):
    def put():
        _frame(_W, bytes((bus,)) + bytes(data))
        if len(_out) >= _FLUSH_AT:
            _send_all()
    _locked(put)


def pin(pin_id, level):
    _locked(_frame, _L, struct.pack("<HB", pin_id, level))


def event(obj):
    def put():
        _frame(_E, json.dumps(obj).encode())
        _send_all()
    _locked(put)


def flush():
    _locked(_send_all)


def _final(kind, obj):
    """Tell the host and stop here for good: the host ends this process (reset or power cut)."""
    def put():
        _frame(kind, json.dumps(obj).encode())
        _send_all()
    _locked(put)
    while True:
        time.sleep(1)


def reset(why):
    _final(_R, {"why": why})


def power_cut(info):
    _final(_X, info)


def commands():
    """Command lines the host sent since the last call (never blocks)."""
    global _inbox
    while True:
        try:
            chunk = sock.recv(4096)
        except OSError:
            break  # nothing waiting
        if not chunk:
            return ["quit"]  # the host went away: stop
        _inbox += chunk
    lines = []
    while b"\n" in _inbox:
        line, _, _inbox = _inbox.partition(b"\n")
        lines.append(line.decode())
    return lines
