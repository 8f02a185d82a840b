"""Run a blocking network call without stopping the cooperative loop.

`requests` (and firmware/link/http.py) block until the answer arrives: a long poll would freeze the
keypad for seconds. `ThreadRunner` runs each call on its own `_thread` (ESP32 MicroPython and
CPython both have it); the loop only looks at `job.done` every few milliseconds, so the cancel key
is handled while a call is outstanding. Where `_thread` is missing (the WebAssembly build used for
the allocation benchmark), `InlineRunner` runs the call at once.
"""


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


def _run(job, fn, args):
    try:
        value = fn(*args)
    except Exception as e:  # the gateway client never raises; be safe anyway
        from firmware.link.gateway import Answer, DOUBT
        value = Answer(DOUBT, why="call failed: %r" % (e,))
    job.finish(value)


class InlineRunner:
    def start(self, job, fn, *args):
        _run(job, fn, args)
        return job


class ThreadRunner:
    def __init__(self):
        import _thread
        import sys
        self._thread = _thread
        if sys.implementation.name == "micropython":
            try:
                _thread.stack_size(16 * 1024)  # TLS handshakes need more than the default stack
            except Exception:
                pass

    def start(self, job, fn, *args):
        try:
            self._thread.start_new_thread(_run, (job, fn, args))
        except Exception as e:  # no heap for another thread's stack: a doubtful answer, asked again
            from firmware.link.gateway import Answer, DOUBT
            job.finish(Answer(DOUBT, why="no thread: %r" % (e,)))
        return job


def default_runner():
    try:
        return ThreadRunner()
    except ImportError:
        return InlineRunner()
