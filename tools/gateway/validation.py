"""Terminal request bodies: parse and check, turning every problem into a stable 4xx code."""
import json
import re

from tools.gateway.service import ServiceError

ID_RE = re.compile(r"[A-Za-z0-9._-]{1,40}")
MAX_BODY = 4096


# C0 and C1 controls, DEL, lone surrogates, and the bidirectional embeddings, overrides and isolates
# (U+202A-202E, U+2066-2069) that can make a receipt or a log line read other than it is.
def forbidden_char(ch):
    o = ord(ch)
    return o < 32 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069


def visible(value):
    """`value` for an operator's terminal or log: forbidden characters shown as \\uXXXX escapes."""
    if value is None:
        return ""
    text = str(value)
    if not any(forbidden_char(ch) for ch in text):
        return text
    return "".join("\\u%04x" % ord(ch) if forbidden_char(ch) else ch for ch in text)


def bad(code, message, status=400):
    return ServiceError(status, code, message)


def parse_json(body):
    """The body as a JSON object ({} when empty)."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("INVALID_JSON", "the body is not valid UTF-8 JSON")
    if not isinstance(data, dict):
        raise bad("INVALID_JSON", "the body must be a JSON object")
    return data


def ident(data, name):
    value = data.get(name)
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise bad("INVALID_FIELD", "%s must be 1-40 characters of A-Z a-z 0-9 . _ -" % name)
    return value


def path_ident(value, name):
    if not ID_RE.fullmatch(value):
        raise bad("NOT_FOUND", "no such %s" % name, 404)
    return value


def amount(data, maximum, name="amount"):
    value = data.get(name)
    if type(value) is not int:  # bool is an int subclass, floats are refused
        raise bad("INVALID_AMOUNT", "%s must be an integer number of minor units" % name)
    if value <= 0 or value > maximum:
        raise bad("INVALID_AMOUNT", "%s must be between 1 and %d minor units" % (name, maximum))
    return value


def currency(data, accepted):
    value = data.get("currency")
    if not isinstance(value, str):
        raise bad("INVALID_FIELD", "currency must be an ISO 4217 code such as USD")
    if value not in accepted:
        raise bad("UNKNOWN_CURRENCY", "currency %r is not accepted here" % value[:8])
    return value


def text(data, name, limit, default=""):
    value = data.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > limit:
        raise bad("INVALID_FIELD", "%s must be a string of at most %d characters" % (name, limit))
    if any(forbidden_char(ch) for ch in value):
        raise bad("INVALID_FIELD", "%s must not contain control or bidirectional-override characters" % name)
    return value


def optional_int(data, name, low, high):
    value = data.get(name)
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        raise bad("INVALID_FIELD", "%s must be an integer between %d and %d or null" % (name, low, high))
    return value


def optional_text(data, name, limit):
    value = data.get(name)
    if value is None:
        return None
    return text(data, name, limit)


def wait_seconds(query, maximum):
    raw = query.get("wait")
    if raw is None or raw == "":
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise bad("INVALID_FIELD", "wait must be a whole number of seconds (0-%d)" % maximum)
    return min(int(raw), maximum)


def pin(data):
    from tools.gateway.credentials import PIN_MAX, PIN_MIN
    value = data.get("pin")
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or not PIN_MIN <= len(value) <= PIN_MAX:
        raise bad("INVALID_FIELD", "pin must be %d-%d digits as a string" % (PIN_MIN, PIN_MAX))
    return value
