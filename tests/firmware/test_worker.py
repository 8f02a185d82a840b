"""The thread runner: a call that cannot get a thread is a doubtful answer, never an exception
escaping into the loop (on the ESP32 `start_new_thread` raises when the heap cannot hold a stack)."""
from firmware.link.gateway import DOUBT
from firmware.link.worker import Job, ThreadRunner


class NoThreads:
    def start_new_thread(self, fn, args):
        raise OSError("can't create thread")


def test_no_thread_for_a_call_is_doubt_not_a_crash():
    runner = ThreadRunner()
    runner._thread = NoThreads()
    job = Job("create", "T1-a1")
    assert runner.start(job, lambda: 1 / 0) is job
    assert job.done and job.value.kind == DOUBT


def test_a_call_runs_on_its_thread():
    runner = ThreadRunner()
    job = runner.start(Job("status", "T1-a1"), lambda x: x * 2, 21)
    for _ in range(1000):
        if job.done:
            break
        import time as _t
        _t.sleep(0.005)
    assert job.done and job.value == 42
