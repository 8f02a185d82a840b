"""Which Antom a set of access settings talks to (issue 12.13), and whether they may be used.

`environment(access)` and `check(access)` take the Antom access settings as a mapping with the
keys of the config's [antom] section (base_url, path_prefix, client_id, public_key_file, sandbox):
the gateway calls them for its own [antom] section, and per merchant where merchants bring their
own Antom access.

- "local-sandbox": the Antom host is this machine (tools/sandbox, `make demo`, the tests).
- "antom-sandbox": Antom's own sandbox (a SANDBOX_ client id, or the /ams/sandbox/ path).
- "production": anything else.

Settings that point at a sandbox, or still carry the local sandbox's defaults (the demo's client
id, host or public key file), are refused unless they say `sandbox = true`: a production install
that forgot a setting fails at start-up instead of taking payments against nothing.
"""
import ipaddress
from urllib.parse import urlparse

from tools.gateway.config import ConfigError

LOCAL_SANDBOX = "local-sandbox"
ANTOM_SANDBOX = "antom-sandbox"
PRODUCTION = "production"

# the local sandbox's defaults (tools/gateway/config.py DEFAULTS["antom"]): never production values
SANDBOX_DEFAULTS = {
    "base_url": "http://127.0.0.1:8600",
    "client_id": "SANDBOX_DEMO",
    "public_key_file": "var/sandbox/sandbox_public.pem",
}


class EnvironmentRefused(ConfigError):
    """Access settings that point at a sandbox without asking for one."""


def _loopback(host):
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _get(access, key):
    try:
        return access[key]   # a dict, or a database row of an Antom account
    except (KeyError, IndexError):
        return None


def environment(access):
    """"local-sandbox", "antom-sandbox" or "production", from the host, client id and path."""
    if _loopback(urlparse(_get(access, "base_url") or "").hostname):
        return LOCAL_SANDBOX
    if (_get(access, "client_id") or "").upper().startswith("SANDBOX_") \
            or "/sandbox/" in (_get(access, "path_prefix") or "") + "/":
        return ANTOM_SANDBOX
    return PRODUCTION


def refusal(access, where="antom"):
    """Why these settings may not be used (a sentence naming the keys), or None."""
    if _get(access, "sandbox"):
        return None
    defaults = [key for key, value in SANDBOX_DEFAULTS.items() if _get(access, key) == value]
    env = environment(access)
    if not defaults and env == PRODUCTION:
        return None
    if defaults:
        what = "%s still %s the local sandbox's default%s" % (
            ", ".join("%s.%s" % (where, key) for key in defaults), "is" if len(defaults) == 1 else "are",
            "" if len(defaults) == 1 else "s")
    else:
        what = "%s.base_url / client_id point at %s" % (where, "a sandbox on this machine" if env == LOCAL_SANDBOX
                                                         else "Antom's sandbox")
    return ("%s: set [%s] sandbox = true to run against a sandbox (make demo and the tests do), or configure "
            "Antom (docs/gateway.md, Production)" % (what, where))


def check(access, where="antom"):
    """EnvironmentRefused when `refusal` has a reason; else the environment's name."""
    reason = refusal(access, where)
    if reason:
        raise EnvironmentRefused(reason)
    return environment(access)
