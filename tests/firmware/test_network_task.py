"""The network task: NTP is asked once the loop runs (Wi-Fi up), on a worker, before the gateway's
signed time; the gateway's time is the fallback when NTP fails."""
import asyncio

import pytest

from firmware.link import gateway as gw
from firmware import loop
from firmware.link import net
from firmware.link.clock import WallClock
from firmware.link.worker import InlineRunner


class _Flow:
    state = "IDLE"
    online = False

    def set_online(self, up):
        self.online = up


class _Cfg:
    def __init__(self, ntp_host):
        self.ntp_host = ntp_host


class _Gateway:
    def __init__(self, app):
        self.app = app
        self.calls = []

    def call(self, method, path):
        self.calls.append(path)
        self.app.clock.set(1764090000)  # a verified answer sets the clock
        return gw.Answer(gw.OK, 200, {"time": 1764090000})

    def health(self):
        self.calls.append("/v1/health")
        return gw.Answer(gw.OK, 200, {"ok": True})


class _App:
    def __init__(self, ntp_host):
        self.alive = {}
        self.wifi = None
        self.flow = _Flow()
        self.clock = WallClock(source=lambda: 0)
        self.cfg = _Cfg(ntp_host)
        self.gateway = _Gateway(self)
        self.runner = InlineRunner()

    def start(self, job, fn, *args):
        return self.runner.start(job, fn, *args)


def _run_for(app, seconds):
    async def go():
        task = asyncio.create_task(loop.network_task(app))
        await asyncio.sleep(seconds)
        task.cancel()

    asyncio.run(go())


def test_ntp_sets_the_clock_from_the_network_task(monkeypatch):
    asked = []
    monkeypatch.setattr(net, "ntp_time", lambda host: asked.append(host) or 1764000000)
    app = _App("pool.ntp.org")
    _run_for(app, 0.6)
    assert asked == ["pool.ntp.org"]
    assert app.clock.synced and "/v1/time" not in app.gateway.calls


def test_failed_ntp_falls_back_to_the_gateways_signed_time(monkeypatch):
    asked = []
    monkeypatch.setattr(net, "ntp_time", lambda host: asked.append(host))
    app = _App("pool.ntp.org")
    _run_for(app, 0.9)
    assert asked == ["pool.ntp.org"]  # tried once, not on every pass
    assert "/v1/time" in app.gateway.calls and app.clock.synced


@pytest.mark.parametrize("host", [None])
def test_without_ntp_host_the_gateway_gives_the_time(monkeypatch, host):
    monkeypatch.setattr(net, "ntp_time", lambda h: pytest.fail("NTP asked without a host"))
    app = _App(host)
    _run_for(app, 0.4)
    assert app.gateway.calls[0] == "/v1/time"
