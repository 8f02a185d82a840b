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


class AuthError(Exception):
    def __init__(self, code, message, secret=None, extra=None):
        super().__init__(message)
        self.code = code
        self.message = message
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
    def __init__(self, store, window=300, nonce_ttl=900, cache_ttl=1.0, clock=time.time):
        self.store = store
        self.window = window
        self.nonce_ttl = nonce_ttl
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
        value = None if row is None else (row["secret"], row["revoked_at"] is not None)
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
        """The authenticated caller, or AuthError. `headers`: a case-insensitive mapping."""
        terminal_id = headers.get("x-terminal-id")
        timestamp = headers.get("x-timestamp")
        nonce = headers.get("x-nonce")
        signature = headers.get("x-signature")
        if not terminal_id:
            raise AuthError("MISSING_AUTH", "X-Terminal-Id is missing")
        known = self.terminal(terminal_id)
        if known is None:
            raise AuthError("UNKNOWN_TERMINAL", "no such terminal")
        secret, revoked = known
        if not timestamp or not nonce or not signature:
            raise AuthError("MISSING_AUTH", "X-Timestamp, X-Nonce and X-Signature are required")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12 or not NONCE_RE.fullmatch(nonce):
            raise AuthError("MISSING_AUTH", "X-Timestamp must be Unix seconds and X-Nonce 16-64 lowercase hex")
        if revoked:
            raise AuthError("TERMINAL_REVOKED", "this terminal has been revoked")
        if not verify_request(secret, method, target, timestamp, nonce, body, signature):
            raise AuthError("BAD_SIGNATURE", "the request signature does not verify")
        # From here on the request is the terminal's own (perhaps replayed): errors are signed.
        now = self.clock()
        if not skip_window and abs(int(timestamp) - now) > self.window:
            raise AuthError("STALE_TIMESTAMP", "X-Timestamp is more than %d s from the gateway's clock" % self.window,
                            secret, {"time": int(now)})
        if not self.store.remember_nonce(terminal_id, nonce, now):
            raise AuthError("NONCE_REUSED", "this nonce was already used", secret)
        if now - self._last_prune > 0.25:  # ~4000 expired nonces/s at most, a few ms each time
            self._last_prune = now
            self.store.forget_nonces(now - self.nonce_ttl, limit=1000)
        return Caller(terminal_id, secret, nonce)
