"""uvicorn's httptools HTTP protocol with less memory per open connection (issue 15.6: one instance
holds 10,000 idle long polls, each on a connection of its own).

Same parser, same code paths, same behaviour: three per-connection objects that nearly always sit
empty are swapped for lighter ones with the same interface, as soon as uvicorn creates them.
  - the queue of pipelined requests (uvicorn: a deque, 760 bytes even when empty): a list
  - the connection's "writable" event and each request's "body arrived" event (asyncio.Event:
    ~860 bytes each, a deque of waiters inside): `LightEvent`, ~100 bytes
uvicorn is pinned (requirements.lock); tests/gateway/test_limits.py checks that a held long poll's
connection does use these (so an upgrade that renames them is noticed, not silently heavier).
"""
import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class LightEvent:
    """asyncio.Event's interface (set, clear, is_set, wait) for the one or two waiters a
    connection's event ever has: a plain list of futures, made when someone first waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value=False):
        self._value = value
        self._waiters = None

    def is_set(self):
        return self._value

    def set(self):
        if not self._value:
            self._value = True
            for fut in self._waiters or ():
                if not fut.done():
                    fut.set_result(True)

    def clear(self):
        self._value = False

    async def wait(self):
        if self._value:
            return True
        fut = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(fut)
        try:
            await fut
            return True
        finally:
            self._waiters.remove(fut)


class Pipeline(list):
    """uvicorn's pipelined-request queue (appendleft, pop from the right) as a list."""

    __slots__ = ()

    def appendleft(self, item):
        self.insert(0, item)


class LeanHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pipeline = Pipeline()

    def connection_made(self, transport):
        super().connection_made(transport)
        flow = self.flow
        if flow is not None and type(flow._is_writable_event) is asyncio.Event:
            flow._is_writable_event = LightEvent(flow._is_writable_event.is_set())

    def on_headers_complete(self):
        before = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        # a new request's cycle (not an upgrade): its task is created, not started, so nobody waits yet
        if cycle is not before and cycle is not None and type(cycle.message_event) is asyncio.Event:
            cycle.message_event = LightEvent(cycle.message_event.is_set())
