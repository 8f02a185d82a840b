"""The hot path's hand-overs: one send() per answer (tools/gateway/corked.py) and the batched read
lane (tools/gateway/dbcalls.ReadLane)."""
import asyncio
import threading

import pytest

from tools.gateway.corked import CorkedTransport
from tools.gateway.dbcalls import ReadLane


class RecordingTransport:
    """The edge: what reaches the socket."""

    def __init__(self):
        self.sent = []
        self.closed = False
        self.aborted = False

    def write(self, data):
        self.sent.append(data)

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    def abort(self):
        self.aborted = True

    def get_write_buffer_size(self):
        return 0

    def get_extra_info(self, name):
        return ("127.0.0.1", 1) if name == "peername" else None


def test_what_one_loop_turn_writes_leaves_as_one_send():
    async def run():
        raw = RecordingTransport()
        t = CorkedTransport(raw, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        t.write(b"{}")
        assert raw.sent == [] and t.get_write_buffer_size() == 40
        await asyncio.sleep(0)
        assert raw.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        t.write(b"next")          # the next answer: its own send
        await asyncio.sleep(0)
        assert raw.sent[1:] == [b"next"]
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)   # the rest is the transport's
        return raw, t

    asyncio.run(run())


def test_close_sends_what_is_gathered_first_and_abort_drops_it():
    async def run():
        raw = RecordingTransport()
        t = CorkedTransport(raw, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 503 ...")
        t.close()
        assert raw.sent == [b"HTTP/1.1 503 ..."] and raw.closed
        other = RecordingTransport()
        t2 = CorkedTransport(other, asyncio.get_running_loop())
        t2.write(b"half an answer")
        t2.abort()
        await asyncio.sleep(0)
        assert other.sent == [] and other.aborted

    asyncio.run(run())


def test_reads_waiting_together_are_answered_together_and_errors_reach_their_caller():
    lane = ReadLane(1)
    gate = threading.Event()
    ran = []

    def held():
        gate.wait(10)
        return "first"

    def read(i):
        ran.append((i, threading.current_thread().name))
        if i == 3:
            raise KeyError("no such row")
        return i * 10

    async def run():
        first = asyncio.ensure_future(lane.run(held, (), {}))
        await asyncio.sleep(0.1)
        rest = [asyncio.ensure_future(lane.run(read, (i,), {})) for i in range(6)]
        await asyncio.sleep(0.1)
        gate.set()
        return await first, await asyncio.gather(*rest, return_exceptions=True)

    try:
        first, rest = asyncio.run(run())
    finally:
        lane.close()
    assert first == "first"
    assert rest[:3] == [0, 10, 20] and isinstance(rest[3], KeyError) and rest[4:] == [40, 50]
    assert [i for i, _t in ran] == list(range(6)) and {t for _i, t in ran} == {"gateway-db-read"}


def test_a_closed_lane_refuses_new_reads():
    lane = ReadLane(2)
    lane.close()

    async def run():
        await lane.run(lambda: 1, (), {})

    with pytest.raises(RuntimeError, match="stopping"):
        asyncio.run(run())


def test_keyed_reads_waiting_together_are_one_call_with_errors_kept_per_key():
    lane = ReadLane(1)
    gate = threading.Event()
    calls = []

    def rows(keys):
        calls.append(list(keys))
        return [KeyError(k) if k == "missing" else k.upper() for k in keys]

    async def run():
        first = asyncio.ensure_future(lane.run(gate.wait, (10,), {}))
        await asyncio.sleep(0.1)
        from tools.gateway.dbcalls import MANY
        rest = [asyncio.ensure_future(lane.run(rows, k, MANY)) for k in ("a", "missing", "b")]
        await asyncio.sleep(0.1)
        gate.set()
        await first
        return await asyncio.gather(*rest, return_exceptions=True)

    try:
        a, missing, b = asyncio.run(run())
    finally:
        lane.close()
    assert calls == [["a", "missing", "b"]]
    assert (a, b) == ("A", "B") and isinstance(missing, KeyError)
