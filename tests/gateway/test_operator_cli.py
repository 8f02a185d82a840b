"""Operator commands an operator's script can rely on: payments list/show --json (state,
amounts, refunds, events, late flag, alerts), and terminal rotate-secret (issue 12.14)."""
import json
import os
import subprocess
import sys
import time

from tests.gateway.test_sandbox_faults import eventually
from tests.gateway.test_terminal_api import paid
from tools.gateway.testing import ROOT


def cli(config_path, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "tools.gateway", "--config", config_path, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, input=stdin, env=dict(os.environ))


def test_payments_list_and_show_print_machine_readable_json(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "JS-1", 1250)
    assert t1.refund("JS-1", "R1", 250, "123456").body["status"] == "SUCCEEDED"
    t1.create("JS-2", 990, "USD", "[fault:pay-on-cancel]")
    t1.cancel("JS-2")
    eventually(lambda: t1.alerts().body["alerts"])
    listed = json.loads(cli(gateway.config_path, "payments", "list", "--json").stdout)
    by_order = {p["order_id"]: p for p in listed["payments"]}
    one = by_order["JS-1"]
    assert (one["status"], one["amount"], one["currency"], one["refunded_amount"], one["late"]) == (
        "PAID", 1250, "USD", 250, False)
    assert one["refunds"][0]["refund_id"] == "R1" and one["refunds"][0]["status"] == "SUCCEEDED"
    assert by_order["JS-2"]["late"] is True and by_order["JS-2"]["status"] == "CANCELLED"
    shown = json.loads(cli(gateway.config_path, "payments", "show", "T1", "JS-2", "--json").stdout)
    assert shown["late"] is True and shown["alerts"][0]["kind"] == "LATE_PAYMENT"
    assert "late_payment" in [e["kind"] for e in shown["events"]]
    assert isinstance(shown["events"][0]["detail"], dict)
    assert cli(gateway.config_path, "payments", "show", "T1", "NOPE", "--json").returncode == 1
    for command in (("terminal", "list", "--json"), ("events", "--json"), ("alerts", "--all", "--json")):
        json.loads(cli(gateway.config_path, *command).stdout)   # every list has --json


def test_rotate_secret_refuses_the_old_secret_and_accepts_the_new(gateway, t1):
    assert t1.health().status == 200
    r = cli(gateway.config_path, "terminal", "rotate-secret", "T1", "--json")
    assert r.returncode == 0, r.stderr
    new = json.loads(r.stdout)["secret"]
    assert new != gateway.secrets["T1"] and len(new) == 64
    time.sleep(1.1)   # the running gateway caches secrets for one second
    assert t1.health().code == "UNAUTHORIZED"
    assert gateway.client("T1", new).health().status == 200
    assert "terminal_secret_rotated" in [e["kind"] for e in gateway.store.events("T1")]
    assert cli(gateway.config_path, "terminal", "rotate-secret", "NOPE").returncode == 1


def test_the_cli_never_hides_the_running_gateways_later_writes(gateway, t1, sandbox):
    # Opening (and closing) the database file in a process that already holds it dropped that
    # process's SQLite locks; the CLI then took itself for the last connection and deleted the WAL
    # the gateway still wrote to: every later payment was invisible to the CLI, and lost at restart.
    from tools.gateway.store import Store
    from tools.gateway.secretbox import box_for
    again = Store(gateway.cfg["gateway"]["db"], box=box_for(gateway.cfg))  # a second open in the gateway's own process (tests, CLI tools)
    again.close()
    for n in range(1, 4):
        assert t1.create("LIVE-%d" % n, 100 + n, "USD", "").status == 200
        shown = cli(gateway.config_path, "payments", "show", "T1", "LIVE-%d" % n, "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["amount"] == 100 + n
