"""The gateway's SQLite store: terminals, payments, refunds, alerts, an append-only event log, nonces.

WAL mode. State changes commit before the gateway acknowledges anything (a terminal answer, an
Antom notification ack), so SIGKILL at any moment loses no acknowledged state. Payment state uses
`synchronous=FULL`. The nonce log (written on every request) is a second file, `<db>.nonces`, with
`synchronous=OFF`: a committed nonce survives a process kill (it is in the OS's cache), and only an
OS crash could forget the last few, re-opening a replay window of at most the 5-minute timestamp
window for requests that were already answered.
"""
import json
import os
import sqlite3
import time

MIGRATIONS = [
    # 1: the initial schema
    """
    CREATE TABLE terminals (
        id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        pin_hash TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_seen INTEGER,
        heartbeat TEXT,
        pin_failures INTEGER NOT NULL DEFAULT 0,
        pin_locked_until INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE payments (
        id INTEGER PRIMARY KEY,
        terminal_id TEXT NOT NULL REFERENCES terminals(id),
        order_id TEXT NOT NULL,
        payment_request_id TEXT NOT NULL UNIQUE,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        pay_body TEXT NOT NULL,
        payment_id TEXT,
        code_value TEXT,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        paid_at INTEGER,
        reason TEXT,
        late INTEGER NOT NULL DEFAULT 0,
        notified INTEGER NOT NULL DEFAULT 0,
        cancel_state TEXT,
        next_check_at REAL NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        UNIQUE (terminal_id, order_id)
    );
    CREATE INDEX payments_open ON payments(status, next_check_at);
    CREATE INDEX payments_cancel ON payments(cancel_state, next_check_at);
    CREATE INDEX payments_payment_id ON payments(payment_id);
    CREATE TABLE refunds (
        id INTEGER PRIMARY KEY,
        payment INTEGER NOT NULL REFERENCES payments(id),
        refund_id TEXT NOT NULL,
        refund_request_id TEXT NOT NULL UNIQUE,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        antom_refund_id TEXT,
        kind TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        next_check_at REAL NOT NULL DEFAULT 0,
        UNIQUE (payment, refund_id)
    );
    CREATE INDEX refunds_open ON refunds(status, next_check_at);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        payment INTEGER NOT NULL REFERENCES payments(id),
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        acked_at INTEGER
    );
    CREATE INDEX alerts_terminal ON alerts(terminal_id, acked_at);
    CREATE TABLE notifications (
        digest TEXT PRIMARY KEY,
        received_at REAL NOT NULL,
        payment_request_id TEXT,
        body TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        terminal_id TEXT,
        order_id TEXT,
        detail TEXT NOT NULL
    );
    CREATE INDEX events_order ON events(terminal_id, order_id);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    """,
    # 2: tombstones, cancels of orders the gateway had not seen (their create may come later)
    """
    CREATE TABLE cancelled_orders (
        terminal_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        cancelled_at INTEGER NOT NULL,
        PRIMARY KEY (terminal_id, order_id)
    );
    """,
    # 3: wallets: who paid, in what, at which rate, and the settlement (tools/gateway/wallet_figures.py)
    """
    ALTER TABLE payments ADD COLUMN wallet TEXT;
    ALTER TABLE payments ADD COLUMN customer_amount INTEGER;
    ALTER TABLE payments ADD COLUMN customer_currency TEXT;
    ALTER TABLE payments ADD COLUMN quote TEXT;
    ALTER TABLE payments ADD COLUMN settlement_amount INTEGER;
    ALTER TABLE payments ADD COLUMN settlement_currency TEXT;
    ALTER TABLE payments ADD COLUMN settlement_quote TEXT;
    CREATE INDEX payments_paid ON payments(paid_at);
    """,
]

# The nonce log lives in its own file: it is written on every request, and keeping its WAL apart
# keeps its checkpoints from syncing the payment database (and the other way round).
NONCE_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS nonces (
        terminal_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        seen_at REAL NOT NULL,
        PRIMARY KEY (terminal_id, nonce)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS nonces_age ON nonces(seen_at)",
]

FINAL = ("PAID", "FAILED", "CANCELLED", "EXPIRED")
OPEN = ("CREATING", "PENDING")


def nonce_path(path):
    return ":memory:" if path == ":memory:" else path + ".nonces"


def connect(path, synchronous="FULL"):
    if path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=%s" % synchronous)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def migrate(conn):
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS, start=1):
            if number > version:
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute("PRAGMA user_version=%d" % number)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script):
    """Split a migration into statements, keeping trigger bodies (which contain ';') whole."""
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


class Store:
    """One gateway database. Not shared between threads: the gateway uses it from its event loop."""

    def __init__(self, path, clock=time.time):
        self.path = path
        self.clock = clock
        self.db = connect(path)
        migrate(self.db)
        self.nonce_path = nonce_path(path)
        self.nonce_db = connect(self.nonce_path, synchronous="OFF")
        for statement in NONCE_SCHEMA:
            self.nonce_db.execute(statement)

    def close(self):
        self.db.close()
        self.nonce_db.close()

    # --- transactions ---------------------------------------------------------------------
    def transaction(self):
        return _Transaction(self.db)

    def event(self, kind, terminal_id=None, order_id=None, **detail):
        """Append to the event log (inside the caller's transaction when there is one)."""
        self.db.execute("INSERT INTO events(at, kind, terminal_id, order_id, detail) VALUES (?,?,?,?,?)",
                        (self.clock(), kind, terminal_id, order_id, json.dumps(detail, sort_keys=True)))

    # --- terminals ------------------------------------------------------------------------
    def add_terminal(self, terminal_id, secret, pin_hash):
        with self.transaction():
            self.db.execute("INSERT INTO terminals(id, secret, pin_hash, created_at) VALUES (?,?,?,?)",
                            (terminal_id, secret, pin_hash, int(self.clock())))
            self.event("terminal_added", terminal_id)

    def terminal(self, terminal_id):
        return self.db.execute("SELECT * FROM terminals WHERE id=?", (terminal_id,)).fetchone()

    def terminals(self):
        return self.db.execute("SELECT * FROM terminals ORDER BY id").fetchall()

    def revoke_terminal(self, terminal_id):
        with self.transaction():
            cur = self.db.execute("UPDATE terminals SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                                  (int(self.clock()), terminal_id))
            if cur.rowcount:
                self.event("terminal_revoked", terminal_id)
            return cur.rowcount == 1

    def set_pin_hash(self, terminal_id, pin_hash):
        with self.transaction():
            cur = self.db.execute("UPDATE terminals SET pin_hash=?, pin_failures=0, pin_locked_until=0 WHERE id=?",
                                  (pin_hash, terminal_id))
            if cur.rowcount:
                self.event("pin_set", terminal_id)
            return cur.rowcount == 1

    def record_pin_result(self, terminal_id, ok, lock_after, lock_seconds):
        with self.transaction():
            if ok:
                self.db.execute("UPDATE terminals SET pin_failures=0 WHERE id=?", (terminal_id,))
                return
            row = self.terminal(terminal_id)
            failures = row["pin_failures"] + 1
            locked_until = int(self.clock()) + lock_seconds if failures >= lock_after else 0
            self.db.execute("UPDATE terminals SET pin_failures=?, pin_locked_until=? WHERE id=?",
                            (0 if locked_until else failures, locked_until, terminal_id))
            self.event("pin_rejected", terminal_id, failures=failures, locked=bool(locked_until))

    def heartbeat(self, terminal_id, data):
        with self.transaction():
            self.db.execute("UPDATE terminals SET last_seen=?, heartbeat=? WHERE id=?",
                            (int(self.clock()), json.dumps(data, sort_keys=True), terminal_id))

    # --- nonces ---------------------------------------------------------------------------
    def remember_nonce(self, terminal_id, nonce, seen_at):
        """False when this terminal already used this nonce (committed before returning True)."""
        try:
            self.nonce_db.execute("INSERT INTO nonces(terminal_id, nonce, seen_at) VALUES (?,?,?)",
                                  (terminal_id, nonce, seen_at))
            return True
        except sqlite3.IntegrityError:
            return False

    def recent_nonces(self, since):
        return self.nonce_db.execute("SELECT terminal_id, nonce, seen_at FROM nonces WHERE seen_at>=?",
                                     (since,)).fetchall()

    def forget_nonces(self, before, limit=None):
        """Drop nonces seen before `before`; at most `limit` of them (small batches keep each
        deletion short, so the event loop never stalls on a large one)."""
        if limit is None:
            self.nonce_db.execute("DELETE FROM nonces WHERE seen_at<?", (before,))
        else:
            self.nonce_db.execute("DELETE FROM nonces WHERE (terminal_id, nonce) IN "
                                  "(SELECT terminal_id, nonce FROM nonces WHERE seen_at<? LIMIT ?)", (before, limit))

    # --- payments -------------------------------------------------------------------------
    def payment(self, terminal_id, order_id):
        return self.db.execute("SELECT * FROM payments WHERE terminal_id=? AND order_id=?",
                               (terminal_id, order_id)).fetchone()

    def payment_by_rowid(self, rowid):
        return self.db.execute("SELECT * FROM payments WHERE id=?", (rowid,)).fetchone()

    def payment_by_request_id(self, payment_request_id):
        return self.db.execute("SELECT * FROM payments WHERE payment_request_id=?",
                               (payment_request_id,)).fetchone()

    def payment_by_antom_id(self, payment_id):
        return self.db.execute("SELECT * FROM payments WHERE payment_id=?", (payment_id,)).fetchone()

    def insert_payment(self, **fields):
        now = self.clock()
        fields.setdefault("created_at", int(now))
        fields.setdefault("updated_at", now)
        names = ",".join(fields)
        marks = ",".join("?" for _ in fields)
        cur = self.db.execute("INSERT INTO payments(%s) VALUES (%s)" % (names, marks), tuple(fields.values()))
        return cur.lastrowid

    def update_payment(self, rowid, **fields):
        fields["updated_at"] = self.clock()
        sets = ",".join("%s=?" % name for name in fields)
        self.db.execute("UPDATE payments SET %s WHERE id=?" % sets, tuple(fields.values()) + (rowid,))

    def payments(self, terminal_id=None, status=None, limit=100):
        sql, args = "SELECT * FROM payments WHERE 1=1", []
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        if status:
            sql += " AND status=?"
            args.append(status)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return self.db.execute(sql, args).fetchall()

    # --- the report (tools/gateway/report.py) ----------------------------------------------------
    def paid_between(self, start, end, terminal_id=None):
        """PAID payments whose paid_at is in [start, end)."""
        sql, args = "SELECT * FROM payments WHERE status='PAID' AND paid_at>=? AND paid_at<?", [start, end]
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        return self.db.execute(sql + " ORDER BY paid_at, id", args).fetchall()

    def refunds_between(self, start, end, terminal_id=None):
        """Succeeded refunds of PAID payments (not the returns of late payments) requested in
        [start, end), with their payment's terminal, order and wallet."""
        sql = ("SELECT refunds.*, payments.terminal_id, payments.order_id, payments.wallet FROM refunds "
               "JOIN payments ON payments.id = refunds.payment WHERE refunds.status='SUCCEEDED' "
               "AND refunds.kind != 'LATE' AND payments.status='PAID' "
               "AND refunds.created_at>=? AND refunds.created_at<?")
        args = [start, end]
        if terminal_id:
            sql += " AND payments.terminal_id=?"
            args.append(terminal_id)
        return self.db.execute(sql + " ORDER BY refunds.created_at, refunds.id", args).fetchall()

    def late_between(self, start, end, terminal_id=None):
        """Payments whose money arrived after the terminal gave up, created in [start, end)."""
        sql, args = "SELECT * FROM payments WHERE late=1 AND created_at>=? AND created_at<?", [start, end]
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        return self.db.execute(sql + " ORDER BY created_at, id", args).fetchall()

    def due_open_payments(self, now):
        return self.db.execute(
            "SELECT * FROM payments WHERE status IN ('CREATING','PENDING') AND next_check_at<=? ORDER BY next_check_at",
            (now,)).fetchall()

    def due_cancels(self, now):
        return self.db.execute(
            "SELECT * FROM payments WHERE cancel_state IN ('PENDING','REFUND') AND next_check_at<=? ORDER BY next_check_at",
            (now,)).fetchall()

    # --- tombstones -----------------------------------------------------------------------
    def add_cancelled_order(self, terminal_id, order_id, reason):
        """Remember a cancel for an order with no payment; False when it was already remembered."""
        cur = self.db.execute("INSERT OR IGNORE INTO cancelled_orders(terminal_id, order_id, reason, cancelled_at) "
                              "VALUES (?,?,?,?)", (terminal_id, order_id, reason, int(self.clock())))
        return cur.rowcount == 1

    def cancelled_order(self, terminal_id, order_id):
        return self.db.execute("SELECT * FROM cancelled_orders WHERE terminal_id=? AND order_id=?",
                               (terminal_id, order_id)).fetchone()

    # --- refunds --------------------------------------------------------------------------
    def refund(self, payment_rowid, refund_id):
        return self.db.execute("SELECT * FROM refunds WHERE payment=? AND refund_id=?",
                               (payment_rowid, refund_id)).fetchone()

    def refunds_of(self, payment_rowid):
        return self.db.execute("SELECT * FROM refunds WHERE payment=? ORDER BY id", (payment_rowid,)).fetchall()

    def insert_refund(self, **fields):
        now = self.clock()
        fields.setdefault("created_at", int(now))
        fields.setdefault("updated_at", now)
        names = ",".join(fields)
        marks = ",".join("?" for _ in fields)
        return self.db.execute("INSERT INTO refunds(%s) VALUES (%s)" % (names, marks), tuple(fields.values())).lastrowid

    def update_refund(self, rowid, **fields):
        fields["updated_at"] = self.clock()
        sets = ",".join("%s=?" % name for name in fields)
        self.db.execute("UPDATE refunds SET %s WHERE id=?" % sets, tuple(fields.values()) + (rowid,))

    def refund_by_rowid(self, rowid):
        return self.db.execute("SELECT * FROM refunds WHERE id=?", (rowid,)).fetchone()

    def due_refunds(self, now):
        return self.db.execute("SELECT * FROM refunds WHERE status='PENDING' AND next_check_at<=? ORDER BY id",
                               (now,)).fetchall()

    def refunded_total(self, payment_rowid, include_pending=False):
        statuses = ("SUCCEEDED", "PENDING") if include_pending else ("SUCCEEDED",)
        marks = ",".join("?" for _ in statuses)
        row = self.db.execute("SELECT COALESCE(SUM(amount),0) FROM refunds WHERE payment=? AND status IN (%s)" % marks,
                              (payment_rowid,) + statuses).fetchone()
        return row[0]

    # --- alerts ---------------------------------------------------------------------------
    def add_alert(self, terminal_id, payment_rowid, kind, message):
        return self.db.execute("INSERT INTO alerts(terminal_id, payment, kind, message, created_at) VALUES (?,?,?,?,?)",
                               (terminal_id, payment_rowid, kind, message, int(self.clock()))).lastrowid

    def alerts(self, terminal_id=None, include_acked=False):
        sql = ("SELECT alerts.*, payments.order_id, payments.amount, payments.currency FROM alerts "
               "JOIN payments ON payments.id = alerts.payment WHERE 1=1")
        args = []
        if terminal_id:
            sql += " AND alerts.terminal_id=?"
            args.append(terminal_id)
        if not include_acked:
            sql += " AND alerts.acked_at IS NULL"
        return self.db.execute(sql + " ORDER BY alerts.id", args).fetchall()

    def ack_alert(self, terminal_id, alert_id):
        with self.transaction():
            cur = self.db.execute("UPDATE alerts SET acked_at=COALESCE(acked_at, ?) WHERE id=? AND terminal_id=?",
                                  (int(self.clock()), alert_id, terminal_id))
            if cur.rowcount:
                self.event("alert_acked", terminal_id, alert=alert_id)
            return cur.rowcount == 1

    # --- notifications --------------------------------------------------------------------
    def remember_notification(self, digest, payment_request_id, body):
        """False when this exact notification body was already processed."""
        try:
            self.db.execute("INSERT INTO notifications(digest, received_at, payment_request_id, body) VALUES (?,?,?,?)",
                            (digest, self.clock(), payment_request_id, body))
            return True
        except sqlite3.IntegrityError:
            return False

    # --- events ---------------------------------------------------------------------------
    def events(self, terminal_id=None, order_id=None, limit=200):
        sql, args = "SELECT * FROM events WHERE 1=1", []
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        if order_id:
            sql += " AND order_id=?"
            args.append(order_id)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return list(reversed(self.db.execute(sql, args).fetchall()))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, nestable (inner blocks join the outer transaction)."""

    def __init__(self, db):
        self.db = db
        self.outer = False

    def __enter__(self):
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self.db

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False
