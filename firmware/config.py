"""The terminal's configuration: /config.json read and validated once, at boot.

`load(path)` returns a `Config` or raises `ConfigError` whose `problems` list says, in words a
technician can act on, every field that is missing or wrong (not only the first). The application
shows those on the error screen and waits; it never crash-loops on a bad config. The schema is
documented in docs/firmware.md (the technician tooling writes the file from it).
"""
import json

from firmware.board import safemode
from firmware.board import wiring
from firmware.sale import money

CONFIG_PATH = "/config.json"

KEY_NAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
             "ok", "cancel", "clear", "back", "menu", "none")
DEFAULT_LAYOUT = ["123A", "456B", "789C", "*0#D"]
DEFAULT_KEYS = {"A": "menu", "B": "back", "C": "clear", "D": "cancel", "*": "cancel", "#": "ok"}
LIVENESS_FEED_MS = 500  # how often firmware/loop.py looks at the tasks and feeds the watchdog
MAX_AMOUNT_LIMIT = 1000000000  # below 2**30: amounts stay MicroPython small ints


class ConfigError(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


class Config:
    """Validated settings as attributes (see docs/firmware.md for each one). No methods: a
    Config keeps nothing of this module alive, so firmware/app.py can drop the checker after
    boot (lib/late.py)."""


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


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
    cfg = Config()

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

    several = raw.get("currencies") is not None
    cfg.currency = c.text(raw, "currency", "currency", max_len=3, required=not several)
    if cfg.currency is not None and not _is_code(cfg.currency):
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
    # The currencies a sale can be in: `currencies` (the first is the default), else the one above.
    if several:
        cfg.currencies = _currencies(c, raw["currencies"], cfg.amount_min or 1, cfg.amount_max or 1000000)
        if cfg.currencies:
            first = cfg.currencies[0]
            cfg.currency, cfg.currency_exponent = first["code"], first["exponent"]
            cfg.amount_min, cfg.amount_max = first["min"], first["max"]
    else:
        cfg.currencies = [{"code": cfg.currency, "exponent": exp, "min": cfg.amount_min,
                           "max": cfg.amount_max}] if cfg.currency else []

    # Board, chip, display and keypad wiring, buzzer and LED, checked per chip (firmware/board/wiring.py).
    keypad = c.section("keypad", required=False)
    wiring.validate(c, raw, cfg)
    layout = keypad.get("layout", DEFAULT_LAYOUT)
    if cfg.keypad_rows is None or cfg.keypad_cols is None:
        layout = None  # the wiring is wrong already: the layout cannot be checked against it
    elif (not isinstance(layout, list) or len(layout) != len(cfg.keypad_rows or ())
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

    # Safe mode is a keypad key held in the first second after reset (firmware/board/safemode.py).
    if raw.get("safe_mode_pin") is not None:
        c.bad("safe_mode_pin", "no longer used: safe mode is the keypad key named by safe_mode_key (GPIO0 "
                               "held at reset is the ESP32's download mode)")
    cfg.safe_mode_key = c.text(raw, "safe_mode_key", "safe_mode_key", required=False, max_len=1,
                               default=safemode.DEFAULT_KEY)
    if layout and cfg.safe_mode_key and not [r for r in layout if cfg.safe_mode_key in r]:
        if "safe_mode_key" in raw:
            c.bad("safe_mode_key", "%r is not a key of keypad.layout" % cfg.safe_mode_key)
        else:  # a keypad without D: its bottom-right key, as firmware/board/safemode.py finds it
            cfg.safe_mode_key = layout[-1][-1]

    sup = c.section("supervisor", required=False)
    cfg.refund_window_s = c.integer(sup, "refund_window_s", "supervisor.refund_window_s", 60, 30 * 86400,
                                    default=86400)
    cfg.pin_length = c.integer(sup, "pin_length", "supervisor.pin_length", 6, 12, default=6)

    cfg.result_timeout_s = c.integer(raw, "result_timeout_s", "result_timeout_s", 0, 3600, default=0)
    cfg.watchdog_ms = c.integer(raw, "watchdog_ms", "watchdog_ms", 0, 60000, default=8000)
    if cfg.watchdog_ms and cfg.watchdog_ms < 2000:
        c.bad("watchdog_ms", "0 (off) or at least 2000")
    # The loop feeds the watchdog only while every task ran within liveness_ms (firmware/loop.py):
    # the two agree when a stalled task stops the feeding before the watchdog would fire anyway.
    wd = cfg.watchdog_ms or 0
    cfg.feed_ms = LIVENESS_FEED_MS  # the loop takes it from here: it does not import the checker
    cfg.liveness_ms = c.integer(raw, "liveness_ms", "liveness_ms", 1000, 60000,
                                default=max(1000, wd // 2) if wd else 4000)
    if wd and cfg.liveness_ms and cfg.liveness_ms + LIVENESS_FEED_MS >= wd:
        c.bad("liveness_ms", "must be below watchdog_ms - %d (%d): a stalled task must stop the feeding "
                             "before the watchdog fires" % (LIVENESS_FEED_MS, wd - LIVENESS_FEED_MS))
    cfg.reboot_after_failures = c.integer(raw, "reboot_after_failures", "reboot_after_failures", 1, 1000,
                                          default=5)
    cfg.reboot_after_silent_h = c.integer(raw, "reboot_after_silent_h", "reboot_after_silent_h", 0, 720,
                                          default=12)
    _locale(c, cfg, c.section("locale", required=False))
    cfg.ntp_host = raw.get("ntp_host")
    if cfg.ntp_host is not None and not isinstance(cfg.ntp_host, str):
        c.bad("ntp_host", "must be a host name")
        cfg.ntp_host = None

    if c.problems:
        raise ConfigError(c.problems)
    return cfg


def _locale(c, cfg, loc):
    """Languages of the screens (firmware/display/texts.py) and the clock people read."""
    from firmware.display import texts
    cashier = loc.get("cashier", texts.DEFAULT_CASHIER)
    if cashier not in texts.CASHIER_LANGUAGES:
        c.bad("locale.cashier", "must be one of " + ", ".join(texts.CASHIER_LANGUAGES))
        cashier = texts.DEFAULT_CASHIER
    cfg.cashier_language = cashier
    customer = loc.get("customer", list(texts.DEFAULT_CUSTOMER))
    if isinstance(customer, str):
        customer = [customer]
    if (not isinstance(customer, list) or not 1 <= len(customer) <= texts.MAX_CUSTOMER
            or [x for x in customer if x not in texts.CUSTOMER_LANGUAGES] or len(set(customer)) != len(customer)):
        c.bad("locale.customer", "must list 1 to %d different languages of %s" % (
            texts.MAX_CUSTOMER, ", ".join(texts.CUSTOMER_LANGUAGES)))
        customer = list(texts.DEFAULT_CUSTOMER)
    cfg.customer_languages = tuple(customer)
    cfg.utc_offset_min = c.integer(loc, "utc_offset_min", "locale.utc_offset_min", -720, 840, default=0)


def _is_code(v):
    return isinstance(v, str) and len(v) == 3 and v.isalpha() and v.isupper()


def _currencies(c, value, lo, hi):
    """`currencies`: a list of "USD" or {"code", "exponent", "symbol", "min", "max"}; each is
    registered with money (exponent, and the symbol, or false/"" to show the code)."""
    if not isinstance(value, list) or not 1 <= len(value) <= 8:
        c.bad("currencies", "must be a list of 1 to 8 currencies")
        return []
    out = []
    for i, item in enumerate(value):
        field = "currencies[%d]" % i
        if isinstance(item, str):
            item = {"code": item}
        if not isinstance(item, dict) or not _is_code(item.get("code")):
            c.bad(field, "must be a 3-letter ISO 4217 code or an object with one in \"code\"")
            continue
        code = item["code"]
        if [e for e in out if e["code"] == code]:
            c.bad(field, "%s is listed twice" % code)
            continue
        exp = item.get("exponent", money.exponent(code))
        if not _is_int(exp) or not 0 <= exp <= 4:
            c.bad(field + ".exponent", "must be 0 to 4")
            continue
        symbol = item.get("symbol")
        if symbol is not None and symbol is not False and not (
                isinstance(symbol, str) and len(symbol) <= 3 and _symbol_ok(symbol)):
            c.bad(field + ".symbol", "must be up to 3 characters the fonts carry, or false to show the code")
            continue
        low = c.integer(item, "min", field + ".min", 1, MAX_AMOUNT_LIMIT, default=lo)
        high = c.integer(item, "max", field + ".max", 1, MAX_AMOUNT_LIMIT, default=hi)
        if low is None or high is None:
            continue
        if low > high:
            c.bad(field, "min is larger than max")
            continue
        money.define(code, exp)
        if symbol is not None:
            money.symbol(code, symbol or None)
        out.append({"code": code, "exponent": exp, "min": low, "max": high})
    return out


def _symbol_ok(text):
    """ASCII, or a currency sign the terminal's fonts carry (those of money.SYMBOLS)."""
    for ch in text:
        if not (" " < ch <= "~" or ch in money.FONT_SIGNS):
            return False
    return True


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
