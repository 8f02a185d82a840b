"""Lanes: where the gateway calls run, so the cooperative loop never waits for the network.

`requests` and firmware/link/http.py block until the answer arrives, and the status call is a
long poll. A `Lane` is ONE thread, started at boot, with a queue ordered by priority:

    cancel > create > status > refund > everything else (alerts, ack, health, heartbeat, time)

A call asked for while the same call (same kind, same order) still waits in the queue is merged
into it: one request, both jobs get its answer. When a call ends, its jobs are finished and the
lane's `signal()` wakes the loop (an asyncio.ThreadSafeFlag where the port has one): the answer is
handed over by an event, not found by polling each job.

`Lanes` is the runner the flow gets (`start(job, fn, *args)`): the long poll goes to the poll
lane, everything else to the command lane, so a cancel never waits behind a 20 s poll. Where
`_thread` is missing (the WebAssembly build), `InlineRunner` runs each call at once.
"""
from micropython import const
import time

from firmware.link.gateway import Answer, DOUBT

PRIORITY = {"cancel": 0, "create": 1, "status": 2, "refund": 3}
_OTHER = const(4)


class Job:
    def __init__(self, kind, order_id=None):
        self.kind = kind
        self.order_id = order_id
        self.done = False
        self.value = None

    def finish(self, value):
        self.value = value
        self.done = True

    def __repr__(self):
        return "Job(%s, %s, done=%s)" % (self.kind, self.order_id, self.done)


# A doubtful answer made at import, for a call that failed with no memory left to say why:
# without it the lane's thread would die with the MemoryError, and every later call with it.
_NO_MEMORY = Answer(DOUBT, why="out of memory")


def _failed(where, e):
    try:
        return Answer(DOUBT, why="%s: %r" % (where, e))
    except MemoryError:
        return _NO_MEMORY


def call(fn, args):
    try:
        return fn(*args)
    except Exception as e:  # the gateway client never raises; be safe anyway (MemoryError too)
        return _failed("call failed", e)


class InlineRunner:
    """No threads: the call runs at once, inside `start`."""

    def __init__(self, signal=None):
        self.signal = signal

    def start(self, job, fn, *args):
        job.finish(call(fn, args))
        if self.signal is not None:
            self.signal()
        return job


class _Item:
    def __init__(self, prio, job, fn, args):
        self.prio = prio
        self.kind = job.kind
        self.order_id = job.order_id
        self.jobs = [job]
        self.fn = fn
        self.args = args


class Lane:
    """One thread and one queue; `before` (optional) runs ahead of each call on the lane's thread
    and may answer the call instead (the owner sets the clock there before any https call)."""

    def __init__(self, name, signal=None, before=None, thread=None, stack=16 * 1024):
        if thread is None:
            import _thread as thread
        self.name = name
        self.signal = signal
        self.before = before
        self._items = []
        self._lock = thread.allocate_lock()
        self._wake = thread.allocate_lock()
        self._wake.acquire()
        self.current = None  # the item being run
        self.calls = 0
        self.merged = 0
        self.ident = None  # the lane thread's id (its connection is keyed by it)
        self.last_used = None  # ticks when the last call ended
        try:
            import sys
            if sys.implementation.name == "micropython":
                thread.stack_size(stack)  # a TLS handshake needs more than the default stack
        except Exception:
            pass
        thread.start_new_thread(self._run, ())

    def start(self, job, fn, *args):
        prio = PRIORITY.get(job.kind, _OTHER)
        with self._lock:
            for item in self._items:
                if item.kind == job.kind and item.order_id == job.order_id:
                    item.jobs.append(job)  # the same question already waits: one call answers both
                    item.fn = fn
                    item.args = args  # the newest arguments (a heartbeat's fresh figures)
                    self.merged += 1
                    return job
            at = len(self._items)
            while at > 0 and self._items[at - 1].prio > prio:
                at -= 1
            self._items.insert(at, _Item(prio, job, fn, args))
        try:
            self._wake.release()
        except RuntimeError:
            pass  # already awake: it drains the whole queue before sleeping
        return job

    def pending(self):
        with self._lock:
            return [item.kind for item in self._items]

    def idle(self):
        return self.current is None and not self._items

    def _next(self):
        with self._lock:
            item = self._items.pop(0) if self._items else None
            self.current = item
        return item

    def _run(self):
        try:
            from _thread import get_ident
            self.ident = get_ident()
        except ImportError:
            pass
        while True:
            self._wake.acquire()
            while True:
                item = self._next()
                if item is None:
                    break
                try:
                    value = self.before(item) if self.before is not None else None
                    if value is None:
                        value = call(item.fn, item.args)
                except Exception as e:
                    value = _failed("lane", e)
                self.calls += 1
                self.last_used = time.ticks_ms()
                for job in item.jobs:
                    job.finish(value)
                self.current = None
                if self.signal is not None:
                    try:
                        self.signal()
                    except Exception:
                        pass


class Lanes:
    """The runner the flow gets: the long poll on one lane, every other call on the other."""

    def __init__(self, signal=None, before=None, thread=None):
        self.poll = Lane("poll", signal, before, thread)
        self.commands = Lane("commands", signal, before, thread)

    def lane_for(self, kind):
        return self.poll if kind == "poll" else self.commands

    def start(self, job, fn, *args):
        return self.lane_for(job.kind).start(job, fn, *args)


def default_runner(signal=None, before=None):
    try:
        return Lanes(signal, before)
    except ImportError:
        return InlineRunner(signal)
