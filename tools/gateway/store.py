"""The gateway's store: terminals, payments, refunds, alerts, an append-only event log, nonces.

One interface, two backends, chosen by the `db` setting (tools/gateway/dburl.py): SQLite
(db_sqlite.py, the embedded default) and PostgreSQL (db_postgres.py). The SQL here is written once,
in the common subset of the two with `?` placeholders; the PostgreSQL backend translates the few
words that differ. Nothing outside the backends knows which database it is.

State changes commit before the gateway acknowledges anything (a terminal answer, an Antom
notification ack), so SIGKILL at any moment loses no acknowledged state. On SQLite, payment state
uses `synchronous=FULL` and the nonce log (written on every request) is a second file,
`<db>.nonces`, with `synchronous=OFF`: a committed nonce survives a process kill (it is in the OS's
cache), and only an OS crash could forget the last few, re-opening a replay window of at most the
5-minute timestamp window for requests that were already answered. On PostgreSQL the nonces live in
the same database, written by connections with `synchronous_commit=off` (the same trade).
"""
import hashlib
import json
import logging
import time

from tools.gateway import dburl
from tools.gateway.db_common import IntegrityError  # noqa: F401  (the store's one integrity error)
from tools.gateway.db_sqlite import SqliteDb, connect, statements as _statements  # noqa: F401
from tools.gateway.merchant_store import MIGRATION as MERCHANTS_MIGRATION, MerchantRecords
from tools.gateway.secretbox import SecretBoxError

log = logging.getLogger("gateway")

MIGRATIONS = [
    # 1: the initial schema
    ["""
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
    """, {
        # the append-only guard: trigger bodies are the one thing written twice
        "sqlite": """
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    """,
        "postgresql": """
    CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the event log is append-only' USING ERRCODE = 'integrity_constraint_violation'; END $$;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
    """}],
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
    # 4: the event log becomes a hash chain (tamper-evident); refunds say who asked for them
    """
    ALTER TABLE events ADD COLUMN prev_hash TEXT;
    ALTER TABLE events ADD COLUMN hash TEXT;
    ALTER TABLE refunds ADD COLUMN requested_by TEXT;
    """,
    # 5: chain the entries written before migration 4
    lambda conn: _chain_existing_events(conn),
    # 6: work leases (one owner per Antom call across processes) and the inquiry count per payment
    """
    ALTER TABLE payments ADD COLUMN lease_owner TEXT;
    ALTER TABLE payments ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
    ALTER TABLE payments ADD COLUMN inquiries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE payments ADD COLUMN unknown_inquiries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE refunds ADD COLUMN lease_owner TEXT;
    ALTER TABLE refunds ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
    """,
    # 7: escalating PIN lockouts (a level that only an operator's set-pin resets), and alerts that
    # concern a terminal rather than a payment (PIN lockouts). SQLite cannot drop a NOT NULL: it
    # rebuilds the table; PostgreSQL says it directly (and keeps the identity sequence right).
    {"postgresql": """
    ALTER TABLE terminals ADD COLUMN pin_lockouts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ALTER COLUMN payment DROP NOT NULL;
    """, "sqlite": """
    ALTER TABLE terminals ADD COLUMN pin_lockouts INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE alerts_new (
        id INTEGER PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        payment INTEGER REFERENCES payments(id),
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        acked_at INTEGER
    );
    INSERT INTO alerts_new SELECT id, terminal_id, payment, kind, message, created_at, acked_at FROM alerts;
    DROP TABLE alerts;
    ALTER TABLE alerts_new RENAME TO alerts;
    CREATE INDEX alerts_terminal ON alerts(terminal_id, acked_at);
    """},
    # 8: merchants, their stores and Antom accounts; terminals belong to a store, payments to a
    # merchant (tools/gateway/merchant_store.py; the configuration's merchant is written at start)
    MERCHANTS_MIGRATION,
    # 9: an Antom account added by the CLI says whether it is a sandbox (tools/gateway/environment.py)
    "ALTER TABLE antom_accounts ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0;",
    # 10: events of a merchant that no terminal made (merchant_added, merchant_changed, store_added)
    # name their merchant, so its operators see them and nobody else's
    lambda db: _merchant_of_merchant_events(db),
]
# Append new migrations at the end (never edit or reorder a landed one): a database records the
# number of the last one it ran (SQLite: `PRAGMA user_version`; PostgreSQL: table schema_version).
# An entry runs on both backends: portable SQL (SQLite's type names INTEGER, REAL, TEXT and
# `INTEGER PRIMARY KEY`, translated for PostgreSQL by db_postgres.to_postgres), a function(db) whose
# `db.execute(sql, args)` takes the same SQL, {"sqlite": ..., "postgresql": ...} only where the two
# really differ, or a list of such parts. Use `... RETURNING id`, not lastrowid.

GENESIS = "0" * 64


def event_hash(prev_hash, event_id, at, kind, terminal_id, order_id, detail):
    """SHA-256 over the previous entry's hash and this entry's every field."""
    text = "\n".join((prev_hash, str(event_id), repr(float(at)), kind, terminal_id or "", order_id or "", detail))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chain_existing_events(db):
    """Hash the entries written before the chain existed (the append-only triggers step aside)."""
    if db.dialect == "postgresql":
        db.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    else:
        db.execute("DROP TRIGGER events_no_update")
    prev = GENESIS
    for row in db.execute("SELECT * FROM events ORDER BY id").fetchall():
        digest = event_hash(prev, row["id"], row["at"], row["kind"], row["terminal_id"], row["order_id"], row["detail"])
        db.execute("UPDATE events SET prev_hash=?, hash=? WHERE id=?", (prev, digest, row["id"]))
        prev = digest
    if db.dialect == "postgresql":
        db.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
    else:
        db.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
                   "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END")

def _merchant_of_merchant_events(db):
    """Add events.merchant_id and fill it for the merchant-level entries already written (the
    merchant their detail names; the append-only trigger steps aside as in migration 5)."""
    db.execute("ALTER TABLE events ADD COLUMN merchant_id TEXT")
    db.execute("CREATE INDEX events_merchant ON events(merchant_id)")
    rows = [(json.loads(r["detail"]).get("merchant_id"), r["id"])
            for r in db.execute("SELECT id, detail FROM events WHERE terminal_id IS NULL").fetchall()]
    rows = [(m, i) for m, i in rows if isinstance(m, str)]
    if not rows:
        return
    if db.dialect == "postgresql":
        db.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    else:
        db.execute("DROP TRIGGER events_no_update")
    for merchant_id, event_id in rows:
        db.execute("UPDATE events SET merchant_id=? WHERE id=?", (merchant_id, event_id))
    if db.dialect == "postgresql":
        db.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
    else:
        db.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
                   "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END")


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
    # the per-terminal rate limit counts a terminal's recent nonces (tools/gateway/limits.py)
    "CREATE INDEX IF NOT EXISTS nonces_terminal_age ON nonces(terminal_id, seen_at)",
    # when this nonce log began: requests signed before it cannot be checked for replay
    "CREATE TABLE IF NOT EXISTS nonce_log (began_at REAL NOT NULL)",
]

FINAL = ("PAID", "FAILED", "CANCELLED", "EXPIRED")
OPEN = ("CREATING", "PENDING")


def nonce_path(path):
    return ":memory:" if path == ":memory:" else path + ".nonces"


def migrate(db):
    """Bring a backend's schema up to date (a SqliteDb or PostgresDb)."""
    db.migrate(MIGRATIONS)


def open_backends(setting):
    """(payment database, nonce log) for the `db` setting."""
    kind, location = dburl.parse(setting)
    if kind == dburl.POSTGRESQL:
        from tools.gateway.db_postgres import PostgresDb
        main = PostgresDb(location)
        try:
            # the nonce log: same database, no wait for the WAL flush (as SQLite's .nonces file)
            nonces = PostgresDb(location, min_size=1, max_size=4, options="-c synchronous_commit=off")
        except BaseException:
            main.close()
            raise
        return main, nonces
    return SqliteDb(location), None


class Store(MerchantRecords):
    """One gateway database, SQLite or PostgreSQL (the `db` setting). Usable from several threads:
    each thread's transaction is its own."""

    def __init__(self, path, clock=time.time, box=None):
        """`path` is the `db` setting (a SQLite path, sqlite:///path or postgresql://...). `box`
        (tools/gateway/secretbox.py) seals and opens terminal secrets; without one, this store can
        do everything except read or write a secret."""
        self.path = path
        self.clock = clock
        self.box = box
        self.db, pg_nonces = open_backends(path)
        try:
            self.dialect = self.db.dialect
            existed = self.db.schema_version() > 0
            migrate(self.db)
            if pg_nonces is None:
                self.nonce_db = SqliteDb(nonce_path(dburl.parse(path)[1]), synchronous="OFF")
            else:
                self.nonce_db = pg_nonces
            with self.db.transaction() if pg_nonces else self.nonce_db.transaction():
                nonce_side = self.db if pg_nonces else self.nonce_db
                for statement in NONCE_SCHEMA:
                    nonce_side.execute(statement)
                # A nonce log that starts next to a database that already answered requests (a
                # restore, or a lost .nonces file) cannot prove that older requests are not replays: it
                # begins now. A new installation has answered nothing yet: its log is complete from the
                # start.
                nonce_side.execute("INSERT INTO nonce_log(began_at) SELECT ? WHERE NOT EXISTS "
                                   "(SELECT 1 FROM nonce_log)", (float(self.clock()) if existed else 0.0,))
            if box is not None:
                self._seal_plain_secrets()
        except BaseException:
            self.close()
            raise

    def _seal_plain_secrets(self):
        """Encrypt secrets stored in plain text by older versions, and prove the key opens the rest
        (a wrong key-encryption key is a clear error at start, not 401s later)."""
        with self.transaction():
            rows = self.db.execute("SELECT id, secret FROM terminals").fetchall()
            plain = [r for r in rows if not self.box.is_sealed(r["secret"])]
            for r in plain:
                self.db.execute("UPDATE terminals SET secret=? WHERE id=?", (self.box.seal(r["id"], r["secret"]), r["id"]))
            if plain:
                self.event("terminal_secrets_encrypted", count=len(plain))
        sealed = [r for r in rows if self.box.is_sealed(r["secret"])]
        if sealed:
            self.box.open(sealed[0]["id"], sealed[0]["secret"])

    def terminal_secret(self, row):
        """The plain secret of a terminals row."""
        if self.box is None:
            raise SecretBoxError("this store was opened without the key-encryption key")
        return self.box.open(row["id"], row["secret"])

    def _sealed(self, terminal_id, secret):
        if self.box is None:
            raise SecretBoxError("this store was opened without the key-encryption key")
        return self.box.seal(terminal_id, secret)

    def close(self):
        for db in (getattr(self, "db", None), getattr(self, "nonce_db", None)):
            if db is not None:
                db.close()

    # --- transactions ---------------------------------------------------------------------
    def transaction(self):
        """`with store.transaction():` one write transaction (nestable: inner blocks join it)."""
        return self.db.transaction()

    def after_commit(self, fn, *args):
        """`fn(*args)` once this thread's transaction has committed (at once outside one)."""
        self.db.after_commit(lambda: fn(*args))

    def event(self, kind, terminal_id=None, order_id=None, **detail):
        """Append to the event log (inside the caller's transaction when there is one). Each entry
        carries the hash of the one before it; reading the last hash and appending happen in one
        write transaction, so two processes never fork the chain."""
        with self.transaction():
            last = self.db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
            event_id = (last["id"] + 1) if last else 1
            prev = last["hash"] if last else GENESIS
            at, text = self.clock(), json.dumps(detail, sort_keys=True)
            # a terminal's entries are its merchant's through the terminal; the others name theirs
            merchant_id = detail.get("merchant_id") if terminal_id is None else None
            self.db.execute("INSERT INTO events(id, at, kind, terminal_id, order_id, detail, prev_hash, hash, "
                            "merchant_id) VALUES (?,?,?,?,?,?,?,?,?)",
                            (event_id, at, kind, terminal_id, order_id, text, prev,
                             event_hash(prev, event_id, at, kind, terminal_id, order_id, text),
                             merchant_id if isinstance(merchant_id, str) else None))

    def verify_events(self):
        """Walk the chain: {"ok", "events", "head", "first_bad"} (first_bad: the id where it breaks)."""
        prev, expected_id, count = GENESIS, 1, 0
        for row in self.db.execute("SELECT * FROM events ORDER BY id"):
            digest = event_hash(prev, row["id"], row["at"], row["kind"], row["terminal_id"], row["order_id"],
                                row["detail"])
            if row["id"] != expected_id or row["prev_hash"] != prev or row["hash"] != digest:
                return {"ok": False, "events": count, "head": prev, "first_bad": row["id"]}
            prev, expected_id, count = digest, row["id"] + 1, count + 1
        return {"ok": True, "events": count, "head": prev, "first_bad": None}

    # --- terminals ------------------------------------------------------------------------
    def add_terminal(self, terminal_id, secret, pin_hash, store_id=None):
        with self.transaction():
            self.db.execute("INSERT INTO terminals(id, secret, pin_hash, created_at, store_id) VALUES (?,?,?,?,?)",
                            (terminal_id, self._sealed(terminal_id, secret), pin_hash, int(self.clock()), store_id))
            self.event("terminal_added", terminal_id, store_id=store_id)

    def terminal(self, terminal_id):
        return self.db.execute("SELECT * FROM terminals WHERE id=?", (terminal_id,)).fetchone()

    def terminals(self, merchant_id=None):
        if merchant_id:
            return self.db.execute("SELECT terminals.* FROM terminals JOIN stores ON stores.id = terminals.store_id "
                                   "WHERE stores.merchant_id=? ORDER BY terminals.id", (merchant_id,)).fetchall()
        return self.db.execute("SELECT * FROM terminals ORDER BY id").fetchall()

    def revoke_terminal(self, terminal_id):
        with self.transaction():
            cur = self.db.execute("UPDATE terminals SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                                  (int(self.clock()), terminal_id))
            if cur.rowcount:
                self.event("terminal_revoked", terminal_id)
            return cur.rowcount == 1

    def rotate_secret(self, terminal_id, secret):
        """A new secret for an active terminal (a running gateway refuses the old one within its
        1 s cache)."""
        with self.transaction():
            cur = self.db.execute("UPDATE terminals SET secret=? WHERE id=? AND revoked_at IS NULL",
                                  (self._sealed(terminal_id, secret), terminal_id))
            if cur.rowcount:
                self.event("terminal_secret_rotated", terminal_id)
            return cur.rowcount == 1

    def set_pin_hash(self, terminal_id, pin_hash):
        """A new PIN (an operator's act): the failure count and the lockout level start again."""
        with self.transaction():
            cur = self.db.execute("UPDATE terminals SET pin_hash=?, pin_failures=0, pin_locked_until=0, "
                                  "pin_lockouts=0 WHERE id=?",
                                  (pin_hash, terminal_id))
            if cur.rowcount:
                self.event("pin_set", terminal_id)
            return cur.rowcount == 1

    def record_pin_result(self, terminal_id, ok, lock_after, lock_seconds, max_lock_seconds):
        """Count a PIN check. Every `lock_after` wrong PINs in a row lock refunds, each lockout twice
        as long as the one before (up to `max_lock_seconds`). The level never goes back down by
        itself -- not with time, not with a right PIN -- only an operator's `set-pin` resets it.
        Returns (the lock's end when this check started one, else None; the wrong PINs still
        accepted before the next lock)."""
        with self.transaction():
            if ok:
                self.db.execute("UPDATE terminals SET pin_failures=0 WHERE id=?", (terminal_id,))
                return None, lock_after
            row = self.terminal(terminal_id)
            failures = row["pin_failures"] + 1
            locked_until = None
            if failures >= lock_after:
                level = row["pin_lockouts"] + 1
                locked_until = int(self.clock() + min(lock_seconds * 2 ** (level - 1), max_lock_seconds))
                self.db.execute("UPDATE terminals SET pin_failures=0, pin_locked_until=?, pin_lockouts=? WHERE id=?",
                                (locked_until, level, terminal_id))
                self.add_alert(terminal_id, None, "PIN_LOCKED",
                               "%d wrong supervisor PINs in a row (lockout %d): refunds refused until %s"
                               % (failures, level, time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(locked_until))))
            else:
                self.db.execute("UPDATE terminals SET pin_failures=? WHERE id=?", (failures, terminal_id))
            self.event("pin_rejected", terminal_id, failures=failures, locked=locked_until is not None,
                       locked_until=locked_until)
            return locked_until, (0 if locked_until is not None else lock_after - failures)

    def heartbeat(self, terminal_id, data):
        with self.transaction():
            self.db.execute("UPDATE terminals SET last_seen=?, heartbeat=? WHERE id=?",
                            (int(self.clock()), json.dumps(data, sort_keys=True), terminal_id))

    # --- nonces ---------------------------------------------------------------------------
    def remember_nonce(self, terminal_id, nonce, seen_at):
        """False when this terminal already used this nonce (committed before returning True)."""
        return self.claim_nonces([(terminal_id, nonce, seen_at)])[0]

    def claim_nonces(self, items):
        """Remember many (terminal_id, nonce, seen_at) at once (tools/gateway/nonce_lane.py): one
        statement, so a batch costs the nonce log one write. Returns, per item, True when the nonce
        is new. A nonce twice in one batch is new only the first time."""
        first, fresh = {}, []
        for i, (terminal_id, nonce, seen_at) in enumerate(items):
            if (terminal_id, nonce) not in first:
                first[(terminal_id, nonce)] = i
                fresh.append((terminal_id, nonce, seen_at))
        new = set()
        for start in range(0, len(fresh), self.NONCE_CHUNK):
            chunk = fresh[start:start + self.NONCE_CHUNK]
            rows = self.nonce_db.execute(
                "INSERT INTO nonces(terminal_id, nonce, seen_at) VALUES " + ",".join(["(?,?,?)"] * len(chunk)) +
                " ON CONFLICT DO NOTHING RETURNING terminal_id, nonce",
                [v for item in chunk for v in item]).fetchall()
            new.update((r[0], r[1]) for r in rows)
        return [(t, n) in new and first[(t, n)] == i for i, (t, n, _s) in enumerate(items)]

    NONCE_CHUNK = 300  # rows per INSERT: 900 parameters, far below either database's limit

    def requests_in(self, terminal_ids, windows):
        """{terminal_id: how many signed requests it made inside any of `windows`} ((since, until)
        pairs, inclusive; they must not overlap): the rate limit's count for many terminals at once."""
        ids = sorted(set(terminal_ids))
        counts = dict.fromkeys(ids, 0)
        spans = " OR ".join(["(seen_at>=? AND seen_at<=?)"] * len(windows))
        for start in range(0, len(ids), self.NONCE_CHUNK):
            chunk = ids[start:start + self.NONCE_CHUNK]
            rows = self.nonce_db.execute(
                "SELECT terminal_id, COUNT(*) FROM nonces WHERE terminal_id IN (%s) AND (%s) GROUP BY terminal_id"
                % (",".join(["?"] * len(chunk)), spans),
                chunk + [v for w in windows for v in w]).fetchall()
            counts.update((r[0], r[1]) for r in rows)
        return counts

    def nonces_since(self):
        """Unix time since which the nonce log is complete (a new or restored log: now)."""
        return int(self.nonce_db.execute("SELECT began_at FROM nonce_log").fetchone()[0])

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
    def payments_by_key(self, keys):
        """{(terminal_id, order_id): row} for the payments among `keys` that exist: one query per
        KEY_CHUNK keys (a VALUES list joined on the (terminal_id, order_id) index, both engines)."""
        keys = list(dict.fromkeys(keys))
        found = {}
        for start in range(0, len(keys), self.KEY_CHUNK):
            chunk = keys[start:start + self.KEY_CHUNK]
            rows = self.db.execute(
                "SELECT payments.* FROM (VALUES %s) AS wanted JOIN payments ON "
                "payments.terminal_id = wanted.column1 AND payments.order_id = wanted.column2"
                % ",".join(["(?,?)"] * len(chunk)), [v for key in chunk for v in key]).fetchall()
            found.update(((r["terminal_id"], r["order_id"]), r) for r in rows)
        return found

    KEY_CHUNK = 200

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
        return self.db.execute("INSERT INTO payments(%s) VALUES (%s) RETURNING id" % (names, marks),
                               tuple(fields.values())).fetchone()[0]

    def update_payment(self, rowid, **fields):
        fields["updated_at"] = self.clock()
        sets = ",".join("%s=?" % name for name in fields)
        self.db.execute("UPDATE payments SET %s WHERE id=?" % sets, tuple(fields.values()) + (rowid,))

    def payments(self, terminal_id=None, status=None, limit=100, merchant_id=None):
        sql, args = "SELECT * FROM payments WHERE 1=1", []
        if merchant_id:
            sql += " AND merchant_id=?"
            args.append(merchant_id)
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
    def paid_between(self, start, end, terminal_id=None, merchant_id=None):
        """PAID payments whose paid_at is in [start, end)."""
        sql, args = "SELECT * FROM payments WHERE status='PAID' AND paid_at>=? AND paid_at<?", [start, end]
        if merchant_id:
            sql += " AND merchant_id=?"
            args.append(merchant_id)
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        return self.db.execute(sql + " ORDER BY paid_at, id", args).fetchall()

    def refunds_between(self, start, end, terminal_id=None, merchant_id=None):
        """Succeeded refunds of PAID payments (not the returns of late payments) requested in
        [start, end), with their payment's terminal, order and wallet."""
        sql = ("SELECT refunds.*, payments.terminal_id, payments.order_id, payments.wallet FROM refunds "
               "JOIN payments ON payments.id = refunds.payment WHERE refunds.status='SUCCEEDED' "
               "AND refunds.kind != 'LATE' AND payments.status='PAID' "
               "AND refunds.created_at>=? AND refunds.created_at<?")
        args = [start, end]
        if merchant_id:
            sql += " AND payments.merchant_id=?"
            args.append(merchant_id)
        if terminal_id:
            sql += " AND payments.terminal_id=?"
            args.append(terminal_id)
        return self.db.execute(sql + " ORDER BY refunds.created_at, refunds.id", args).fetchall()

    def late_between(self, start, end, terminal_id=None, merchant_id=None):
        """Payments whose money arrived after the terminal gave up, created in [start, end)."""
        sql, args = "SELECT * FROM payments WHERE late=1 AND created_at>=? AND created_at<?", [start, end]
        if merchant_id:
            sql += " AND merchant_id=?"
            args.append(merchant_id)
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        return self.db.execute(sql + " ORDER BY created_at, id", args).fetchall()

    def due_open_payments(self, now):
        return self.db.execute(
            "SELECT * FROM payments WHERE status IN ('CREATING','PENDING') AND next_check_at<=? AND lease_until<=? "
            "ORDER BY next_check_at", (now, now)).fetchall()

    def due_cancels(self, now):
        return self.db.execute(
            "SELECT * FROM payments WHERE cancel_state IN ('PENDING','REFUND') AND next_check_at<=? AND lease_until<=? "
            "ORDER BY next_check_at", (now, now)).fetchall()

    # --- work leases ------------------------------------------------------------------------
    # One owner at a time per payment (its inquiries and cancels) and per refund (its sends), across
    # every process on the database: a lease is (owner, until) in the row itself, taken with one
    # conditional UPDATE (atomic on both backends: SQLite in a write transaction, PostgreSQL as a
    # single autocommit statement that re-checks its WHERE on the locked row).
    LEASED = {"payment": "payments", "refund": "refunds"}

    def claim(self, kind, rowid, owner, seconds):
        """True when `owner` now holds the row's lease for `seconds` (free or expired before)."""
        now = self.clock()
        with self._unsynced():
            cur = self.db.execute("UPDATE %s SET lease_owner=?, lease_until=? WHERE id=? AND lease_until<=?"
                                  % self.LEASED[kind], (owner, now + seconds, rowid, now))
            return cur.rowcount == 1

    def release(self, kind, rowid, owner):
        with self._unsynced():
            self.db.execute("UPDATE %s SET lease_owner=NULL, lease_until=0 WHERE id=? AND lease_owner=?"
                            % self.LEASED[kind], (rowid, owner))

    def _unsynced(self):
        """A write without its fsync: a lease lost to an OS crash is harmless (every process died
        with it), and claims happen on every reconciler pass. Inside a caller's transaction it
        simply joins it."""
        return self.db.unsynced()

    def lease_owners(self):
        """Owners of leases still running (to free those of processes that died)."""
        now = self.clock()
        return {row[0] for kind in self.LEASED.values() for row in self.db.execute(
            "SELECT DISTINCT lease_owner FROM %s WHERE lease_until>? AND lease_owner IS NOT NULL" % kind, (now,))}

    def release_owner(self, owner):
        with self.transaction():
            for table in self.LEASED.values():
                self.db.execute("UPDATE %s SET lease_owner=NULL, lease_until=0 WHERE lease_owner=?" % table, (owner,))

    # --- tombstones -----------------------------------------------------------------------
    def add_cancelled_order(self, terminal_id, order_id, reason):
        """Remember a cancel for an order with no payment; False when it was already remembered."""
        cur = self.db.execute("INSERT INTO cancelled_orders(terminal_id, order_id, reason, cancelled_at) "
                              "VALUES (?,?,?,?) ON CONFLICT DO NOTHING", (terminal_id, order_id, reason, int(self.clock())))
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
        return self.db.execute("INSERT INTO refunds(%s) VALUES (%s) RETURNING id" % (names, marks),
                               tuple(fields.values())).fetchone()[0]

    def update_refund(self, rowid, **fields):
        fields["updated_at"] = self.clock()
        sets = ",".join("%s=?" % name for name in fields)
        self.db.execute("UPDATE refunds SET %s WHERE id=?" % sets, tuple(fields.values()) + (rowid,))

    def refund_by_rowid(self, rowid):
        return self.db.execute("SELECT * FROM refunds WHERE id=?", (rowid,)).fetchone()

    def due_refunds(self, now):
        return self.db.execute("SELECT * FROM refunds WHERE status='PENDING' AND next_check_at<=? AND lease_until<=? "
                               "ORDER BY id", (now, now)).fetchall()

    def refunded_total(self, payment_rowid, include_pending=False):
        statuses = ("SUCCEEDED", "PENDING") if include_pending else ("SUCCEEDED",)
        marks = ",".join("?" for _ in statuses)
        row = self.db.execute("SELECT CAST(COALESCE(SUM(amount),0) AS INTEGER) FROM refunds WHERE payment=? AND status IN (%s)" % marks,
                              (payment_rowid,) + statuses).fetchone()
        return row[0]

    # --- alerts ---------------------------------------------------------------------------
    def add_alert(self, terminal_id, payment_rowid, kind, message):
        return self.db.execute("INSERT INTO alerts(terminal_id, payment, kind, message, created_at) VALUES (?,?,?,?,?) "
                               "RETURNING id", (terminal_id, payment_rowid, kind, message, int(self.clock()))).fetchone()[0]

    def alerts(self, terminal_id=None, include_acked=False, payments_only=False, merchant_id=None):
        """Alerts with their payment's order, amount and currency (None for a terminal's own, such as
        PIN_LOCKED; `payments_only` leaves those out, as the terminal API does)."""
        sql = ("SELECT alerts.*, payments.order_id, payments.amount, payments.currency FROM alerts "
               "LEFT JOIN payments ON payments.id = alerts.payment WHERE 1=1")
        args = []
        if payments_only:
            sql += " AND alerts.payment IS NOT NULL"
        if merchant_id:  # the merchant's terminals' alerts (a terminal's store is its merchant's)
            sql += " AND alerts.terminal_id IN (SELECT terminals.id FROM terminals JOIN stores ON stores.id = terminals.store_id WHERE stores.merchant_id=?)"
            args.append(merchant_id)
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
        # ON CONFLICT, not a caught error: on PostgreSQL an error would abort the caller's transaction
        return self.db.execute("INSERT INTO notifications(digest, received_at, payment_request_id, body) "
                               "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                               (digest, self.clock(), payment_request_id, body)).rowcount == 1

    # --- events ---------------------------------------------------------------------------
    def events(self, terminal_id=None, order_id=None, limit=200, merchant_id=None):
        sql, args = "SELECT * FROM events WHERE 1=1", []
        if merchant_id:  # the events of the merchant's terminals, and its own (no terminal's)
            sql += (" AND (terminal_id IN (SELECT terminals.id FROM terminals JOIN stores "
                    "ON stores.id = terminals.store_id WHERE stores.merchant_id=?) OR merchant_id=?)")
            args += [merchant_id, merchant_id]
        if terminal_id:
            sql += " AND terminal_id=?"
            args.append(terminal_id)
        if order_id:
            sql += " AND order_id=?"
            args.append(order_id)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return list(reversed(self.db.execute(sql, args).fetchall()))
