"""Several real gateway processes on one database, behind the round-robin proxy (tests, benchmarks).

    fleet = GatewayFleet(tmp, sandbox, db="postgresql://...", instances=3).start()
    fleet.add_terminal("T1", pin="123456")
    c = fleet.client("T1")            # through the proxy (round robin, no sticky sessions)
    d = fleet.client("T1", via=1)     # straight to instance 1
    fleet.kill(0)                     # SIGKILL instance 0
    fleet.stop()

Every instance has its own config folder (its log, its port) and the same database, key-encryption
key and Antom keys; their notify URL is the proxy's, as a fleet behind a load balancer is configured.
"""
import os
import threading

from tools.fleet.proxy import ThreadProxy
from tools.gateway.testing import GatewayProcess, write_config


class GatewayFleet:
    def __init__(self, tmp, sandbox, db=None, instances=3, notify_via_proxy=True, **sections):
        self.tmp = str(tmp)
        self.sandbox = sandbox
        self.db = db or os.path.join(self.tmp, "db", "gateway.sqlite3")
        self.n = instances
        self.notify_via_proxy = notify_via_proxy
        self.sections = sections
        self.kek = os.path.join(self.tmp, "kek", "terminal-secrets.key")
        self.instances = []
        self.proxy = None
        self.secrets = {}

    def config(self, i, extra_gateway=None):
        sections = {k: dict(v) for k, v in self.sections.items()}
        gateway = sections.setdefault("gateway", {})
        gateway.update({"db": self.db, "kek_file": self.kek})
        gateway.update(extra_gateway or {})
        return write_config(os.path.join(self.tmp, "gw%d" % i), self.sandbox, **sections)

    def start(self):
        if not self.db.startswith(("postgresql://", "postgres://")):
            os.makedirs(os.path.dirname(self.db), mode=0o700, exist_ok=True)
        self.proxy = ThreadProxy([]).start()
        extra = {"notify_url": self.proxy.base_url + "/antom/notify"} if self.notify_via_proxy else {}
        for i in range(self.n):
            self.instances.append(GatewayProcess(self.config(i, extra)))
        # the test's own connection first: it makes the key-encryption key and runs the migrations,
        # so the instances can then start together without racing to create either
        self.store  # noqa: B018
        errors = []

        def start(gp):
            try:
                gp.start(timeout=90)  # three at once on a loaded 2-core machine: slow
            except Exception as e:  # reported below, with every instance's log
                errors.append(e)
        threads = [threading.Thread(target=start, args=(gp,)) for gp in self.instances]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        self.proxy.set_backends([("127.0.0.1", gp.port) for gp in self.instances])
        return self

    @property
    def base_url(self):
        return self.proxy.base_url

    @property
    def store(self):
        """A connection of the test's own to the fleet's database."""
        return self.instances[0].store

    def add_terminal(self, terminal_id, pin="123456"):
        self.secrets[terminal_id] = self.instances[0].add_terminal(terminal_id, pin)
        return self.secrets[terminal_id]

    def client(self, terminal_id, via=None, **kwargs):
        gp = self.instances[0]
        if via is not None:
            gp = self.instances[via]
            if gp.process is None:
                raise RuntimeError("instance %d is not running" % via)
        from tools.gateway.client import TerminalClient
        url = self.proxy.base_url if via is None else gp.base_url
        c = TerminalClient(url, terminal_id, self.secrets[terminal_id], **kwargs)
        gp._clients.append(c)
        return c

    def pid(self, i):
        return self.instances[i].process.pid

    def kill(self, i):
        """SIGKILL instance i (the proxy finds out at its next connection attempt)."""
        self.instances[i].kill()

    def stop(self):
        for gp in self.instances:
            gp.stop()
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None

    def logs(self):
        out = []
        for i, gp in enumerate(self.instances):
            try:
                out.append("--- instance %d ---\n%s" % (i, open(gp.log_path).read()[-4000:]))
            except OSError:
                pass
        return "\n".join(out)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
