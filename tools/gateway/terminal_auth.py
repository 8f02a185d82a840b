"""Checks a terminal's request signature, timestamp and nonce (docs/protocol.md, firmware/link/auth.py).

Terminal secrets are cached for `cache_ttl` seconds so the hot path does not hit SQLite for them;
a `terminal revoke` from the CLI (another process) therefore takes effect within that time.
Nonces go straight to SQLite (a primary-key insert is the check), so a replay is refused across
restarts too.
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
        self._last_prune = 0.0

    def terminal(self, terminal_id):
        """(secret, revoked) or None, cached briefly."""
        now = time.monotonic()
        hit = self._cache.get(terminal_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = self.store.terminal(terminal_id)
        value = None if row is None else (self.store.terminal_secret(row), row["revoked_at"] is not None)
        self._cache[terminal_id] = (now + self.cache_ttl, value)
        if len(self._cache) > 10000:
            self._cache.clear()
        return value

    def secret_for(self, terminal_id):
        known = self.terminal(terminal_id) if terminal_id else None
        return known[0] if known else None

    def forget(self, terminal_id=None):
        if terminal_id is None:
            self._cache.clear()
        else:
            self._cache.pop(terminal_id, None)

    def check(self, method, target, headers, body, skip_window=False):
        """The authenticated caller, or AuthError. `headers`: a case-insensitive mapping.

        Unknown, revoked and badly signed terminals get one answer, unsigned (UNAUTHORIZED): nobody
        can tell from it which terminal ids exist. Only a request whose signature verifies gets a
        signed refusal (STALE_TIMESTAMP, NONCE_REUSED), which only the real terminal can check.
        """
        terminal_id = headers.get("x-terminal-id")
        timestamp = headers.get("x-timestamp")
        nonce = headers.get("x-nonce")
        signature = headers.get("x-signature")
        if not terminal_id or not timestamp or not nonce or not signature:
            raise AuthError("MISSING_AUTH", "X-Terminal-Id, X-Timestamp, X-Nonce and X-Signature are required")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12 or not NONCE_RE.fullmatch(nonce):
            raise AuthError("MISSING_AUTH", "X-Timestamp must be Unix seconds and X-Nonce 16-64 lowercase hex")
        known = self.terminal(terminal_id)
        secret, revoked = known if known is not None else (UNKNOWN_SECRET, True)
        # verified even for an unknown or revoked id, so the answer takes about as long either way
        good = verify_request(secret, method, target, timestamp, nonce, body, signature)
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
        if not self.store.remember_nonce(terminal_id, nonce, seen_at):
            raise AuthError("NONCE_REUSED", "this nonce was already used", secret)
        if now - self._last_prune > 0.25:  # ~4000 expired nonces/s at most, a few ms each time
            self._last_prune = now
            self.store.forget_nonces(now - self.nonce_ttl, limit=1000)
        return Caller(terminal_id, secret, nonce)
