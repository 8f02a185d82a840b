"""Merchant mode with no extra step: the single-merchant configuration of before becomes one
merchant and one store, terminals and payments from before merchants existed attach to them, and
the merchant's secrets (private key, agent token) are sealed at rest, never on the command line.
On SQLite and PostgreSQL (the `db_url` fixture)."""
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tools.antom import signature
from tools.gateway import config as config_mod
from tools.gateway.app import Gateway
from tools.gateway.secretbox import box_for
from tools.gateway.store import Store
from tools.gateway.testing import write_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(cfg_path, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tools.gateway", "--config", cfg_path, *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_an_old_single_merchant_database_becomes_one_merchant_and_one_store(tmp_path, db_url):
    cfg_path = write_config(str(tmp_path / "gw"), db=db_url,
                            merchant={"name": "Corner Cafe", "settlement_currency": "EUR"})
    cfg = config_mod.load(cfg_path, environ={})
    # what the gateway of before left behind: a terminal without a store, a payment without a merchant
    old = Store(cfg["gateway"]["db"], box=box_for(cfg))
    old.add_terminal("T1", "s" * 32, None)
    with old.transaction():
        old.insert_payment(terminal_id="T1", order_id="O-1", payment_request_id="T1.O-1", amount=1250,
                           currency="USD", description="", status="PAID", pay_body="{}", payment_id="P-1",
                           expires_at=2 ** 40)
    old.close()
    gw = Gateway(cfg)
    try:
        merchant = gw.store.config_merchant()
        assert (merchant["id"], merchant["name"], merchant["settlement_currency"]) == ("M0001", "Corner Cafe", "EUR")
        assert [s["id"] for s in gw.store.shops("M0001")] == ["S0001"]
        assert gw.store.terminal("T1")["store_id"] == "S0001"
        assert gw.store.payment("T1", "O-1")["merchant_id"] == "M0001"
        assert gw.store.antom_account(cfg["antom"]["client_id"])["from_config"] == 1
    finally:
        import asyncio
        asyncio.run(gw.stop())
    listed = json.loads(cli(cfg_path, "merchant", "list", "--json").stdout)
    assert listed["mode"] == "merchant"
    assert [(m["id"], m["from_config"], m["terminals"]) for m in listed["merchants"]] == [("M0001", True, ["T1"])]
    # the configuration is its source: change it there, not with `merchant set`
    refused = cli(cfg_path, "merchant", "set", "M0001", "--name", "Other")
    assert refused.returncode == 1 and "configuration file" in refused.stderr


def test_terminal_add_without_a_store_is_the_configuration_merchants(tmp_path, db_url):
    cfg_path = write_config(str(tmp_path / "gw"), db=db_url)
    done = cli(cfg_path, "terminal", "add", "DEMO1", "--json", stdin="246810\n")
    assert done.returncode == 0, done.stderr
    shown = json.loads(cli(cfg_path, "merchant", "show", "M0001", "--json").stdout)
    assert shown["stores"] == [{"id": "S0001", "name": "Demo Cafe Main Street", "mcc": "5812"}]
    assert shown["terminals"] == ["DEMO1"]
    stores = json.loads(cli(cfg_path, "store", "list", "--json").stdout)["stores"]
    assert [(s["id"], s["merchant_id"]) for s in stores] == [("S0001", "M0001")]


def test_terminal_add_with_several_stores_needs_one(tmp_path, db_url):
    cfg_path = write_config(str(tmp_path / "gw"), db=db_url)
    assert cli(cfg_path, "terminal", "add", "T1", stdin="246810\n").returncode == 0
    assert cli(cfg_path, "store", "add", "S0002", "--merchant", "M0001", "--name", "Second").returncode == 0
    assert cli(cfg_path, "store", "add", "S0003", "--merchant", "NOPE", "--name", "X").returncode == 1
    missing = cli(cfg_path, "terminal", "add", "T2", "--store", "S9", stdin="246810\n")
    assert missing.returncode == 1 and "no such store" in missing.stderr
    assert cli(cfg_path, "terminal", "add", "T2", "--store", "S0002", stdin="246810\n").returncode == 0
    terminals = json.loads(cli(cfg_path, "terminal", "list", "--merchant", "M0001", "--json").stdout)["terminals"]
    assert [(t["terminal_id"], t["store_id"]) for t in terminals] == [("T1", "S0001"), ("T2", "S0002")]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # reads the database file itself
def test_merchant_keys_and_agent_tokens_are_sealed_at_rest(tmp_path, db_url):
    cfg_path = write_config(str(tmp_path / "gw"))
    key = signature.generate_private_key()
    private_path = tmp_path / "isv.pem"
    private_path.write_bytes(signature.private_pem(key))
    antom_path = tmp_path / "antom.pem"
    antom_path.write_bytes(signature.public_pem(signature.generate_private_key()))
    token = "AT-secret-token-4711"
    # the private key from stdin, the token from a file: never an argument
    (tmp_path / "token").write_text(token + "\n")
    # the sandbox check of the configuration's account (12.13) holds for a merchant's own: a
    # loopback host without --sandbox is refused
    refused = cli(cfg_path, "merchant", "add", "SHOP1", "--name", "Shop", "--mcc", "5411", "--client-id", "ISV_1",
                  "--private-key-file", str(private_path), "--antom-public-key-file", str(antom_path))
    assert refused.returncode == 2 and "--sandbox" in refused.stderr, refused.stderr
    done = cli(cfg_path, "merchant", "add", "SHOP1", "--name", "Shop", "--mcc", "5411", "--client-id", "ISV_1",
               "--sandbox", "--private-key-file", "-", "--antom-public-key-file", str(antom_path),
               "--agent-token-file", str(tmp_path / "token"), "--json", stdin=signature.private_pem(key).decode())
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout and "PRIVATE" not in done.stdout
    assert cli(cfg_path, "merchant", "add", "SHOP2", "--name", "Shop", "--mcc", "5411", "--client-id", "ISV_1",
               "--private-key", "x").returncode == 2   # no such option: secrets never on the command line
    cfg = config_mod.load(cfg_path, environ={})
    raw = sqlite3.connect(cfg["gateway"]["db"])
    sealed_key, = raw.execute("SELECT private_key FROM antom_accounts WHERE client_id='ISV_1'").fetchone()
    sealed_token, = raw.execute("SELECT agent_token FROM merchants WHERE id='SHOP1'").fetchone()
    raw.close()
    assert sealed_key.startswith("v1:") and sealed_token.startswith("v1:")
    with open(cfg["gateway"]["db"], "rb") as f:
        data = f.read()
    assert b"PRIVATE KEY" not in data and token.encode() not in data
    store = Store(cfg["gateway"]["db"], box=box_for(cfg))
    assert store.merchant_agent_token(store.merchant("SHOP1")) == token
    assert "PRIVATE KEY" in store.account_private_key(store.antom_account("ISV_1"))
    store.close()
    # an existing client id keeps its keys: a second ISV merchant gives only its token
    (tmp_path / "token2").write_text("AT-second\n")
    again = cli(cfg_path, "merchant", "add", "SHOP2", "--name", "Shop 2", "--mcc", "5411", "--client-id", "ISV_1",
                "--private-key-file", str(private_path), "--agent-token-file", str(tmp_path / "token2"))
    assert again.returncode == 2 and "on record already" in again.stderr
    assert cli(cfg_path, "merchant", "add", "SHOP2", "--name", "Shop 2", "--mcc", "5411", "--client-id", "ISV_1",
               "--agent-token-file", str(tmp_path / "token2")).returncode == 0


def test_instances_starting_together_create_the_configuration_merchant_once(tmp_path, db_url):
    # two gateways start at the same moment on one empty database: the second finds no merchant,
    # the first creates it meanwhile, and the second must then find it rather than insert it again
    from tools.gateway import merchants
    cfg = config_mod.load(write_config(str(tmp_path / "gw"), db=db_url), environ={})
    first, second = Store(cfg["gateway"]["db"], box=box_for(cfg)), Store(cfg["gateway"]["db"], box=box_for(cfg))
    counted = []
    real_count = second.merchant_count

    def count_then_the_other_instance_starts():
        n = real_count()
        counted.append(n)
        if len(counted) == 1:
            merchants.ensure_config_merchant(first, cfg)   # the other instance, before this one writes
        return n
    second.merchant_count = count_then_the_other_instance_starts
    try:
        made = merchants.ensure_config_merchant(second, cfg)
        assert counted[0] == 0 and made["id"] == "M0001"
        assert [row["id"] for row in first.merchants()] == ["M0001"]
        assert [s["id"] for s in first.shops("M0001")] == ["S0001"]
    finally:
        first.close()
        second.close()
