"""The network owner (firmware/link/owner.py) under CPython against a real gateway: the RTC is set
from NTP or from the gateway's signed time before the first call; NTP is retried with back-off; a
signed answer of any call stands in for the health check."""
import itertools
import time

import pytest

from firmware.link import clock as fw_clock
from firmware.link import http
from firmware.link.clock import WallClock, civil, sntp, unix_of
from firmware.link.gateway import DOUBT, OK
from firmware.link.owner import Link
from firmware.link.worker import Job
from tests.firmware.fakes import make_config
from tests.link.ntp import NtpServer
from tests.shims import clock as shim_clock

_ids = itertools.count(1)


class Rtc2000:
    """machine.RTC as after a power cut: it reads 2000-01-01 until written; remembers each write."""

    def __init__(self):
        self.value = (2000, 1, 1, 5, 0, 0, 0, 0)
        self.writes = []

    def datetime(self, dt=None):
        if dt is None:
            return self.value
        self.value = tuple(dt)
        self.writes.append(tuple(dt))


def _wait(pred, timeout=20):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _link(gateway, **over):
    tid = "L%d" % next(_ids)
    secret = gateway.add_terminal(tid)
    cfg = make_config(gateway={"url": gateway.base_url}, terminal={"id": tid, "secret": secret}, **over)
    rtc = Rtc2000()
    clock = WallClock(rtc=rtc, source=lambda: 0)  # the ESP32 after a power cut: time.time() counts from 0
    link = Link(cfg, clock, transport=http.Transport())
    return link, rtc, clock


def _unix(rtc_tuple):
    y, mo, d, _wd, h, mi, s = rtc_tuple[:7]
    return unix_of(y, mo, d, h, mi, s)


def test_civil_and_unix_of_agree_across_leap_days():
    for t in (0, 951782400, 1709164800, 1767225600, 4102444799, 1764090000 + 12345):
        y, mo, d, wd, h, mi, s = civil(t)
        assert _unix((y, mo, d, wd, h, mi, s)) == t
        assert time.gmtime(t)[:6] == (y, mo, d, h, mi, s) and time.gmtime(t).tm_wday == wd


def test_sntp_reads_a_real_ntp_answer_and_refuses_silence():
    server = NtpServer(now=lambda: 1800000000.25)
    silent = NtpServer(silent=True)
    try:
        assert sntp("127.0.0.1", server.port) == 1800000000
        with pytest.raises(OSError):
            sntp("127.0.0.1", silent.port, timeout_s=0.2)
    finally:
        server.close()
        silent.close()


def test_ntp_sets_the_rtc_before_the_first_gateway_call(gateway):
    server = NtpServer()
    try:
        link, rtc, clock = _link(gateway, ntp_host=server.address)
        assert not clock.synced and clock.now() < fw_clock.FLOOR
        job = link.runner.start(Job("health"), link.gateway.health)
        _wait(lambda: job.done)
        assert job.value.kind == OK
        assert clock.source == "ntp" and len(server.asked) == 1 and link.time_fetches == 0
        assert abs(_unix(rtc.writes[0]) - time.time()) <= 2  # the RTC, not just an offset
        assert abs(clock.now() - time.time()) <= 2
    finally:
        server.close()


def test_silent_ntp_is_retried_with_back_off_and_the_signed_time_sets_the_rtc(gateway):
    server = NtpServer(silent=True)
    try:
        link, rtc, clock = _link(gateway, ntp_host=server.address)
        shim_clock.manual(1000)
        assert link.sync_time()  # NTP unanswered: the gateway's signed time instead
        assert clock.source == "gateway" and link.time_fetches == 1 and len(server.asked) == 1
        assert abs(_unix(rtc.writes[-1]) - time.time()) <= 2
        waits = []
        for _ in range(4):
            clock.synced = False  # as if the clock were lost again
            asked = len(server.asked)
            link.sync_time()
            assert len(server.asked) == asked  # NTP not asked again before its back-off ends
            waited = 0
            while len(server.asked) == asked:
                shim_clock.advance_ms(500)
                waited += 500
                clock.synced = False
                link.sync_time()
            waits.append(waited)
        assert waits == [1000, 2000, 4000, 8000]
    finally:
        shim_clock.running()
        server.close()


def test_without_ntp_the_first_call_gets_the_signed_time_first(gateway):
    link, rtc, clock = _link(gateway)
    job = link.runner.start(Job("create", "x-1"), link.gateway.health)
    _wait(lambda: job.done)
    assert job.value.kind == OK and clock.source == "gateway" and len(rtc.writes) == 1


def test_a_gateway_that_cannot_give_the_time_is_doubt_and_no_call_is_sent():
    cfg = make_config(gateway={"url": "http://127.0.0.1:9"})
    clock = WallClock(rtc=Rtc2000(), source=lambda: 0)
    link = Link(cfg, clock, transport=http.Transport())
    job = link.runner.start(Job("create", "x-1"), link.gateway.create, "x-1", 100, "USD", "t")
    _wait(lambda: job.done)
    assert job.value.kind == DOUBT and not clock.synced


def test_signed_answers_rewrite_the_rtc_only_when_it_drifted(gateway):
    link, rtc, clock = _link(gateway)
    for _ in range(3):
        job = link.runner.start(Job("health"), link.gateway.health)
        _wait(lambda: job.done)
    assert len(rtc.writes) == 1  # set once; the next answers agreed within 2 s
    clock.offset -= 100  # the clock drifts 100 s
    job = link.runner.start(Job("health"), link.gateway.health)
    _wait(lambda: job.done)
    assert len(rtc.writes) == 2 and abs(clock.now() - time.time()) <= 2


class _Flow:
    def __init__(self, state="IDLE"):
        self.state = state
        self.online = False
        self.changes = []

    def set_online(self, up):
        if up != self.online:
            self.changes.append(up)
        self.online = up


def test_a_recent_signed_answer_stands_in_for_the_health_check(gateway):
    link, rtc, clock = _link(gateway)
    flow = _Flow()
    health = []
    real = link.gateway.health
    link.gateway.health = lambda: health.append(1) or real()
    link.step(flow)  # offline at boot: ask
    _wait(lambda: link._job is None or link._job.done)
    link.step(flow)
    assert flow.online and health == [1]
    # a long poll (or any call) answers, signed: no health check while it vouches for the link
    job = link.runner.start(Job("poll", "x"), link.gateway.call, "GET", "/v1/time")
    _wait(lambda: job.done)
    link._checked = time.ticks_add(time.ticks_ms(), -31000)  # the last health check is long ago
    link.step(flow)
    assert health == [1] and link._job is None


def test_an_idle_lane_is_kept_warm_before_the_gateway_would_close_it(gateway):
    link, rtc, clock = _link(gateway)
    flow = _Flow(state="SHOW_QR")  # no health checks of its own in this state
    jobs = [link.runner.start(Job("poll", "x"), link.gateway.call, "GET", "/v1/time"),
            link.runner.start(Job("create", "x"), link.gateway.health)]
    _wait(lambda: all(j.done for j in jobs))
    calls = (link.runner.poll.calls, link.runner.commands.calls)
    shim_clock.manual(time.ticks_ms())
    try:
        shim_clock.advance_ms(19000)
        link.step(flow)
        assert (link.runner.poll.calls, link.runner.commands.calls) == calls  # not yet
        shim_clock.advance_ms(1500)
        link.step(flow)  # 20.5 s idle: each lane sends a health check on its kept connection
        _wait(lambda: link.runner.poll.calls == calls[0] + 1 and link.runner.commands.calls == calls[1] + 1)
    finally:
        shim_clock.running()
    conns = link.transport.connections
    assert sum(c.opened for c in conns.values()) == 2  # still the two connections made at first
