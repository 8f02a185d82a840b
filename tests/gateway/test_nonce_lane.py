"""Request nonces and rate-limit counts, claimed in batches (tools/gateway/nonce_lane.py), on both
backends: the database decides every answer, one round trip serves every claim that waited."""
import asyncio
import threading

from tools.gateway.limits import RateLimit
from tools.gateway.nonce_lane import NonceLane
from tools.gateway.secretbox import SecretBox


def test_a_batch_of_nonces_is_new_once_each_even_twice_in_one_batch(open_store):
    store = open_store()
    assert store.remember_nonce("T1", "a" * 32, 100.0)
    items = [("T1", "a" * 32, 101.0),   # stored before: a replay
             ("T1", "b" * 32, 101.0),   # new
             ("T2", "a" * 32, 101.0),   # another terminal's: new
             ("T1", "b" * 32, 102.0)]   # the same nonce again in the same batch: a replay
    assert store.claim_nonces(items) == [False, True, True, False]
    assert sorted((r["terminal_id"], r["nonce"]) for r in store.recent_nonces(0)) == [
        ("T1", "a" * 32), ("T1", "b" * 32), ("T2", "a" * 32)]
    # more than one INSERT's worth of rows, with a replay of each among them
    many = [("T3", "%032x" % i, 150.0) for i in range(store.NONCE_CHUNK * 2 + 7)]
    assert all(store.claim_nonces(many))
    assert not any(store.claim_nonces(many[:5] + many[-5:]))


def test_requests_are_counted_per_terminal_inside_every_window(open_store):
    store = open_store()
    store.claim_nonces([("T1", "%032x" % i, 100.0 + i) for i in range(10)] +
                       [("T2", "%032x" % i, 105.0) for i in range(3)] +
                       [("T1", "f%031x" % i, 1000.0) for i in range(4)])   # dated ahead (/v1/time)
    assert store.requests_in(["T1", "T2", "T9"], [(104.0, 109.0)]) == {"T1": 6, "T2": 3, "T9": 0}
    assert store.requests_in(["T1"], [(104.0, 109.0), (999.0, 1001.0)]) == {"T1": 10}


class CountingStore:
    """The real store, with its nonce calls counted and the first one held until released."""

    def __init__(self, store):
        self.store = store
        self.calls = []
        self.release = threading.Event()

    def claim_nonces(self, items):
        self.calls.append(len(items))
        if len(self.calls) == 1:
            self.release.wait(10)
        return self.store.claim_nonces(items)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_claims_that_wait_together_share_one_round_trip_and_get_their_own_answers(open_store):
    counting = CountingStore(open_store())
    lane = NonceLane(counting, RateLimit(limit=5, window=60, clock=lambda: 1000.0), nonce_ttl=900,
                     clock=lambda: 1000.0)

    async def run():
        first = asyncio.ensure_future(lane.claim("T1", "0" * 32, 1000.0))
        while not counting.calls:   # the lane's thread is inside its first round trip
            await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(lane.claim("T1" if i % 2 else "T2", "%032x" % (i // 2), 1000.0))
                for i in range(2, 40)]
        replay = asyncio.ensure_future(lane.claim("T1", "0" * 32, 1000.0))
        await asyncio.sleep(0.2)   # all queued behind the held round trip
        counting.release.set()
        return await first, await asyncio.gather(*rest), await replay

    try:
        first, rest, replay = asyncio.run(run())
    finally:
        lane.close()
    assert counting.calls == [1, 39]          # one claim, then the 39 that waited: one batch
    assert first == (True, 1)
    assert all(new for new, _count in rest)
    assert replay[0] is False                 # the nonce of the first claim, refused
    # each answer counts its terminal's requests after the batch (a replay stores nothing):
    # T1 has its first nonce and 19 more, T2 19
    assert {count for new, count in rest[1::2]} == {20} and replay[1] == 20   # T1's
    assert {count for new, count in rest[0::2]} == {19}                       # T2's


def test_a_failing_database_answers_every_waiting_claim_with_the_error(open_store):
    class Broken(CountingStore):
        def claim_nonces(self, items):
            raise RuntimeError("database gone")

    lane = NonceLane(Broken(open_store()), RateLimit(limit=0, window=60), nonce_ttl=900)

    async def run():
        return await asyncio.gather(*(lane.claim("T1", "%032x" % i, 1.0) for i in range(5)), return_exceptions=True)

    try:
        results = asyncio.run(run())
    finally:
        lane.close()
    assert [str(r) for r in results] == ["database gone"] * 5


def test_many_status_rows_are_read_in_one_query_each_by_its_own_key(open_store):
    """The status lane's query (store.payments_by_key): rows of many terminals' orders at once,
    only the exact (terminal, order) pairs, duplicates and missing keys harmless."""
    store = open_store(box=SecretBox(b"k" * 32))
    with store.transaction():
        for t in ("T1", "T2"):
            store.add_terminal(t, "s" * 64, None)
            for o in ("O-1", "O-2"):
                store.insert_payment(terminal_id=t, order_id=o, payment_request_id="%s.%s" % (t, o), amount=100,
                                     currency="USD", description="", status="PENDING", pay_body="{}",
                                     expires_at=2 ** 40)
    keys = [("T1", "O-2"), ("T2", "O-1"), ("T1", "O-2"), ("T1", "O-9"), ("T9", "O-1")]
    found = store.payments_by_key(keys)
    assert sorted(found) == [("T1", "O-2"), ("T2", "O-1")]
    assert found[("T2", "O-1")]["payment_request_id"] == "T2.O-1"
    assert dict(found[("T1", "O-2")]) == dict(store.payment("T1", "O-2"))   # the same columns as one read
    many = [("T1", "O-%d" % i) for i in range(store.KEY_CHUNK + 50)]            # more than one query's worth
    assert sorted(store.payments_by_key(many)) == [("T1", "O-1"), ("T1", "O-2")]
