"""The fleet kill test (issue 15.5): three gateway instances on one database (PostgreSQL; SQLite with
three processes on one file holds the same guarantees) behind the round-robin
proxy, 50 terminals selling at once, one instance SIGKILLed under load. Afterwards:

- 0 acknowledged records lost: every create, final status and refund a terminal got an answer for
  is in the database, in the state it was told;
- 0 duplicate Antom calls: one pay per paymentRequestId, one cancel per payment, one refund per
  refundRequestId, counted at the sandbox (inquiries may repeat). The exceptions Antom's rules
  require: a call whose answer was lost is re-sent with the same idempotency key. That is a call in
  flight on the killed instance (its lease held by that process when it died: the test freezes it,
  reads those leases, then kills it), or one an instance recorded as unknown in the event log (a
  timeout on this loaded machine). Each second call must be explained by one of these;
- every sale finished through the survivors (PAID when the customer paid, FAILED when declined).
"""
import os
import random
import signal
import socket
import threading
import time

import httpx

from tools.fleet.testing import GatewayFleet

TERMINALS = 50
SALES = 3              # per terminal
KILL_AFTER = 0.3       # of all sales finished
RECONCILER = {"tick": 0.1, "first_inquiry_after": 2.0, "inquiry_interval": 1.0, "expiry_grace": 1.0,
              "retry_interval": 0.5, "probe_interval": 60.0}
TRANSIENT = (429, 502, 503, 504)   # 429: the rate limit's signed Retry-After


class Terminal:
    """One terminal's sales through the proxy; retries reuse the idempotency keys (order, refund id)."""

    def __init__(self, fleet, tid, rng, done, sales):
        self.fleet, self.tid, self.rng, self.done = fleet, tid, rng, done
        self.sales = sales
        self.client = fleet.client(tid, timeout=15.0)
        self.customer = httpx.Client(timeout=30.0, trust_env=False)
        self.acked_creates = {}     # order -> (amount, answer body)
        self.acked_status = {}      # order -> last status answered
        self.acked_refunds = {}     # (order, refund id) -> (amount, status answered)
        self.outcome = {}           # order -> what the customer did ("pay" / "decline")
        self.errors = []

    def call(self, fn, *args, **kwargs):
        """The answer to a request, retried on a lost connection or a transient refusal."""
        for _ in range(600):
            try:
                answer = fn(*args, **kwargs)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if answer.status in TRANSIENT:
                time.sleep(min(float(answer.headers.get("retry-after") or 0.2), 2.0))
                continue
            if not answer.verified:
                raise AssertionError("unverified answer %r" % answer)
            return answer
        raise AssertionError("no answer for %s%r" % (fn.__name__, args))

    def run(self):
        try:
            for k in range(self.sales):
                self.sale(k)
                with self.done[1]:
                    self.done[0] += 1
        except BaseException as e:  # reported by the test
            self.errors.append(repr(e))

    def customer_acts(self, code_value, outcome, order):
        """The customer pays or declines at the sandbox's wallet page (again after a lost answer:
        the sandbox then says what the first press did)."""
        for _ in range(20):
            try:
                customer = self.customer.post(code_value.rstrip("/") + "/" + outcome)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if customer.status_code == 200:
                return
            done = [p for p in self.fleet.sandbox.payments(order) if p["status"] != "PROCESSING"]
            assert done, customer.text
            return
        raise AssertionError("the sandbox never took the customer's %s of %s" % (outcome, order))

    def sale(self, k):
        order = "%s-%d" % (self.tid, k)
        amount = self.rng.randrange(100, 5000)
        created = self.call(self.client.create, order, amount, "USD", "fleet sale")
        assert created.status == 200 and created.body["status"] == "PENDING", created
        self.acked_creates[order] = (amount, created.body)
        outcome = "pay" if self.rng.random() < 0.75 else "decline"
        self.outcome[order] = outcome
        self.customer_acts(created.body["code_value"], outcome, order)
        while True:
            status = self.call(self.client.status, order, wait=5, timeout=20.0)
            assert status.status == 200, status
            self.acked_status[order] = status.body["status"]
            if status.body["status"] not in ("PENDING",):
                break
        if status.body["status"] == "PAID" and k % 2 == 0:
            refund_amount = max(1, amount // 2)
            ref = self.call(self.client.refund, order, "R1", refund_amount, "123456")
            assert ref.status == 200, ref
            self.acked_refunds[(order, "R1")] = (refund_amount, ref.body["status"])


def leases_of(store, pid):
    """paymentRequestIds and refundRequestIds whose lease the process `pid` holds right now."""
    prefix = "%s:%d:%%" % (socket.gethostname(), pid)
    pays = {r[0] for r in store.db.execute("SELECT payment_request_id FROM payments WHERE lease_owner LIKE ?",
                                           (prefix,)).fetchall()}
    refunds = {r[0] for r in store.db.execute("SELECT refund_request_id FROM refunds WHERE lease_owner LIKE ?",
                                              (prefix,)).fetchall()}
    return pays, refunds


def test_sigkill_one_of_three_instances_under_load_loses_nothing_and_calls_antom_once(tmp_path, sandbox, db_url):
    fleet = GatewayFleet(tmp_path / "fleet", sandbox, db=db_url, instances=3, reconciler=RECONCILER)
    t0 = time.monotonic()
    try:
        fleet.start()
    except BaseException:
        print(fleet.logs())
        raise
    try:
        fleet_up = time.monotonic() - t0
        for t in range(TERMINALS):
            fleet.add_terminal("K%02d" % t, pin="123456")
        provisioned = time.monotonic() - t0
        done = [0, threading.Lock()]
        rng = random.Random(1505)
        terminals = [Terminal(fleet, "K%02d" % t, random.Random(rng.random()), done, SALES) for t in range(TERMINALS)]
        threads = [threading.Thread(target=t.run, daemon=True) for t in terminals]
        started = time.monotonic()
        for th in threads:
            th.start()
        total = TERMINALS * SALES
        while done[0] < KILL_AFTER * total and any(th.is_alive() for th in threads):
            time.sleep(0.02)
        # freeze the victim, note the Antom work it holds (leases name their process), then SIGKILL
        victim = 1
        pid = fleet.pid(victim)
        os.kill(pid, signal.SIGSTOP)
        in_flight_pays, in_flight_refunds = leases_of(fleet.store, pid)
        fleet.kill(victim)
        killed_at_done = done[0]
        killed_after = time.monotonic() - started
        for th in threads:
            th.join(240)
        finished_after = time.monotonic() - started
        assert not any(th.is_alive() for th in threads), "terminals still selling: " + fleet.logs()
        errors = [e for t in terminals for e in t.errors]
        assert not errors, errors[:5]
        assert killed_at_done < total, "the kill came after the load"
        assert fleet.proxy.proxy.connections[("127.0.0.1", fleet.instances[0].port)] > 0

        # every sale finished through the survivors, as the customer decided
        store = fleet.store
        for t in terminals:
            assert len(t.acked_creates) == SALES
            for order, outcome in t.outcome.items():
                assert t.acked_status[order] == ("PAID" if outcome == "pay" else "FAILED"), (order, outcome)

        # 0 acknowledged records lost
        for t in terminals:
            for order, (amount, body) in t.acked_creates.items():
                row = store.payment(t.tid, order)
                assert row is not None and row["amount"] == amount and row["code_value"] == body["code_value"]
                assert row["status"] == t.acked_status[order], (order, row["status"], t.acked_status[order])
            for (order, refund_id), (amount, status) in t.acked_refunds.items():
                ref = store.refund(store.payment(t.tid, order)["id"], refund_id)
                assert ref is not None and ref["amount"] == amount
                assert status == "PENDING" or ref["status"] == status, (order, status, ref["status"])

        # 0 duplicate Antom calls, counted at the sandbox
        def per_key(operation):
            counts = {}
            for call in sandbox.calls(operation=operation):
                counts[call["request_key"]] = counts.get(call["request_key"], 0) + 1
            return counts

        pays, cancels, refunds = per_key("pay"), per_key("cancel"), per_key("refund")
        assert len(pays) == total
        order_of = {"%s.%s" % (t.tid, o): (t.tid, o) for t in terminals for o in t.acked_creates}

        def lost_answers(prid, kinds, refund_request_id=None):
            """Calls about this key whose answer an instance recorded as unknown (a timeout under
            load, a 5xx): Antom's rule re-sends those too, with the same key."""
            tid, oid = order_of[prid]
            n = 0
            for e in store.events(tid, oid, limit=1000):
                if e["kind"] in kinds:
                    n += 1
            return n

        for key, n in pays.items():
            allowed = 1 + (key in in_flight_pays) + lost_answers(key, ("pay_unknown",))
            assert n <= allowed, (key, n, allowed, sorted(in_flight_pays))
        for key, n in cancels.items():
            allowed = 1 + (key in in_flight_pays) + lost_answers(key, ("antom_cancel_retry",))
            assert n <= allowed, (key, n, allowed)
        prid_of_refund = {}
        for t in terminals:
            for (order, refund_id) in t.acked_refunds:
                ref = store.refund(store.payment(t.tid, order)["id"], refund_id)
                prid_of_refund[ref["refund_request_id"]] = "%s.%s" % (t.tid, order)
        for key, n in refunds.items():
            allowed = 1 + (key in in_flight_refunds) + lost_answers(prid_of_refund[key], ("refund_unknown",))
            assert n <= allowed, (key, n, allowed)
        assert len(refunds) == sum(len(t.acked_refunds) for t in terminals)
        print("kill test: fleet up in %.1f s, terminals in %.1f s; %d sales, instance %d killed after %d "
              "(%.1f s), all done at %.1f s, checked at %.1f s; in flight on it: %d pays, %d refunds; "
              "re-sent: %d pays, %d refunds" % (
                  fleet_up, provisioned, total, victim, killed_at_done, killed_after, finished_after,
                  time.monotonic() - started, len(in_flight_pays),
                  len(in_flight_refunds),
                  sum(1 for n in pays.values() if n > 1), sum(1 for n in refunds.values() if n > 1)))
    finally:
        for t in locals().get("terminals", []):
            t.customer.close()
        fleet.stop()
