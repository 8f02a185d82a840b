"""Checks a terminal's request signature, timestamp and nonce (docs/protocol.md, firmware/link/auth.py).

Terminal secrets are cached for `cache_ttl` seconds so the hot path does not hit SQLite for them;
a `terminal revoke` from the CLI (another process) therefore takes effect within that time.
Nonces go to the store (a primary-key insert is the check, made in batches by
tools/gateway/nonce_lane.py), so a replay is refused across restarts and gateway processes too.
"""
import hashlib
import hmac
import re
import time

from firmware.link import auth


NONCE_RE = re.compile(r"[0-9a-f]{16,64}")  # what firmware.link.auth.valid_nonce accepts, in C


# The gateway signs with the C implementation of HMAC (the hot path); the strings to sign come from
# firmware/link/auth.py, and tests check both against the shared vectors.
def sign_request(secret, method, target, timestamp, nonce, body):
    text = auth.request_string(method, target, timestamp, nonce, body)
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_response(secret, status, target, nonce, timestamp, body):
    text = auth.response_string(status, target, nonce, timestamp, body)
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_request(secret, method, target, timestamp, nonce, body, signature):
    if not signature.isascii():
        return False
    return hmac.compare_digest(sign_request(secret, method, target, timestamp, nonce, body), signature.lower())


# What an unknown id is checked against (never matches: a real secret is 64 hex characters).
UNKNOWN_SECRET = "!unknown-terminal!"
UNAUTHORIZED_MESSAGE = "not authenticated: unknown or revoked terminal, or a bad signature"


class AuthError(Exception):
    def __init__(self, code, message, secret=None, extra=None, reason=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or code  # for the gateway's log only, never the answer
        # sign the error with it: only once the request's signature verified (stale, replayed)
        self.secret = secret
        self.extra = extra or {}


class Caller:
    __slots__ = ("terminal_id", "secret", "nonce")

    def __init__(self, terminal_id, secret, nonce):
        self.terminal_id = terminal_id
        self.secret = secret
        self.nonce = nonce


class TerminalAuth:
    def __init__(self, store, window=300, nonce_ttl=900, cache_ttl=1.0, clock=time.time, time_window=86400):
        self.store = store
        self.window = window
        self.time_window = time_window  # GET /v1/time: a terminal whose clock is off asks it first
        self.nonce_ttl = nonce_ttl
        # requests signed before the nonce log began are refused (a restored or lost nonce file
        # cannot prove they are not replays); an intact log began long ago
        self.nonce_floor = store.nonces_since()
        self.cache_ttl = cache_ttl
        self.clock = clock
        self._cache = {}

    MISS = object()

    def cached(self, terminal_id):
        """(secret, revoked), None for an unknown terminal, or MISS when the cache cannot tell."""
        hit = self._cache.get(terminal_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return self.MISS

    def terminal(self, terminal_id):
        """(secret, revoked) or None, from the cache or else the store (which fills the cache)."""
        known = self.cached(terminal_id)
        if known is not self.MISS:
            return known
        row = self.store.terminal(terminal_id)
        value = None if row is None else (self.store.terminal_secret(row), row["revoked_at"] is not None)
        if len(self._cache) >= 10000:
            self._cache.clear()
        self._cache[terminal_id] = (time.monotonic() + self.cache_ttl, value)
        return value

    def secret_for(self, terminal_id):
        known = self.terminal(terminal_id) if terminal_id else None
        return known[0] if known else None

    def forget(self, terminal_id=None):
        if terminal_id is None:
            self._cache.clear()
        else:
            self._cache.pop(terminal_id, None)

    @staticmethod
    def terminal_id(headers):
        """The caller's claimed terminal id, or AuthError when the auth headers are missing or malformed."""
        terminal_id = headers.get("x-terminal-id")
        timestamp = headers.get("x-timestamp")
        nonce = headers.get("x-nonce")
        signature = headers.get("x-signature")
        if not terminal_id or not timestamp or not nonce or not signature:
            raise AuthError("MISSING_AUTH", "X-Terminal-Id, X-Timestamp, X-Nonce and X-Signature are required")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12 or not NONCE_RE.fullmatch(nonce):
            raise AuthError("MISSING_AUTH", "X-Timestamp must be Unix seconds and X-Nonce 16-64 lowercase hex")
        return terminal_id

    def verify(self, terminal_id, method, target, headers, body, known, skip_window=False):
        """(the authenticated caller, the time its nonce is to be stored under), or AuthError.
        Everything but the nonce's own check, which tools/gateway/nonce_lane.py makes. `headers`: a
        lower-cased mapping that `terminal_id(headers)` accepted (it returned `terminal_id`);
        `known`: `terminal(terminal_id)`.

        Unknown, revoked and badly signed terminals get one answer, unsigned (UNAUTHORIZED): nobody
        can tell from it which terminal ids exist. Only a request whose signature verifies gets a
        signed refusal (STALE_TIMESTAMP, and NONCE_REUSED later), which only the real terminal can check.
        """
        timestamp, nonce = headers["x-timestamp"], headers["x-nonce"]
        secret, revoked = known if known is not None else (UNKNOWN_SECRET, True)
        # verified even for an unknown or revoked id, so the answer takes about as long either way
        good = verify_request(secret, method, target, timestamp, nonce, body, headers["x-signature"])
        if revoked or not good:
            raise AuthError("UNAUTHORIZED", UNAUTHORIZED_MESSAGE,
                            reason="unknown terminal" if known is None else
                            "revoked terminal" if revoked else "bad signature")
        # From here on the request is the terminal's own (perhaps replayed): errors are signed.
        now = self.clock()
        window = self.time_window if skip_window else self.window
        if abs(int(timestamp) - now) > window:
            raise AuthError("STALE_TIMESTAMP", "X-Timestamp is more than %d s from the gateway's clock" % window,
                            secret, {"time": int(now)})
        if int(timestamp) < self.nonce_floor:
            # the nonce log is younger than this request (restored or lost): it cannot tell a replay
            raise AuthError("STALE_TIMESTAMP", "X-Timestamp is older than the gateway's nonce log; sign it anew",
                            secret, {"time": int(now)})
        # nonces of /v1/time (wider window) are kept for that window: a replay within it is refused
        seen_at = now + (2 * self.time_window - self.nonce_ttl if skip_window else 0)
        return Caller(terminal_id, secret, nonce), seen_at


def nonce_reused(caller):
    return AuthError("NONCE_REUSED", "this nonce was already used", caller.secret)
