"""Terminal <-> gateway message authentication (docs/protocol.md), shared by both ends.

Runs on MicroPython 1.24+ (only `hashlib.sha256` and `binascii`; HMAC is written out here because
stock MicroPython has no `hmac`) and on CPython, where the gateway imports it.

    request:  X-Signature = hex HMAC-SHA256(secret,
                  METHOD "\\n" TARGET "\\n" TIMESTAMP "\\n" NONCE "\\n" hex(sha256(body)))
    response: X-Signature = hex HMAC-SHA256(secret,
                  STATUS "\\n" TARGET "\\n" REQUEST_NONCE "\\n" TIMESTAMP "\\n" hex(sha256(body)))

TARGET is the request target exactly as sent: path plus "?" and query string when there is one.
The secret is the provisioned text (64 hex characters) used as ASCII bytes.
"""
import binascii
import hashlib

try:
    from micropython import const
except ImportError:  # CPython (the gateway)
    def const(x):
        return x

_BLOCK = const(64)
# MicroPython on the ESP32 counts seconds from 2000-01-01; the protocol speaks Unix seconds.
EPOCH_2000 = const(946684800)
NONCE_MIN = const(16)
NONCE_MAX = const(64)
MAX_SKEW = const(300)  # seconds either side of the gateway's clock

H_TERMINAL = "X-Terminal-Id"
H_TIMESTAMP = "X-Timestamp"
H_NONCE = "X-Nonce"
H_SIGNATURE = "X-Signature"

_HEX = b"0123456789abcdef"


def _bytes(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def sha256_hex(data):
    return binascii.hexlify(hashlib.sha256(_bytes(data)).digest()).decode()


def hmac_sha256(key, message):
    """RFC 2104 HMAC with SHA-256 (raw 32-byte digest)."""
    key = _bytes(key)
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    inner = bytearray(_BLOCK)
    outer = bytearray(_BLOCK)
    for i in range(_BLOCK):
        k = key[i] if i < len(key) else 0
        inner[i] = k ^ 0x36
        outer[i] = k ^ 0x5C
    h = hashlib.sha256(inner)
    h.update(_bytes(message))
    inner_digest = h.digest()
    h = hashlib.sha256(outer)
    h.update(inner_digest)
    return h.digest()


def hmac_hex(key, message):
    return binascii.hexlify(hmac_sha256(key, message)).decode()


def equal(a, b):
    """Constant-time comparison of two strings or byte strings."""
    a = _bytes(a)
    b = _bytes(b)
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def request_string(method, target, timestamp, nonce, body):
    return "%s\n%s\n%s\n%s\n%s" % (method, target, timestamp, nonce, sha256_hex(body or b""))


def response_string(status, target, nonce, timestamp, body):
    return "%s\n%s\n%s\n%s\n%s" % (status, target, nonce, timestamp, sha256_hex(body or b""))


def sign_request(secret, method, target, timestamp, nonce, body):
    return hmac_hex(secret, request_string(method, target, timestamp, nonce, body))


def sign_response(secret, status, target, nonce, timestamp, body):
    return hmac_hex(secret, response_string(status, target, nonce, timestamp, body))


def verify_request(secret, method, target, timestamp, nonce, body, signature):
    if not signature:
        return False
    return equal(sign_request(secret, method, target, timestamp, nonce, body), signature.lower())


def verify_response(secret, status, target, nonce, timestamp, body, signature):
    """True only for a response signed with `secret` that answers the request with `nonce`."""
    if not signature or not timestamp:
        return False
    return equal(sign_response(secret, status, target, nonce, timestamp, body), signature.lower())


def valid_nonce(nonce):
    """16-64 lowercase hex characters (no `re`: MicroPython's lacks counted repeats)."""
    if not isinstance(nonce, str) or not NONCE_MIN <= len(nonce) <= NONCE_MAX:
        return False
    for ch in nonce.encode():
        if ch not in _HEX:
            return False
    return True


def new_nonce(nbytes=16):
    """A fresh random nonce: 2 * nbytes lowercase hex characters."""
    try:
        import os
        raw = os.urandom(nbytes)
    except (ImportError, AttributeError, NotImplementedError):
        import random  # builds without os.urandom (the WebAssembly port)
        raw = bytes(random.getrandbits(8) for _ in range(nbytes))
    return binascii.hexlify(raw).decode()


def request_headers(terminal_id, secret, method, target, body, timestamp, nonce):
    """Auth headers for one request. `timestamp`: Unix seconds (int or str)."""
    timestamp = str(timestamp)
    return {
        H_TERMINAL: terminal_id,
        H_TIMESTAMP: timestamp,
        H_NONCE: nonce,
        H_SIGNATURE: sign_request(secret, method, target, timestamp, nonce, body),
    }


def header(headers, name):
    """Case-insensitive header lookup in a dict (HTTP header names are case-insensitive)."""
    value = headers.get(name)
    if value is not None:
        return value
    low = name.lower()
    for key in headers:
        if key.lower() == low:
            return headers[key]
    return None


def check_response(secret, status, target, nonce, headers, body):
    """Verify a gateway response from its status, headers dict and raw body bytes."""
    return verify_response(secret, status, target, nonce, header(headers, H_TIMESTAMP), body,
                           header(headers, H_SIGNATURE))
