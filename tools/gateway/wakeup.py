"""Waking long polls when a payment changes, in this process or in every gateway on the database.

The service calls `wakeup.changed(rowid)` after each committed state change of a payment (a pay
answer, a notification, an inquiry's result, a cancel). Long polls wait in `Waiters` (service.py)
and re-read the row when woken, so a wake-up carries nothing but the payment's row id and a
spurious one costs a read.

    LocalWakeup      one gateway process (SQLite): wakes this process's waiters, nothing else.
    PostgresWakeup   several gateway processes on one PostgreSQL: also NOTIFY on a channel every
                     instance LISTENs on, so a notification handled by instance A answers the long
                     poll held by instance B. Two dedicated connections (psycopg 3 async, on the
                     gateway's own event loop): one listens, one publishes.

A lost listening connection is re-opened; after each (re)connect every waiting poll is woken once,
so a change announced while nobody listened is still seen (the poll re-reads its row).
"""
import asyncio
import contextlib
import logging

log = logging.getLogger("gateway.wakeup")

CHANNEL = "gateway_payment_changed"


class LocalWakeup:
    """The in-process path: nothing leaves this process."""

    def __init__(self, waiters):
        self.waiters = waiters
        self._loop = None

    async def start(self):
        self._loop = asyncio.get_running_loop()

    def changed(self, rowid):
        """Callable from the event loop or from a worker thread (a store call run off the loop)."""
        loop = self._loop
        if loop is not None and _running_loop() is not loop:
            loop.call_soon_threadsafe(self._changed, rowid)
        else:
            self._changed(rowid)

    def _changed(self, rowid):
        self.waiters.wake(rowid)

    async def stop(self):
        pass


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class PostgresWakeup(LocalWakeup):
    """LISTEN/NOTIFY on `CHANNEL`, payload the payment row id (decimal text)."""

    def __init__(self, url, waiters, retry_delay=0.5, connect_timeout=10):
        super().__init__(waiters)
        self.url = url
        self.retry_delay = retry_delay
        self.connect_timeout = connect_timeout
        self._queue = None
        self._tasks = []
        self._listening = None
        self.received = 0   # notifications taken in (diagnostics and tests)
        self.published = 0

    async def start(self):
        """Returns once this instance listens (so no change committed after start is missed)."""
        await super().start()
        self._queue = asyncio.Queue()
        self._listening = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen(), name="wakeup-listen"),
                       loop.create_task(self._publish(), name="wakeup-publish")]
        waiter = loop.create_task(self._listening.wait())
        done, _ = await asyncio.wait([waiter, self._tasks[0]], timeout=self.connect_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            log.warning("not listening for wake-ups on PostgreSQL yet; long polls of other instances' "
                        "changes answer at their timeout until it connects")

    def _changed(self, rowid):
        # this process's polls at once; the others through PostgreSQL
        self.waiters.wake(rowid)
        if self._queue is not None:
            self._queue.put_nowait(int(rowid))

    async def stop(self):
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _connect(self):
        import psycopg
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                     connect_timeout=self.connect_timeout)

    async def _listen(self):
        while True:
            try:
                conn = await self._connect()
                async with conn:
                    await conn.execute("LISTEN " + CHANNEL)
                    self._listening.set()
                    self.waiters.wake_all()  # whatever changed while nobody listened is re-read
                    async for note in conn.notifies():
                        try:
                            rowid = int(note.payload)
                        except ValueError:
                            continue
                        self.received += 1
                        self.waiters.wake(rowid)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database restarted, a network blip: listen again
                log.warning("wake-up listener lost its connection (%s); reconnecting", e)
            self._listening.clear()
            await asyncio.sleep(self.retry_delay)

    async def _publish(self):
        conn = None
        while True:
            rowid = await self._queue.get()
            batch = {rowid}
            while not self._queue.empty():  # everything that piled up goes in one statement
                batch.add(self._queue.get_nowait())
            while True:
                try:
                    if conn is None or conn.closed:
                        conn = await self._connect()
                    await conn.execute("SELECT pg_notify(%s, x::text) FROM unnest(%s::bigint[]) AS x",
                                       (CHANNEL, sorted(batch)))
                    self.published += len(batch)
                    break
                except asyncio.CancelledError:
                    if conn is not None:
                        await conn.close()
                    raise
                except Exception as e:
                    log.warning("could not publish %d wake-ups (%s); retrying", len(batch), e)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            await conn.close()
                    conn = None
                    await asyncio.sleep(self.retry_delay)


def for_database(db_url, waiters):
    """The wake-up path for the `db` setting: PostgreSQL's for a postgresql:// URL, else local."""
    if isinstance(db_url, str) and db_url.lower().startswith(("postgresql://", "postgres://")):
        return PostgresWakeup(db_url, waiters)
    return LocalWakeup(waiters)
