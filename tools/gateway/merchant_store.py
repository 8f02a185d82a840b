"""The store's merchants, stores and Antom accounts (a mixin of tools/gateway/store.py's Store).

An Antom account is one client id with its keys, host and path prefix. A merchant uses one
account: its own (merchant and system-integrator modes) or an ISV's, shared with the ISV's other
merchants and told apart by each merchant's agent token. A store belongs to a merchant, a
terminal to a store, and a payment carries its merchant's id from the moment it is created.

Private keys and agent tokens are sealed with the secret box (AES-GCM under the KEK, the record's
identity as associated data). The account and merchant written from the configuration file
(`from_config`) keep their keys in the files the configuration names.

Portable SQL only (SQLite and PostgreSQL): `?` placeholders, TEXT/INTEGER/REAL, no upserts.
"""
import json

from tools.gateway.secretbox import SecretBoxError

# Migration 8 (appended to store.MIGRATIONS).
MIGRATION = """
CREATE TABLE antom_accounts (
    client_id TEXT PRIMARY KEY,
    base_url TEXT NOT NULL,
    path_prefix TEXT NOT NULL,
    private_key TEXT,
    antom_public_key TEXT,
    from_config INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES antom_accounts(client_id),
    agent_token TEXT,
    merchant_account_id TEXT,
    name TEXT NOT NULL,
    mcc TEXT NOT NULL,
    settlement_currency TEXT NOT NULL DEFAULT '',
    max_amount INTEGER,
    currencies TEXT,
    from_config INTEGER NOT NULL DEFAULT 0,
    registration_request_id TEXT,
    registration_status TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    name TEXT NOT NULL,
    mcc TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX stores_merchant ON stores(merchant_id);
ALTER TABLE terminals ADD COLUMN store_id TEXT;
ALTER TABLE payments ADD COLUMN merchant_id TEXT;
CREATE INDEX terminals_store ON terminals(store_id);
CREATE INDEX payments_merchant ON payments(merchant_id, id);
"""

MERCHANT_FIELDS = ("name", "mcc", "settlement_currency", "max_amount", "currencies", "merchant_account_id")


class MerchantRecords:
    """Store methods for accounts, merchants and stores (self.db, self.box, self.clock, self.event
    and self.transaction come from Store)."""

    # --- sealing --------------------------------------------------------------------------------
    def _seal_as(self, label, value):
        if value is None:
            return None
        if self.box is None:
            raise SecretBoxError("this store was opened without the key-encryption key")
        return self.box.seal(label, value)

    def open_sealed(self, label, sealed):
        if sealed is None:
            return None
        if self.box is None:
            raise SecretBoxError("this store was opened without the key-encryption key")
        return self.box.open(label, sealed)

    # --- Antom accounts -------------------------------------------------------------------------
    def antom_account(self, client_id):
        return self.db.execute("SELECT * FROM antom_accounts WHERE client_id=?", (client_id,)).fetchone()

    def antom_accounts(self):
        return self.db.execute("SELECT * FROM antom_accounts ORDER BY client_id").fetchall()

    def add_antom_account(self, client_id, base_url, path_prefix, private_key_pem=None, antom_public_key_pem=None,
                          from_config=False, sandbox=False):
        with self.transaction():
            self.db.execute("INSERT INTO antom_accounts(client_id, base_url, path_prefix, private_key, "
                            "antom_public_key, from_config, created_at, sandbox) VALUES (?,?,?,?,?,?,?,?)",
                            (client_id, base_url, path_prefix,
                             self._seal_as("account:" + client_id, private_key_pem),
                             antom_public_key_pem, 1 if from_config else 0, int(self.clock()), 1 if sandbox else 0))
            self.event("antom_account_added", client_id=client_id, from_config=bool(from_config))

    def update_antom_account(self, client_id, base_url=None, path_prefix=None):
        with self.transaction():
            if base_url is not None:
                self.db.execute("UPDATE antom_accounts SET base_url=? WHERE client_id=?", (base_url, client_id))
            if path_prefix is not None:
                self.db.execute("UPDATE antom_accounts SET path_prefix=? WHERE client_id=?", (path_prefix, client_id))

    def account_private_key(self, row):
        """The plain PEM of an account's private key (None for the configuration's account)."""
        return self.open_sealed("account:" + row["client_id"], row["private_key"])

    # --- merchants ------------------------------------------------------------------------------
    def merchant(self, merchant_id):
        return self.db.execute("SELECT * FROM merchants WHERE id=?", (merchant_id,)).fetchone()

    def merchants(self):
        return self.db.execute("SELECT * FROM merchants ORDER BY id").fetchall()

    def merchant_count(self):
        return self.db.execute("SELECT COUNT(*) AS n FROM merchants").fetchone()["n"]

    def config_merchant(self):
        return self.db.execute("SELECT * FROM merchants WHERE from_config=1 ORDER BY id LIMIT 1").fetchone()

    def add_merchant(self, merchant_id, client_id, name, mcc, agent_token=None, merchant_account_id=None,
                     settlement_currency="", max_amount=None, currencies=None, from_config=False):
        with self.transaction():
            self.db.execute(
                "INSERT INTO merchants(id, client_id, agent_token, merchant_account_id, name, mcc, "
                "settlement_currency, max_amount, currencies, from_config, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (merchant_id, client_id, self._seal_as("merchant:" + merchant_id, agent_token), merchant_account_id,
                 name, mcc, settlement_currency or "", max_amount,
                 json.dumps(list(currencies)) if currencies else None, 1 if from_config else 0, int(self.clock())))
            self.event("merchant_added", merchant_id=merchant_id, client_id=client_id,
                       agent_token=agent_token is not None, from_config=bool(from_config))

    def update_merchant(self, merchant_id, **fields):
        """Change names, MCC, settlement currency, limits, merchantAccountId (`agent_token`: sealed)."""
        sets, args = [], []
        for name, value in fields.items():
            if name == "agent_token":
                value = self._seal_as("merchant:" + merchant_id, value)
            elif name == "currencies":
                value = json.dumps(list(value)) if value else None
            elif name not in MERCHANT_FIELDS + ("registration_request_id", "registration_status", "client_id"):
                raise ValueError("not a merchant field: %s" % name)
            sets.append("%s=?" % name)
            args.append(value)
        if not sets:
            return False
        with self.transaction():
            cur = self.db.execute("UPDATE merchants SET %s WHERE id=?" % ",".join(sets), tuple(args) + (merchant_id,))
            if cur.rowcount:
                self.event("merchant_changed", merchant_id=merchant_id, fields=sorted(fields))
            return cur.rowcount == 1

    def merchant_agent_token(self, row):
        return self.open_sealed("merchant:" + row["id"], row["agent_token"])

    # --- stores ---------------------------------------------------------------------------------
    def shop(self, store_id):
        """A store (a shop of a merchant; named so as not to clash with the database store)."""
        return self.db.execute("SELECT * FROM stores WHERE id=?", (store_id,)).fetchone()

    def shops(self, merchant_id=None):
        if merchant_id is None:
            return self.db.execute("SELECT * FROM stores ORDER BY id").fetchall()
        return self.db.execute("SELECT * FROM stores WHERE merchant_id=? ORDER BY id", (merchant_id,)).fetchall()

    def add_shop(self, store_id, merchant_id, name, mcc):
        with self.transaction():
            self.db.execute("INSERT INTO stores(id, merchant_id, name, mcc, created_at) VALUES (?,?,?,?,?)",
                            (store_id, merchant_id, name, mcc, int(self.clock())))
            self.event("store_added", merchant_id=merchant_id, store_id=store_id)

    def update_shop(self, store_id, name, mcc):
        with self.transaction():
            self.db.execute("UPDATE stores SET name=?, mcc=? WHERE id=?", (name, mcc, store_id))

    # --- terminals and payments of a merchant ---------------------------------------------------
    def attach_terminal(self, terminal_id, store_id):
        with self.transaction():
            self.db.execute("UPDATE terminals SET store_id=? WHERE id=?", (store_id, terminal_id))
            self.event("terminal_attached", terminal_id, store_id=store_id)

    def attach_unowned(self, store_id, merchant_id):
        """Give terminals without a store, and payments without a merchant, to the configuration's
        merchant (an upgrade from the single-merchant gateway): (terminals, payments) attached."""
        with self.transaction():
            terminals = self.db.execute("UPDATE terminals SET store_id=? WHERE store_id IS NULL",
                                        (store_id,)).rowcount
            payments = self.db.execute("UPDATE payments SET merchant_id=? WHERE merchant_id IS NULL",
                                       (merchant_id,)).rowcount
            if terminals or payments:
                self.event("attached_to_merchant", merchant_id=merchant_id, store_id=store_id,
                           terminals=terminals, payments=payments)
            return terminals, payments

    def unowned_count(self):
        t = self.db.execute("SELECT COUNT(*) AS n FROM terminals WHERE store_id IS NULL").fetchone()["n"]
        p = self.db.execute("SELECT COUNT(*) AS n FROM payments WHERE merchant_id IS NULL").fetchone()["n"]
        return t + p

    def terminal_merchant_id(self, terminal_id):
        row = self.db.execute("SELECT stores.merchant_id AS merchant_id FROM terminals JOIN stores "
                              "ON stores.id = terminals.store_id WHERE terminals.id=?", (terminal_id,)).fetchone()
        return row["merchant_id"] if row else None

    def terminal_ids_of(self, merchant_id):
        return [row["id"] for row in self.db.execute(
            "SELECT terminals.id AS id FROM terminals JOIN stores ON stores.id = terminals.store_id "
            "WHERE stores.merchant_id=? ORDER BY terminals.id", (merchant_id,))]
