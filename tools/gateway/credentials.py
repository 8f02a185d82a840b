"""Terminal secrets and supervisor PINs.

The terminal secret is 32 random bytes as 64 hex characters (its ASCII text is the HMAC key, see
docs/protocol.md). A PIN is stored as a salted scrypt hash: "scrypt$n$r$p$salt_hex$hash_hex".
"""
import hashlib
import hmac
import re
import secrets

PIN_MIN, PIN_MAX = 6, 12  # 6 digits at least: with the escalating lockout, guessing takes decades
PIN_RE = re.compile(r"[0-9]{%d,%d}" % (PIN_MIN, PIN_MAX))
TERMINAL_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
# ~16 MiB and ~50 ms per check: slow enough to hurt offline guessing of a short PIN.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


def new_secret():
    return secrets.token_hex(32)


def valid_pin(pin):
    return isinstance(pin, str) and PIN_RE.fullmatch(pin) is not None


def hash_pin(pin, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P):
    if not valid_pin(pin):
        raise ValueError("a PIN is %d to %d digits" % (PIN_MIN, PIN_MAX))
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (n, r, p, salt.hex(), digest.hex())


def check_pin(pin, stored):
    """True when `pin` matches the stored hash. A missing hash matches nothing."""
    if not stored or not valid_pin(pin):
        return False
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
                                dklen=len(digest_hex) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)
