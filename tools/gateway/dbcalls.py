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
from concurrent.futures import ThreadPoolExecutor

# (steps, reads) threads. SQLite has one writer at a time; PostgreSQL runs several statements at once
# (its pool holds up to 8 connections per store).
WORKERS = {"sqlite": (2, 2), "postgresql": (3, 3)}


class DbCalls:
    def __init__(self, dialect="sqlite", workers=None):
        steps, reads = workers or WORKERS.get(dialect, (2, 2))
        self._pool = ThreadPoolExecutor(max_workers=steps, thread_name_prefix="gateway-db")
        self._reads = ThreadPoolExecutor(max_workers=reads, thread_name_prefix="gateway-db-read")

    async def __call__(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def read(self, fn, *args, **kwargs):
        """A step that takes no write lock (see above)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reads, functools.partial(fn, *args, **kwargs))

    def close(self):
        self._pool.shutdown(wait=True)
        self._reads.shutdown(wait=True)


class InlineCalls:
    """The same interface, run on the caller's thread (unit tests of the service without a pool)."""

    async def __call__(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    read = __call__

    def close(self):
        pass
