"""The supervisor PIN lockout holds under parallel guesses: at most `pin_lock_after` wrong PINs are
ever checked before the lock, however many refund requests arrive at once."""
from concurrent.futures import ThreadPoolExecutor


def test_parallel_wrong_pins_get_at_most_five_checks_before_the_lock(gateway, t1):
    assert t1.create("T1-PIN-1", 100, "USD", "").status == 200
    clients = [gateway.client("T1") for _ in range(16)]

    def guess(i):
        return clients[i].refund("T1-PIN-1", "R%d" % i, 1, "%04d" % (9000 + i)).code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(guess, range(16)))
    assert codes.count("BAD_PIN") <= 5, codes
    assert set(codes) <= {"BAD_PIN", "PIN_LOCKED"}, codes
    rejected = [e for e in gateway.store.events("T1") if e["kind"] == "pin_rejected"]
    assert len(rejected) <= 5
