"""One simulated terminal: the real firmware (firmware/app.py) under CPython with the shims.

    python -m tools.sim run --flash DIR [--frames DIR] [--events] [--live]

- flash: DIR holds config.json and the journal, exactly as the device's filesystem root; killing
  the process is a power cut (the journal is written by rename, as on the device).
- display: the real driver (lib/) drawing over the shim SPI bus into the panel emulator
  (tools/sim/panel.py); every new screen can be saved as a PNG frame and shown live in the terminal
  as half-blocks (a phone scans the QR off the screen).
- keypad: the computer keyboard presses keys of an emulated switch matrix that the firmware scans
  (tools/sim/keymatrix.py). In a TTY: digits, Enter = OK, Backspace = back, Esc or x = cancel,
  c = clear, m = menu, q = quit. Otherwise stdin lines: `key ok`, `keys 1250`, `wifi off`,
  `wifi on`, `quit`.
- network: the shim Wi-Fi comes up by itself; HTTP is real, to the gateway in config.json.
- `--events` prints one JSON object per line on stdout for every flow event (what tests and
  `make demo` read): {"event": "state", "state": "SHOW_QR", "order_id": ..., "code": ...}.
"""
import asyncio
import json
import os
import sys
import threading
import time as _time

from tools.sim import device_path

device_path()

import time  # noqa: E402

import network  # noqa: E402  (the shim)

from firmware import app as fw_app  # noqa: E402
from firmware import config as fw_config  # noqa: E402
from firmware.link import http  # noqa: E402
from firmware.board.keypad import Keypad  # noqa: E402
from tools.sim import halfblocks  # noqa: E402
from tools.sim.keymatrix import KeyMatrix  # noqa: E402
from tools.sim.rig import DisplayRig  # noqa: E402

TTY_KEYS = {"\r": "ok", "\n": "ok", "\x7f": "back", "\x08": "back", "\x1b": "cancel", "x": "cancel",
            "c": "clear", "m": "menu", "o": "ok"}


def _power_cut_hook():
    """SIM_POWER_CUT=N[:torn]: lose power at the journal's N-th write, right after it reached the
    flash (or, with ":torn", halfway through writing it, before the rename). For the tests that
    cut power at every journaled step; os._exit skips every cleanup, as a power cut would."""
    spec = os.environ.get("SIM_POWER_CUT")
    if not spec:
        return
    from firmware.sale import journal as fw_journal

    target, _, mode = spec.partition(":")
    target = int(target)
    count = [0]
    real_save = fw_journal.Journal._save

    def save(self):
        count[0] += 1
        if count[0] != target:
            return real_save(self)
        if mode == "torn":
            data = json.dumps(self.record)
            with open(self.path + ".tmp", "w") as f:
                f.write(data[: len(data) // 2])
        else:
            real_save(self)
        sys.stdout.write(json.dumps({"event": "power_cut", "write": target, "mode": mode or "after"}) + "\n")
        sys.stdout.flush()
        os._exit(137)

    fw_journal.Journal._save = save


class Stop(Exception):
    """The user quit (q, `quit`, end of input)."""


class SimTerminal:
    def __init__(self, flash, panel="st7789-240x320", rotation=0, frames=None, events=False, live=False,
                 describe=None, out=None):
        self.flash = os.path.abspath(flash)
        self.frames = frames
        self.events = events
        self.live = live
        self.out = out or sys.stdout
        self.frame_no = 0
        self.last_view = None
        self.rig = DisplayRig(panel, rotation=rotation)
        self._lock = threading.Lock()
        self.stop = False
        raw = self._raw_config()
        self.matrix = None
        keypad = None
        try:
            cfg = fw_config.validate(raw)
            self.matrix = KeyMatrix(cfg.keypad_rows, cfg.keypad_cols, cfg.keypad_layout, cfg.keypad_keys)
            import machine
            keypad = Keypad(machine.Pin, cfg.keypad_rows, cfg.keypad_cols, cfg.keypad_layout, cfg.keypad_keys,
                            cfg.debounce_ms)
            if cfg.wifi_ssid:
                network.air.access_points[cfg.wifi_ssid] = (cfg.wifi_password, -58)
        except fw_config.ConfigError:
            pass  # the firmware shows the error screen itself
        describe_fn = None
        if describe:
            describe_fn = lambda amount: describe  # noqa: E731  (fault markers for the sandbox)
        # firmware/link/http.py over CPython sockets, verifying TLS against the configured CA for https
        # (the device would use `requests` for plain http; the interface is the same).
        gw = raw.get("gateway") if isinstance(raw.get("gateway"), dict) else {}
        tls = None
        if str(gw.get("url", "")).startswith("https://") and gw.get("ca_cert"):
            tls = http.tls_context(gw["ca_cert"])
        self.app = fw_app.Application(root=self.flash, transport=http.Transport(tls), lcd=self.rig.lcd,
                                      keypad=keypad, on_event=self._event, on_render=self._render,
                                      describe=describe_fn)
        self.app.extra_tasks.append(self._live_task)
        self.app.on_config_error = lambda problems: self.emit({"event": "config_error", "problems": problems})

    def _raw_config(self):
        try:
            with open(os.path.join(self.flash, "config.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    # --- output ------------------------------------------------------------------------------
    def emit(self, obj):
        if self.events:
            with self._lock:
                self.out.write(json.dumps(obj) + "\n")
                self.out.flush()

    def _event(self, name, data):
        obj = {"event": name, "t": time.ticks_ms()}
        if name == "state":
            sale = data.get("sale") or {}
            obj.update(state=data["state"], order_id=sale.get("order_id"), amount=sale.get("amount"),
                       code=sale.get("code"), expires_at=sale.get("expires_at"))
        else:
            obj.update({k: v for k, v in data.items() if isinstance(v, (str, int, bool, type(None)))})
        self.emit(obj)

    def _render(self, view):
        self.last_view = view
        name, data = view
        self.emit({"event": "screen", "screen": name, "t": time.ticks_ms(),
                   "code": data.get("code"), "state": data.get("state")})
        if self.frames:
            os.makedirs(self.frames, exist_ok=True)
            self.frame_no += 1
            self.rig.image().save(os.path.join(self.frames, "frame-%04d-%s.png" % (self.frame_no, name)))
        if self.live:
            self._draw_live()

    def _draw_live(self):
        img = self.rig.image()
        step = 2 if img.size[0] > 160 else 1
        text = halfblocks.render(img, step=step)
        name, data = self.last_view or ("", {})
        lines = ["\x1b[H\x1b[2J" + text, ""]
        if name == "qr":
            lines.append("wallet URL: %s" % data.get("code"))
            lines.append("pay it: open the URL in a browser, or: .venv/bin/python -m tools.sandbox pay %s" % data.get("code"))
        elif self.app.cfg is not None:
            lines.append("state: %s" % self.app.flow.state)
        lines.append("keys: digits, Enter=OK, Backspace, Esc/x=cancel, c=clear, m=menu, q=quit")
        with self._lock:
            self.out.write("\r\n".join("\n".join(lines).split("\n")) + "\r\n")
            self.out.flush()

    async def _live_task(self, app):
        last = time.ticks_ms()
        while True:
            if self.stop:
                raise Stop()
            await asyncio.sleep_ms(100)
            if time.ticks_diff(time.ticks_ms(), last) >= 1000:
                last = time.ticks_ms()
                if self.live and self.last_view is not None and self.last_view[0] == "qr":
                    self._draw_live()  # the countdown moves

    # --- input -------------------------------------------------------------------------------
    def press(self, action):
        if self.matrix is not None:
            self.matrix.press(action)

    def command(self, line):
        parts = line.strip().split()
        if not parts:
            return
        if parts[0] == "key":
            for a in parts[1:]:
                self.press(a)
        elif parts[0] == "keys":
            for ch in "".join(parts[1:]):
                self.press(ch)
        elif parts[0] == "wifi" and len(parts) == 2:
            if parts[1] == "off":
                network.air.drop()  # the access point vanishes
            else:
                network.air.restore()
        elif parts[0] == "quit":
            self.stop = True

    def _stdin_lines(self):
        for line in sys.stdin:
            self.command(line)
        self.command("quit")

    def _stdin_tty(self):
        import termios
        import tty
        fd = sys.stdin.fileno()
        old = termios.tcgetattr(fd)
        tty.setraw(fd)
        self._restore = (fd, old)
        try:
            while not self.stop:
                ch = os.read(fd, 1).decode(errors="ignore")
                if ch in ("q", "\x03"):
                    self.command("quit")
                elif ch.isdigit():
                    self.press(ch)
                elif ch in TTY_KEYS:
                    self.press(TTY_KEYS[ch])
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)

    def run(self, interactive=False):
        reader = self._stdin_tty if interactive else self._stdin_lines
        threading.Thread(target=reader, daemon=True).start()
        try:
            if self.app.run() is False:
                while not self.stop:  # the config error screen stays until the technician quits
                    _time.sleep(0.1)
        except Stop:
            pass
        finally:
            if getattr(self, "_restore", None):
                import termios
                termios.tcsetattr(self._restore[0], termios.TCSADRAIN, self._restore[1])


def add_parser(sub):
    p = sub.add_parser("run", help="run one simulated terminal (the real firmware) against a gateway")
    p.add_argument("--flash", required=True, help="folder standing in for the device's flash (config.json, journal)")
    p.add_argument("--panel", help="panel name (default: st7789-240x320; live in a TTY: the "
                                    "T-Display st7789-135x240 in landscape, which fits a terminal)")
    p.add_argument("--rotation", type=int)
    p.add_argument("--frames", help="save every new screen as a PNG in this folder")
    p.add_argument("--events", action="store_true", help="print flow events as JSON lines")
    p.add_argument("--live", action="store_true", default=None, help="draw the panel in this terminal")
    p.add_argument("--describe", help="payment description (e.g. sandbox fault markers)")
    p.set_defaults(func=main)
    return p


def main(args):
    _power_cut_hook()
    interactive = sys.stdin.isatty()
    live = args.live if args.live is not None else sys.stdout.isatty()
    panel, rotation = args.panel, args.rotation
    if panel is None:
        panel, default_rotation = ("st7789-135x240", 1) if live else ("st7789-240x320", 0)
        rotation = default_rotation if rotation is None else rotation
    term = SimTerminal(args.flash, panel=panel, rotation=rotation or 0, frames=args.frames,
                       events=args.events, live=live, describe=args.describe)
    term.run(interactive=interactive)
    return 0
