"""The terminal's configuration: /config.json read and validated once, at boot.

`load(path)` returns a `Config` or raises `ConfigError` whose `problems` list says, in words a
technician can act on, every field that is missing or wrong (not only the first). The application
shows those on the error screen and waits; it never crash-loops on a bad config. The schema is
documented in docs/firmware.md (the technician tooling writes the file from it).
"""
import json

from firmware.sale import money

CONFIG_PATH = "/config.json"

KEY_NAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
             "ok", "cancel", "clear", "back", "menu", "none")
DEFAULT_LAYOUT = ["123A", "456B", "789C", "*0#D"]
DEFAULT_KEYS = {"A": "menu", "B": "back", "C": "clear", "D": "cancel", "*": "cancel", "#": "ok"}
MAX_AMOUNT_LIMIT = 1000000000  # below 2**30: amounts stay MicroPython small ints


class ConfigError(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


class Config:
    """Validated settings as attributes (see docs/firmware.md for each one)."""

    def __init__(self, raw):
        self.raw = raw


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_pin(v):
    return _is_int(v) and 0 <= v <= 48


class _Checker:
    def __init__(self, raw):
        self.raw = raw
        self.problems = []

    def bad(self, field, why):
        self.problems.append("%s: %s" % (field, why))

    def section(self, name, required=True):
        value = self.raw.get(name)
        if value is None:
            if required:
                self.bad(name, "missing")
            return {}
        if not isinstance(value, dict):
            self.bad(name, "must be an object")
            return {}
        return value

    def text(self, obj, key, field, required=True, max_len=256, default=None):
        value = obj.get(key)
        if value is None:
            if required:
                self.bad(field, "missing")
            return default
        if not isinstance(value, str) or not value:
            self.bad(field, "must be non-empty text")
            return default
        if len(value) > max_len:
            self.bad(field, "longer than %d characters" % max_len)
            return default
        return value

    def integer(self, obj, key, field, lo, hi, default=None, required=False):
        value = obj.get(key)
        if value is None:
            if required:
                self.bad(field, "missing")
            return default
        if not _is_int(value) or not lo <= value <= hi:
            self.bad(field, "must be a whole number from %d to %d" % (lo, hi))
            return default
        return value

    def pin(self, obj, key, field, required=False):
        value = obj.get(key)
        if value is None:
            if required:
                self.bad(field, "missing")
            return None
        if not _is_pin(value):
            self.bad(field, "must be a GPIO number from 0 to 48")
            return None
        return value


_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _hex(text):
    for ch in text:
        if ch not in "0123456789abcdef":
            return False
    return True


def url_host(url):
    """The host of "scheme://host[:port][/path]" (an IPv6 address without its brackets); None when
    there is none or the URL carries a user name or password (which would hide the real host)."""
    rest = url.split("://", 1)[1]
    for stop in "/?#":
        cut = rest.find(stop)
        if cut >= 0:
            rest = rest[:cut]
    if "@" in rest:
        return None
    if rest.startswith("["):
        end = rest.find("]")
        return rest[1:end] if end > 1 else None
    host = rest.split(":", 1)[0]
    return host or None


def is_loopback(host):
    """127.0.0.0/8, localhost or ::1: this machine."""
    if host is None:
        return False
    host = host.lower()
    if host in ("localhost", "::1"):
        return True
    parts = host.split(".")
    if len(parts) != 4 or parts[0] != "127":
        return False
    for p in parts:
        if not p.isdigit() or len(p) > 3 or int(p) > 255:
            return False
    return True


def validate(raw):
    """Check a parsed config object; return a Config or raise ConfigError listing every problem."""
    if not isinstance(raw, dict):
        raise ConfigError(["config: must be a JSON object"])
    c = _Checker(raw)
    cfg = Config(raw)

    wifi = c.section("wifi")
    cfg.wifi_ssid = c.text(wifi, "ssid", "wifi.ssid", max_len=32)
    password = wifi.get("password", "")
    if not isinstance(password, str) or len(password) > 64:
        c.bad("wifi.password", "must be text of at most 64 characters")
        password = ""
    cfg.wifi_password = password

    gw = c.section("gateway")
    url = c.text(gw, "url", "gateway.url", max_len=200)
    cfg.gateway_url = None
    cfg.ca_cert = None
    if url is not None:
        if not (url.startswith("https://") or url.startswith("http://")):
            c.bad("gateway.url", "must start with https:// or http://")
        elif url_host(url) is None:
            c.bad("gateway.url", "must name a host, without a user name or password")
        elif url.startswith("http://") and not is_loopback(url_host(url)):
            # Plain http carries the supervisor PIN and every answer in the clear: only to this
            # machine (the simulator's gateway), never over a network.
            c.bad("gateway.url", "plain http:// is allowed only to this machine (127.0.0.1, localhost "
                                 "or [::1], as the simulator does); use https:// with gateway.ca_cert")
        else:
            cfg.gateway_url = url.rstrip("/")
    ca = gw.get("ca_cert")
    if ca is not None:
        if not isinstance(ca, str) or "BEGIN CERTIFICATE" not in ca:
            c.bad("gateway.ca_cert", "must be a PEM certificate")
        else:
            cfg.ca_cert = ca
    if cfg.gateway_url and cfg.gateway_url.startswith("https://") and cfg.ca_cert is None:
        c.bad("gateway.ca_cert", "required for an https:// gateway (certificates are always verified)")
    cfg.timeout_s = c.integer(gw, "timeout_s", "gateway.timeout_s", 1, 60, default=10)
    cfg.long_poll_s = c.integer(gw, "long_poll_s", "gateway.long_poll_s", 0, 25, default=20)

    term = c.section("terminal")
    cfg.terminal_id = c.text(term, "id", "terminal.id", max_len=16)
    if cfg.terminal_id is not None:
        for ch in cfg.terminal_id:
            if not (ch in _ID_CHARS):
                c.bad("terminal.id", "only ASCII letters, digits, '_' and '-'")
                cfg.terminal_id = None
                break
    cfg.secret = c.text(term, "secret", "terminal.secret", max_len=128)
    if cfg.secret is not None and (len(cfg.secret) < 32 or not _hex(cfg.secret)):
        c.bad("terminal.secret", "must be the provisioned lowercase hex secret (at least 32 characters)")
        cfg.secret = None

    merchant = c.section("merchant")
    cfg.merchant_name = c.text(merchant, "name", "merchant.name", max_len=40)

    cfg.currency = c.text(raw, "currency", "currency", max_len=3)
    if cfg.currency is not None and (len(cfg.currency) != 3 or not cfg.currency.isupper()):
        c.bad("currency", "must be a 3-letter ISO 4217 code such as USD")
        cfg.currency = None
    # ISO 4217's exponent (firmware/sale/money.py) unless the config overrides it; the override is
    # registered with money so every screen formats amounts the same way.
    exp = raw.get("currency_exponent")
    if exp is None:
        exp = money.exponent(cfg.currency) if cfg.currency else 2
    elif not _is_int(exp) or not 0 <= exp <= 4:
        c.bad("currency_exponent", "must be 0 to 4")
        exp = None
    elif cfg.currency:
        money.define(cfg.currency, exp)
    cfg.currency_exponent = exp

    amount = c.section("amount", required=False)
    cfg.amount_min = c.integer(amount, "min", "amount.min", 1, MAX_AMOUNT_LIMIT, default=1)
    cfg.amount_max = c.integer(amount, "max", "amount.max", 1, MAX_AMOUNT_LIMIT, default=1000000)
    if cfg.amount_min and cfg.amount_max and cfg.amount_min > cfg.amount_max:
        c.bad("amount", "min is larger than max")

    cfg.display = c.section("display", required=False)

    keypad = c.section("keypad", required=False)
    cfg.keypad_rows = _pins(c, keypad, "rows", [13, 12, 14, 27])
    cfg.keypad_cols = _pins(c, keypad, "cols", [26, 25, 33, 32])
    layout = keypad.get("layout", DEFAULT_LAYOUT)
    if (not isinstance(layout, list) or len(layout) != len(cfg.keypad_rows or ())
            or [r for r in layout if not isinstance(r, str) or len(r) != len(cfg.keypad_cols or ())]):
        c.bad("keypad.layout", "must be one string per row, one character per column")
        layout = None
    cfg.keypad_layout = layout
    keys = dict(DEFAULT_KEYS)
    extra = keypad.get("keys", {})
    if not isinstance(extra, dict):
        c.bad("keypad.keys", "must be an object mapping a layout character to an action")
        extra = {}
    for label in extra:
        if extra[label] not in KEY_NAMES:
            c.bad("keypad.keys." + str(label), "must be one of " + ", ".join(KEY_NAMES))
        else:
            keys[label] = extra[label]
    cfg.keypad_keys = keys
    cfg.debounce_ms = c.integer(keypad, "debounce_ms", "keypad.debounce_ms", 5, 200, default=30)

    cfg.buzzer_pin = c.pin(raw, "buzzer_pin", "buzzer_pin")
    cfg.led_pin = c.pin(raw, "led_pin", "led_pin")
    cfg.safe_mode_pin = c.pin(raw, "safe_mode_pin", "safe_mode_pin")

    sup = c.section("supervisor", required=False)
    cfg.refund_window_s = c.integer(sup, "refund_window_s", "supervisor.refund_window_s", 60, 30 * 86400,
                                    default=86400)
    cfg.pin_length = c.integer(sup, "pin_length", "supervisor.pin_length", 4, 12, default=4)

    cfg.result_timeout_s = c.integer(raw, "result_timeout_s", "result_timeout_s", 0, 3600, default=0)
    cfg.watchdog_ms = c.integer(raw, "watchdog_ms", "watchdog_ms", 0, 60000, default=8000)
    if cfg.watchdog_ms and cfg.watchdog_ms < 2000:
        c.bad("watchdog_ms", "0 (off) or at least 2000")
    cfg.ntp_host = raw.get("ntp_host")
    if cfg.ntp_host is not None and not isinstance(cfg.ntp_host, str):
        c.bad("ntp_host", "must be a host name")
        cfg.ntp_host = None

    if c.problems:
        raise ConfigError(c.problems)
    return cfg


def _pins(c, obj, key, default):
    value = obj.get(key, default)
    if not isinstance(value, list) or not 1 <= len(value) <= 8 or [p for p in value if not _is_pin(p)]:
        c.bad("keypad." + key, "must be a list of 1 to 8 GPIO numbers")
        return None
    return value


def load(path=CONFIG_PATH):
    """Read and validate the config file. Raises ConfigError (never anything else)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError(["config: %s not found (provision this terminal)" % path])
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError(["config: %s is not valid JSON" % path])
    return validate(raw)
