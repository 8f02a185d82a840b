"""The store (migrations, append-only log, nonces), PIN hashing, configuration, and the CLI."""
import json
import os
import subprocess
import sys

import pytest

from tools.gateway import config as config_mod
from tools.gateway import credentials
from tools.gateway.secretbox import SecretBox
from tools.gateway.store import MIGRATIONS, IntegrityError, SqliteDb, Store, connect, migrate
from tools.gateway.testing import running_gateway

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- store ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_migrations_are_idempotent_and_wal(db_url):
    os.makedirs(os.path.dirname(db_url), exist_ok=True)
    Store(db_url).close()
    db = SqliteDb(db_url)
    migrate(db)  # again: nothing to do
    assert db.schema_version() == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"terminals", "payments", "refunds", "events", "alerts", "notifications"} <= tables
    nonce_db = connect(db_url + ".nonces")
    assert {r[0] for r in nonce_db.execute("SELECT name FROM sqlite_master WHERE type='table'")} == {"nonces", "nonce_log"}
    assert nonce_db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_schema_is_migrated_once_with_64_bit_columns(db_url):
    Store(db_url).close()
    store = Store(db_url)  # again: nothing to do
    assert store.db.schema_version() == len(MIGRATIONS)
    assert store.db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    tables = {r[0] for r in store.db.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"terminals", "payments", "refunds", "events", "alerts", "notifications", "nonces", "nonce_log"} <= tables
    types = dict(store.db.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name='payments'").fetchall())
    # amounts and times are 64-bit integers; epoch seconds with a fraction keep their precision
    assert types["amount"] == types["created_at"] == types["id"] == "bigint"
    assert types["updated_at"] == types["next_check_at"] == types["lease_until"] == "double precision"
    store.db.execute("UPDATE payments SET updated_at=? WHERE 1=0", (1796000000.123456,))
    with store.transaction():
        store.event("precise")
    assert store.verify_events()["ok"]
    store.close()


def test_event_log_is_append_only(open_store):
    store = open_store()
    with store.transaction():
        store.event("something", "T1", "O1", x=1)
    for sql in ("UPDATE events SET kind='other'", "DELETE FROM events"):
        with pytest.raises(IntegrityError, match="append-only"):
            store.db.execute(sql)
    assert [e["kind"] for e in store.events()] == ["something"]


def test_a_unique_key_violation_is_the_store_s_own_integrity_error(open_store):
    store = open_store(box=SecretBox(b"k" * 32))
    store.add_terminal("T1", "s" * 64, None)
    with pytest.raises(IntegrityError):
        store.add_terminal("T1", "s" * 64, None)
    assert [e["kind"] for e in store.events()] == ["terminal_added"]   # the failed one left nothing


def test_transactions_roll_back_together(open_store):
    store = open_store(box=SecretBox(b"k" * 32))
    store.add_terminal("T1", "s" * 64, None)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.event("half", "T1")
            store.revoke_terminal("T1")  # nested: joins the outer transaction
            raise RuntimeError("crash in the middle")
    assert store.terminal("T1")["revoked_at"] is None
    assert "half" not in [e["kind"] for e in store.events()]


def test_nonces_are_unique_per_terminal_and_expire(open_store):
    store = open_store()
    assert store.remember_nonce("T1", "a" * 32, 100.0)
    assert not store.remember_nonce("T1", "a" * 32, 101.0)
    assert store.remember_nonce("T2", "a" * 32, 101.0)
    store.forget_nonces(before=101.0)
    assert store.remember_nonce("T1", "a" * 32, 200.0)
    for i in range(5):
        store.remember_nonce("T3", "%032d" % i, 150.0 + i)
    old = len([r for r in store.recent_nonces(0) if r["seen_at"] < 160.0])
    store.forget_nonces(before=160.0, limit=2)   # a bounded batch: two expired nonces go, nothing newer
    assert len([r for r in store.recent_nonces(0) if r["seen_at"] < 160.0]) == old - 2
    assert len([r for r in store.recent_nonces(160.0)]) == 1
    # committed at once: another connection sees it
    other = open_store()
    assert not other.remember_nonce("T1", "a" * 32, 201.0)


def test_after_commit_waits_for_the_outermost_commit_and_never_follows_a_rollback(open_store):
    """A wake-up queued inside nested transactions runs once the outer one commits (a long poll
    woken earlier would read the old row on another thread and sleep on)."""
    store = open_store()
    seen = []
    with store.transaction():
        with store.transaction():
            store.event("inner")
            store.after_commit(seen.append, "woken")
        assert seen == []                       # the inner block's end commits nothing
    assert seen == ["woken"]
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.after_commit(seen.append, "never")
            raise RuntimeError
    store.after_commit(seen.append, "now")      # outside a transaction: at once
    assert seen == ["woken", "now"]


def test_the_event_chain_does_not_fork_when_several_threads_append(open_store):
    """Each thread appends through its own connection (another process, as far as the database
    can tell): every entry lands, and the chain stays one line."""
    import threading
    store = open_store()

    def append(n):
        for i in range(20):
            store.event("parallel", "T%d" % n, "O%d" % i)
    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = store.verify_events()
    assert result["ok"] and result["events"] == 80


# --- PINs and secrets --------------------------------------------------------------------------------
def test_pin_hash_is_salted_scrypt():
    a, b = credentials.hash_pin("123456"), credentials.hash_pin("123456")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert credentials.check_pin("123456", a) and credentials.check_pin("123456", b)
    assert not credentials.check_pin("1235", a)
    assert not credentials.check_pin("123456", None) and not credentials.check_pin("123456", "garbage")
    assert not credentials.check_pin("12a4", a)
    with pytest.raises(ValueError):
        credentials.hash_pin("12")
    s = credentials.new_secret()
    assert len(s) == 64 and int(s, 16) >= 0 and s != credentials.new_secret()


# --- configuration -------------------------------------------------------------------------------
def test_defaults_talk_to_the_local_sandbox():
    cfg = config_mod.load(None, environ={})
    assert cfg["antom"]["base_url"] == "http://127.0.0.1:8600"
    assert cfg["antom"]["path_prefix"] == "/ams/api"
    assert config_mod.notify_url(cfg) == "http://127.0.0.1:8700/antom/notify"


def test_toml_then_environment(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('[antom]\nbase_url = "https://open-sea-global.alipay.com"\nclient_id = "ABC"\ntimeout = 3\n'
                    '[gateway]\ndb = "/tmp/x.sqlite3"\nnotify_url = "https://shop.example/antom/notify"\n')
    cfg = config_mod.load(str(path), environ={"ANTOM_CLIENT_ID": "FROM_ENV", "ANTOM_PATH_PREFIX": "/ams/sandbox/api"})
    assert cfg["antom"]["base_url"] == "https://open-sea-global.alipay.com"
    assert cfg["antom"]["client_id"] == "FROM_ENV" and cfg["antom"]["timeout"] == 3.0
    assert cfg["antom"]["path_prefix"] == "/ams/sandbox/api"
    assert config_mod.notify_url(cfg) == "https://shop.example/antom/notify"


@pytest.mark.parametrize("text,env", [
    ("[nope]\nx = 1\n", {}),
    ("[antom]\nnope = 1\n", {}),
    ("[antom]\ntimeout = \"slow\"\n", {}),
    ("[gateway]\ncurrencies = [\"XXX\"]\n", {}),
    ("[antom]\npath_prefix = \"ams/api/\"\n", {}),
    ("not toml [", {}),
    ("", {"GATEWAY_PORT": "eighty"}),
])
def test_bad_configuration_is_a_clear_error(tmp_path, text, env):
    path = tmp_path / "g.toml"
    path.write_text(text)
    with pytest.raises(config_mod.ConfigError):
        config_mod.load(str(path), environ=env)


# --- CLI -----------------------------------------------------------------------------------------
def cli(config_path, *args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "tools.gateway", "--config", config_path, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, input=stdin or "",
                          env=dict(os.environ, **(env or {})))


def test_cli_terminals_payments_refund_events(make_config, sandbox):
    cfg_path = make_config()
    r = cli(cfg_path, "terminal", "add", "C1", "--json", stdin="432100\n")
    assert r.returncode == 0, r.stderr
    secret = json.loads(r.stdout)["secret"]
    assert len(secret) == 64
    assert cli(cfg_path, "terminal", "add", "C1", stdin="432100\n").returncode == 1   # ids are never reused
    assert cli(cfg_path, "terminal", "add", "bad id!", stdin="432100\n").returncode == 2
    assert cli(cfg_path, "terminal", "add", "C2", stdin="12345\n").returncode == 2   # 6 digits at least
    with running_gateway(cfg_path) as gw:
        c = gw.client("C1", secret)
        code = c.create("C1-1", 900, "USD", "cli").body["code_value"]
        sandbox.pay(code)
        assert c.status("C1-1", wait=10).body["status"] == "PAID"
        assert c.refund("C1-1", "R1", 100, "432100").body["status"] == "SUCCEEDED"  # the CLI's PIN works
        assert c.refund("C1-1", "R2", 100, "000000").code == "BAD_PIN"
        listed = cli(cfg_path, "payments", "list")
        assert "C1-1" in listed.stdout and "PAID" in listed.stdout and "USD 9.00" in listed.stdout
        shown = json.loads(cli(cfg_path, "payments", "show", "C1", "C1-1").stdout)
        assert shown["status"] == "PAID" and shown["refunds"][0]["amount"] == 100
        assert "payment_paid" in [e["kind"] for e in shown["events"]]
        # an operator refund (no PIN) through Antom
        r = cli(cfg_path, "refund", "C1", "C1-1", "200")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "SUCCEEDED" and json.loads(r.stdout)["refunded_total"] == 300
        assert cli(cfg_path, "refund", "C1", "C1-1", "10000").returncode == 1   # exceeds what was paid
        assert "refund_succeeded" in cli(cfg_path, "events", "--terminal", "C1").stdout
        assert cli(cfg_path, "terminal", "set-pin", "C1", env={"GATEWAY_PIN": "999999"}).returncode == 0
        assert c.refund("C1-1", "R3", 100, "999999").body["status"] == "SUCCEEDED"
        assert cli(cfg_path, "terminal", "revoke", "C1").returncode == 0
        assert "revoked" in cli(cfg_path, "terminal", "list").stdout
        import time
        time.sleep(1.1)
        assert c.time().code == "UNAUTHORIZED"
    assert cli(cfg_path, "alerts").returncode == 0


def test_cli_serve_reports_a_missing_antom_key(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('[gateway]\ndb = "%s"\nport = 0\n[antom]\nsandbox = true\nprivate_key_file = "%s"\npublic_key_file = "%s"\n' % (
        tmp_path / "g.sqlite3", tmp_path / "m.pem", tmp_path / "missing.pem"))
    r = cli(str(path), "serve")
    assert r.returncode == 2 and "public key" in r.stderr
    assert os.path.exists(tmp_path / "m.pem")   # the merchant key pair was created for the demo
    assert "BEGIN PUBLIC KEY" in cli(str(path), "keys").stdout


# --- long-poll waiters ---------------------------------------------------------------------------
def test_waiters_wake_everyone_and_leave_nothing_behind():
    import asyncio
    from tools.gateway.service import Waiters

    async def scenario():
        w = Waiters()
        woken = asyncio.gather(w.wait(1, 5), w.wait(1, 5))
        await asyncio.sleep(0.01)
        assert len(w) == 1
        w.wake(1)
        assert await woken == [True, True]
        assert await w.wait(2, 0.01) is False   # timed out
        assert len(w) == 0
        w.wake(3)                                # nobody waiting: nothing happens
        assert len(w) == 0

    asyncio.run(scenario())
