"""Issue 12.7: each Antom call is made by one owner across processes. A refund from the CLI while
a gateway runs (its reconciler sees the new row due at once) reaches Antom exactly once, counted
at the sandbox; leases live in the rows, behind the store's interface."""
import os
import subprocess
import sys
import time

from tests.waiting import wait_until
from tools.gateway.antom import refund_request_id
from tools.gateway.secretbox import SecretBox
from tools.gateway.testing import ROOT


def test_a_cli_refund_is_sent_to_antom_once_while_the_gateway_runs(gateway_process, sandbox):
    gp = gateway_process.start()
    gp.add_terminal("T1")
    t1 = gp.client("T1")
    # slow: every answer about this payment takes 1.5 s, so the gateway's reconciler (tick 0.05 s)
    # has many chances to send the CLI's refund while the CLI waits for Antom
    created = t1.create("LEASE-1", 1701, "USD", "[fault:slow=1.5]").body
    sandbox.pay(created["code_value"])
    assert t1.status("LEASE-1", wait=15).body["status"] == "PAID"
    r = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", gp.config_path, "refund", "T1",
                        "LEASE-1", "300", "--refund-id", "OP-LEASE"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    time.sleep(2.0)   # room for a second send, if anything would make one
    key = refund_request_id("T1.LEASE-1", "OP-LEASE")
    assert len(sandbox.calls(operation="refund", key=key)) == 1
    assert int(sandbox.payments(reference_order_id="T1.LEASE-1")[0]["refunded"]) == 300


def test_a_lease_has_one_owner_until_it_is_released_or_runs_out(open_store):
    now = [1000.0]
    store = open_store(clock=lambda: now[0], box=SecretBox(b"k" * 32))
    store.add_terminal("T1", "s" * 64, None)
    with store.transaction():
        rowid = store.insert_payment(terminal_id="T1", order_id="O1", payment_request_id="T1.O1", amount=1,
                                     currency="USD", description="", status="PENDING", pay_body="{}",
                                     expires_at=2000)
    other = open_store(clock=lambda: now[0])   # another process's connection
    assert store.claim("payment", rowid, "a", 60)
    assert not other.claim("payment", rowid, "b", 60)
    assert not store.claim("payment", rowid, "a", 60)   # not re-entrant: one claim, one owner
    assert store.due_open_payments(now[0]) == []        # leased work is not handed out
    store.release("payment", rowid, "b")                 # only the owner releases
    assert not other.claim("payment", rowid, "b", 60)
    now[0] += 61                                         # the owner died: its lease runs out
    assert other.claim("payment", rowid, "b", 60)
    other.release("payment", rowid, "b")
    assert store.claim("payment", rowid, "c", 60)
    store.close()
    other.close()


def test_the_leases_of_a_killed_process_are_freed_at_once(open_store):
    from tools.gateway.reconciler import free_dead_leases
    import socket
    store = open_store(box=SecretBox(b"k" * 32))
    store.add_terminal("T1", "s" * 64, None)
    with store.transaction():
        rowid = store.insert_payment(terminal_id="T1", order_id="O1", payment_request_id="T1.O1", amount=1,
                                     currency="USD", description="", status="PENDING", pay_body="{}",
                                     expires_at=2 ** 31)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert store.claim("payment", rowid, "%s:%d:abc#1" % (socket.gethostname(), dead.pid), 600)
    free_dead_leases(store)
    assert store.claim("payment", rowid, "me", 600)
    store.close()


def test_per_payment_locks_do_not_grow_with_the_number_of_payments(gateway, t1):
    for i in range(30):
        assert t1.create("LOCK-%d" % i, 100 + i, "USD", "").status == 200
        assert t1.cancel("LOCK-%d" % i).body["status"] == "CANCELLED"
    wait_until(lambda: len(gateway.gateway.service._locks) == 0, timeout=10)
