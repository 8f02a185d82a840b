"""The one owner of the network: Wi-Fi, name resolution, time and the connections to the gateway.

Made once at boot (firmware/app.py), it holds:
- the Wi-Fi station (firmware/link/net.py), driven by `step()` from the loop's network task;
- the clock (firmware/link/clock.py): before the first call to the gateway the RTC is set, from
  NTP when `ntp_host` is configured (retried with back-off) or else from the gateway's signed time;
- two lanes (firmware/link/worker.py), each ONE thread started here and, for https, ONE kept-alive
  TLS connection (firmware/link/http.py): the status long poll on one, every other call on the
  other in priority order. No thread is started after boot and no more than two sockets to the
  gateway are ever open; a warm lane pays no handshake (`step()` keeps an idle lane warm below the
  gateway's 30 s keep-alive).
- `answered`: the event the lanes set when an answer is ready (an asyncio.ThreadSafeFlag where the
  port has one, a polled flag otherwise); the loop's answers task waits on it.

The gateway's signed time while the clock is wrong. A verified TLS handshake is impossible with
the RTC at 2000-01-01 (mbedTLS: "The certificate validity starts in the future"), and MicroPython's
ssl cannot verify a chain while ignoring dates. The time is therefore fetched once over a TLS
connection that verifies no certificate, and trusted for what the HMAC proves: the gateway signs
its answer to GET /v1/time with this terminal's secret over the status, the target, OUR fresh nonce,
the timestamp and the body (docs/protocol.md), so a man in the middle can neither forge nor replay
it; the most he can do is hold it back, which skews the clock by at most the call's timeout. That
connection carries only this request (no secret, no payment) and is closed at once; every other
call waits until the RTC is set and then verifies the chain, the name and the dates. If a verified
handshake later fails on the certificate's dates (an NTP server that lied), the clock is treated as
unset again (at most once a minute) and the signed time sets it right.
"""
from micropython import const
import time

from firmware.link import gateway as gw
from firmware.link.clock import ntp_address, sntp
from firmware.link.worker import InlineRunner, Job, default_runner

_QUIET = const(("IDLE", "ALERT"))
_HEALTH_OK_MS = const(30000)  # how long a signed answer (any call, the long poll too) vouches for the link
_HEALTH_BAD_MS = const(3000)  # while offline: look again soon, so the offline screen clears by itself
_HEARTBEAT_MS = const(60000)
_WARM_MS = const(20000)  # the gateway (uvicorn) closes a connection idle for 30 s: use it before that
_NTP_BACKOFF_MS = const((1000, 2000, 4000, 8000, 16000, 32000, 60000))
_RESYNC_MS = const(60000)


def _since(t):
    return time.ticks_diff(time.ticks_ms(), t)


class PolledFlag:
    """The fallback event where asyncio has no ThreadSafeFlag (CPython, WebAssembly)."""

    def __init__(self):
        self._set = False

    def set(self):
        self._set = True

    async def wait(self):
        import asyncio
        while not self._set:
            await asyncio.sleep_ms(10)
        self._set = False


def make_flag():
    try:
        import asyncio
        return asyncio.ThreadSafeFlag()
    except (ImportError, AttributeError):
        return PolledFlag()


class Resolver:
    """The gateway's address, looked up once and again only after a connection failed."""

    def __init__(self):
        self._cache = {}
        self.lookups = 0

    def __call__(self, host, port):
        key = (host, port)
        ai = self._cache.get(key)
        if ai is None:
            import socket
            self.lookups += 1
            ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
            self._cache[key] = ai
        return ai

    def forget(self):
        self._cache = {}


class Link:
    def __init__(self, cfg, clock, network=None, transport=None, runner=None, threads=True):
        self.cfg = cfg
        self.clock = clock
        self.https = cfg.gateway_url.startswith("https://")
        self.resolver = Resolver()
        self.wifi = None
        if network is not None:
            from firmware.link.net import Wifi
            self.wifi = Wifi(network, cfg.wifi_ssid, cfg.wifi_password)
        self.transport = transport if transport is not None else self._transport()
        self.gateway = gw.Gateway(cfg.gateway_url, cfg.terminal_id, cfg.secret, self.transport, clock,
                                  cfg.timeout_s)
        self.answered = make_flag()
        self._sync_lock = None
        try:
            import _thread
            self._sync_lock = _thread.allocate_lock()
        except ImportError:
            pass
        self.ntp = ntp_address(cfg.ntp_host) if cfg.ntp_host else None
        self._ntp_next = time.ticks_ms()
        self._ntp_attempts = 0
        self._resynced = None
        self.time_fetches = 0  # GET /v1/time asked (for https over a connection that verifies nothing)
        self._job = None
        self._checked = None
        self._beat = time.ticks_ms()
        # Last: the lanes' threads start here, once, with everything they use in place.
        if runner is None:
            runner = default_runner(self.answered.set, self._before) if threads else \
                InlineRunner(self.answered.set)
        self.runner = runner

    # --- building ------------------------------------------------------------------------
    def _transport(self):
        from firmware.link import http
        if self.https:
            return http.Transport(http.tls_context(self.cfg.ca_cert), self.resolver)
        import sys
        if sys.implementation.name == "micropython":
            try:
                from firmware.link.plain import Requests
                return Requests()  # micropython-lib `requests`, frozen into stock builds
            except ImportError:
                pass
        return http.Transport(None, self.resolver)

    # --- time (runs on a lane's thread, before the call it precedes) ----------------------
    def _before(self, item):
        if item.kind == "time" or self.clock.plausible():
            return None
        if self.sync_time():
            return None
        return gw.Answer(gw.DOUBT, why="clock not set (no NTP, no signed time yet)")

    def sync_time(self):
        """Set the RTC from NTP (when configured and due) or the gateway's signed time."""
        lock = self._sync_lock
        if lock is not None:
            lock.acquire()
        try:
            if self.clock.plausible():
                return True
            if self.ntp is not None and time.ticks_diff(time.ticks_ms(), self._ntp_next) >= 0:
                try:
                    self.clock.set(sntp(self.ntp[0], self.ntp[1]), "ntp")
                    self._ntp_attempts = 0
                    return True
                except Exception as e:  # no answer, or an answer not worth trusting
                    wait = _NTP_BACKOFF_MS[min(self._ntp_attempts, len(_NTP_BACKOFF_MS) - 1)]
                    self._ntp_attempts += 1
                    self._ntp_next = time.ticks_add(time.ticks_ms(), wait)
                    self.gateway.last_error = "ntp: %r" % (e,)
            self.signed_time()
            return self.clock.plausible()
        finally:
            if lock is not None:
                lock.release()

    def signed_time(self):
        """GET /v1/time; the gateway client sets the clock from the verified answer."""
        self.time_fetches += 1
        if not self.https:
            return self.gateway.call("GET", "/v1/time")
        from firmware.link import http
        once = http.Transport(http.tls_context(None, verify=False), self.resolver)
        client = gw.Gateway(self.cfg.gateway_url, self.cfg.terminal_id, self.cfg.secret, once, self.clock,
                            self.cfg.timeout_s)
        try:
            ans = client.call("GET", "/v1/time")
        finally:
            once.close()
        if ans.kind == gw.DOUBT:
            self.gateway.last_error = client.last_error
            if client.quiet_until is not None:   # a signed 429: the main client keeps quiet too
                self.gateway.quiet_until = client.quiet_until
        return ans

    # --- the network task (every 250 ms, from firmware/loop.py) ---------------------------
    def step(self, flow):
        up = self.wifi.step() if self.wifi is not None else True
        job = self._job
        if job is not None and job.done:
            self._job = None
            flow.set_online(gw.reachable(job.value))
        if not up:
            flow.set_online(False)
            return
        self._check_dates()
        if self._job is None and flow.state in _QUIET:
            due = _HEALTH_OK_MS if flow.online else _HEALTH_BAD_MS
            last = self.gateway.answered_at
            fresh = last is not None and _since(last) < due and flow.online
            if not fresh and (self._checked is None or _since(self._checked) >= due):
                self._checked = time.ticks_ms()
                self._job = self.runner.start(Job("health"), self.gateway.health)
            elif _since(self._beat) >= _HEARTBEAT_MS:
                self._beat = time.ticks_ms()
                self._job = self.runner.start(Job("heartbeat"), self.gateway.heartbeat, self.heartbeat_info())
        self._keep_warm()

    def _check_dates(self):
        why = self.gateway.last_error or ""
        if "validity" in why and self.clock.synced and (self._resynced is None or _since(self._resynced) >= _RESYNC_MS):
            self._resynced = time.ticks_ms()
            self.clock.synced = False  # the handshake disagrees with the clock: ask for the time again

    def _keep_warm(self):
        conns = getattr(self.transport, "connections", None)
        lanes = (getattr(self.runner, "poll", None), getattr(self.runner, "commands", None))
        if conns is None:
            return
        for lane in lanes:
            if lane is None or lane.ident is None or not lane.idle():
                continue
            conn = conns.get(lane.ident)
            if conn is None or not conn.is_open() or lane.last_used is None:
                continue
            if _since(lane.last_used) >= _WARM_MS:
                lane.last_used = time.ticks_ms()
                lane.start(Job("warm"), self.gateway.health)

    heartbeat_source = None

    def heartbeat_info(self):
        if self.heartbeat_source is not None:
            return self.heartbeat_source()
        return {}

    # --- figures (selftest, bench) ---------------------------------------------------------
    def counts(self):
        opened = getattr(self.transport, "opened", None)
        return {"connections": opened() if opened is not None else None, "time_fetches": self.time_fetches,
                "lookups": self.resolver.lookups}
