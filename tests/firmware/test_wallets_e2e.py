"""Every wallet end to end: simulated terminal -> gateway -> sandbox, the customer picking the
wallet and paying on the wallet page in headless Chromium (one browser for the module), the
terminal's PAID screen naming the wallet and the customer's own amount (read back off the emulated
panel with tesseract), and `payments show` holding the quote and settlement the sandbox computed.
A multi-currency terminal (USD default, JPY, KWD; MENU cycles them) sells in all three.
"""
import json
import os
import subprocess
import sys

import pytest

from tools.antom.wallets import brand
from tools.sandbox import wallets

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CURRENCIES = [{"code": "USD", "min": 1, "max": 100000}, {"code": "JPY", "max": 1000000},
              {"code": "KWD", "exponent": 3, "symbol": False, "max": 500000}]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    from tools.gateway.testing import running_gateway, write_config
    from tools.sandbox.testing import running_sandbox
    from tools.sim.control import SimProcess
    from tools.sim.control import write_config as write_terminal

    tmp = tmp_path_factory.mktemp("wallets")
    with running_sandbox(client_id="SANDBOX_WL", time_scale=0.001) as sb:
        gw_cfg = write_config(str(tmp / "gw"), sb, merchant={"settlement_currency": "EUR"},
                              gateway={"currencies": ["USD", "JPY", "KWD"]})
        with running_gateway(gw_cfg) as gw, sync_playwright() as p:
            secret = gw.add_terminal("WL1", pin="123456")
            flash = str(tmp / "WL1")
            write_terminal(flash, gw.base_url, "WL1", secret, currencies=CURRENCIES)
            term = SimProcess(flash, frames=str(tmp / "frames")).start()
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
            try:
                term.wait_ready(timeout=60)
                yield {"sandbox": sb, "gateway": gw, "config": gw_cfg, "term": term, "page": page,
                       "frames": str(tmp / "frames")}
            finally:
                browser.close()
                term.stop()


def sell(world, amount, wallet, currency_presses=0):
    """One sale: type, cycle the currency, show the code; the customer picks `wallet` and pays on
    the page. Returns (result event, what the page said the customer pays)."""
    term, page = world["term"], world["page"]
    world["frames_before"] = len(result_frames(world))
    if currency_presses:
        term.keys("1")                           # a digit opens the amount screen
        for _ in range(currency_presses):
            term.keys("menu")                    # the next currency (the entry starts again)
    term.keys(str(amount), "ok")
    qr = term.wait_state("SHOW_QR", timeout=30)
    page.goto(qr["code"])
    page.click("#wallet-" + wallet)
    page.wait_for_selector("#pay")
    customer = page.inner_text("#customer-amount") if page.locator("#customer-amount").count() else None
    page.click("#pay")
    page.wait_for_selector("#state")
    assert page.inner_text("#state") == "Paid"
    result = term.wait_result(timeout=30)
    return result, customer


def result_frames(world):
    if not os.path.isdir(world["frames"]):
        return []
    return sorted(f for f in os.listdir(world["frames"]) if f.endswith("-result.png"))


def panel_text(world):
    """Tesseract's reading of this sale's result frame, as the terminal drew it (scaled up 3x)."""
    from PIL import Image

    from tests.waiting import wait_until

    def this_sales_frame():
        frames = result_frames(world)
        if len(frames) <= world["frames_before"]:
            return None
        try:  # the simulator may still be writing it
            with Image.open(os.path.join(world["frames"], frames[-1])) as image:
                return image.convert("L")
        except (OSError, SyntaxError):
            return None

    image = wait_until(this_sales_frame, timeout=15)
    big = os.path.join(world["frames"], "ocr.png")
    image.resize((image.width * 3, image.height * 3), Image.LANCZOS).save(big)
    done = subprocess.run(["tesseract", big, "stdout", "--psm", "6"], capture_output=True, text=True, timeout=60)
    return " ".join(done.stdout.split())


def squeeze(text):
    """OCR puts stray spaces around '.' and ','; compare without any spaces or commas."""
    return "".join(text.split()).replace(",", "")


def shown(world, order_id):
    done = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", world["config"], "payments", "show",
                           "WL1", order_id], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def dismiss(world):
    world["term"].keys("ok")
    world["term"].wait_screen("idle", timeout=15)


@pytest.mark.parametrize("wallet", [w.psp_name for w in wallets.WALLETS])
def test_each_wallet_pays_and_the_terminal_names_it(world, wallet):
    amount = 1250
    result, customer = sell(world, amount, wallet)
    try:
        assert result["state"] == "PAID" and result["currency"] == "USD"
        assert result["wallet"] == brand(wallet)
        w = wallets.BY_NAME[wallet]
        [at_sandbox] = world["sandbox"].payments("WL1." + result["order_id"])
        actual = at_sandbox["actualPaymentAmount"]
        assert (result["customer_amount"], result["customer_currency"]) == (int(actual["value"]), w.currency)
        text = panel_text(world)
        assert "Paid with " + brand(wallet) in text, text
        assert customer and squeeze(customer) in squeeze(text), (customer, text)
        record = shown(world, result["order_id"])
        assert record["wallet"] == wallet and record["customer_amount"] == int(actual["value"])
        assert record["quote"]["quote_id"] == at_sandbox["paymentQuote"]["quoteId"]
        assert record["quote"]["price"] == at_sandbox["paymentQuote"]["quotePrice"]
        assert (record["settlement_amount"], record["settlement_currency"]) == (
            int(at_sandbox["grossSettlementAmount"]["value"]), "EUR")
        assert record["settlement_quote"]["price"] == at_sandbox["settlementQuote"]["quotePrice"]
    finally:
        dismiss(world)


@pytest.mark.parametrize("presses,currency,amount,wallet", [
    (0, "USD", 880, "GCASH"), (1, "JPY", 1500, "KAKAOPAY"), (2, "KWD", 1234, "ALIPAY_HK")])
def test_usd_jpy_and_kwd_sales_of_a_multi_currency_terminal(world, presses, currency, amount, wallet):
    result, customer = sell(world, amount, wallet, currency_presses=presses)
    try:
        assert result["state"] == "PAID" and (result["currency"], result["amount"]) == (currency, amount)
        row = world["gateway"].store.payment("WL1", result["order_id"])
        assert (row["currency"], row["amount"]) == (currency, amount)
        assert result["wallet"] == brand(wallet)
        [at_sandbox] = world["sandbox"].payments("WL1." + result["order_id"])
        assert at_sandbox["amount"] == {"currency": currency, "value": str(amount)}
        assert customer == "%s %s" % (at_sandbox["actualPaymentAmount"]["currency"],
                                      _major(at_sandbox["actualPaymentAmount"]))
        assert "Paid with " + brand(wallet) in panel_text(world)
    finally:
        dismiss(world)


def _major(amount):
    from tools.antom.currencies import display
    return display(amount["currency"], int(amount["value"])).split(" ", 1)[1]
