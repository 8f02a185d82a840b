"""Wallets, exchange rates and Antom's wallet fields (docs/sandbox.md, "Wallets and rates")."""
import json
import os
import subprocess
import sys
from decimal import Decimal

from tests.sandbox.conftest import order, text_code, wait_until
from tools.antom.currencies import EXPONENTS
from tools.sandbox import rates, wallets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def paid(sandbox, receiver, wallet, value="1250", currency="USD", description=None, **top):
    answer = sandbox.call("pay", order(notify_url=receiver.url, value=value, currency=currency,
                                       description=description, **top)).json()
    done = sandbox.http.post(text_code(answer) + "/pay", json={"wallet": wallet})
    assert done.status_code == 200, done.text
    inquiry = sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]})
    assert sandbox.verify(inquiry)
    return answer, inquiry.json()


def test_the_table_has_at_least_eight_wallets_each_with_a_rate():
    assert len(wallets.WALLETS) >= 8
    assert len({w.psp_name for w in wallets.WALLETS}) == len(wallets.WALLETS)
    for wallet in wallets.WALLETS:
        assert wallet.currency in EXPONENTS and rates.supported(wallet.currency)
        assert len(wallet.region) == 2 and wallet.display_name
    assert wallets.find("gcash").display_name == "GCash" and wallets.find("NOPE") is None


def test_rates_follow_the_documented_rule():
    assert rates.price("USD", "PHP") == Decimal("57")
    assert rates.price_text(rates.price("JPY", "USD")) == "0.00666667"  # 1/150, half-even, 8 places
    assert rates.convert(1250, "USD", "PHP", rates.price("USD", "PHP")) == 71250    # USD 12.50 -> PHP 712.50
    assert rates.convert(1000, "JPY", "PHP", rates.price("JPY", "PHP")) == 38000    # JPY 1000 -> PHP 380.00
    assert rates.convert(1234, "KWD", "KRW", rates.price("KWD", "KRW")) == 5538     # KWD 1.234 -> KRW 5538
    assert rates.convert(1, "USD", "JPY", Decimal("150")) == 2          # 1.5 yen rounds half up
    assert rates.convert(5, "USD", "KWD", Decimal("0.3")) == 15         # 0.015 KWD: three decimals
    assert rates.price("USD", "PHP", 10) == Decimal("62.7")


def test_foreign_wallet_answers_carry_quote_customer_amount_and_settlement(sandbox, receiver):
    answer, status = paid(sandbox, receiver, "GCASH",
                          settlementStrategy={"settlementCurrency": "EUR"})
    assert status["paymentAmount"] == {"currency": "USD", "value": "1250"}
    assert status["pspCustomerInfo"]["pspName"] == "GCASH"
    assert status["pspCustomerInfo"]["pspCustomerId"].startswith("2088")
    assert status["pspCustomerInfo"]["displayCustomerId"].startswith("****")
    assert status["actualPaymentAmount"] == {"currency": "PHP", "value": "71250"}
    quote = status["paymentQuote"]
    assert quote["quoteCurrencyPair"] == "USD/PHP" and quote["quotePrice"] == "57"
    assert quote["quoteId"] and quote["quoteStartTime"] <= quote["quoteExpiryTime"]
    assert status["grossSettlementAmount"] == {"currency": "EUR", "value": "1150"}
    assert status["settlementQuote"]["quoteCurrencyPair"] == "USD/EUR"
    assert status["settlementQuote"]["quotePrice"] == "0.92"
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]))
    body = json.loads(note["body"])
    assert note["valid"] and body["result"]["resultStatus"] == "S"
    for field in ("pspCustomerInfo", "actualPaymentAmount", "paymentQuote", "grossSettlementAmount",
                  "settlementQuote"):
        assert body[field] == status[field], field


def test_wallet_in_the_orders_currency_has_no_quote(sandbox, receiver):
    _, status = paid(sandbox, receiver, "GCASH", value="71250", currency="PHP",
                     settlementStrategy={"settlementCurrency": "PHP"})
    assert status["actualPaymentAmount"] == status["paymentAmount"]
    assert "paymentQuote" not in status and "settlementQuote" not in status
    assert status["grossSettlementAmount"] == {"currency": "PHP", "value": "71250"}
    _, plain = paid(sandbox, receiver, "KAKAOPAY", value="500", currency="JPY")
    assert plain["actualPaymentAmount"] == {"currency": "KRW", "value": "4600"}  # 500 x 9.2
    assert "grossSettlementAmount" not in plain  # no settlementCurrency asked for


def test_wallet_without_customer_id_reports_only_its_name(sandbox, receiver):
    _, status = paid(sandbox, receiver, "BPI")
    assert status["pspCustomerInfo"] == {"pspName": "BPI"}


def test_payment_uses_the_quote_the_page_showed(sandbox, receiver):
    answer = sandbox.call("pay", order(notify_url=receiver.url, value="999")).json()
    shown = sandbox.http.get(text_code(answer) + "/quote", params={"wallet": "TNG"}).json()
    assert shown["customerAmount"] == {"currency": "MYR", "value": "4446"}  # 9.99 x 4.45 = 44.4555
    assert sandbox.http.post(text_code(answer) + "/pay", data={"wallet": "TNG"}).status_code == 200
    status = sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()
    assert status["paymentQuote"]["quoteId"] == shown["quote"]["quoteId"]
    assert status["actualPaymentAmount"] == shown["customerAmount"]


def test_rate_move_fault_charges_a_new_quote(sandbox, receiver):
    answer = sandbox.call("pay", order(notify_url=receiver.url, value="1250",
                                       description="Lunch [fault:rate-move=10]")).json()
    shown = sandbox.http.get(text_code(answer) + "/quote", params={"wallet": "GCASH"}).json()
    assert shown["customerAmount"]["value"] == "71250"
    sandbox.http.post(text_code(answer) + "/pay", json={"wallet": "GCASH"})
    status = sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()
    assert status["paymentQuote"]["quoteId"] != shown["quote"]["quoteId"]
    assert status["paymentQuote"]["quotePrice"] == "62.7"
    assert status["actualPaymentAmount"] == {"currency": "PHP", "value": "78375"}
    bad = sandbox.call("pay", order(notify_url=receiver.url, description="x [fault:rate-move=abc]")).json()
    assert bad["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_unknown_wallet_and_bad_settlement_currency_are_refused(sandbox, receiver):
    answer = sandbox.call("pay", order(notify_url=receiver.url)).json()
    refused = sandbox.http.post(text_code(answer) + "/pay", json={"wallet": "NOWALLET"})
    assert refused.status_code == 400 and "unknown wallet" in refused.json()["error"]
    assert sandbox.http.get(text_code(answer), params={"wallet": "NOWALLET"}).status_code == 400
    assert sandbox.payments(answer["paymentRequestId"].replace("PR-", "ORD-"))[0]["status"] == "PROCESSING"
    for currency, code in (("EU", "PARAM_ILLEGAL"), ("XAF", "CURRENCY_NOT_SUPPORT")):
        body = order(notify_url=receiver.url, settlementStrategy={"settlementCurrency": currency})
        assert sandbox.call("pay", body).json()["result"]["resultCode"] == code


def test_pay_command_with_a_wallet_shows_the_offer_then_pays(sandbox, receiver):
    answer = sandbox.call("pay", order(notify_url=receiver.url, value="5000", currency="JPY")).json()
    done = subprocess.run([sys.executable, "-m", "tools.sandbox", "pay", text_code(answer), "--wallet", "gcash"],
                          capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert done.returncode == 0, done.stderr
    offer, result = [json.loads(line) for line in done.stdout.splitlines()]
    assert offer["offer"]["customerAmount"] == {"currency": "PHP", "value": "190000"}  # JPY 5000 x 0.38
    assert result["status"] == "SUCCESS" and result["wallet"] == "GCASH"
    listed = subprocess.run([sys.executable, "-m", "tools.sandbox", "wallets"], capture_output=True,
                            text=True, cwd=ROOT, timeout=30)
    assert len(json.loads(listed.stdout)["wallets"]) == len(wallets.WALLETS)
