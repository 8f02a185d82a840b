"""Gateway configuration: defaults (the local sandbox), then a TOML file, then environment variables.

The defaults make `python -m tools.gateway serve` talk to a sandbox started with
`python -m tools.sandbox serve --port 8600 --data var/sandbox` without editing anything.

TOML layout (every key optional):

    [gateway]     host, port, db (a SQLite path, sqlite:///path or postgresql://...), notify_url,
                  notify_path, max_amount, currencies, code_lifetime, max_wait, timestamp_window,
                  nonce_ttl, max_connections, header_timeout, body_timeout, rate_limit, rate_window
    [antom]       sandbox, base_url, path_prefix, client_id, private_key_file, public_key_file, timeout,
                  key_version
    [merchant]    id, name, mcc, store_id, store_name, store_mcc, settlement_currency
    [reconciler]  tick, first_inquiry_after, inquiry_interval, expiry_grace, retry_interval,
                  probe_interval, unknown_pay_inquiries, inquiry_cap, inquiry_backoff_max,
                  lease_seconds

Environment variables override the file: GATEWAY_HOST, GATEWAY_PORT, GATEWAY_DB,
GATEWAY_NOTIFY_URL, ANTOM_BASE_URL, ANTOM_PATH_PREFIX, ANTOM_CLIENT_ID, ANTOM_PRIVATE_KEY_FILE,
ANTOM_PUBLIC_KEY_FILE, ANTOM_TIMEOUT, ANTOM_SANDBOX (1/true/yes). GATEWAY_CONFIG names the TOML file (or pass --config).
"""
import copy
import os
import tomllib

from tools.gateway import dburl
from tools.gateway.currencies import DEFAULT_ACCEPTED, EXPONENTS

DEFAULTS = {
    "gateway": {
        "host": "127.0.0.1",
        "port": 8700,
        "db": "var/gateway/gateway.sqlite3",
        # the key that encrypts terminal secrets in the database: kept apart from it (or $GATEWAY_KEK)
        "kek_file": "var/gateway-kek/terminal-secrets.key",
        "notify_url": "",          # empty: http://<host>:<port><notify_path> of this gateway
        "notify_path": "/antom/notify",
        "max_amount": 10_000_000,  # minor units
        "currencies": list(DEFAULT_ACCEPTED),
        "code_lifetime": 900,      # seconds; sent as paymentExpiryTime
        "max_wait": 25,            # long-poll cap, seconds
        "timestamp_window": 300,   # request timestamps within +/- this many seconds
        "nonce_ttl": 900,          # nonces remembered this long (> 2 x window)
        "notify_time_tolerance": 600,  # a notification's request-time within this many s of the clock
        "time_window": 86400,      # GET /v1/time accepts timestamps this far off (its nonces kept 2x)
        "cancel_inquiry_timeout": 3.0,
        "pin_lock_after": 5,
        "pin_lock_seconds": 300,   # the first lockout; each next one twice as long
        "pin_lock_max_seconds": 86400,
        # limits (12.11, docs/gateway.md "Security"): what one client may hold or send
        "max_connections": 1000,   # open connections; past it the one idle longest is closed
        "header_timeout": 10.0,    # a request's headers must arrive within this many seconds
        "body_timeout": 10.0,      # and its body within this many more (else 408)
        "rate_limit": 100,         # signed requests per terminal in any rate_window (0: no limit)
        "rate_window": 10.0,       # seconds; past the limit a signed 429 with Retry-After
    },
    "antom": {
        # true: these settings mean a sandbox (the local one, or Antom's SANDBOX_ client ids); without
        # it the gateway refuses a sandbox and the defaults below (tools/gateway/environment.py)
        "sandbox": False,
        "base_url": "http://127.0.0.1:8600",
        "path_prefix": "/ams/api",
        "client_id": "SANDBOX_DEMO",
        "private_key_file": "var/gateway/merchant_private.pem",
        "public_key_file": "var/sandbox/sandbox_public.pem",
        "timeout": 10.0,
        "key_version": "1",
    },
    "merchant": {
        "id": "M0001",
        "name": "Demo Cafe",
        "mcc": "5812",
        "store_id": "S0001",
        "store_name": "Demo Cafe Main Street",
        "store_mcc": "5812",
        "settlement_currency": "",  # ISO 4217 code asked for in settlementStrategy; "" = the contract's
    },
    "reconciler": {
        "tick": 0.5,                 # how often due work is looked for
        "first_inquiry_after": 5.0,  # no notification this long after the code -> inquire
        "inquiry_interval": 3.0,
        "expiry_grace": 2.0,         # after expires_at, before the gateway expires the payment
        "retry_interval": 3.0,       # unknown cancels/refunds are retried this often
        "probe_interval": 30.0,      # upstream reachability probe when idle
        "unknown_pay_inquiries": 10,  # an unknown pay (no code) is cancelled after this many inquiries
        "inquiry_cap": 20,           # a shown code: this many inquiries every inquiry_interval, then
        "inquiry_backoff_max": 120.0,  # doubling intervals up to this
        "lease_seconds": 120.0,      # how long one owner holds a payment's or refund's Antom work
    },
}

ENV = {
    "GATEWAY_HOST": ("gateway", "host", str),
    "GATEWAY_PORT": ("gateway", "port", int),
    "GATEWAY_DB": ("gateway", "db", str),
    "GATEWAY_NOTIFY_URL": ("gateway", "notify_url", str),
    "ANTOM_BASE_URL": ("antom", "base_url", str),
    "ANTOM_PATH_PREFIX": ("antom", "path_prefix", str),
    "ANTOM_CLIENT_ID": ("antom", "client_id", str),
    "ANTOM_PRIVATE_KEY_FILE": ("antom", "private_key_file", str),
    "ANTOM_PUBLIC_KEY_FILE": ("antom", "public_key_file", str),
    "ANTOM_TIMEOUT": ("antom", "timeout", float),
    "ANTOM_SANDBOX": ("antom", "sandbox", lambda text: _flag("ANTOM_SANDBOX", text)),
}


class ConfigError(ValueError):
    pass


def _flag(name, text):
    value = text.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValueError("%s must be 1/true/yes or 0/false/no, not %r" % (name, text))


def load(path=None, environ=None, overrides=None):
    """The merged configuration as a dict of sections."""
    environ = os.environ if environ is None else environ
    cfg = copy.deepcopy(DEFAULTS)
    path = path or environ.get("GATEWAY_CONFIG")
    if path:
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError("cannot read config %s: %s" % (path, e)) from e
        _merge(cfg, data, path)
    for name, (section, key, kind) in ENV.items():
        if environ.get(name):
            try:
                cfg[section][key] = kind(environ[name])
            except ValueError as e:
                raise ConfigError("%s: %s" % (name, e)) from e
    for (section, key), value in (overrides or {}).items():
        cfg[section][key] = value
    _check(cfg)
    return cfg


def _merge(cfg, data, path):
    for section, values in data.items():
        if section not in cfg or not isinstance(values, dict):
            raise ConfigError("%s: unknown section [%s]" % (path, section))
        for key, value in values.items():
            if key not in cfg[section]:
                raise ConfigError("%s: unknown key %s.%s" % (path, section, key))
            default = cfg[section][key]
            if isinstance(default, float) and isinstance(value, int):
                value = float(value)
            if type(value) is not type(default):
                raise ConfigError("%s: %s.%s must be %s" % (path, section, key, type(default).__name__))
            cfg[section][key] = value


def _check(cfg):
    try:
        dburl.parse(cfg["gateway"]["db"])
    except dburl.DbUrlError as e:
        raise ConfigError(str(e)) from e
    for code in cfg["gateway"]["currencies"]:
        if code not in EXPONENTS:
            raise ConfigError("unknown currency %r (tools/antom/currencies.py lists the known ones)" % code)
    settle = cfg["merchant"]["settlement_currency"]
    if settle and settle not in EXPONENTS:
        raise ConfigError("merchant.settlement_currency %r is not an ISO 4217 code "
                          "(tools/antom/currencies.py lists the known ones)" % settle)
    prefix = cfg["antom"]["path_prefix"]
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ConfigError("antom.path_prefix must start with '/' and not end with one: %r" % prefix)
    if not cfg["gateway"]["notify_path"].startswith("/"):
        raise ConfigError("gateway.notify_path must start with '/'")
    rc = cfg["reconciler"]
    if rc["lease_seconds"] < 4 * cfg["antom"]["timeout"]:
        # a cancel pass makes up to four Antom calls under one lease
        raise ConfigError("reconciler.lease_seconds must be at least 4 x antom.timeout (%.0f s)"
                          % (4 * cfg["antom"]["timeout"]))
    g = cfg["gateway"]
    if g["max_connections"] < 1 or g["header_timeout"] <= 0 or g["body_timeout"] <= 0 or g["rate_limit"] < 0 \
            or g["rate_window"] <= 0:
        raise ConfigError("gateway.max_connections must be at least 1, header_timeout, body_timeout and "
                          "rate_window above 0, rate_limit 0 (no limit) or more")
    if rc["unknown_pay_inquiries"] < 1 or rc["inquiry_cap"] < 1:
        raise ConfigError("reconciler.unknown_pay_inquiries and inquiry_cap must be at least 1")


def notify_url(cfg, port=None):
    """Where Antom should post notifications."""
    if cfg["gateway"]["notify_url"]:
        return cfg["gateway"]["notify_url"]
    host = cfg["gateway"]["host"]
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return "http://%s:%d%s" % (host, port or cfg["gateway"]["port"], cfg["gateway"]["notify_path"])
