"""A rate-limited terminal (issue 12.11), end to end: simulated terminal (MicroPython), real gateway
with a small per-terminal rate limit, real sandbox. The create that gets a signed 429 leaves the
sale in CHECKING (never FAILED), the terminal waits the signed Retry-After, sends the same order
again (its idempotency key) and the sale ends PAID, with one payment at the sandbox."""
import pytest

from tools.gateway.client import TerminalClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    from tests.firmware.conftest import running_system

    with running_system(tmp_path_factory.mktemp("ratelimited"), "SANDBOX_RL",
                        code_lifetime=60, rate_limit=8, rate_window=3.0) as s:
        yield s


def test_a_create_answered_429_is_retried_with_the_same_order_and_ends_paid(system):
    term = system.terminal()
    term.start()
    term.wait_ready()
    # the terminal's window is used up (someone with its secret, or its own burst): its create gets a 429
    flood = TerminalClient(system.gateway.base_url, term.terminal_id, system.gateway.secrets[term.terminal_id])
    assert 429 in [flood.health().status for _ in range(10)]
    flood.close()
    term.keys("731", "ok")
    creating = term.wait_state("CREATING")
    qr = term.wait_state("SHOW_QR", timeout=40)
    assert qr["order_id"] == creating["order_id"]          # the same order, sent again
    seen = list(term.history)
    assert any(e.get("event") == "doubt" and "busy" in str(e.get("why")) for e in seen), seen[-10:]
    assert not any(e.get("event") == "state" and e.get("state") in ("FAILED", "PAID") for e in seen)
    system.sandbox.pay(qr["code"])
    result = term.wait_result(timeout=40)
    assert result["state"] == "PAID" and result["order_id"] == creating["order_id"]
    pays = system.payments(term.terminal_id, creating["order_id"])
    assert len(pays) == 1 and pays[0]["status"] == "SUCCESS"
    term.stop()
