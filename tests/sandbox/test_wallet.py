"""The wallet: the page an order code opens (phone-sized, in headless Chromium), and the pay CLI."""
import json
import os
import subprocess
import sys

import pytest

from tests.sandbox.conftest import order, text_code, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tools.sandbox", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=30)


def test_page_shows_merchant_description_and_amount_escaped(sandbox, receiver):
    answer = sandbox.call("pay", order(notify_url=receiver.url, value="123456",
                                       description="Tea <b>&</b> cake")).json()
    page = sandbox.http.get(text_code(answer))
    assert page.status_code == 200 and "width=device-width" in page.text
    assert "Corner Cafe" in page.text and "USD 1234.56" in page.text
    assert "Tea &lt;b&gt;&amp;&lt;/b&gt; cake" in page.text and "<b>&</b>" not in page.text
    assert "id='wallet-GCASH'" in page.text and 'id=decline' in page.text  # step 1: pick a wallet
    assert 'id=pay' not in page.text
    offer = sandbox.http.get(text_code(answer), params={"wallet": "GCASH"})
    assert "PHP 70369.92" in offer.text and "id=pay" in offer.text  # step 2: the customer's amount
    assert sandbox.http.get(sandbox.base_url + "/c/NoSuchToken").status_code == 404
    png = sandbox.http.get(text_code(answer) + "/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_pay_command_pays_and_decline_command_declines(sandbox, receiver):
    paid = sandbox.call("pay", order(notify_url=receiver.url)).json()
    done = cli("pay", text_code(paid))
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "SUCCESS"
    again = cli("pay", text_code(paid))  # paying twice is harmless
    assert again.returncode == 0
    declined = sandbox.call("pay", order(notify_url=receiver.url)).json()
    done = cli("pay", text_code(declined), "--decline")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "FAIL"
    refused = cli("pay", text_code(declined))
    assert refused.returncode == 1 and json.loads(refused.stdout)["status"] == "FAIL"
    statuses = {p["paymentId"]: p["status"] for p in sandbox.payments()}
    assert statuses[paid["paymentId"]] == "SUCCESS" and statuses[declined["paymentId"]] == "FAIL"


def test_key_and_registration_commands(tmp_path):
    from tools.antom import signature
    data = str(tmp_path / "data")
    first = cli("public-key", "--data", data)
    assert first.returncode == 0 and first.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert cli("public-key", "--data", data).stdout == first.stdout  # generated once, then kept
    key = signature.load_public_key(first.stdout)
    assert key.key_size == 2048
    assert oct(os.stat(os.path.join(data, "sandbox_private.pem")).st_mode & 0o777) == "0o600"
    pem = tmp_path / "merchant.pem"
    pem.write_bytes(signature.public_pem(signature.generate_private_key()))
    done = cli("register", "--data", data, "--client-id", "SANDBOX_X", "--public-key", str(pem))
    assert done.returncode == 0
    pem.write_text("not a key")
    assert cli("register", "--data", data, "--client-id", "SANDBOX_Y", "--public-key", str(pem)).returncode != 0
    listed = cli("payments", "--data", data)
    assert listed.returncode == 0 and json.loads(listed.stdout) == {"payments": []}


def test_wallet_page_pays_an_order_in_headless_chromium(sandbox, receiver, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    answer = sandbox.call("pay", order(notify_url=receiver.url, value="880",
                                       description="Two flat whites")).json()
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        try:
            page = context.new_page()
            page.goto(text_code(answer))
            assert page.inner_text("#merchant") == "Corner Cafe"
            assert page.inner_text("#amount") == "USD 8.80"
            assert page.inner_text("#description") == "Two flat whites"
            page.click("#wallet-GCASH")  # as scanning with GCash's app
            page.wait_for_selector("#pay")
            assert page.inner_text("#amount") == "USD 8.80"  # the order, in the merchant's currency
            assert page.inner_text("#wallet-name") == "GCash"
            assert page.inner_text("#customer-amount") == "PHP 501.60"  # 8.80 x 57
            assert page.inner_text("#rate") == "1 USD = 57 PHP"
            box = page.locator("#pay").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits a phone screen
            page.click("#pay")
            page.wait_for_selector("#state")
            assert page.inner_text("#state") == "Paid"
            assert page.inner_text("#paid-with") == "Paid with GCash: PHP 501.60"
        finally:
            context.close()
    status = sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()
    assert status["paymentStatus"] == "SUCCESS"
    assert status["pspCustomerInfo"]["pspName"] == "GCASH"
    assert status["actualPaymentAmount"] == {"currency": "PHP", "value": "50160"}
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]))
    assert note["valid"] and json.loads(note["body"])["result"]["resultStatus"] == "S"
