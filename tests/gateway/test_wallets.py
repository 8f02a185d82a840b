"""The gateway keeps who paid and at what rate (from verified answers only) and tells the terminal."""
import json
import os
import subprocess
import sys

from tests.gateway.conftest import sandbox_private_key
from tests.gateway.test_notifications import post
from tests.waiting import wait_until
from tools.antom import signature
from tools.gateway.testing import FAST_RECONCILER, running_gateway

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def paid_status(t1, order_id, sandbox, wallet, amount=1250, currency="USD", description="Lunch"):
    created = t1.create(order_id, amount, currency, description).body
    assert sandbox.pay(created["code_value"], wallet=wallet)["status"] == "SUCCESS"
    answer = t1.status(order_id, wait=10)
    assert answer.verified and answer.body["status"] == "PAID"
    return answer.body


def show(config_path, terminal_id, order_id):
    done = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", config_path, "payments", "show",
                           terminal_id, order_id], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_foreign_wallet_figures_reach_the_terminal_and_the_payments_table(make_config, sandbox):
    cfg = make_config(merchant={"settlement_currency": "EUR"}, reconciler=FAST_RECONCILER)
    with running_gateway(cfg) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        body = paid_status(t1, "WF-1", sandbox, "GCASH")
        assert body["wallet"] == "GCash"
        assert (body["customer_amount"], body["customer_currency"]) == (71250, "PHP")
        pay_body = json.loads(gw.store.payment("T1", "WF-1")["pay_body"])
        assert pay_body["settlementStrategy"] == {"settlementCurrency": "EUR"}
        [at_sandbox] = sandbox.payments("T1.WF-1")
        shown = show(cfg, "T1", "WF-1")
        assert shown["wallet"] == "GCASH" and shown["wallet_name"] == "GCash"
        assert (shown["customer_amount"], shown["customer_currency"]) == (71250, "PHP")
        assert shown["quote"]["quote_id"] == at_sandbox["paymentQuote"]["quoteId"]
        assert shown["quote"]["pair"] == "USD/PHP" and shown["quote"]["price"] == "57"
        assert (shown["settlement_amount"], shown["settlement_currency"]) == (1150, "EUR")
        assert shown["settlement_quote"]["price"] == at_sandbox["settlementQuote"]["quotePrice"] == "0.92"
        assert any(e["kind"] == "payment_wallet" for e in shown["events"])


def test_wallet_in_the_orders_currency_adds_only_its_name(gateway, t1, sandbox):
    body = paid_status(t1, "WF-2", sandbox, "GCASH", amount=71250, currency="PHP")
    assert body["wallet"] == "GCash"
    assert "customer_amount" not in body and "customer_currency" not in body
    row = gateway.store.payment("T1", "WF-2")
    assert row["customer_amount"] == 71250 and row["quote"] is None
    assert row["settlement_currency"] is None  # no settlement currency configured, none asked for
    assert "settlementStrategy" not in json.loads(row["pay_body"])


def test_figures_come_from_the_inquiry_when_the_notification_is_lost(make_config, sandbox):
    with running_gateway(make_config(reconciler=FAST_RECONCILER)) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        body = paid_status(t1, "WF-3", sandbox, "KAKAOPAY", amount=800, currency="JPY",
                           description="Tea [fault:notify-lost]")
        assert body["wallet"] == "Kakao Pay" and (body["customer_amount"], body["customer_currency"]) == (7360, "KRW")
        kept = [e for e in gw.store.events("T1", "WF-3") if e["kind"] == "payment_wallet"]
        assert json.loads(kept[0]["detail"])["source"] == "inquiry"


def test_unverified_or_inconsistent_figures_are_not_kept(gateway, t1, sandbox):
    created = t1.create("WF-4", 1250, "USD", "x [fault:notify-lost]").body
    note = {"notifyType": "PAYMENT_RESULT",
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": "T1.WF-4", "paymentId": created["payment_id"],
            "paymentAmount": {"currency": "USD", "value": "1250"},
            "paymentTime": "2026-11-25T18:00:05+00:00",
            "pspCustomerInfo": {"pspName": "GCASH"},
            "actualPaymentAmount": {"currency": "PHP", "value": "99999"},
            "paymentQuote": {"quoteId": "Q1", "quoteCurrencyPair": "USD/KRW", "quotePrice": "57"},
            "grossSettlementAmount": {"currency": "USD", "value": "1"}}
    raw = json.dumps(note, separators=(",", ":")).encode()
    assert post(gateway, raw, signature.generate_private_key()).status_code == 401  # forged: nothing
    row = gateway.store.payment("T1", "WF-4")
    assert row["wallet"] is None and row["status"] == "PENDING"
    assert post(gateway, raw, sandbox_private_key(sandbox)).status_code == 200
    wait_until(lambda: gateway.store.payment("T1", "WF-4")["status"] == "PAID")
    row = gateway.store.payment("T1", "WF-4")
    assert row["wallet"] == "GCASH" and (row["customer_amount"], row["customer_currency"]) == (99999, "PHP")
    assert row["quote"] is None                 # a quote of another currency pair is not this payment's
    assert row["settlement_amount"] is None     # a "settlement" in the order's currency but another amount
