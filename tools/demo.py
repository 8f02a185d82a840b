"""`make demo`: the whole system on this machine, no hardware.

Starts, on 127.0.0.1 with free ports and a fresh data folder:
  1. the Antom sandbox (tools/sandbox: the wallet and Antom's Order Code API),
  2. the merchant gateway (tools/gateway), with a terminal provisioned by its CLI (`terminal add`),
  3. one simulated terminal (tools/sim: the unmodified firmware in the MicroPython unix port, with an
     emulated panel and keypad; `--engine cpython` runs it under CPython with the shims instead).

In a terminal (TTY) it is interactive: type an amount and Enter; the QR code and the wallet URL
appear; pay in a browser (open the URL) or with `python -m tools.sandbox pay URL`.
Without a TTY (CI, pipes) it runs scripted sales and prints one line per sale with its final state,
then exits 0 if every sale ended as it should. Every process it started is stopped on the way out.

    python -m tools.demo [--scripted | --interactive] [--engine micropython|cpython] [--keep DIR]
                         [--panel NAME] [--rotation R] [--frames DIR [--frames-countdown]]
                         [--public-host LAN-IP]

It prints the engine the firmware runs on, in the interpreter's words: `engine: MicroPython 1.29.0-preview
unix port`. Where the unix port is not installed (its wheel is for x86-64 Linux with CPython 3.11
only), it says so in one line and runs the CPython engine.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TERMINAL_ID = "DEMO1"
PIN = "246810"  # the demo terminal's supervisor PIN (6-12 digits)


def log(text):
    print("demo: " + text, flush=True)


class System:
    """Sandbox + gateway + one provisioned terminal's flash, torn down by close()."""

    def __init__(self, data, code_lifetime, public_host=None):
        from tools.gateway.testing import GatewayProcess, write_config
        from tools.sandbox.testing import running_sandbox

        self.data = data
        extra, port = (), 0
        if public_host:  # a phone on the same network opens the wallet page: listen beyond loopback
            port = _free_port()
            extra = ("--host", "0.0.0.0", "--public-url", "http://%s:%d" % (public_host, port))
        self._sandbox_cm = running_sandbox(client_id="SANDBOX_DEMO", time_scale=0.001,
                                           data_dir=os.path.join(data, "sandbox"), args=extra, port=port)
        os.makedirs(os.path.join(data, "sandbox"), exist_ok=True)
        self.sandbox = self._sandbox_cm.__enter__()
        self.gateway = None
        try:
            log("sandbox (Antom + wallet) on %s; its admin API on %s (this machine only)"
                % (self.sandbox.base_url, self.sandbox.admin_url))
            cfg = write_config(os.path.join(data, "gateway"), self.sandbox,
                               gateway={"code_lifetime": code_lifetime})
            self.gateway_config = cfg
            self.gateway = GatewayProcess(cfg).start()
            log("gateway on %s" % self.gateway.base_url)
            self.secret = self._provision()
            self.flash = os.path.join(data, "terminal-flash")
            from tools.sim.control import write_config as terminal_config
            terminal_config(self.flash, self.gateway.base_url, TERMINAL_ID, self.secret, merchant="Demo Cafe")
            log("terminal %s provisioned (flash folder %s)" % (TERMINAL_ID, self.flash))
        except BaseException:
            self.close()
            raise

    def _provision(self):
        out = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", self.gateway_config,
                              "terminal", "add", TERMINAL_ID, "--json"],
                             input=PIN + "\n",  # never on the command line (ps would show it)
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("terminal add failed: " + out.stderr)
        return json.loads(out.stdout.strip().splitlines()[-1])["secret"]

    def close(self):
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self._sandbox_cm is not None:
            self._sandbox_cm.__exit__(None, None, None)
            self._sandbox_cm = None


def _free_port():
    import socket
    s = socket.socket()
    s.bind(("", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- scripted (no TTY) ---------------------------------------------------------------------------
def _money(minor):
    return "%d.%02d USD" % (minor // 100, minor % 100)


def scripted(system, frames=None, engine="micropython", panel=None, rotation=None, frames_countdown=False):
    from tools.sim.control import SimProcess

    term = SimProcess(system.flash, frames=frames, engine=engine, panel=panel, rotation=rotation,
                      frames_countdown=frames_countdown)
    sb = system.sandbox
    results = []

    def line(n, amount, story, result, want):
        ok = result == want
        results.append(ok)
        print("sale %d: %-10s %-44s -> %s%s" % (n, _money(amount), story, result,
                                               "" if ok else "  (expected %s)" % want), flush=True)

    def dismiss():
        term.keys("ok")
        term.wait_screen("idle", timeout=10)

    def sale(amount):
        term.keys(str(amount), "ok")
        return term.wait_state("SHOW_QR", timeout=30)

    try:
        term.start()
        term.wait_ready(timeout=30)
        print("engine: %s" % term.engine, flush=True)
        log("terminal booted and online; running 5 scripted sales")

        qr = sale(1250)
        sb.pay(qr["code"])
        line(1, 1250, "customer scans and pays", term.wait_result()["state"], "PAID")
        dismiss()

        qr = sale(480)
        sb.decline(qr["code"])
        line(2, 480, "customer declines in the wallet", term.wait_result()["state"], "FAILED")
        dismiss()

        qr = sale(2999)
        term.keys("cancel")
        line(3, 2999, "cashier presses cancel while the QR shows", term.wait_result()["state"], "CANCELLED")
        dismiss()

        qr = sale(700)
        line(4, 700, "nobody pays until the code expires", term.wait_result(timeout=60)["state"], "EXPIRED")
        dismiss()

        qr = sale(1500)
        term.kill()  # power cut while the QR shows
        sb.pay(qr["code"])  # the customer pays while the terminal is off
        term.start()  # power back: the journal's open sale is resolved first
        result = term.wait_result(timeout=30)
        same = result["order_id"] == qr["order_id"]
        line(5, 1500, "power cut mid-sale, paid meanwhile, resumed", result["state"] if same else "OTHER", "PAID")
        once = len(sb.payments(reference_order_id="%s.%s" % (TERMINAL_ID, qr["order_id"]))) == 1
        if not once:
            print("sale 5: the sandbox does not hold exactly one payment for the order", flush=True)
            results.append(False)
    finally:
        term.stop()
    return all(results) and len(results) == 5


# --- interactive (TTY) ---------------------------------------------------------------------------
def interactive(system, frames=None, engine="micropython", panel=None, rotation=None, frames_countdown=False):
    print()
    print("The terminal is about to start in this window.")
    print("  - type an amount in cents (1250 = $12.50) and press Enter: the QR code appears;")
    print("  - pay it: open the wallet URL shown under the screen in a browser, or in another shell:")
    print("        .venv/bin/python -m tools.sandbox pay <wallet URL>      (add --decline to refuse)")
    print("  - Esc or x cancels, Backspace corrects, m opens the refund menu (PIN %s), q quits." % PIN)
    print()
    input("Press Enter to start the terminal... ")
    # By default the TTGO T-Display in landscape; the drawing is scaled to the window (README).
    if panel is None:
        panel, rotation = "st7789-135x240", 1 if rotation is None else rotation
    cmd = [sys.executable, "-m", "tools.sim", "run", "--flash", system.flash, "--live", "--engine", engine,
           "--panel", panel]
    if rotation is not None:
        cmd += ["--rotation", str(rotation)]
    if frames:
        cmd += ["--frames", frames] + (["--frames-countdown"] if frames_countdown else [])
    proc = subprocess.Popen(cmd, cwd=ROOT)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
    print("\x1b[0m")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--scripted", action="store_true", help="scripted sales even in a TTY")
    mode.add_argument("--interactive", action="store_true")
    parser.add_argument("--engine", choices=("micropython", "cpython"), default="micropython",
                        help="what runs the firmware: the MicroPython unix port (default) or CPython with the shims")
    parser.add_argument("--keep", help="use (and keep) this data folder instead of a temporary one")
    parser.add_argument("--frames", help="save every screen of the terminal as a PNG here (numbered "
                                         "across the power-cut sale's restart)")
    parser.add_argument("--frames-countdown", action="store_true",
                        help="with --frames: also save each change of the QR countdown")
    parser.add_argument("--panel", help="the terminal's panel (lib/panels.py: st7789-240x320, st7789-240x240, "
                                        "st7789-135x240, ili9341-240x320); default: the config's")
    parser.add_argument("--rotation", type=int, choices=(0, 1, 2, 3), help="the panel's rotation")
    parser.add_argument("--public-host", help="this machine's LAN address: the wallet page listens on every "
                                              "interface and the QR codes point there, so a phone can pay")
    args = parser.parse_args(argv)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    is_interactive = args.interactive or (tty and not args.scripted)
    data = args.keep or tempfile.mkdtemp(prefix="terminal-demo-")
    os.makedirs(data, exist_ok=True)
    started = time.monotonic()
    system = None
    ok = False
    from tools.sim import engines

    engine = engines.choose(args.engine, notice=sys.stdout)
    try:
        system = System(data, code_lifetime=300 if is_interactive else 10, public_host=args.public_host)
        if args.panel is not None:
            from tools.sim import device_path
            device_path()
            import panels
            panels.spec(args.panel)  # an unknown name: a clear error before anything starts
        view = dict(panel=args.panel, rotation=args.rotation, frames_countdown=args.frames_countdown)
        if is_interactive:
            ok = interactive(system, args.frames, engine, **view)
        else:
            ok = scripted(system, args.frames, engine, **view)
    finally:
        if system is not None:
            system.close()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    log("%s in %.0f s; every process stopped" % ("done" if ok else "FAILED", time.monotonic() - started))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
