"""Cross-instance wake-ups (tools/gateway/wakeup.py) on a real PostgreSQL: a change announced by one
gateway process wakes the long poll another one holds."""
import asyncio
import threading

import psycopg

from tools.gateway import wakeup
from tools.gateway.service import Waiters


def run(coro):
    return asyncio.run(coro)


def test_a_change_on_one_instance_wakes_the_poll_held_by_another(pg_url):
    async def main():
        a_waiters, b_waiters = Waiters(), Waiters()
        a, b = wakeup.PostgresWakeup(pg_url, a_waiters), wakeup.PostgresWakeup(pg_url, b_waiters)
        await a.start()
        await b.start()
        try:
            held = asyncio.ensure_future(b_waiters.wait(42, 10))
            other = asyncio.ensure_future(b_waiters.wait(43, 0.5))
            await asyncio.sleep(0.05)
            a.changed(42)
            assert await held is True          # woken, long before its 10 s
            assert await other is False        # another payment's poll is left alone
            assert b.received >= 1 and a.published == 1
        finally:
            await a.stop()
            await b.stop()
    run(main())


def test_local_wakeup_stays_in_its_process(pg_url):
    async def main():
        mine, theirs = Waiters(), Waiters()
        local = wakeup.LocalWakeup(mine)
        remote = wakeup.PostgresWakeup(pg_url, theirs)
        await local.start()
        await remote.start()
        try:
            here = asyncio.ensure_future(mine.wait(7, 5))
            there = asyncio.ensure_future(theirs.wait(7, 0.5))
            await asyncio.sleep(0.05)
            local.changed(7)
            assert await here is True
            assert await there is False
        finally:
            await remote.stop()
    run(main())


def test_changed_from_a_worker_thread_wakes_the_loop_s_poll(pg_url):
    async def main():
        w = Waiters()
        local = wakeup.LocalWakeup(w)
        await local.start()
        poll = asyncio.ensure_future(w.wait(5, 5))
        await asyncio.sleep(0.01)
        await asyncio.to_thread(local.changed, 5)   # a store call run off the event loop
        assert await poll is True
    run(main())


def test_listener_reconnects_and_rewakes_polls_after_losing_its_connection(pg_url):
    async def main():
        a_waiters, b_waiters = Waiters(), Waiters()
        a, b = wakeup.PostgresWakeup(pg_url, a_waiters), wakeup.PostgresWakeup(pg_url, b_waiters, retry_delay=0.1)
        await a.start()
        await b.start()
        try:
            held = asyncio.ensure_future(b_waiters.wait(9, 10))
            await asyncio.sleep(0.05)
            # the database drops B's listening connection (a restart, a failover, an idle timeout)
            async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
                await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()")
            # the poll is woken on reconnect (a change may have gone by unheard) and re-reads its row
            assert await held is True
            for _ in range(100):
                if b._listening.is_set():
                    break
                await asyncio.sleep(0.05)
            again = asyncio.ensure_future(b_waiters.wait(10, 10))
            await asyncio.sleep(0.05)
            a.changed(10)
            assert await again is True
        finally:
            await a.stop()
            await b.stop()
    run(main())


def test_for_database_picks_the_path_from_the_db_setting():
    w = Waiters()
    assert type(wakeup.for_database("/var/gateway/gateway.sqlite3", w)) is wakeup.LocalWakeup
    assert type(wakeup.for_database("postgresql://gw@db:5432/gw", w)) is wakeup.PostgresWakeup
    assert type(wakeup.for_database("postgres://gw@db/gw", w)) is wakeup.PostgresWakeup
