"""What one client may hold or send (issue 12.11): a cap on open connections, a deadline for a
request's headers (the body's deadline is in api.read_body), and a per-terminal request rate.

uvicorn's HTTP protocols close a connection idle between requests (timeout_keep_alive), but nothing
closes one that sends its headers slowly or not at all: `guarded_protocol` adds that deadline and
the connection cap. At the cap, a new connection takes the slot of the connection idle the longest
(no request in progress: a silent, slow-header or kept-alive one); only when every connection has a
request in progress (long polls) is the new one refused, with an unsigned 503 and Retry-After.
So idle connections cannot hold the gateway's slots, and long polls are never cut.

The rate limit counts the terminal's signed requests of the last `window` seconds in the store
(each one left its nonce there), so it holds across gateway processes sharing one database.
"""
import logging
import math
import time

from tools.gateway.corked import CorkedTransport

log = logging.getLogger("gateway")

BUSY_ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
               b"connection: close\r\ncontent-length: %d\r\n\r\n%s")
BUSY_BODY = (b'{"error":{"code":"TOO_MANY_CONNECTIONS","message":"the gateway has no free connection; '
             b'retry in 1 s"}}')


def guarded_protocol(max_connections, header_timeout, base=None):
    """uvicorn's HttpToolsProtocol, lightened (lean_protocol.py), or `base`, with the connection
    cap and the header deadline."""
    if base is None:
        from tools.gateway.lean_protocol import LeanHttpToolsProtocol as base
    warned = [0.0]

    def warn(message, *args):
        now = time.monotonic()
        if now - warned[0] >= 1.0:   # a flood of connections is one log line a second, not thousands
            warned[0] = now
            log.warning(message, *args)

    class GuardedProtocol(base):
        def connection_made(self, transport):
            self._header_timer = None
            self._idle_since = time.monotonic()
            # one send() per answer instead of two (tools/gateway/corked.py)
            transport = CorkedTransport(transport, self.loop)
            super().connection_made(transport)
            if len(self.connections) > max_connections and not self._make_room():
                warn("connection from %s refused: all %d connections have a request in progress",
                     self.client and self.client[0], max_connections)
                transport.write(BUSY_ANSWER % (len(BUSY_BODY), BUSY_BODY))
                transport.close()
                return
            self._arm()

        def _busy(self):
            return self.cycle is not None and not self.cycle.response_complete or bool(self.pipeline)

        def _make_room(self):
            """Close the connection idle the longest (never one with a request in progress)."""
            idle = [c for c in self.connections if c is not self and isinstance(c, GuardedProtocol)
                    and not c._busy() and not c.transport.is_closing()]
            if not idle:
                return False
            oldest = min(idle, key=lambda c: c._idle_since)
            warn("%d connections open (cap %d): closing the one idle longest, from %s",
                 len(self.connections) - 1, max_connections, oldest.client and oldest.client[0])
            oldest.transport.close()
            self.connections.discard(oldest)   # its slot is free now, not when the loop gets to it
            return True

        def _arm(self):
            if self._header_timer is None and header_timeout:
                self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self):
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self):
            self._header_timer = None
            if not self.transport.is_closing() and not self._busy():
                warn("closing the connection from %s: no complete request headers within %.0f s",
                     self.client and self.client[0], header_timeout)
                self.transport.close()

        def on_message_begin(self):
            self._arm()   # a kept-alive connection's next request: its headers have the deadline too
            super().on_message_begin()

        def on_headers_complete(self):
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self):
            self._idle_since = time.monotonic()
            if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
                # answered before its body was read (a route that takes none, a 413): the rest of
                # that body is not waited for, however slowly it comes
                self.transport.close()
            super().on_response_complete()

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

    return GuardedProtocol


class RateLimit:
    """At most `limit` signed requests per terminal in any `window` seconds (0: no limit).

    The count is the terminal's nonces the store holds for that window (every authenticated request
    wrote one, refused ones too: a terminal that keeps hammering stays refused), counted for a whole
    batch of requests at once by tools/gateway/nonce_lane.py, so the limit is the same for every
    gateway process on the database. `shifts`: offsets at which some nonces are stored (those of
    /v1/time are kept longer by dating them ahead)."""

    def __init__(self, limit, window, shifts=(0.0,), clock=time.time):
        self.limit = int(limit)
        self.window = float(window)
        self.shifts = tuple(shifts)
        self.clock = clock

    def windows(self):
        """The (since, until) spans whose nonces count now; none when there is no limit."""
        if self.limit <= 0:
            return []
        now = self.clock()
        return [(now - self.window + shift, now + shift) for shift in self.shifts]

    def retry_after(self, count):
        """0 when a terminal with `count` requests in the windows may go ahead, else the whole
        seconds to wait: the window, after which none of its requests count any more."""
        if self.limit <= 0 or count <= self.limit:
            return 0
        return max(1, math.ceil(self.window))
