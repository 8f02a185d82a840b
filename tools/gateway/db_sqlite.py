"""The SQLite backend of the store: one file, WAL mode, one connection per thread.

Write transactions are BEGIN IMMEDIATE (one writer at a time across every process on the file, the
others wait up to the busy timeout). Each thread has its own connection, so one thread's
transaction never swallows another thread's statements; they all close with `close()` (SQLite keeps
a process's locks right while several of its connections share a file).
"""
import contextlib
import logging
import os
import sqlite3
import threading

from tools.gateway.db_common import IntegrityError, Result, for_dialect
from tools.gateway.files import private_dir, private_file

log = logging.getLogger("gateway")


def connect(path, synchronous="FULL", warn=True):
    if path != ":memory:":
        folder = os.path.dirname(os.path.abspath(path))
        if not private_dir(folder) and warn:
            log.warning("%s can be read by other users: keep the gateway's data in a 0700 folder", folder)
        # 0600 before SQLite opens it; its -wal and -shm files take the database file's mode
        private_file(path)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.chmod(path + suffix, 0o600)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=%s" % synchronous)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def statements(script):
    """Split a script into statements, keeping trigger bodies (which contain ';') whole."""
    out, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            out.append(text)
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current))
    return out


class SqliteDb:
    dialect = "sqlite"

    def __init__(self, path, synchronous="FULL"):
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self._all = []
        self._all_lock = threading.Lock()
        self._conn()  # open now: a bad path is an error at start, not at the first request

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.path == ":memory:" and self._all:
                conn = self._all[0]  # one in-memory database: every thread shares its connection
            else:
                conn = connect(self.path, self.synchronous, warn=not self._all)  # warned once, not per thread
                with self._all_lock:
                    self._all.append(conn)
            self._local.conn = conn
        return conn

    def execute(self, sql, args=()):
        try:
            cur = self._conn().execute(sql, args)
            rows = cur.fetchall()
            return Result(rows, cur.rowcount)
        except sqlite3.IntegrityError as e:
            raise IntegrityError(str(e)) from e

    def script(self, sql):
        for statement in statements(sql):
            self.execute(statement)

    @property
    def in_transaction(self):
        return self._conn().in_transaction

    @contextlib.contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT, nestable (inner blocks join the outer transaction)."""
        conn = self._conn()
        if conn.in_transaction:
            yield self
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.after = []
        try:
            yield self
        except BaseException:
            self._local.after = None
            conn.execute("ROLLBACK")
            raise
        after, self._local.after = self._local.after, None
        conn.execute("COMMIT")
        for fn in after:
            fn()

    def after_commit(self, fn):
        """Call `fn` once the outermost transaction of this thread has committed (now when none is
        open; never when it rolls back): a wake-up must not be seen before the change it announces."""
        after = getattr(self._local, "after", None)
        if after is None or not self._conn().in_transaction:
            fn()
        else:
            after.append(fn)

    @contextlib.contextmanager
    def unsynced(self):
        """A write transaction without its fsync (inside a caller's transaction: joins it)."""
        conn = self._conn()
        if conn.in_transaction:
            yield
            return
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.transaction():
                yield
        finally:
            conn.execute("PRAGMA synchronous=%s" % self.synchronous)

    def schema_version(self):
        return self._conn().execute("PRAGMA user_version").fetchone()[0]

    def migrate(self, migrations):
        """Run the migrations after the file's `PRAGMA user_version`, all in one write transaction."""
        with self.transaction():
            version = self.schema_version()
            for number, entry in enumerate(migrations, start=1):
                if number > version:
                    for part in for_dialect(entry, self.dialect):
                        part(self) if callable(part) else self.script(part)
                    self._conn().execute("PRAGMA user_version=%d" % number)

    def close(self):
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
