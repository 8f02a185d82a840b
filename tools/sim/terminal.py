"""One simulated terminal: the real firmware (firmware/app.py) on one of two engines.

    python -m tools.sim run --flash DIR [--engine micropython|cpython] [--frames DIR] [--events] [--live]

- engine: `micropython` (the default) runs the unmodified firmware/ and lib/ in the MicroPython
  unix port, with hardware stand-ins from tools/sim/mpy (tools/sim/engine_mpy.py); `cpython` runs
  them in this process under the CPython shims (tests/shims), for debugging. Where the unix port
  is not installed, the MicroPython engine falls back to CPython with a one-line notice.
- flash: DIR holds config.json and the journal, exactly as the device's filesystem root; killing
  the process is a power cut (the journal is written by rename, as on the device).
- display: the real driver (lib/) streams its SPI bus into the panel emulator (tools/sim/panel.py);
  every new screen can be saved as a PNG frame and shown live in the terminal as half-blocks (a
  phone scans the QR off the screen).
- keypad: the computer keyboard presses keys of an emulated switch matrix that the firmware scans
  (tools/sim/keymatrix.py, tools/sim/mpy/simkeys.py). In a TTY: digits, Enter = OK, Backspace =
  back, Esc or x = cancel, c = clear, m = menu, q = quit. Otherwise stdin lines: `key ok`,
  `keys 1250`, `wifi off`, `wifi on`, `quit`.
- network: the Wi-Fi stand-in comes up by itself; HTTP(S) is real, to the gateway in config.json.
- `--events` prints one JSON object per line on stdout for every flow event (what tests and
  `make demo` read): {"event": "state", "state": "SHOW_QR", "order_id": ..., "code": ...}; the
  first says which engine runs the firmware: {"event": "engine", "text": "MicroPython 1.29.0 unix port"}.
- SIM_POWER_CUT=N[:torn] in the environment: power is lost at the journal's N-th write, right
  after it reached the flash (or, with ":torn", halfway through writing it, before the rename):
  the process prints {"event": "power_cut", ...} and ends with status 137, nothing cleaned up
  (on the MicroPython engine the firmware's process is SIGKILLed at that point).
"""
import json
import os
import sys
import threading
import time

from tools.sim import device_path

device_path()

from firmware import config as fw_config  # noqa: E402
from tools.sim import halfblocks  # noqa: E402
from tools.sim import engines  # noqa: E402
from tools.sim.keymatrix import KeyLayout  # noqa: E402

TTY_KEYS = {"\r": "ok", "\n": "ok", "\x7f": "back", "\x08": "back", "\x1b": "cancel", "x": "cancel",
            "c": "clear", "m": "menu", "o": "ok"}


def display_wiring(raw, panel=None, rotation=None):
    """The display the firmware will drive, from the config (as firmware/board/hw.py reads it), with the
    simulator's choice of glass when given: {"panel", "rotation", "dc", "cs", "rst", ...}."""
    from firmware.board import hw

    d = dict(hw.default_display())
    section = raw.get("display")
    if isinstance(section, dict):
        d.update(section)
    d["override"] = panel is not None or rotation is not None
    if panel is not None:
        d["panel"] = panel
    if rotation is not None:
        d["rotation"] = rotation
    return d


class SimTerminal:
    """The host side both engines share: events on stdout, frames, the live view, the keyboard."""

    def __init__(self, flash, engine="micropython", panel=None, rotation=None, frames=None, events=False,
                 live=False, describe=None, out=None, power_cut=None, heapsize=None):
        self.flash = os.path.abspath(flash)
        self.frames = frames
        self.events = events
        self.live = live
        self.out = out or sys.stdout
        self.frame_no = 0
        self.last_screen = None  # the last "screen" event
        self.last_state = None
        self._lock = threading.Lock()
        self.stop = False
        raw = self._raw_config()
        layout, access_point = None, None
        try:
            cfg = fw_config.validate(raw)
            layout = KeyLayout(cfg.keypad_rows, cfg.keypad_cols, cfg.keypad_layout, cfg.keypad_keys)
            if cfg.wifi_ssid:
                access_point = (cfg.wifi_ssid, cfg.wifi_password)
        except fw_config.ConfigError:
            pass  # the firmware shows the error screen itself
        if engine == "micropython":
            from tools.sim import engine_mpy

            self.engine = engine_mpy.MicroPythonEngine(self, self.flash, display_wiring(raw, panel, rotation), layout,
                                                       access_point=access_point, describe=describe,
                                                       power_cut=power_cut, heapsize=heapsize)
        else:
            from tools.sim.engine_cpython import CPythonEngine

            self.engine = CPythonEngine(self, self.flash, raw, layout, panel=panel or "st7789-240x320",
                                        rotation=rotation or 0, access_point=access_point, describe=describe,
                                        power_cut=power_cut)

    def _raw_config(self):
        try:
            with open(os.path.join(self.flash, "config.json")) as f:
                raw = json.load(f)
            return raw if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            return {}

    # --- output (both engines call on_event) ---------------------------------------------------
    def emit(self, obj):
        if self.events:
            with self._lock:
                self.out.write(json.dumps(obj) + "\n")
                self.out.flush()

    def on_event(self, obj, force=False):
        """One event from the engine; a screen event saves a frame and redraws the live view."""
        if force:  # the power cut: printed whatever --events says, as the tests wait for it
            with self._lock:
                self.out.write(json.dumps(obj) + "\n")
                self.out.flush()
            return
        self.emit(obj)
        name = obj.get("event")
        if name == "state":
            self.last_state = obj.get("state")
        elif name == "screen":
            self.last_screen = obj
            if self.frames:
                os.makedirs(self.frames, exist_ok=True)
                self.frame_no += 1
                self.engine.image().save(os.path.join(self.frames, "frame-%04d-%s.png" % (self.frame_no, obj["screen"])))
            if self.live:
                self._draw_live()

    def _draw_live(self):
        img = self.engine.image()
        step = 2 if img.size[0] > 160 else 1
        text = halfblocks.render(img, step=step)
        screen = self.last_screen or {}
        lines = ["\x1b[H\x1b[2J" + text, ""]
        if screen.get("screen") == "qr":
            lines.append("wallet URL: %s" % screen.get("code"))
            lines.append("pay it: open the URL in a browser, or: .venv/bin/python -m tools.sandbox pay %s" % screen.get("code"))
        elif self.last_state:
            lines.append("state: %s" % self.last_state)
        lines.append("keys: digits, Enter=OK, Backspace, Esc/x=cancel, c=clear, m=menu, q=quit")
        with self._lock:
            self.out.write("\r\n".join("\n".join(lines).split("\n")) + "\r\n")
            self.out.flush()

    def _live_countdown(self):
        while not self.stop:
            time.sleep(1)
            screen = self.last_screen
            if screen is not None and screen.get("screen") == "qr":
                self._draw_live()  # the countdown moves

    # --- input -------------------------------------------------------------------------------
    def press(self, action):
        try:
            self.engine.press(action)
        except ValueError:
            pass  # a key this keypad does not have

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
            self.engine.wifi(parts[1] != "off")
        elif parts[0] == "quit":
            self.stop = True
            self.engine.stop()

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
        if self.live:
            threading.Thread(target=self._live_countdown, daemon=True).start()
        try:
            return self.engine.run()
        finally:
            self.stop = True
            if getattr(self, "_restore", None):
                import termios
                termios.tcsetattr(self._restore[0], termios.TCSADRAIN, self._restore[1])


def add_parser(sub):
    p = sub.add_parser("run", help="run one simulated terminal (the real firmware) against a gateway")
    p.add_argument("--flash", required=True, help="folder standing in for the device's flash (config.json, journal)")
    p.add_argument("--engine", choices=engines.ENGINES, default=os.environ.get("SIM_ENGINE") or "micropython",
                   help="micropython: the MicroPython unix port (default); cpython: this Python with the shims")
    p.add_argument("--panel", help="panel name (default: the config's display; live in a TTY: the "
                                    "T-Display st7789-135x240 in landscape, which fits a terminal)")
    p.add_argument("--rotation", type=int)
    p.add_argument("--heap", help="MicroPython engine: cap the heap (e.g. 256K), as a board's RAM would")
    p.add_argument("--frames", help="save every new screen as a PNG in this folder")
    p.add_argument("--events", action="store_true", help="print flow events as JSON lines")
    p.add_argument("--live", action="store_true", default=None, help="draw the panel in this terminal")
    p.add_argument("--describe", help="payment description (e.g. sandbox fault markers)")
    p.set_defaults(func=main)
    return p


def main(args):
    interactive = sys.stdin.isatty()
    live = args.live if args.live is not None else sys.stdout.isatty()
    panel, rotation = args.panel, args.rotation
    if panel is None and live:
        panel, rotation = "st7789-135x240", 1 if rotation is None else rotation
    engine = engines.choose(args.engine)
    term = SimTerminal(args.flash, engine=engine, panel=panel, rotation=rotation, frames=args.frames,
                       events=args.events, live=live, describe=args.describe,
                       power_cut=os.environ.get("SIM_POWER_CUT") or None, heapsize=args.heap)
    rc = term.run(interactive=interactive)
    sys.stdout.flush()
    if rc == 137:
        os._exit(137)  # a power cut: no clean-up at all
    return rc
