"""provision: build /config.json, check it, write it to the terminal atomically, read it back.

Order matters so that nothing is spent or written for a config that cannot work:
1. assemble the config (base JSON file + command-line options + a panel preset);
2. validate it with the firmware's own validator (firmware/config.py), with a placeholder secret
   when the terminal is still to be created;
3. `--create`: register the terminal with the gateway's CLI (`python -m tools.gateway terminal add
   ID --json`, the PIN on its stdin), which prints the secret once; otherwise take --terminal-id and --secret;
4. check the credentials with a signed `GET /v1/health` to the gateway (the terminal's protocol,
   signed and verified with firmware/link/auth.py), unless --no-gateway-check;
5. write the file crash-safely (temp name, hash check, rename), read it back and compare byte for
   byte, and let the device's own validator load it when the firmware is deployed.
The secret is never printed unless --show-secret is given.
"""
import json
import os
import subprocess
import sys
import time

from tools.terminal import errors
from tools.terminal.errors import TerminalError

CONFIG_PATH = "/config.json"
_PLACEHOLDER_SECRET = "0" * 64



def presets():
    """The board presets `--panel NAME` writes: firmware/board/boards.py, the table the firmware
    validates against and docs/technician.md's wiring tables are generated from."""
    from firmware.board import boards
    return boards.BOARDS


def _validator():
    # The firmware's own rules: what the device will accept at boot (never a copy of them).
    from firmware import config as firmware_config
    return firmware_config


def validate(cfg):
    fc = _validator()
    try:
        fc.validate(cfg)
    except fc.ConfigError as e:
        raise TerminalError("The config is not valid: %s." % "; ".join(e.problems), errors.BAD_CONFIG)


def assemble(args):
    """The config dict from --config-file and the options (no credentials yet)."""
    cfg = {}
    if args.config_file:
        try:
            with open(args.config_file, encoding="utf-8") as f:
                cfg = json.load(f)
        except OSError as e:
            raise TerminalError("Cannot read %s: %s." % (args.config_file, e.strerror), errors.BAD_CONFIG)
        except ValueError as e:
            raise TerminalError("%s is not valid JSON (%s)." % (args.config_file, e), errors.BAD_CONFIG)
        if not isinstance(cfg, dict):
            raise TerminalError("%s must hold a JSON object." % args.config_file, errors.BAD_CONFIG)

    def section(name):
        value = cfg.setdefault(name, {})
        if not isinstance(value, dict):
            raise TerminalError("The config is not valid: %s: must be an object." % name, errors.BAD_CONFIG)
        return value

    if args.wifi_ssid is not None:
        section("wifi")["ssid"] = args.wifi_ssid
    if args.wifi_password is not None:
        section("wifi")["password"] = args.wifi_password
    if args.gateway_url is not None:
        section("gateway")["url"] = args.gateway_url
    if args.ca_cert:
        try:
            with open(args.ca_cert, encoding="ascii") as f:
                section("gateway")["ca_cert"] = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise TerminalError("Cannot read the CA certificate %s: %s." % (args.ca_cert, e), errors.BAD_CONFIG)
    if args.merchant_name is not None:
        section("merchant")["name"] = args.merchant_name
    if args.currency is not None:
        cfg["currency"] = args.currency
    if args.panel:
        boards = presets()
        if args.panel not in boards:
            raise TerminalError("Unknown panel %r: use one of %s." % (args.panel, ", ".join(sorted(boards))),
                                errors.BAD_CONFIG)
        preset = boards[args.panel]
        cfg["board"] = args.panel
        cfg["chip"] = preset["chip"]
        cfg["psram"] = preset["psram"]
        cfg["display"] = dict(preset["display"])
        keypad = section("keypad")
        for key, value in preset["keypad"].items():
            keypad.setdefault(key, value)
    if args.terminal_id is not None:
        section("terminal")["id"] = args.terminal_id
    return cfg


def prepare(args, say):
    """Everything up to the device: returns the final config dict (validated, checked)."""
    cfg = assemble(args)
    terminal = cfg.setdefault("terminal", {}) if isinstance(cfg.get("terminal", {}), dict) else {}
    secret = args.secret or os.environ.get("ALIPAY_TERMINAL_SECRET") or terminal.get("secret")
    if args.create:
        if not terminal.get("id"):
            raise TerminalError("--create needs --terminal-id (the id to register at the gateway).", errors.BAD_CONFIG)
        if not args.pin:
            raise TerminalError("--create needs --pin (the terminal's supervisor PIN for refunds).", errors.BAD_CONFIG)
        terminal["secret"] = _PLACEHOLDER_SECRET
        validate(cfg)  # before registering: a terminal id is never reused, so do not waste one
        terminal["secret"] = create_at_gateway(args, terminal["id"])
        say("terminal %s registered at the gateway" % terminal["id"])
    else:
        if not secret:
            raise TerminalError("No terminal secret: pass --secret (or $ALIPAY_TERMINAL_SECRET), or --create "
                                "to register the terminal at the gateway.", errors.BAD_CONFIG)
        terminal["secret"] = secret
    validate(cfg)
    if not args.no_gateway_check:
        check_gateway(cfg, args.ca_cert)
        say("gateway %s accepts terminal %s (signed round trip verified)" % (cfg["gateway"]["url"], terminal["id"]))
    say(summary(cfg, show_secret=args.show_secret))
    return cfg


def create_at_gateway(args, terminal_id):
    cmd = [sys.executable, "-m", "tools.gateway"]
    if args.gateway_config:
        cmd += ["--config", args.gateway_config]
    if args.gateway_db:
        cmd += ["--db", args.gateway_db]
    cmd += ["terminal", "add", terminal_id, "--json"]
    # the PIN goes on stdin: the gateway CLI takes no PIN on its command line
    result = subprocess.run(cmd, input=args.pin + "\n", capture_output=True, text=True, cwd=_repo())
    if result.returncode != 0:
        why = (result.stderr or result.stdout).strip().splitlines()
        raise TerminalError("The gateway refused to register terminal %s: %s." % (
            terminal_id, why[-1].rstrip(".") if why else "exit code %d" % result.returncode), errors.GATEWAY)
    try:
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        return answer["secret"]
    except (ValueError, KeyError, IndexError):
        raise TerminalError("The gateway's `terminal add` printed no secret: is tools/gateway up to date?",
                            errors.GATEWAY)


def check_gateway(cfg, ca_file=None):
    """A signed GET /v1/health with the terminal's credentials; raises unless the gateway accepts them."""
    import httpx

    from firmware.link import auth

    base = cfg["gateway"]["url"].rstrip("/")
    target = "/v1/health"
    terminal_id, secret = cfg["terminal"]["id"], cfg["terminal"]["secret"]
    nonce = auth.new_nonce()
    headers = auth.request_headers(terminal_id, secret, "GET", target, b"", int(time.time()), nonce)
    verify = True
    if base.startswith("https://"):
        verify = ca_file or _ca_tempfile(cfg["gateway"].get("ca_cert"))
    try:
        with httpx.Client(verify=verify, timeout=10) as client:
            response = client.get(base + target, headers=headers)
    except httpx.HTTPError as e:
        raise TerminalError("Cannot reach the gateway at %s from this computer (%s): check the URL, or pass "
                            "--no-gateway-check if only the shop network reaches it." % (base, e or type(e).__name__),
                            errors.GATEWAY)
    code = _error_code(response)
    if response.status_code == 401:
        raise TerminalError("The gateway at %s refuses terminal %s (%s): check the id and secret, or "
                            "register it with --create." % (base, terminal_id, code or "401"), errors.GATEWAY)
    if not auth.check_response(secret, response.status_code, target, nonce, dict(response.headers),
                               response.content):
        raise TerminalError("The gateway at %s answered without a valid signature for terminal %s: the "
                            "secret does not match the gateway's (or this is not the gateway)." % (base, terminal_id),
                            errors.GATEWAY)
    if response.status_code != 200:
        raise TerminalError("The gateway at %s answered %d (%s) to a health check." % (
            base, response.status_code, code or "no error code"), errors.GATEWAY)


def _error_code(response):
    try:
        return response.json()["error"]["code"]
    except Exception:
        return None


def _ca_tempfile(pem):
    import tempfile
    f = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
    with f:
        f.write(pem or "")
    return f.name


def _repo():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def encode(cfg):
    """The exact bytes written to the device (stable: sorted keys, one space indent)."""
    return (json.dumps(cfg, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def summary(cfg, show_secret=False):
    term = cfg.get("terminal", {})
    secret = term.get("secret") or ""
    shown = secret if show_secret else "set, %d characters (not shown; --show-secret prints it)" % len(secret)
    display = cfg.get("display") or {}
    lines = [
        "terminal id:  %s" % term.get("id"),
        "secret:       %s" % shown,
        "gateway:      %s%s" % (cfg.get("gateway", {}).get("url"),
                                " (CA certificate set)" if cfg.get("gateway", {}).get("ca_cert") else ""),
        "wifi:         %s" % cfg.get("wifi", {}).get("ssid"),
        "merchant:     %s" % cfg.get("merchant", {}).get("name"),
        "currency:     %s" % cfg.get("currency"),
        "board:        %s" % (cfg.get("board") or "none named (defaults: TTGO T-Display)"),
        "panel:        %s" % (display.get("panel") or "default (TTGO T-Display)"),
    ]
    return "\n".join(lines)


def write(device, cfg, say, show_secret=False):
    data = encode(cfg)
    verdicts = []
    # The new file replaces the old one only once the device's own validator accepts it.
    device.write_file(CONFIG_PATH, data, before_rename=lambda part: verdicts.append(device_validation(device, part)))
    back = device.read_file(CONFIG_PATH)
    if back != data:
        raise TerminalError("%s read back differently from what was written: check the cable and "
                            "provision again." % CONFIG_PATH)
    say("%s written (%d bytes) and read back identical" % (CONFIG_PATH, len(data)))
    for verdict in verdicts:
        say(verdict)


def device_validation(device, path):
    """Let the deployed firmware's validator load the file on the device, when it is there."""
    out = device.run(
        "try:\n from firmware import config as _c\nexcept ImportError:\n print('NOFIRMWARE')\nelse:\n"
        " try:\n  _c.load(%r)\n  print('VALID')\n except _c.ConfigError as e:\n  print('INVALID', e)\n" % path)
    if "NOFIRMWARE" in out:
        return "the firmware is not deployed yet: the device will validate the config at its first boot"
    if "VALID" in out.split():
        return "the terminal's own validator accepts it"
    raise TerminalError("The terminal's firmware rejects the new config (%s): deploy the current firmware "
                        "and provision again." % out.strip()[len("INVALID "):], errors.BAD_CONFIG)
