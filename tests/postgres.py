"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, on a free port.

PostgreSQL refuses to run as root, so under root (CI, this machine) the cluster's folder is given to
the unprivileged `postgres` user that Debian's package creates and every server command runs as that
user; as an ordinary user it runs as that user. Nothing touches a system cluster: the server listens on
127.0.0.1 and a socket inside the temporary folder, trusts local connections, and is stopped (fast
shutdown) and removed by `stop()`.

    cluster = Cluster.start(tmpdir)
    cluster.dsn            # postgresql://postgres@127.0.0.1:PORT/postgres
    cluster.create_database("t1")   # a fresh database per test, cheap
    cluster.stop()
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time

_RUN_AS = "postgres"  # the unprivileged user Debian's postgresql package creates


def bin_dir():
    """The folder of initdb/pg_ctl: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL server binaries not found: run `make setup` (it installs Debian's "
                       "postgresql) or apt-get install postgresql")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, folder, port, user_cmd):
        self.folder = folder
        self.port = port
        self._as_user = user_cmd
        self.dsn = "postgresql://postgres@127.0.0.1:%d/postgres" % port

    @classmethod
    def start(cls, parent):
        folder = os.path.join(str(parent), "pg")
        os.makedirs(folder)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(_RUN_AS)
            os.chown(folder, pw.pw_uid, pw.pw_gid)
            os.chmod(str(parent), 0o755)  # the server user must reach its folder
            user_cmd = ["runuser", "-u", _RUN_AS, "--"]
        else:
            user_cmd = []
        cluster = cls(folder, _free_port(), user_cmd)
        cluster._run("initdb", "-D", cluster.data, "-U", "postgres", "--auth=trust", "--no-sync",
                     "-E", "UTF8", "--locale=C")
        with open(os.path.join(cluster.data, "postgresql.auto.conf"), "a") as f:
            # a test cluster: no durability work, small, loopback only
            f.write("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 300\nshared_buffers = 64MB\n" % (cluster.port, folder))
        cluster._run("pg_ctl", "-D", cluster.data, "-l", os.path.join(folder, "server.log"), "-w",
                     "-t", "60", "start")
        return cluster

    @property
    def data(self):
        return os.path.join(self.folder, "data")

    def _run(self, tool, *args):
        cmd = self._as_user + [os.path.join(bin_dir(), tool)] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.folder)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (tool, (r.stderr or r.stdout).strip()[-2000:]))
        return r.stdout

    def psql(self, sql, database="postgres"):
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                         "-v", "ON_ERROR_STOP=1", "-qAtc", sql)

    def create_database(self, name):
        """A fresh, empty database; returns its URL."""
        self.psql('CREATE DATABASE "%s"' % name)
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, name)

    def stop(self):
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop")
        except RuntimeError:
            pass
        deadline = time.monotonic() + 10
        while os.path.exists(os.path.join(self.data, "postmaster.pid")) and time.monotonic() < deadline:
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
