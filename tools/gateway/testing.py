"""Real gateways for tests and benchmarks, on free ports, in temp dirs.

    cfg_path = write_config(tmp, sandbox, reconciler={"tick": 0.05})   # SQLite file in tmp
    cfg_path = write_config(tmp, sandbox, db="postgresql://user@127.0.0.1:5432/gw")   # or PostgreSQL
                                                     # (several GatewayProcess on one such URL)
    with running_gateway(cfg_path) as gw:          # uvicorn in a thread of this process
        secret = gw.add_terminal("T1", pin="123456")
        c = gw.client("T1")                          # TerminalClient, signs and verifies
    gp = GatewayProcess(cfg_path); gp.start(); gp.kill(); gp.start()   # a subprocess (SIGKILL tests)
"""
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from tools.antom import signature
from tools.gateway import config as config_mod
from tools.gateway import credentials
from tools.gateway.client import TerminalClient
from tools.gateway.secretbox import box_for
from tools.gateway.store import Store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAST_RECONCILER = {"tick": 0.05, "first_inquiry_after": 0.5, "inquiry_interval": 0.3, "expiry_grace": 0.2,
                   "retry_interval": 0.2, "probe_interval": 30.0}


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_toml(path, sections):
    with open(path, "w") as f:
        for section, values in sections.items():
            f.write("[%s]\n" % section)
            for key, value in values.items():
                f.write("%s = %s\n" % (key, _toml_value(value)))
            f.write("\n")
    return path


def write_config(directory, sandbox=None, antom_base_url=None, merchant_private_key=None,
                 antom_public_pem=None, client_id=None, db=None, **sections):
    """A TOML config in `directory` for a gateway talking to `sandbox` (tools.sandbox.testing).
    `db`: the database setting (default: a SQLite file in `directory`; or a postgresql:// URL)."""
    os.makedirs(directory, exist_ok=True)
    private = merchant_private_key or (sandbox.merchant_private_key if sandbox else signature.generate_private_key())
    public_pem = antom_public_pem or (sandbox.public_key_pem if sandbox else signature.public_pem(
        signature.generate_private_key()))
    priv_path = os.path.join(directory, "merchant_private.pem")
    pub_path = os.path.join(directory, "antom_public.pem")
    with open(priv_path, "wb") as f:
        f.write(signature.private_pem(private))
    with open(pub_path, "wb") as f:
        f.write(public_pem)
    data = {
        "gateway": {"host": "127.0.0.1", "port": 0, "db": db or os.path.join(directory, "gateway.sqlite3"),
                    "kek_file": os.path.join(directory, "kek", "terminal-secrets.key")},
        # sandbox = true: these tests and the demo ask for a sandbox (refused otherwise, 12.13)
        "antom": {"sandbox": True, "base_url": antom_base_url or (sandbox.base_url if sandbox else "http://127.0.0.1:9"),
                  "client_id": client_id or (sandbox.client_id if sandbox else "SANDBOX_TEST"),
                  "private_key_file": priv_path, "public_key_file": pub_path, "timeout": 5.0},
        "reconciler": dict(FAST_RECONCILER),
    }
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return write_toml(os.path.join(directory, "gateway.toml"), data)


class _Base:
    base_url = None

    def __init__(self, config_path):
        self.config_path = config_path
        self.cfg = config_mod.load(config_path, environ={})
        self._store = None
        self._clients = []

    @property
    def store(self):
        """A separate connection to the gateway's database, for inspection from the test."""
        if self._store is None:
            self._store = Store(self.cfg["gateway"]["db"], box=box_for(self.cfg))
        return self._store

    def add_terminal(self, terminal_id, pin="123456"):
        secret = credentials.new_secret()
        # a cheap scrypt cost keeps tests fast; the format and check are the real ones
        self.store.add_terminal(terminal_id, secret, credentials.hash_pin(pin, n=2 ** 4))
        self.secrets = getattr(self, "secrets", {})
        self.secrets[terminal_id] = secret
        return secret

    def client(self, terminal_id, secret=None, **kwargs):
        c = TerminalClient(self.base_url, terminal_id, secret or self.secrets[terminal_id], **kwargs)
        self._clients.append(c)
        return c

    def close_clients(self):
        for c in self._clients:
            c.close()
        self._clients = []
        if self._store is not None:
            self._store.close()
            self._store = None


class ThreadGateway(_Base):
    """The gateway under uvicorn in a background thread (real HTTP on 127.0.0.1)."""

    def __init__(self, config_path, reconcile=True):
        super().__init__(config_path)
        self.reconcile = reconcile
        self.thread = None
        self.server = None
        self.gateway = None
        self.loop = None

    def start(self):
        from tools.gateway.server import bind, make_server, new_loop
        sock = bind("127.0.0.1", 0)
        self.port = sock.getsockname()[1]
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.gateway, self.server = make_server(self.cfg, sock, self.reconcile)
        ready = threading.Event()

        def run():
            self.loop = new_loop()
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_until_complete(self.server.serve(sockets=[sock]))
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True, name="gateway")
        self.thread.start()
        ready.wait()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.005)
        return self

    def call_soon(self, fn, *args):
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self):
        self.close_clients()
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(15)
            self.server = None


class GatewayProcess(_Base):
    """`python -m tools.gateway serve` as a subprocess; `kill()` sends SIGKILL. Restarts keep the port."""

    def __init__(self, config_path, port=0, python_args=()):
        super().__init__(config_path)
        self.port = port
        self.python_args = list(python_args)  # e.g. ["-m", "cProfile", "-o", "gw.prof"] before "-m tools.gateway"
        self.process = None
        self.log_path = os.path.join(os.path.dirname(config_path), "gateway.log")

    def start(self, timeout=20):
        out = self.log_path + ".out"
        open(out, "w").close()
        cmd = [sys.executable] + self.python_args + [
            "-m", "tools.gateway", "--config", self.config_path, "serve", "--port", str(self.port)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=open(out, "w"), stderr=open(self.log_path, "a"),
                                        stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while True:
            text = open(out).read()
            if "gateway listening on " in text:
                self.base_url = text.split("gateway listening on ", 1)[1].split()[0]
                self.port = int(self.base_url.rsplit(":", 1)[1])
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gateway did not start:\n" + open(self.log_path).read()[-3000:])
            time.sleep(0.02)

    def kill(self):
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.close_clients()


@contextlib.contextmanager
def running_gateway(config_path, reconcile=True):
    gw = ThreadGateway(config_path, reconcile).start()
    try:
        yield gw
    finally:
        gw.stop()
