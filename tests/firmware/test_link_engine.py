"""The whole terminal on the MicroPython engine over https, counted at the SERVER side: a TCP proxy
in front of the gateway's TLS port (tests/link/proxy.py) sees every connection and handshake, a
hook in the gateway counts every request. At most two sockets, no thread started after boot, no
TLS handshake per call on a warm link; and a terminal whose clock reads 2000-01-01 at power-on
(the process clock, which mbedTLS reads: SIM_CLOCK_AT) sets its RTC and gets online by itself."""
import itertools
import os
import time

import pytest

from tests.link.proxy import CountingProxy
from tests.link.servers import TlsGateway

_amounts = itertools.count(4100)
Y2000 = 946684800


@pytest.fixture(scope="module")
def tls(system, tmp_path_factory):
    front = TlsGateway(system.gateway, str(tmp_path_factory.mktemp("tls")))
    yield front
    front.stop()


@pytest.fixture
def proxy(tls):
    p = CountingProxy(tls.port)
    yield p
    p.close()


def _micropython_pid(sim_pid, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for tid in os.listdir("/proc/%d/task" % sim_pid):
            try:
                with open("/proc/%d/task/%s/children" % (sim_pid, tid)) as f:
                    children = [int(x) for x in f.read().split()]
            except OSError:
                continue
            for child in children:
                with open("/proc/%d/cmdline" % child, "rb") as f:
                    if b"micropython" in f.read():
                        return child
        time.sleep(0.05)
    raise AssertionError("no MicroPython process under the simulator")


def _threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def _sale(system, t, cancel=False):
    t.keys(str(next(_amounts)), "ok")
    qr = t.wait_state("SHOW_QR", timeout=30)
    time.sleep(0.3)  # the long poll is out
    if cancel:
        t.keys("cancel")
    else:
        system.sandbox.pay(qr["code"])
    result = t.wait_result(timeout=30)
    t.keys("ok")
    t.wait_screen("idle", timeout=15)
    return result["state"]


def _https_terminal(system, tls, proxy):
    return system.terminal(gateway_url="https://localhost:%d" % proxy.port, gateway={"ca_cert": tls.ca_pem})


def test_two_sockets_no_new_thread_no_handshake_per_call_on_a_warm_link(system, tls, proxy):
    t = _https_terminal(system, tls, proxy)
    t.start()
    try:
        t.wait_ready(timeout=60)
        assert "MicroPython" in (t.engine or "")
        pid = _micropython_pid(t.proc.pid)
        booted = _threads(pid)
        assert _sale(system, t) == "PAID"  # warms both lanes
        hellos, requests, seen = proxy.hellos, tls.app.requests, [booted]
        states = []
        for cancel in (False, True, False, True):
            states.append(_sale(system, t, cancel))
            seen.append(_threads(pid))
        assert states == ["PAID", "CANCELLED", "PAID", "CANCELLED"]
        assert tls.app.requests - requests >= 10  # a create and a long poll each, and the cancels
        assert proxy.hellos == hellos  # not one handshake for all those calls
        assert proxy.max_open <= 2 and proxy.accepted == 2
        assert max(seen) == booted  # no thread started after boot
    finally:
        t.stop()


def test_a_terminal_powered_on_at_2000_sets_its_rtc_and_gets_online_over_https(system, tls, proxy):
    t = _https_terminal(system, tls, proxy)
    t.start(env={"SIM_CLOCK_AT": str(Y2000)})
    try:
        t.wait_ready(timeout=60)  # by itself: nobody set the clock
        assert _sale(system, t) == "PAID"
        # 3 handshakes: the signed-time fetch (only because the clock read 2000: a terminal whose RTC
        # kept its time makes 2, as in the test above), then the two verified lanes
        assert proxy.hellos == 3 and proxy.max_open <= 2
    finally:
        t.stop()
