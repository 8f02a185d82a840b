"""Issue 15.6: what one held long poll keeps while it waits (one instance holds 10,000 of them;
bench/bench_fleet.py measures the memory, these tests never do). Structural checks of a real held
poll on a real gateway: its coroutines keep the payment's row id, not the row, nor a copy of the
request's headers; it waits on one future (no Event, no wait_for task); its connection uses the
light list-backed stand-ins for uvicorn's deque and asyncio.Events (tools/gateway/lean_protocol.py).
And the poll still answers as soon as the payment changes."""
import asyncio
import concurrent.futures
import sqlite3
import threading

import pytest

from tests.waiting import wait_until
from tools.gateway import db_postgres
from tools.gateway.lean_protocol import LightEvent, Pipeline
from tools.gateway.service import Waiters


def on_loop(gw, fn):
    """fn() run on the gateway's event loop thread (its objects are only touched there)."""
    done = concurrent.futures.Future()

    def run():
        try:
            done.set_result(fn())
        except BaseException as e:  # handed to the test thread
            done.set_exception(e)
    gw.call_soon(run)
    return done.result(10)


def held_request(gw):
    """(connection, [(coroutine name, its locals)] from uvicorn's task down, what the last one awaits)
    of the one request in progress."""
    busy = [c for c in gw.server.server_state.connections
            if c.cycle is not None and not c.cycle.response_complete]
    assert len(busy) == 1
    conn = busy[0]
    (task,) = [t for t in gw.server.server_state.tasks if t.get_coro().cr_frame.f_locals.get("self") is conn.cycle]
    chain, awaited = [], task.get_coro()
    while asyncio.iscoroutine(awaited):
        chain.append((awaited.cr_code.co_qualname, dict(awaited.cr_frame.f_locals)))
        awaited = awaited.cr_await
    return conn, chain, awaited


def is_row(value):
    return isinstance(value, (sqlite3.Row, db_postgres.Row)) or (
        isinstance(value, dict) and "payment_request_id" in value)


def test_a_held_poll_keeps_its_payments_id_only_and_waits_on_one_future(gateway, t1, sandbox):
    created = t1.create("HOLD-1", 100, "USD", "")
    assert created.status == 200
    poller = gateway.client("T1")
    answers = []
    thread = threading.Thread(target=lambda: answers.append(poller.status("HOLD-1", wait=30)))
    thread.start()
    rowid = gateway.store.payment("T1", "HOLD-1")["id"]
    waiters = gateway.gateway.service.waiters
    wait_until(lambda: waiters.count(rowid) == 1, timeout=15)

    conn, chain, awaited = on_loop(gateway, lambda: held_request(gateway))
    names = [name for name, _ in chain]
    assert names[-1] == "PaymentService.status"
    # the wait is the status coroutine's own await of its waiter's future: no Event.wait, wait_for
    # or helper coroutine (and so no task of its own) under it
    assert not asyncio.iscoroutine(awaited) and not isinstance(awaited, asyncio.Task)
    changed = chain[-1][1]["changed"]
    assert isinstance(changed, asyncio.Future) and not changed.done()
    assert chain[-1][1]["rowid"] == rowid
    for name, local_vars in chain:
        assert not any(is_row(v) for v in local_vars.values()), "%s keeps a payment row" % name
    api_call = dict(chain)["TerminalAPI.__call__"]
    assert api_call["headers"] is None   # the request's header dict is not kept past authentication
    # the app's dispatch function hands the handler's coroutine over: no frame of its own stays
    assert "build_app.<locals>.asgi" not in names
    # uvicorn's per-connection deque and events: the light stand-ins
    assert type(conn.pipeline) is Pipeline
    assert type(conn.flow._is_writable_event) is LightEvent and conn.flow._is_writable_event.is_set()
    assert type(conn.cycle.message_event) is LightEvent

    assert sandbox.pay(created.body["code_value"])["status"] == "SUCCESS"
    thread.join(30)
    assert answers[0].status == 200 and answers[0].verified and answers[0].body["status"] == "PAID"
    wait_until(lambda: len(waiters) == 0, timeout=10)


def test_a_wake_between_watch_and_wait_is_not_lost_and_leaving_leaves_nothing():
    async def scenario():
        w = Waiters()
        changed = w.watch(7)
        w.wake(7)                          # while the row was being read
        timer = w.time_limit(changed, 5)
        assert await changed is True       # at once, not after 5 s
        timer.cancel()
        w.leave(7, changed)
        assert len(w) == 0
        # a poll cancelled while it waits (the gateway stopping) takes its future out
        task = asyncio.ensure_future(w.wait(8, 30))
        await asyncio.sleep(0.01)
        assert w.count(8) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(w) == 0 and w.count(8) == 0
        # the others waiting for the same row are not disturbed by one that leaves
        a, b = asyncio.ensure_future(w.wait(9, 30)), asyncio.ensure_future(w.wait(9, 0.01))
        assert await b is False and w.count(9) == 1
        w.wake_all()
        assert await a is True and len(w) == 0

    asyncio.run(scenario())


def test_light_event_behaves_like_asyncio_event():
    async def scenario():
        ev = LightEvent()
        assert not ev.is_set()
        waiting = [asyncio.ensure_future(ev.wait()) for _ in range(2)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiting)
        ev.set()
        assert await asyncio.gather(*waiting) == [True, True]
        assert await ev.wait() is True     # set: at once
        ev.clear()
        later = asyncio.ensure_future(ev.wait())
        await asyncio.sleep(0.01)
        assert not later.done()
        later.cancel()                     # a cancelled waiter leaves nothing behind
        with pytest.raises(asyncio.CancelledError):
            await later
        assert not ev._waiters
        assert LightEvent(True).is_set()

    asyncio.run(scenario())


def test_pipeline_is_first_in_first_out_like_uvicorns_deque():
    queue = Pipeline()
    assert not queue
    queue.appendleft("first")
    queue.appendleft("second")
    assert len(queue) == 2 and queue.pop() == "first" and queue.pop() == "second" and not queue
