"""The terminal's gateway client backs off from a signed 429 (issue 12.11): the answer is doubt
(never a refusal that could end a sale), nothing is sent until the signed retry_after has passed,
and then it asks again. An unsigned 429 is just doubt and silences nothing."""
import json

from firmware.link import auth
from firmware.link.clock import WallClock
from firmware.link.gateway import DOUBT, OK, Gateway

SECRET = "ab" * 32
NOW = 1_900_000_000


class Response:
    def __init__(self, status, headers, content):
        self.status_code, self.headers, self.content = status, headers, content

    def close(self):
        pass


class Transport:
    """Answers like the gateway: signed for the request's own nonce (or not, when `signed` is off)."""

    def __init__(self):
        self.calls = []
        self.limited = True
        self.signed = True
        self.retry_after = 7

    def request(self, method, url, data=b"", headers=None, timeout=None):
        self.calls.append((method, url, data))
        target = url.split("://", 1)[1]
        target = target[target.index("/"):]
        if self.limited:
            status, payload = 429, {"error": {"code": "RATE_LIMITED", "message": "slow down"},
                                    "retry_after": self.retry_after}
        else:
            status, payload = 200, {"order_id": "T1-1", "status": "PENDING"}
        raw = json.dumps(payload).encode()
        sig = auth.sign_response(SECRET if self.signed else "cd" * 32, status, target, headers["X-Nonce"],
                                 str(NOW), raw)
        return Response(status, {"X-Timestamp": str(NOW), "X-Signature": sig, "Retry-After": "3600"}, raw)


def client():
    transport = Transport()
    gw = Gateway("http://127.0.0.1:9", "T1", SECRET, transport, WallClock())
    ticks = [1000]
    gw.ticks_ms = lambda: ticks[0]
    return gw, transport, ticks


def test_a_signed_429_is_doubt_and_keeps_the_client_quiet_until_retry_after():
    gw, transport, ticks = client()
    first = gw.create("T1-1", 500, "USD", "")
    assert (first.kind, first.status, first.code) == (DOUBT, 429, "RATE_LIMITED")
    assert len(transport.calls) == 1
    ticks[0] += 6900                       # not yet: 7 s were asked for (the unsigned header's hour is ignored)
    quiet = gw.create("T1-1", 500, "USD", "")
    assert quiet.kind == DOUBT and quiet.code == "RATE_LIMITED" and len(transport.calls) == 1
    assert gw.status("T1-1").kind == DOUBT and len(transport.calls) == 1   # every call waits, the poll too
    ticks[0] += 200
    transport.limited = False
    again = gw.create("T1-1", 500, "USD", "")
    assert again.kind == OK and len(transport.calls) == 2
    # the retry is the same create: same order id, same body (the idempotency key is kept)
    assert transport.calls[0][2] == transport.calls[1][2]


def test_a_huge_or_missing_retry_after_is_bounded():
    gw, transport, ticks = client()
    transport.retry_after = 10 ** 9
    gw.health()
    ticks[0] += 299 * 1000
    assert gw.health().code == "RATE_LIMITED" and len(transport.calls) == 1   # quiet for 300 s at most
    ticks[0] += 1000 + 1
    transport.limited = False
    assert gw.health().kind == OK
    transport.limited, transport.retry_after = True, None
    gw.health()
    ticks[0] += 4900
    assert gw.health().kind == DOUBT and len(transport.calls) == 3   # none: 5 s
    ticks[0] += 101
    transport.limited = False
    assert gw.health().kind == OK and len(transport.calls) == 4


def test_an_unsigned_429_silences_nothing():
    gw, transport, ticks = client()
    transport.signed = False
    assert gw.health().kind == DOUBT
    assert gw.health().kind == DOUBT and len(transport.calls) == 2   # it was sent: no quiet period
