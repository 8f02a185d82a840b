"""alipay-terminal: flash, deploy, provision, check and self-test a payment terminal.

    python -m tools.terminal flash    --port P FIRMWARE.bin     write MicroPython (esptool)
    python -m tools.terminal deploy   --port P                  copy the firmware (only what changed)
    python -m tools.terminal provision --port P --config-file base.json --terminal-id T1 --secret ...
    python -m tools.terminal selftest --port P [--measure]      display, keypad, Wi-Fi, time, gateway, QR, heap
    python -m tools.terminal status   --port P                  version, config summary, journal
    python -m tools.terminal logs     --port P                  the device's log ring buffer
    python -m tools.terminal boards [--json]                    the board presets --panel takes
    python -m tools.terminal package-json [--check]             refresh package.json's mip file list

The port also comes from $ALIPAY_TERMINAL_PORT. Every failure prints one sentence and exits non-zero
(codes in tools/terminal/errors.py and docs/technician.md).
"""
import argparse
import os
import sys

from tools.terminal import errors
from tools.terminal.errors import TerminalError


def _port_arg(p):
    p.add_argument("--port", "-p", default=os.environ.get("ALIPAY_TERMINAL_PORT"),
                   help="serial port of the terminal (default: $ALIPAY_TERMINAL_PORT)")
    p.add_argument("--timeout", type=float, default=8.0, help="seconds to wait for the REPL (default 8)")


def build_parser():
    parser = argparse.ArgumentParser(prog="alipay-terminal", description="Technician tool for the Alipay terminal.")
    sub = parser.add_subparsers(dest="command", required=True)

    fl = sub.add_parser("flash", help="write a MicroPython firmware image with esptool")
    fl.add_argument("image", help="MicroPython firmware image for the ESP32 (.bin)")
    fl.add_argument("--port", "-p", default=os.environ.get("ALIPAY_TERMINAL_PORT"))
    fl.add_argument("--chip", default="esp32", help="chip the image must be for (default esp32)")
    fl.add_argument("--baud", type=int, default=460800)
    fl.add_argument("--address", default=None, help="flash offset (default: 0x1000 for esp32, 0x0 for S3/C3)")
    fl.add_argument("--no-erase", action="store_true", help="keep the filesystem (skip erase-flash)")
    fl.add_argument("--before", default="default-reset", help="esptool --before (default-reset, no-reset, ...)")
    fl.add_argument("--connect-attempts", type=int, help="esptool --connect-attempts (default: esptool's 7)")
    fl.add_argument("--dry-run", action="store_true", help="check the image and print the commands only")

    dp = sub.add_parser("deploy", help="compile and copy the firmware, only what changed")
    _port_arg(dp)
    dp.add_argument("--source", action="store_true", help="copy .py sources instead of compiled .mpy")
    dp.add_argument("--no-mip", action="store_true", help="do not install missing micropython-lib packages")
    dp.add_argument("--mip-index", help="mip package index URL (default: micropython.org)")
    dp.add_argument("--force", action="store_true", help="copy every file even if unchanged")
    dp.add_argument("--checkout", help="deploy from this checkout instead of the one the tool runs from")
    dp.add_argument("--frozen", action="store_true",
                    help="the firmware is frozen into the flashed image: copy only boot.py and main.py")

    pv = sub.add_parser("provision", help="write /config.json (created at the gateway or given)")
    _port_arg(pv)
    pv.add_argument("--config-file", help="JSON file with the base config (Wi-Fi, gateway, merchant, ...)")
    pv.add_argument("--wifi-ssid")
    pv.add_argument("--wifi-password")
    pv.add_argument("--gateway-url")
    pv.add_argument("--ca-cert", help="PEM file of the CA that signed the gateway's certificate")
    pv.add_argument("--merchant-name")
    pv.add_argument("--currency")
    pv.add_argument("--panel", help="display preset: " + ", ".join(_panel_names()))
    pv.add_argument("--terminal-id")
    pv.add_argument("--secret", help="the terminal's secret (or $ALIPAY_TERMINAL_SECRET)")
    pv.add_argument("--create", action="store_true",
                    help="register the terminal at the gateway (python -m tools.gateway terminal add)")
    pv.add_argument("--pin", help="supervisor PIN for --create")
    pv.add_argument("--gateway-config", help="gateway TOML config for --create")
    pv.add_argument("--gateway-db", help="gateway database path for --create")
    pv.add_argument("--no-gateway-check", action="store_true",
                    help="do not check the credentials with a signed call to the gateway first")
    pv.add_argument("--show-secret", action="store_true", help="print the secret in the summary")
    pv.add_argument("--dry-run", action="store_true", help="validate and print the summary; write nothing")

    st = sub.add_parser("selftest", help="test the terminal's parts, on the device")
    _port_arg(st)
    st.add_argument("--keys", type=float, default=20.0, help="seconds allowed for the press-each-key test")
    st.add_argument("--skip-keypad", action="store_true")
    st.add_argument("--measure", action="store_true",
                    help="also measure: heap after boot and its largest free block, one TLS handshake, QR encode "
                         "and a full QR screen, the loop's worst stall during a handshake")

    ss = sub.add_parser("status", help="version, config summary, journal")
    _port_arg(ss)
    ss.add_argument("--verify", action="store_true",
                    help="also check every file's hash against the manifest (exit 1 if any differs)")
    ss.add_argument("--json", action="store_true", help="one JSON object instead of the lines")

    lg = sub.add_parser("logs", help="fetch the device's log ring buffer")
    _port_arg(lg)
    lg.add_argument("--lines", type=int, default=0, help="only the last N lines")
    lg.add_argument("--json", action="store_true", help="a JSON list of {time, unix, since_boot_s, text}")

    bd = sub.add_parser("boards", help="the board presets (--panel NAME): wiring, chip, SPI clock")
    bd.add_argument("--json", action="store_true", help="the presets and chip facts as JSON")
    bd.add_argument("--update-docs", action="store_true",
                    help="rewrite the generated wiring sections of docs/technician.md and docs/display.md")

    pj = sub.add_parser("package-json", help="refresh the mip fields of package.json")
    pj.add_argument("--check", action="store_true", help="only check that package.json is up to date")
    return parser


def _panel_names():
    from tools.terminal import boards
    return boards.names()


def say(text):
    print(text, flush=True)


def _connect(args):
    from tools.terminal.device import Device
    return Device.open(args.port, timeout=args.timeout)


def run(args):
    if args.command == "flash":
        from tools.terminal import flash
        return flash.flash(args, say)
    if args.command == "boards":
        from tools.terminal import boards
        return boards.command(args, say)
    if args.command == "package-json":
        from tools.terminal import packaging
        return packaging.command(args.check, say)
    if args.command == "provision":
        from tools.terminal import provision
        cfg = provision.prepare(args, say)
        if args.dry_run:
            return 0
        with _connect(args) as device:
            provision.write(device, cfg, say, show_secret=args.show_secret)
        return 0
    with _connect(args) as device:
        if args.command == "deploy":
            from tools.terminal import deploy
            from tools.terminal.build import REPO
            deploy.deploy(device, say, root=os.path.abspath(args.checkout or REPO), compiled=not args.source, mip=not args.no_mip, mip_index=args.mip_index,
                          force=args.force, frozen=args.frozen)
            say("deploy complete: reset the terminal (EN button, or `mpremote connect PORT reset`) to start it")
        elif args.command == "status":
            from tools.terminal import status
            return status.status(device, say, verify=args.verify, as_json=args.json)
        elif args.command == "logs":
            from tools.terminal import status
            return status.logs(device, say, lines=args.lines, as_json=args.json)
        elif args.command == "selftest":
            from tools.terminal import selftest
            return selftest.selftest(device, say, key_seconds=0 if args.skip_keypad else args.keys,
                                     measure=args.measure)
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except TerminalError as e:
        print("error: " + e.message, file=sys.stderr, flush=True)
        if os.environ.get("ALIPAY_TERMINAL_DEBUG") and getattr(e, "traceback", None):
            print(e.traceback, file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("error: interrupted; run the same command again to finish (nothing is left half-written).",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
