"""Several gateway instances on one database, no sticky sessions (issue 15.5): each Antom call is made
by one instance only, and replay protection and the PIN lockout hold across instances."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.fleet.testing import GatewayFleet

# the reconciler of every instance looks for due work every 50 ms: they race for the same rows
RACING = {"tick": 0.05, "first_inquiry_after": 0.3, "inquiry_interval": 0.2, "expiry_grace": 0.2,
          "retry_interval": 0.2, "probe_interval": 60.0, "unknown_pay_inquiries": 2}


@pytest.fixture
def fleet_of(tmp_path, sandbox, db_url):
    fleets = []

    def make(instances=3, **sections):
        fleet = GatewayFleet(tmp_path / ("fleet%d" % len(fleets)), sandbox, db=db_url, instances=instances,
                             **sections)
        fleets.append(fleet)
        try:
            return fleet.start()
        except BaseException:
            print(fleet.logs())
            raise
    yield make
    for fleet in fleets:
        fleet.stop()


def pays(sandbox, prid):
    return len(sandbox.calls(operation="pay", key=prid))


def test_a_create_retried_on_another_instance_during_its_pay_sends_no_second_pay(fleet_of, sandbox):
    fleet = fleet_of(2)
    fleet.add_terminal("T1")
    a, b = fleet.client("T1", via=0), fleet.client("T1", via=1)
    first = {}
    # Antom answers this pay after 2 s; the terminal gives up waiting and retries on another instance
    slow = threading.Thread(target=lambda: first.update(r=a.create("T1-1", 500, "USD", "tea [fault:slow=2]")))
    slow.start()
    deadline = time.monotonic() + 10
    while pays(sandbox, "T1.T1-1") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    retry = b.create("T1-1", 500, "USD", "tea [fault:slow=2]")
    assert retry.status == 503 and retry.verified and retry.code == "UPSTREAM_UNAVAILABLE", retry
    slow.join(20)
    assert first["r"].status == 200 and first["r"].body["status"] == "PENDING"
    again = b.create("T1-1", 500, "USD", "tea [fault:slow=2]")
    assert again.status == 200 and again.body["code_value"] == first["r"].body["code_value"]
    assert pays(sandbox, "T1.T1-1") == 1


def test_reconcilers_of_every_instance_cancel_each_given_up_payment_once(fleet_of, sandbox):
    fleet = fleet_of(3, reconciler=RACING)
    fleet.add_terminal("T1")
    c = fleet.client("T1")
    orders = ["T1-U%d" % i for i in range(12)]
    for order in orders:
        # Antom's answer to the pay is unknown: the reconcilers inquire, give up, and cancel
        r = c.create(order, 300, "USD", "unknown [fault:pay-unknown]")
        assert r.status == 503, r
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = [fleet.store.payment("T1", o) for o in orders]
        if all(r["status"] == "CANCELLED" and r["cancel_state"] == "DONE" for r in rows):
            break
        time.sleep(0.1)
    else:
        raise AssertionError([(r["order_id"], r["status"], r["cancel_state"]) for r in rows])
    time.sleep(1.0)  # a few more reconciler passes on every instance: nothing more is sent
    for order in orders:
        prid = "T1." + order
        assert len(sandbox.calls(operation="cancel", key=prid)) == 1, prid
        assert pays(sandbox, prid) == 1
        assert len(sandbox.calls(operation="inquiryPayment", key=prid)) >= 2  # inquiries may repeat


def test_a_nonce_used_on_one_instance_is_refused_on_another(fleet_of):
    fleet = fleet_of(2)
    fleet.add_terminal("T1")
    a, b = fleet.client("T1", via=0), fleet.client("T1", via=1)
    nonce = "ab" * 16
    ts = int(time.time())
    assert a.health().status == 200
    first = a.request("GET", "/v1/health", timestamp=ts, nonce=nonce)
    assert first.status == 200
    replay = b.request("GET", "/v1/health", timestamp=ts, nonce=nonce)
    assert replay.status == 401 and replay.code == "NONCE_REUSED" and replay.verified, replay


def test_the_pin_lockout_bounds_guesses_spread_over_every_instance(fleet_of, sandbox):
    fleet = fleet_of(3)
    fleet.add_terminal("T1")
    c = fleet.client("T1", via=0)
    created = c.create("T1-P", 1000, "USD", "pin")
    assert sandbox.pay(created.body["code_value"])["status"] == "SUCCESS"
    assert c.status("T1-P", wait=10).body["status"] == "PAID"
    clients = [fleet.client("T1", via=i % 3) for i in range(18)]

    def guess(i):
        return clients[i].refund("T1-P", "R%d" % i, 1, "%06d" % (900000 + i)).code

    with ThreadPoolExecutor(18) as pool:
        codes = list(pool.map(guess, range(18)))
    assert codes.count("BAD_PIN") <= 5, codes
    assert set(codes) <= {"BAD_PIN", "PIN_LOCKED"}, codes
    rejected = [e for e in fleet.store.events("T1") if e["kind"] == "pin_rejected"]
    assert len(rejected) <= 5
    # the right PIN is refused too while locked, on any instance
    assert fleet.client("T1", via=2).refund("T1-P", "RX", 1, "123456").code == "PIN_LOCKED"
    assert not sandbox.calls(operation="refund")


def test_the_rate_limit_counts_a_terminal_s_requests_on_every_instance(fleet_of):
    fleet = fleet_of(3, gateway={"rate_limit": 6, "rate_window": 60.0})
    fleet.add_terminal("T1")
    fleet.add_terminal("T2")
    clients = [fleet.client("T1", via=i) for i in range(3)]
    answers = [clients[i % 3].health() for i in range(9)]   # 3 each: under the limit on every instance
    assert [a.status for a in answers] == [200] * 6 + [429] * 3, [a.status for a in answers]
    assert all(a.verified and a.code == "RATE_LIMITED" for a in answers[6:])
    assert fleet.client("T2", via=1).health().status == 200   # another terminal is not affected
