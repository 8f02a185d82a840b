"""The lanes: one thread each, made at boot; calls by priority; duplicates merged; every answer
signalled; a call that raises is a doubtful answer, never an exception escaping the lane."""
import threading
import time

from firmware.link.gateway import DOUBT
from firmware.link.worker import InlineRunner, Job, Lane, Lanes


def _wait(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


class Gate:
    """A call that blocks until the test opens the gate (the lane is busy meanwhile)."""

    def __init__(self):
        self.event = threading.Event()
        self.entered = threading.Event()

    def __call__(self):
        self.entered.set()
        self.event.wait(10)
        return "first"


def test_queued_calls_run_by_priority_cancel_first():
    signals = []
    lane = Lane("commands", signal=lambda: signals.append(1))
    gate = Gate()
    order = []
    lane.start(Job("health"), gate)
    gate.entered.wait(5)
    jobs = [lane.start(Job(kind, "T1-a1"), lambda k=kind: order.append(k) or k)
            for kind in ("heartbeat", "refund", "status", "alerts", "create", "cancel")]
    assert lane.pending() == ["cancel", "create", "status", "refund", "heartbeat", "alerts"]
    gate.event.set()
    _wait(lambda: all(j.done for j in jobs))
    assert order == ["cancel", "create", "status", "refund", "heartbeat", "alerts"]
    assert [j.value for j in jobs] == ["heartbeat", "refund", "status", "alerts", "create", "cancel"]
    assert len(signals) == 7  # one event per call that ended


def test_the_same_call_asked_twice_is_sent_once():
    lane = Lane("commands")
    gate = Gate()
    lane.start(Job("health"), gate)
    gate.entered.wait(5)
    sent = []
    a = lane.start(Job("status", "T1-a1"), lambda: sent.append("a") or "old")
    b = lane.start(Job("status", "T1-a1"), lambda: sent.append("b") or "new")
    other = lane.start(Job("status", "T1-a2"), lambda: sent.append("c") or "other")
    gate.event.set()
    _wait(lambda: a.done and b.done and other.done)
    assert sent == ["b", "c"] and a.value == b.value == "new" and other.value == "other"
    assert lane.merged == 1


def test_no_thread_is_started_after_the_lanes_are_made():
    import _thread
    lanes = Lanes()
    _wait(lambda: lanes.poll.ident is not None and lanes.commands.ident is not None)
    ran_on = set()
    jobs = []
    for i in range(20):
        jobs.append(lanes.start(Job("poll", "T1-a%d" % i), lambda: ran_on.add(_thread.get_ident())))
        jobs.append(lanes.start(Job("create", "T1-a%d" % i), lambda: ran_on.add(_thread.get_ident())))
    _wait(lambda: all(j.done for j in jobs))
    assert ran_on == {lanes.poll.ident, lanes.commands.ident}  # the two threads made at boot, no other
    assert lanes.poll.calls + lanes.commands.calls == 40


def test_the_long_poll_never_holds_up_a_cancel():
    lanes = Lanes()
    gate = Gate()
    poll = lanes.start(Job("poll", "T1-a1"), gate)
    gate.entered.wait(5)
    cancel = lanes.start(Job("cancel", "T1-a1"), lambda: "cancelled")
    _wait(lambda: cancel.done)
    assert not poll.done  # the poll is still out on its own lane
    gate.event.set()
    _wait(lambda: poll.done)


def test_a_call_that_raises_is_doubt_and_the_lane_lives_on():
    lane = Lane("commands")
    bad = lane.start(Job("create", "T1-a1"), lambda: 1 / 0)
    good = lane.start(Job("status", "T1-a1"), lambda: "fine")
    _wait(lambda: bad.done and good.done)
    assert bad.value.kind == DOUBT and "ZeroDivisionError" in bad.value.why
    assert good.value == "fine"


def test_before_hook_can_answer_instead_of_the_call():
    calls = []
    lane = Lane("commands", before=lambda item: "no clock" if item.kind == "create" else None)
    a = lane.start(Job("create", "T1-a1"), lambda: calls.append("create"))
    b = lane.start(Job("health"), lambda: calls.append("health") or "ok")
    _wait(lambda: a.done and b.done)
    assert a.value == "no clock" and b.value == "ok" and calls == ["health"]


def test_inline_runner_answers_at_once_and_signals():
    signals = []
    runner = InlineRunner(signal=lambda: signals.append(1))
    job = runner.start(Job("status", "T1-a1"), lambda x: x * 2, 21)
    assert job.done and job.value == 42 and signals == [1]


class Unsayable(Exception):
    """An exception that cannot even be described: what a MemoryError inside a failed call
    looks like to the code that makes its doubtful answer."""

    def __repr__(self):
        raise MemoryError("memory allocation failed")


def test_a_call_that_fails_with_no_memory_to_say_why_is_a_doubt_and_the_lane_lives_on():
    def fails():
        raise Unsayable()

    def before_fails(item):
        if item.kind == "time":
            raise Unsayable()
        return None

    lane = Lane("commands", before=before_fails)
    broken = lane.start(Job("health"), fails)
    before = lane.start(Job("time"), lambda: "never")
    _wait(lambda: broken.done and before.done)
    assert broken.value.kind == DOUBT and before.value.kind == DOUBT and broken.value.why == "out of memory"
    after = lane.start(Job("status", "T1-a1"), lambda: "answered")  # the lane's thread is still there
    _wait(lambda: after.done)
    assert after.value == "answered"
    inline = InlineRunner().start(Job("health"), fails)
    assert inline.done and inline.value.kind == DOUBT
