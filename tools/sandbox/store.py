"""The sandbox's state in SQLite (DATA/sandbox.sqlite3): merchants, payments, refunds,
notifications, run-wide faults and fault counters. A restarted sandbox carries on from here.

The server uses one connection from its event loop, so each method is atomic with respect to the
other requests; the CLI opens its own connection (WAL mode lets both work at once).
"""
import json
import os
import sqlite3
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    client_id TEXT PRIMARY KEY, public_key_pem TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, payment_request_id TEXT NOT NULL,
    key_fields TEXT NOT NULL, reference_order_id TEXT NOT NULL, description TEXT NOT NULL,
    merchant_name TEXT NOT NULL, store_name TEXT NOT NULL, currency TEXT NOT NULL,
    value INTEGER NOT NULL, notify_url TEXT NOT NULL, status TEXT NOT NULL,
    result_code TEXT, result_message TEXT, create_time REAL NOT NULL, expire_time REAL NOT NULL,
    payment_time REAL, cancel_time REAL, token TEXT NOT NULL UNIQUE, code_value TEXT NOT NULL,
    refunded INTEGER NOT NULL DEFAULT 0, reversed INTEGER NOT NULL DEFAULT 0,
    faults TEXT NOT NULL, pay_response TEXT NOT NULL,
    UNIQUE (client_id, payment_request_id));
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, refund_request_id TEXT NOT NULL,
    payment_id TEXT NOT NULL, currency TEXT NOT NULL, value INTEGER NOT NULL, reason TEXT,
    create_time REAL NOT NULL, response TEXT NOT NULL,
    UNIQUE (client_id, refund_request_id));
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payment_id TEXT NOT NULL, client_id TEXT NOT NULL,
    url TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL, bad_signatures INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, operation TEXT NOT NULL, client_id TEXT NOT NULL,
    request_key TEXT, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS run_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, amount TEXT, name TEXT NOT NULL, arg REAL NOT NULL);
CREATE TABLE IF NOT EXISTS agents (
    client_id TEXT NOT NULL, agent_token TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (client_id, agent_token));
CREATE TABLE IF NOT EXISTS registrations (
    client_id TEXT NOT NULL, agent_token TEXT, registration_request_id TEXT NOT NULL,
    reference_merchant_id TEXT NOT NULL, reference_store_id TEXT, key_fields TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL,
    UNIQUE (client_id, registration_request_id));
CREATE TABLE IF NOT EXISTS fault_counters (
    scope TEXT NOT NULL, name TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (scope, name));
"""

FILENAME = "sandbox.sqlite3"

# Columns added after the first schema: a data dir made by an older sandbox gets them on start.
ADDED_COLUMNS = {
    # isv: calls must name a merchant by agent-token; antom_private_pem: this client id's own Antom key
    "merchants": (("isv", "INTEGER NOT NULL DEFAULT 0"), ("antom_private_pem", "TEXT")),
    "refunds": (("agent_token", "TEXT"),),
    "calls": (("agent_token", "TEXT"),),
    "payments": (("agent_token", "TEXT"), ("settlement_currency", "TEXT"), ("wallet", "TEXT"), ("customer_currency", "TEXT"),
                 ("customer_value", "INTEGER"), ("payment_quote", "TEXT"), ("shown_quote", "TEXT"),
                 ("settlement_value", "INTEGER"), ("settlement_quote", "TEXT")),
}
JSON_COLUMNS = ("faults", "payment_quote", "shown_quote", "settlement_quote")


class Store:
    def __init__(self, data_dir: str):
        os.makedirs(data_dir, exist_ok=True)
        self.db = sqlite3.connect(os.path.join(data_dir, FILENAME), check_same_thread=False,
                                  isolation_level=None, timeout=10)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        for table, columns in ADDED_COLUMNS.items():
            have = {row["name"] for row in self.db.execute("PRAGMA table_info(%s)" % table)}
            for name, kind in columns:
                if name not in have:
                    self.db.execute("ALTER TABLE %s ADD COLUMN %s %s" % (table, name, kind))

    def close(self):
        self.db.close()

    # --- merchants -------------------------------------------------------------------------------
    def register_merchant(self, client_id: str, public_key_pem: str, isv: bool = False,
                          antom_private_pem: str | None = None) -> None:
        """A client id and its public key; `isv`: every call must carry the agent-token of one of
        its merchants; `antom_private_pem`: the key Antom signs this client id's answers with
        (None: the sandbox's own key, sandbox_private.pem)."""
        self.db.execute("INSERT OR REPLACE INTO merchants (client_id, public_key_pem, isv, antom_private_pem) "
                        "VALUES (?, ?, ?, ?)", (client_id, public_key_pem, 1 if isv else 0, antom_private_pem))

    def client(self, client_id: str) -> dict | None:
        row = self.db.execute("SELECT * FROM merchants WHERE client_id = ?", (client_id,)).fetchone()
        return dict(row) if row else None

    def add_agent(self, client_id: str, agent_token: str, name: str) -> None:
        """A merchant reachable through ISV `client_id` by its agent token."""
        self.db.execute("INSERT OR REPLACE INTO agents VALUES (?, ?, ?)", (client_id, agent_token, name))

    def agent(self, client_id: str, agent_token: str) -> dict | None:
        row = self.db.execute("SELECT * FROM agents WHERE client_id = ? AND agent_token = ?",
                              (client_id, agent_token)).fetchone()
        return dict(row) if row else None

    # --- merchant registration -------------------------------------------------------------------
    def add_registration(self, **fields) -> None:
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        self.db.execute("INSERT INTO registrations (%s) VALUES (%s)" % (names, marks), tuple(fields.values()))

    def registration(self, client_id: str, agent_token: str | None, request_id: str | None = None,
                     reference_merchant_id: str | None = None) -> dict | None:
        sql, args = "SELECT * FROM registrations WHERE client_id = ? AND agent_token IS ?", [client_id, agent_token]
        if request_id is not None:
            sql += " AND registration_request_id = ?"
            args.append(request_id)
        if reference_merchant_id is not None:
            sql += " AND reference_merchant_id = ?"
            args.append(reference_merchant_id)
        row = self.db.execute(sql + " ORDER BY created DESC LIMIT 1", args).fetchone()
        return dict(row) if row else None

    def merchant_key(self, client_id: str) -> str | None:
        row = self.db.execute("SELECT public_key_pem FROM merchants WHERE client_id = ?",
                              (client_id,)).fetchone()
        return row[0] if row else None

    # --- payments --------------------------------------------------------------------------------
    def add_payment(self, **fields) -> dict:
        fields["faults"] = json.dumps(fields["faults"])
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        self.db.execute("INSERT INTO payments (%s) VALUES (%s)" % (names, marks), tuple(fields.values()))
        return self.payment(fields["payment_id"])

    @staticmethod
    def _payment(row) -> dict | None:
        if row is None:
            return None
        payment = dict(row)
        for name in JSON_COLUMNS:
            payment[name] = json.loads(payment[name]) if payment[name] else (
                {} if name == "faults" else None)
        return payment

    def payment(self, payment_id: str) -> dict | None:
        return self._payment(self.db.execute("SELECT * FROM payments WHERE payment_id = ?",
                                             (payment_id,)).fetchone())

    def payment_by_request(self, client_id: str, request_id: str) -> dict | None:
        return self._payment(self.db.execute(
            "SELECT * FROM payments WHERE client_id = ? AND payment_request_id = ?",
            (client_id, request_id)).fetchone())

    def payment_by_token(self, token: str) -> dict | None:
        return self._payment(self.db.execute("SELECT * FROM payments WHERE token = ?",
                                             (token,)).fetchone())

    def update_payment(self, payment_id: str, **fields) -> dict:
        for name in JSON_COLUMNS:
            if name in fields and fields[name] is not None:
                fields[name] = json.dumps(fields[name])
        sets = ", ".join("%s = ?" % name for name in fields)
        self.db.execute("UPDATE payments SET %s WHERE payment_id = ?" % sets,
                        tuple(fields.values()) + (payment_id,))
        return self.payment(payment_id)

    def payments(self, reference_order_id: str | None = None) -> list[dict]:
        if reference_order_id is None:
            rows = self.db.execute("SELECT * FROM payments ORDER BY create_time, rowid")
        else:
            rows = self.db.execute("SELECT * FROM payments WHERE reference_order_id = ? "
                                   "ORDER BY create_time, rowid", (reference_order_id,))
        return [self._payment(row) for row in rows]

    def expired_open_payments(self, now: float) -> list[dict]:
        rows = self.db.execute("SELECT * FROM payments WHERE status = 'PROCESSING' AND expire_time <= ?",
                               (now,))
        return [self._payment(row) for row in rows]

    # --- refunds ---------------------------------------------------------------------------------
    def add_refund(self, **fields) -> None:
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        self.db.execute("INSERT INTO refunds (%s) VALUES (%s)" % (names, marks), tuple(fields.values()))

    def refund_by_request(self, client_id: str, request_id: str) -> dict | None:
        row = self.db.execute("SELECT * FROM refunds WHERE client_id = ? AND refund_request_id = ?",
                              (client_id, request_id)).fetchone()
        return dict(row) if row else None

    def refund(self, client_id: str, refund_id: str) -> dict | None:
        row = self.db.execute("SELECT * FROM refunds WHERE client_id = ? AND refund_id = ?",
                              (client_id, refund_id)).fetchone()
        return dict(row) if row else None

    # --- the call log (what tests count: "this refund reached Antom once") --------------------------
    def log_call(self, operation: str, client_id: str, request_key: str | None,
                 agent_token: str | None = None) -> None:
        self.db.execute("INSERT INTO calls (operation, client_id, request_key, at, agent_token) "
                        "VALUES (?, ?, ?, ?, ?)", (operation, client_id, request_key, time.time(), agent_token))

    def calls(self, operation: str | None = None, request_key: str | None = None) -> list[dict]:
        sql, args = "SELECT operation, client_id, agent_token, request_key, at FROM calls WHERE 1=1", []
        if operation:
            sql += " AND operation = ?"
            args.append(operation)
        if request_key:
            sql += " AND request_key = ?"
            args.append(request_key)
        return [dict(row) for row in self.db.execute(sql + " ORDER BY id", args)]

    def transaction(self):
        """`with store.transaction():` groups writes (BEGIN IMMEDIATE ... COMMIT/ROLLBACK)."""
        return _Transaction(self.db)

    # --- notifications ---------------------------------------------------------------------------
    def add_notification(self, payment_id, client_id, url, body, state, next_at, bad_signatures,
                         duplicates) -> None:
        self.db.execute(
            "INSERT INTO notifications (payment_id, client_id, url, body, state, next_at, "
            "bad_signatures, duplicates, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (payment_id, client_id, url, body, state, next_at, bad_signatures, duplicates, time.time()))

    def due_notifications(self, now: float) -> list[dict]:
        rows = self.db.execute("SELECT * FROM notifications WHERE state = 'pending' AND next_at <= ? "
                               "ORDER BY next_at, id", (now,))
        return [dict(row) for row in rows]

    def next_notification_time(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_at) FROM notifications WHERE state = 'pending'").fetchone()
        return row[0]

    def update_notification(self, notification_id: int, **fields) -> None:
        sets = ", ".join("%s = ?" % name for name in fields)
        self.db.execute("UPDATE notifications SET %s WHERE id = ?" % sets,
                        tuple(fields.values()) + (notification_id,))

    def notifications(self) -> list[dict]:
        return [dict(row) for row in self.db.execute("SELECT * FROM notifications ORDER BY id")]

    # --- faults ----------------------------------------------------------------------------------
    def add_run_fault(self, name: str, arg: float, amount: str | None) -> None:
        self.db.execute("INSERT INTO run_faults (amount, name, arg) VALUES (?, ?, ?)", (amount, name, arg))

    def clear_run_faults(self) -> None:
        self.db.execute("DELETE FROM run_faults")

    def run_faults(self, amount_value: str) -> dict[str, float]:
        rows = self.db.execute("SELECT name, arg FROM run_faults WHERE amount IS NULL OR amount = ? "
                               "ORDER BY id", (amount_value,))
        return {row["name"]: row["arg"] for row in rows}

    def take(self, scope: str, name: str, limit: float) -> bool:
        """Consume one use of a counted fault; False once `limit` uses are spent."""
        row = self.db.execute("SELECT used FROM fault_counters WHERE scope = ? AND name = ?",
                              (scope, name)).fetchone()
        used = row[0] if row else 0
        if used >= limit:
            return False
        self.db.execute("INSERT OR REPLACE INTO fault_counters VALUES (?, ?, ?)", (scope, name, used + 1))
        return True


class _Transaction:
    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
