"""Issue 12.12, the smaller security items, each named after the behaviour it pins down."""
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time

import httpx

from tests.gateway.conftest import sandbox_private_key
from tests.gateway.test_notifications import NOTIFY_PATH, note_body, pending, post
from tests.gateway.test_terminal_api import paid
from firmware.link import auth
from tools.gateway.client import TerminalClient
from tools.gateway.store import MIGRATIONS, Store, open_backends
from tools.gateway.testing import ROOT, running_gateway


def cli(config_path, *args, stdin="", env=None):
    return subprocess.run([sys.executable, "-m", "tools.gateway", "--config", config_path, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, input=stdin,
                          env=dict(os.environ, **(env or {})))


# --- no enumeration -------------------------------------------------------------------------------
def test_unknown_revoked_and_badly_signed_terminals_get_one_and_the_same_unsigned_401(gateway, t1):
    gateway.add_terminal("T2")
    gateway.store.revoke_terminal("T2")
    answers = []
    for terminal_id, secret in (("NOPE", "0" * 64), ("T1", "f" * 64), ("T2", gateway.secrets["T2"])):
        c = TerminalClient(gateway.base_url, terminal_id, secret)
        r = c.request("GET", "/v1/health")
        c.close()
        answers.append((r.status, r.raw, "x-signature" in r.headers, "x-timestamp" in r.headers))
    assert answers[0][0] == 401 and json.loads(answers[0][1])["error"]["code"] == "UNAUTHORIZED"
    assert answers[0] == answers[1] == answers[2], answers
    # malformed headers of a known terminal: unsigned as well (a signature would say "it exists")
    r = t1.request("GET", "/v1/health", nonce="XYZ")
    assert (r.status, r.code) == (401, "MISSING_AUTH") and "x-signature" not in r.headers


def test_auth_failures_are_logged_with_the_source_address(gateway, caplog):
    caplog.set_level(logging.WARNING, logger="gateway")
    c = TerminalClient(gateway.base_url, "T1", "e" * 64)
    assert c.health().code == "UNAUTHORIZED"
    c.close()
    lines = [r.getMessage() for r in caplog.records if "auth failure" in r.getMessage()]
    assert lines and "127.0.0.1" in lines[-1] and "bad signature" in lines[-1] and "'T1'" in lines[-1]


# --- paths and time --------------------------------------------------------------------------------
def test_percent_encoded_path_is_refused_not_decoded(gateway, t1):
    assert t1.create("P-1", 100, "USD", "").status == 200
    # signed over the raw path; routing would see /v1/payments/P-1/cancel after decoding %2F
    r = t1.request("POST", "/v1/payments/P-1%2Fcancel", {})
    assert (r.status, r.code, r.verified) == (400, "INVALID_PATH", True)
    assert t1.status("P-1").body["status"] == "PENDING"
    assert t1.request("GET", "/v1/payments/P%2D1").code == "INVALID_PATH"


def test_time_request_far_outside_the_wide_window_is_refused_with_the_time(gateway, t1):
    assert t1.request("GET", "/v1/time", timestamp=int(time.time()) - 20000).status == 200
    r = t1.request("GET", "/v1/time", timestamp=int(time.time()) - 10 * 86400)
    assert (r.status, r.code, r.verified) == (401, "STALE_TIMESTAMP", True) and abs(r.body["time"] - time.time()) < 5


def test_time_request_nonce_is_not_reusable_within_the_wide_window(gateway, t1):
    nonce = auth.new_nonce()
    ts = int(time.time()) - 20000
    assert t1.request("GET", "/v1/time", timestamp=ts, nonce=nonce).status == 200
    gateway.store.forget_nonces(time.time() - gateway.cfg["gateway"]["nonce_ttl"])  # what pruning would do
    assert t1.request("GET", "/v1/time", timestamp=ts, nonce=nonce).code == "NONCE_REUSED"


def test_requests_signed_before_a_restored_nonce_log_are_refused(make_config):
    cfg_path = make_config()
    with running_gateway(cfg_path) as gw:
        gw.add_terminal("T1")
        secret = gw.secrets["T1"]
        old = int(time.time()) - 60
        captured = auth.new_nonce()
        assert gw.client("T1").request("GET", "/v1/health", timestamp=old, nonce=captured).status == 200
    # a restore: the database comes back, its nonce log (not in backups) does not
    db = gw.cfg["gateway"]["db"]
    if "://" in db:   # PostgreSQL: the nonce tables are in the database; a restore without their rows
        store = Store(db)
        store.db.execute("DELETE FROM nonces")
        store.db.execute("DELETE FROM nonce_log")
        store.close()
    for suffix in (".nonces", ".nonces-wal", ".nonces-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    time.sleep(1.1)
    with running_gateway(cfg_path) as gw:
        c = gw.client("T1", secret)
        r = c.request("GET", "/v1/health", timestamp=old, nonce=captured)   # the replay
        assert (r.status, r.code, r.verified) == (401, "STALE_TIMESTAMP", True)
        assert c.health().status == 200   # signed now: fine


# --- notifications ---------------------------------------------------------------------------------
def test_a_signed_notification_5000_levels_deep_is_a_400_not_a_500(gateway, sandbox):
    raw = b"[" * 5000 + b"]" * 5000
    r = post(gateway, raw, sandbox_private_key(sandbox))
    assert r.status_code == 400 and r.json()["result"]["resultCode"] == "PARAM_ILLEGAL"
    deep = b'{"result": ' + b'{"a":' * 5000 + b'1' + b'}' * 5000 + b'}'
    assert post(gateway, deep, sandbox_private_key(sandbox)).status_code == 400


def test_a_signed_notification_with_an_old_request_time_is_refused_and_not_applied(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-OLD")
    old = str(int((time.time() - 3600) * 1000))
    r = post(gateway, note_body("T1.N-OLD", p["payment_id"]), key, request_time=old)
    assert r.status_code == 401 and r.json()["result"]["resultCode"] == "REQUEST_TIME_INVALID"
    assert t1.status("N-OLD").body["status"] == "PENDING"
    iso_old = "2026-01-01T00:00:00+00:00"
    assert post(gateway, note_body("T1.N-OLD", p["payment_id"]), key, request_time=iso_old).status_code == 401
    # the same body signed with a current request-time is applied
    assert post(gateway, note_body("T1.N-OLD", p["payment_id"]), key).status_code == 200
    assert t1.status("N-OLD").body["status"] == "PAID"


# --- text fields -----------------------------------------------------------------------------------
def test_c1_controls_and_bidi_overrides_are_refused_in_every_text_field(gateway, t1):
    for bad in ("caf\u0085e", "\u202eetalocohc", "a\u2066b", "x\u009bq", "del\x7f"):
        r = t1.create("BIDI-1", 100, "USD", bad)
        assert (r.status, r.code) == (400, "INVALID_FIELD"), bad
        assert t1.heartbeat(version=bad).code == "INVALID_FIELD"
        assert t1.heartbeat(last_error=bad).code == "INVALID_FIELD"
    assert t1.create("BIDI-1", 100, "USD", "caf\u00e9 \u4e2d\u6587").status == 200   # ordinary text is fine


def test_stored_control_and_bidi_characters_are_escaped_on_the_operators_screen(gateway):
    gateway.store.heartbeat("T1", {"version": "1.0\u202e\u0085evil"})
    out = cli(gateway.config_path, "terminal", "list").stdout
    assert "\u202e" not in out and "\u0085" not in out and "1.0\\u202e\\u0085evil" in out


# --- PINs and secrets never on the command line -----------------------------------------------------
def test_a_pin_on_the_command_line_is_refused(make_config):
    cfg_path = make_config()
    r = cli(cfg_path, "terminal", "add", "C9", "--pin", "123456")
    assert r.returncode == 2 and "not taken on the command line" in r.stderr
    assert "C9" not in cli(cfg_path, "terminal", "list").stdout
    assert cli(cfg_path, "terminal", "add", "C9", "--json", stdin="123456\n").returncode == 0
    assert cli(cfg_path, "terminal", "set-pin", "C9", "--pin", "654321").returncode == 2
    assert cli(cfg_path, "terminal", "set-pin", "C9", env={"GATEWAY_PIN": "654321"}).returncode == 0


# --- the event log: who refunded, and tamper evidence ------------------------------------------------
def test_the_event_log_records_who_asked_for_each_refund(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "WHO-1", 1000)
    assert t1.refund("WHO-1", "R1", 100, "123456").body["status"] == "SUCCEEDED"
    r = cli(gateway.config_path, "refund", "T1", "WHO-1", "200")
    assert r.returncode == 0, r.stderr
    by = {json.loads(e["detail"])["refund_id"]: json.loads(e["detail"])["by"]
          for e in gateway.store.events("T1", "WHO-1") if e["kind"] == "refund_requested"}
    assert by["R1"] == "terminal T1 (supervisor PIN)"
    assert by["OP-2"].startswith("operator CLI (") and "@" in by["OP-2"]
    shown = json.loads(cli(gateway.config_path, "payments", "show", "T1", "WHO-1", "--json").stdout)
    assert {r["refund_id"]: r["requested_by"] for r in shown["refunds"]} == by


def test_an_edited_event_breaks_the_hash_chain_and_verify_says_where(gateway, t1):
    t1.create("CHAIN-1", 100, "USD", "")
    t1.cancel("CHAIN-1")
    assert gateway.store.verify_events()["ok"]
    assert cli(gateway.config_path, "events", "verify").returncode == 0
    victim = [e for e in gateway.store.events("T1", "CHAIN-1")][1]["id"]
    if gateway.store.dialect == "postgresql":
        # someone with the database owner's rights edits an entry (the append-only triggers off first)
        gateway.store.db.script("ALTER TABLE events DISABLE TRIGGER events_no_update; "
                                "UPDATE events SET detail='{}' WHERE id=%d" % victim)
        result = gateway.store.verify_events()
        assert not result["ok"] and result["first_bad"] == victim
        r = cli(gateway.config_path, "events", "verify", "--json")
        assert r.returncode == 1 and json.loads(r.stdout)["first_bad"] == victim
        return
    # someone with a copy of the file edits an entry (the append-only triggers dropped first)
    copy = os.path.join(os.path.dirname(gateway.cfg["gateway"]["db"]), "edited.sqlite3")
    src = sqlite3.connect(gateway.cfg["gateway"]["db"])
    db = sqlite3.connect(copy)
    src.backup(db)
    src.close()
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET detail='{}' WHERE id=?", (victim,))
    db.commit()
    db.close()
    edited = Store(copy)
    result = edited.verify_events()
    edited.close()
    assert not result["ok"] and result["first_bad"] == victim
    r = cli(gateway.config_path, "--db", copy, "events", "verify", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["first_bad"] == victim


def test_events_written_before_the_chain_existed_are_chained_by_the_migration(db_url):
    os.makedirs(os.path.dirname(db_url), exist_ok=True) if "://" not in db_url else None
    db, nonces = open_backends(db_url)
    db.migrate(MIGRATIONS[:1])   # a database of the first version, with events in it
    for i in range(3):
        db.execute("INSERT INTO events(at, kind, detail) VALUES (?, 'old', '{}')", (1000.5 + i,))
    db.close()
    if nonces is not None:
        nonces.close()
    store = Store(db_url)
    store.event("new")
    result = store.verify_events()
    assert result["ok"] and result["events"] == 4
    store.close()
