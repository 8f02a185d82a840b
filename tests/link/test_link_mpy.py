"""The link in the real MicroPython unix port (.venv/bin/micropython) against the real gateway,
counted at the SERVER side by a TCP proxy in front of it (tests/link/proxy.py): one kept-alive
connection per lane, so at most two sockets and one TLS handshake per lane on a warm link; no
thread after boot; `requests`' ValueError never leaks a socket; and the RTC set before TLS (a
process whose clock, and so mbedTLS's, reads 2000-01-01 gets online over https by itself)."""
import json
import socket
import threading
import time

import pytest

from tests.firmware.fakes import SECRET
from tests.link import mpy
from tests.link.ntp import NtpServer
from tests.link.proxy import CountingProxy
from tests.link.servers import TlsGateway

PREAMBLE = '''
import json, os, time
from firmware import config
from firmware.link.clock import WallClock
from firmware.link.owner import Link
from firmware.link.worker import Job

def say(**kw):
    print(json.dumps(kw))

def wait(jobs, seconds=30):
    t = time.ticks_ms()
    while not all(j.done for j in jobs):
        if time.ticks_diff(time.ticks_ms(), t) > seconds * 1000:
            raise OSError("timed out")
        time.sleep_ms(5)

def threads():
    return len(os.listdir("/proc/self/task"))

cfg = config.validate(json.loads(os.getenv("LINK_CONFIG")))
'''


def _config(gateway, url, ca_pem=None, **over):
    tid = "M%d" % int(time.monotonic() * 1000 % 1000000)
    secret = gateway.add_terminal(tid)
    raw = {"wifi": {"ssid": "shop"}, "gateway": {"url": url, "timeout_s": 10},
           "terminal": {"id": tid, "secret": secret}, "merchant": {"name": "Link Test"}, "currency": "USD"}
    if ca_pem:
        raw["gateway"]["ca_cert"] = ca_pem
    raw.update(over)
    return {"LINK_CONFIG": json.dumps(raw)}


@pytest.fixture(scope="module")
def tls(gateway, tmp_path_factory):
    front = TlsGateway(gateway, str(tmp_path_factory.mktemp("tls")))
    yield front
    front.stop()


@pytest.fixture
def proxy(tls):
    p = CountingProxy(tls.port)
    yield p
    p.close()


def test_https_lanes_keep_one_connection_each_counted_at_the_server(gateway, tls, proxy, tmp_path):
    script = PREAMBLE + '''
clock = WallClock()
clock.set(int(time.time()))
before = threads()
link = Link(cfg, clock)
made = threads()
kinds = {}
for i in range(8):
    jobs = [link.runner.start(Job("poll", "x%d" % i), link.gateway.status, "T-none-%d" % i, 1),
            link.runner.start(Job("health"), link.gateway.health),
            link.runner.start(Job("alerts"), link.gateway.alerts),
            link.runner.start(Job("heartbeat"), link.gateway.heartbeat, {"version": "t"})]
    wait(jobs)
    for j in jobs:
        kinds[j.value.kind] = kinds.get(j.value.kind, 0) + 1
say(before=before, made=made, after=threads(), kinds=kinds, opened=link.transport.opened())
'''
    out = mpy.run(script, tmp_path, env=_config(gateway, "https://localhost:%d" % proxy.port, tls.ca_pem))[-1]
    time.sleep(0.3)
    assert out["kinds"].get("doubt", 0) == 0, out  # every call answered, signed
    assert out["made"] == out["before"] + 2 and out["after"] == out["made"]  # two lanes, no thread after
    assert proxy.accepted == 2 and proxy.hellos == 2  # 32 calls, one handshake per lane
    assert proxy.max_open <= 2
    assert out["opened"] == 2


def test_a_connection_the_server_closed_while_idle_is_opened_again_without_doubt(gateway, tmp_path_factory, tmp_path):
    short = TlsGateway(gateway, str(tmp_path_factory.mktemp("tls1")), keep_alive_s=1)
    p = CountingProxy(short.port)
    try:
        script = PREAMBLE + '''
clock = WallClock()
clock.set(int(time.time()))
link = Link(cfg, clock)
kinds = []
for i in range(3):
    job = link.runner.start(Job("health"), link.gateway.health)
    wait([job])
    kinds.append(job.value.kind)
    time.sleep_ms(2500)  # longer than the server keeps an idle connection
say(kinds=kinds)
'''
        out = mpy.run(script, tmp_path, env=_config(gateway, "https://localhost:%d" % p.port, short.ca_pem))[-1]
        assert out["kinds"] == ["ok", "ok", "ok"]
        assert p.accepted == 3 and p.max_open == 1
    finally:
        p.close()
        short.stop()


class BadAnswers:
    """Answers each connection with something `requests` raises ValueError (or worse) for, then
    notes whether the client closed its socket (end of stream or reset) within 3 s."""

    ANSWERS = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
               b"garbage\r\n\r\n",
               b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
               b"HTTP/1.1 301 Moved\r\nLocation: /elsewhere\r\n\r\n"]

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.closed = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        for answer in self.ANSWERS:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(3)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += c.recv(4096)
                c.sendall(answer)
                self.closed.append(c.recv(10) == b"")
            except (ConnectionResetError, BrokenPipeError):
                self.closed.append(True)
            except socket.timeout:
                self.closed.append(False)  # still open: leaked
            finally:
                c.close()

    def close(self):
        self.sock.close()


def test_requests_errors_on_malformed_answers_never_leak_the_socket(gateway, tmp_path):
    bad = BadAnswers()
    try:
        script = PREAMBLE + '''
clock = WallClock()
clock.set(int(time.time()))
link = Link(cfg, clock, threads=False)
kinds = []
for i in range(4):
    kinds.append(link.gateway.health().kind)
say(kinds=kinds, transport=type(link.transport).__name__, why=link.gateway.last_error)
'''
        out = mpy.run(script, tmp_path, env=_config(gateway, "http://127.0.0.1:%d" % bad.port))[-1]
        bad.thread.join(15)
        assert out["transport"] == "Requests"  # micropython-lib requests, as the device ships it
        assert out["kinds"] == ["doubt"] * 4
        assert bad.closed == [True, True, True, True]
    finally:
        bad.close()


DRIVE = '''
import faketime_rtc
rtc = faketime_rtc.RTC()
from firmware.link import http
try:  # mbedTLS really reads the 2000 clock: a verified handshake cannot succeed yet
    http.request("GET", os.getenv("LINK_DIRECT") + "/v1/health", timeout=5,
                 ssl_context=http.tls_context(cfg.ca_cert))
    say(control="connected")
except Exception as e:
    say(control=repr(e))
clock = WallClock(rtc=rtc)
link = Link(cfg, clock)
faketime_rtc.RTC.watch = link.transport.opened

class Flow:
    state = "IDLE"
    online = False
    def set_online(self, up):
        self.online = up

flow = Flow()
year = time.gmtime()[0]
t = time.ticks_ms()
while not flow.online and time.ticks_diff(time.ticks_ms(), t) < 40000:
    link.step(flow)  # what the loop's network task does every 250 ms
    time.sleep_ms(250)
say(online=flow.online, year_before=year, year=time.gmtime()[0], writes=faketime_rtc.RTC.writes,
    source=clock.source, time_fetches=link.time_fetches, verified=link.transport.opened(),
    why=link.gateway.last_error)
'''


def test_a_terminal_whose_clock_reads_2000_gets_online_over_https_by_itself(gateway, tls, proxy, tmp_path):
    env = _config(gateway, "https://localhost:%d" % proxy.port, tls.ca_pem)
    env["LINK_DIRECT"] = "https://localhost:%d" % tls.port
    control, out = mpy.run(PREAMBLE + DRIVE, tmp_path, env=env, clock_at=mpy.Y2000)
    assert "validity starts in the future" in control["control"]
    assert out["year_before"] == 2000 and out["online"], out
    assert out["source"] == "gateway" and out["time_fetches"] == 1 and out["year"] >= 2026
    (written, verified_before), = out["writes"]
    assert abs(written - time.time()) <= 5
    assert verified_before == 0  # the RTC was set before the first verified connection
    assert proxy.hellos == 2  # the signed-time fetch, then the verified lane


def test_with_ntp_the_rtc_is_set_before_any_connection_to_the_gateway(gateway, tls, proxy, tmp_path):
    ntp = NtpServer()
    try:
        env = _config(gateway, "https://localhost:%d" % proxy.port, tls.ca_pem, ntp_host=ntp.address)
        env["LINK_DIRECT"] = "https://localhost:%d" % tls.port
        control, out = mpy.run(PREAMBLE + DRIVE, tmp_path, env=env, clock_at=mpy.Y2000)
    finally:
        ntp.close()
    assert "validity starts in the future" in control["control"]
    assert out["online"] and out["source"] == "ntp" and out["time_fetches"] == 0, out
    (written, verified_before), = out["writes"]
    assert abs(written - time.time()) <= 5 and verified_before == 0
    assert proxy.accepted == 1 and proxy.hellos == 1  # only the verified lane ever reached the gateway
