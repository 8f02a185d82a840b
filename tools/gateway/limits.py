"""What one client may hold or send (issue 12.11): a cap on open connections, a deadline for a
request's headers (and, in api.read_body, for its body), and a per-terminal request rate.

uvicorn's h11 protocol has an idle keep-alive timeout but nothing for a connection that sends its
headers slowly, or none at all: `guarded_protocol` adds that, and refuses connections past the cap
by closing them at once (cheaper than any answer, and a flood gets no work done).
"""
import logging
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("gateway")


def guarded_protocol(max_connections, header_timeout):
    class GuardedH11Protocol(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._header_timer = None
            if len(self.connections) > max_connections:
                log.warning("connection from %s refused: %d connections open (cap %d)",
                            self.client and self.client[0], len(self.connections) - 1, max_connections)
                transport.abort()
                return
            self._arm()

        def _arm(self):
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self):
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self):
            self._header_timer = None
            if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
                log.warning("closing the connection from %s: no complete request headers within %.0f s",
                            self.client and self.client[0], header_timeout)
                self.transport.close()

        def data_received(self, data):
            if self.cycle is None or self.cycle.response_complete:
                self._arm()   # between requests: the next one's headers have a deadline
            super().data_received(data)
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11Protocol


class RateLimiter:
    """A token bucket per key (terminal id): `rate` requests a second, bursts up to `burst`.
    Buckets of keys that went quiet are dropped, so memory follows the active terminals."""

    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self._buckets = {}   # key -> [tokens, last time]
        self._last_sweep = clock()

    def take(self, key):
        """0 when the request may go ahead, else the seconds until it could."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            self._sweep(now)
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _sweep(self, now):
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        full = self.burst / self.rate
        for key in [k for k, (_, last) in self._buckets.items() if now - last > full]:
            del self._buckets[key]

    def __len__(self):
        return len(self._buckets)
