"""Store work off the event loop: a small thread pool, the one seam between async code and the store.

The gateway's event loop holds every long poll and parses every request; a database call made on
it stalls all of them for as long as the call takes (an fsync, a write lock held by another
process, a PostgreSQL round trip). `await gw.db(fn, *args)` runs a synchronous step -- a store call,
or a whole `with store.transaction():` block written as a function -- on a worker thread, and
resumes the coroutine with its result (or its exception). A step runs from start to end on one
thread, so its transaction stays on one connection (each thread has its own: db_sqlite.py,
db_postgres.py); steps of different coroutines may run side by side, exactly as if they came from
different processes, which the store already allows for (write transactions, conditional claims).

Steps that never wait for the write lock -- reading a payment for a status answer, checking a
request's signature and nonce (the nonce log is its own file on SQLite, autocommit rows on
PostgreSQL) -- go through `await gw.db.read(fn, ...)`, a lane of their own: a long poll's answer
never queues behind writes that wait for another process's lock.

A coroutine cancelled while its step runs does not stop the step: the step finishes (and commits)
on its thread, like a process killed after its commit.
"""
import asyncio
import functools
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

# (steps, reads) threads. SQLite has one writer at a time; PostgreSQL runs several statements at once
# (its pool holds up to 8 connections per store).
WORKERS = {"sqlite": (2, 2), "postgresql": (3, 3)}


class DbCalls:
    def __init__(self, dialect="sqlite", workers=None):
        steps, reads = workers or WORKERS.get(dialect, (2, 2))
        self._pool = ThreadPoolExecutor(max_workers=steps, thread_name_prefix="gateway-db")
        self._reads = ReadLane(reads)

    async def __call__(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def read(self, fn, *args, **kwargs):
        """A step that takes no write lock (see above)."""
        return await self._reads.run(fn, args, kwargs)

    async def read_many(self, fn, key):
        """`fn(keys) -> results` (one per key, in order; an exception instance is raised for its
        key alone), called once for all the keys that wait for `fn` together: a status answer's
        payment rows read with one query."""
        return await self._reads.run(fn, key, MANY)

    def close(self):
        self._pool.shutdown(wait=True)
        self._reads.close()


MANY = object()  # marks a read_many item in the lane


class Lane:
    """Threads that take their work from one queue in batches (ReadLane below, and
    tools/gateway/nonce_lane.NonceLane): started by the first item, stopped by close() once what
    is queued is done. An item is a tuple ending in (future, its loop); `_work` answers it through
    `hand_back`."""

    def __init__(self, threads, name):
        self._queue = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=name if threads == 1 else "%s-%d" % (name, i),
                                          daemon=True) for i in range(threads)]
        self._start = threading.Lock()
        self._started = False

    async def _submit(self, *item):
        if self._closed:
            raise RuntimeError("the gateway is stopping")
        if not self._started:
            with self._start:
                if not self._started:
                    for t in self._threads:
                        t.start()
                    self._started = True
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._queue.put(item + (answer, loop))
        return await answer

    def close(self):
        """Finish what is waiting, then stop the threads."""
        self._closed = True
        with self._start:
            if self._started:
                for _ in self._threads:
                    self._queue.put(None)
                for t in self._threads:
                    t.join()
        fail_waiting(self._queue)

    def _work(self):
        raise NotImplementedError


class ReadLane(Lane):
    """Threads for the short read steps of the hot path (a status answer's payment row), handed
    over in batches: each thread takes every step waiting, runs them in turn and wakes the event
    loop once for the whole batch. A thread pool's hand-over costs each step its own wake-up of the
    loop (a write to its self-pipe) and several Python objects; under load that was most of a
    status request's cost outside the database."""

    MAX_BATCH = 64

    def __init__(self, threads):
        super().__init__(threads, "gateway-db-read")

    async def run(self, fn, args, kwargs):
        return await self._submit(fn, args, kwargs)

    def _work(self):
        more = True
        while more:
            batch = take_batch(self._queue, self.MAX_BATCH)
            more = batch[-1] is not None
            done = {}
            many = {}
            for item in batch:
                if item is None:
                    continue
                fn, args, kwargs, answer, loop = item
                if kwargs is MANY:
                    many.setdefault(fn, []).append(item)
                    continue
                try:
                    outcome = (True, fn(*args, **kwargs))
                except BaseException as e:  # handed to the awaiting coroutine, raised there
                    outcome = (False, e)
                done.setdefault(loop, []).append((answer, outcome))
            for fn, items in many.items():
                try:
                    results = fn([item[1] for item in items])
                    outcomes = [(not isinstance(r, BaseException), r) for r in results]
                except BaseException as e:
                    outcomes = [(False, e)] * len(items)
                for item, outcome in zip(items, outcomes):
                    done.setdefault(item[4], []).append((item[3], outcome))
            hand_back(done)


def take_batch(waiting, limit, timeout=None):
    """Block for the first item of `waiting` (a SimpleQueue), then take what else is there, up to
    `limit` items, stopping after a None (the stop mark). [] when `timeout` passed first."""
    try:
        first = waiting.get(timeout=timeout)
    except queue.Empty:
        return []
    batch = [first]
    while first is not None and len(batch) < limit:
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            break
        batch.append(item)
        if item is None:
            break
    return batch


def hand_back(done):
    """{loop: [(future, (ok, value)), ...]}: one wake-up of each loop for all of its answers."""
    for loop, pairs in done.items():
        try:
            loop.call_soon_threadsafe(deliver, pairs)
        except RuntimeError:  # that loop has closed: nobody waits for these answers
            pass


def fail_waiting(waiting):
    """After the threads stopped: whatever was still queued gets an error instead of no answer
    (items end in their future and its loop)."""
    done = {}
    while True:
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            break
        if item is not None:
            stopping = (False, RuntimeError("the gateway is stopping"))
            done.setdefault(item[-1], []).append((item[-2], stopping))
    hand_back(done)


def deliver(pairs):
    """Resolve futures on their loop: (future, (ok, value or exception)) pairs."""
    for answer, (ok, value) in pairs:
        if answer.done():  # its request was cancelled (the client went away)
            continue
        if ok:
            answer.set_result(value)
        else:
            answer.set_exception(value)


class InlineCalls:
    """The same interface, run on the caller's thread (unit tests of the service without a pool)."""

    async def __call__(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    read = __call__

    async def read_many(self, fn, key):
        result = fn([key])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self):
        pass
