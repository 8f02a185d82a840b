"""The supervisor PIN lockout holds under parallel guesses: at most `pin_lock_after` wrong PINs are
ever checked before the lock, however many refund requests arrive at once."""
from concurrent.futures import ThreadPoolExecutor


def test_parallel_wrong_pins_get_at_most_five_checks_before_the_lock(gateway, t1, sandbox):
    from tests.gateway.test_terminal_api import paid
    paid(gateway, t1, sandbox, "T1-PIN-1", 100)   # refundable: the PIN is checked only then
    clients = [gateway.client("T1") for _ in range(16)]

    def guess(i):
        return clients[i].refund("T1-PIN-1", "R%d" % i, 1, "%06d" % (900000 + i)).code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(guess, range(16)))
    assert codes.count("BAD_PIN") <= 5, codes
    assert set(codes) <= {"BAD_PIN", "PIN_LOCKED"}, codes
    rejected = [e for e in gateway.store.events("T1") if e["kind"] == "pin_rejected"]
    assert len(rejected) <= 5
