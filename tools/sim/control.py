"""Drive a simulated terminal process from Python: provision its flash, type keys, read its events.

    write_config(flash, gateway_url, "T1", secret)
    term = SimProcess(flash).start()
    term.keys("1250", "ok")
    qr = term.wait_state("SHOW_QR")                 # the event dict (order_id, code, expires_at)
    term.kill()                                     # SIGKILL: a power cut (flash stays as it was)
    term.start(); term.wait_result()                # boots again from the same flash

Used by `make demo`, the integration tests and bench/bench_sale.py. The terminal runs
`python -m tools.sim run --events`, one JSON event per stdout line (tools/sim/terminal.py), on the
MicroPython engine unless `engine="cpython"` (or SIM_ENGINE=cpython) is asked for; `term.engine`
is then the interpreter's own words ("MicroPython 1.29.0-preview unix port").
"""
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_config(flash, gateway_url, terminal_id, secret, merchant="Demo Cafe", currency="USD", **extra):
    os.makedirs(flash, exist_ok=True)
    cfg = {"wifi": {"ssid": "sim-wifi", "password": "sim-password"},
           "gateway": {"url": gateway_url, "timeout_s": 5},
           "terminal": {"id": terminal_id, "secret": secret},
           "merchant": {"name": merchant}, "currency": currency,
           "amount": {"min": 1, "max": 1000000}, "watchdog_ms": 8000}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    path = os.path.join(flash, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


class SimProcess:
    def __init__(self, flash, describe=None, frames=None, panel=None, stderr_path=None, engine=None, heap=None):
        self.flash = flash
        self.heap = heap  # MicroPython engine: cap the heap ("256K"), as a board's RAM would
        self.engine_name = engine or os.environ.get("SIM_ENGINE") or "micropython"
        self.engine = None  # what the terminal said it runs on (its first event)
        self.describe = describe
        self.frames = frames
        self.panel = panel
        self.stderr_path = stderr_path or os.path.join(flash, "sim.log")
        self.proc = None
        self.events = queue.Queue()
        self.history = []

    def start(self, env=None):
        cmd = [sys.executable, "-m", "tools.sim", "run", "--flash", self.flash, "--events",
               "--engine", self.engine_name]
        if self.describe:
            cmd += ["--describe", self.describe]
        if self.frames:
            cmd += ["--frames", self.frames]
        if self.panel:
            cmd += ["--panel", self.panel]
        if self.heap:
            cmd += ["--heap", str(self.heap)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(self.stderr_path, "a"), text=True, bufsize=1,
                                     start_new_session=True, env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})))
        proc = self.proc
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        return self

    def _read(self, proc):
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                ev["host_t"] = time.monotonic()
                if ev.get("event") == "engine":
                    self.engine = ev.get("text")
                self.history.append(ev)
                self.events.put(ev)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def keys(self, *items):
        """keys("1250", "ok"): digits typed one by one, action names pressed."""
        for item in items:
            if item.isdigit():
                self.send("keys " + item)
            else:
                self.send("key " + item)

    def wait(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("terminal event not seen; last: %s" % self.history[-5:])
            try:
                ev = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError("terminal exited (%s); see %s" % (self.proc.returncode, self.stderr_path))
                continue
            if predicate(ev):
                return ev

    def wait_ready(self, timeout=20):
        """Booted and the gateway answered: the idle screen takes sales."""
        return self.wait(lambda e: e.get("event") == "online" and e.get("online"), timeout)

    def wait_state(self, state, timeout=20):
        return self.wait(lambda e: e.get("event") == "state" and e.get("state") == state, timeout)

    def wait_screen(self, screen, timeout=20):
        return self.wait(lambda e: e.get("event") == "screen" and e.get("screen") == screen, timeout)

    def wait_result(self, timeout=30):
        return self.wait(lambda e: e.get("event") == "result", timeout)

    def wait_exit(self, timeout=20):
        """The process ended by itself (e.g. a simulated power cut); ready for start() again."""
        self.proc.wait(timeout=timeout)
        time.sleep(0.1)  # let the reader thread take the last lines
        self.proc = None
        self.events = queue.Queue()

    def kill(self):
        """A power cut: SIGKILL, nothing flushed, nothing cleaned up (the simulator and, on the
        MicroPython engine, the firmware's own process: the whole process group at once)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        self.events = queue.Queue()

    def stop(self):
        if self.proc is None:
            return
        try:
            self.send("quit")
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None
