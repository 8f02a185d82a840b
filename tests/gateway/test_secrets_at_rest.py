"""Issue 12.10: the gateway's files are 0600 in 0700 folders, terminal secrets are AES-GCM sealed
under a key-encryption key kept apart from the database, and plain secrets of older databases are
sealed when the gateway first opens them."""
import os
import stat
import subprocess
import sys

import pytest

from tools.gateway import config as config_mod
from tools.gateway.secretbox import SecretBox, SecretBoxError, box_for
from tools.gateway.store import Store
from tools.gateway.testing import ROOT, running_gateway


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)   # SQLite's own files
def test_database_files_are_0600_in_a_0700_folder(make_config, tmp_path):
    cfg_path = make_config(gateway={"db": str(tmp_path / "fresh" / "data" / "gateway.sqlite3")})
    with running_gateway(cfg_path) as gw:
        gw.add_terminal("T1")
        assert gw.client("T1").health().status == 200
        db = gw.cfg["gateway"]["db"]
        assert mode(os.path.dirname(db)) == 0o700
        for path in (db, db + "-wal", db + "-shm", db + ".nonces"):
            assert mode(path) == 0o600, path
        assert mode(gw.cfg["gateway"]["kek_file"]) == 0o600
        assert mode(os.path.dirname(gw.cfg["gateway"]["kek_file"])) == 0o700


def test_terminal_secrets_are_sealed_in_the_database_and_the_gateway_still_authenticates(gateway, t1):
    secret = gateway.secrets["T1"]
    raw = gateway.store.db.execute("SELECT secret FROM terminals WHERE id='T1'").fetchone()[0]
    assert raw.startswith("v1:") and secret not in raw
    if gateway.store.dialect == "sqlite":
        with open(gateway.cfg["gateway"]["db"], "rb") as f:
            assert secret.encode() not in f.read()
    assert t1.health().status == 200


def test_a_sealed_secret_does_not_open_under_another_key_or_on_another_row():
    box = SecretBox(b"k" * 32)
    sealed = box.seal("T1", "a" * 64)
    assert box.open("T1", sealed) == "a" * 64
    with pytest.raises(SecretBoxError):
        SecretBox(b"x" * 32).open("T1", sealed)
    with pytest.raises(SecretBoxError):
        box.open("T2", sealed)   # moved onto another terminal's row


def test_plain_secrets_of_an_older_database_are_sealed_on_first_open(make_config, sandbox):
    cfg_path = make_config()
    cfg = config_mod.load(cfg_path, environ={})
    db = cfg["gateway"]["db"]
    old = Store(db)   # a database of the schema, then a plain secret as older versions stored it
    old.db.execute("INSERT INTO terminals(id, secret, pin_hash, created_at) VALUES ('OLD', ?, NULL, 0)", ("b" * 64,))
    old.close()
    with running_gateway(cfg_path) as gw:
        stored = gw.store.db.execute("SELECT secret FROM terminals WHERE id='OLD'").fetchone()[0]
        assert stored.startswith("v1:")
        assert gw.client("OLD", "b" * 64).health().status == 200
        assert "terminal_secrets_encrypted" in [e["kind"] for e in gw.store.events()]


def test_the_key_encryption_key_may_come_from_the_environment_and_a_wrong_one_is_a_clear_error(make_config):
    cfg_path = make_config()
    env = dict(os.environ, GATEWAY_KEK="11" * 32)
    r = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", cfg_path, "terminal", "add", "E1"],
                       cwd=ROOT, capture_output=True, text=True, input="123456\n", env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    cfg = config_mod.load(cfg_path, environ={})
    assert not os.path.exists(cfg["gateway"]["kek_file"])   # nothing written next to anything
    env["GATEWAY_KEK"] = "22" * 32
    r = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", cfg_path, "terminal", "list"],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "does not open with this key-encryption key" in r.stderr
    assert box_for(cfg, {"GATEWAY_KEK": "11" * 32}) is not None
