"""A merchant's operators see its own events, the ones no terminal made included (merchant_added,
merchant_changed, store_added), and never another merchant's; on both backends. Databases written
before merchant-level events named their merchant (migration 10) get them named."""
from tools.gateway import store as store_mod
from tools.gateway.secretbox import SecretBox
from tools.gateway.store import Store

BOX = SecretBox(b"k" * 32)


def two_merchants(store):
    store.add_antom_account("CLIENT-A", "https://antom.test", "/ams/api", "-----BEGIN PRIVATE KEY-----\nx\n", "pem")
    for m, s, t in (("M1", "S1", "T1"), ("M2", "S2", "T2")):
        store.add_merchant(m, "CLIENT-A", "Shop " + m, "5812")
        store.add_shop(s, m, "Counter " + s, "5812")
        store.add_terminal(t, "s" * 64, None)
        store.attach_terminal(t, s)
        store.event("payment_paid", t, "O-1", source="notification")
    store.update_merchant("M1", name="Shop M1 renamed")


def mentions(events, *words):
    return [e for e in events if any(w in (e["terminal_id"] or "") or w in e["detail"] for w in words)]


def test_a_merchants_events_are_its_terminals_and_its_own_and_nobody_elses(open_store):
    store = open_store(box=BOX)
    two_merchants(store)
    mine = store.events(merchant_id="M1")
    kinds = [e["kind"] for e in mine]
    assert {"merchant_added", "merchant_changed", "store_added", "terminal_attached", "payment_paid"} <= set(kinds)
    assert not mentions(mine, "M2", "S2", "T2")
    theirs = store.events(merchant_id="M2")
    assert "merchant_changed" not in [e["kind"] for e in theirs] and not mentions(theirs, "M1", "S1", "T1")
    # the fleet operator (no merchant) sees everything, the account-level entry too
    assert "antom_account_added" in [e["kind"] for e in store.events()]
    assert "antom_account_added" not in kinds
    assert store.verify_events()["ok"]


def test_merchant_events_written_before_migration_10_are_named_by_it(db_url):
    old_db = store_mod.open_backends(db_url)[0]
    try:
        old_db.migrate(store_mod.MIGRATIONS[:9])
        prev = store_mod.GENESIS
        for event_id, (k, terminal, detail) in enumerate([
                ("merchant_added", None, '{"merchant_id": "M1"}'),
                ("store_added", None, '{"merchant_id": "M2", "store_id": "S2"}'),
                ("antom_account_added", None, '{"client_id": "CLIENT-A"}')], start=1):
            digest = store_mod.event_hash(prev, event_id, 1.0, k, terminal, None, detail)
            old_db.execute("INSERT INTO events(id, at, kind, terminal_id, order_id, detail, prev_hash, hash) "
                           "VALUES (?,?,?,?,?,?,?,?)", (event_id, 1.0, k, terminal, None, detail, prev, digest))
            prev = digest
    finally:
        old_db.close()
    store = Store(db_url, box=BOX)
    try:
        assert [e["kind"] for e in store.events(merchant_id="M1")] == ["merchant_added"]
        assert [e["kind"] for e in store.events(merchant_id="M2")] == ["store_added"]
        assert store.verify_events()["ok"]          # the chain is untouched by the new column
        assert store.db.schema_version() == len(store_mod.MIGRATIONS)
    finally:
        store.close()
