"""Polling for a condition that another process brings about (a server, a notifier, a terminal)."""
import time


def wait_until(predicate, timeout=5.0, step=0.03):
    """Poll until predicate() is truthy and return its value; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1f s" % timeout)
        time.sleep(step)
