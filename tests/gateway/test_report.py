"""`python -m tools.gateway report`: a day of mixed sales (wallets, currencies, a refund, a decline,
a late payment) reconciles with the payments table to the minor unit, in JSON, text and CSV."""
import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal

from tests.gateway.test_sandbox_faults import eventually
from tools.antom.currencies import EXPONENTS, display
from tools.gateway import report
from tools.gateway.testing import FAST_RECONCILER, running_gateway

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SALES = [("RP-1", 1250, "USD", "GCASH"), ("RP-2", 880, "USD", "ALIPAY_CN"), ("RP-3", 1000, "JPY", "KAKAOPAY"),
         ("RP-4", 1234, "KWD", "TNG"), ("RP-5", 50000, "PHP", "GCASH"), ("RP-6", 300, "USD", "GCASH")]


def cli(config_path, *args):
    done = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", config_path, "report", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def table_sums(store, day):
    """Straight from the tables, without the report's code: per currency (sales, refunds)."""
    start = int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp())
    db = store.db
    sales = dict(db.execute("SELECT currency, CAST(SUM(amount) AS INTEGER) FROM payments WHERE status='PAID' AND paid_at>=? "
                            "AND paid_at<? GROUP BY currency", (start, start + 86400)).fetchall())
    refunds = dict(db.execute("SELECT refunds.currency, CAST(SUM(refunds.amount) AS INTEGER) FROM refunds JOIN payments ON "
                              "payments.id=refunds.payment WHERE refunds.status='SUCCEEDED' AND "
                              "payments.status='PAID' AND refunds.created_at>=? AND refunds.created_at<? "
                              "GROUP BY refunds.currency", (start, start + 86400)).fetchall())
    settled = dict(db.execute("SELECT settlement_currency, CAST(SUM(settlement_amount) AS INTEGER) FROM payments WHERE "
                              "status='PAID' AND settlement_currency IS NOT NULL GROUP BY settlement_currency").fetchall())
    return sales, refunds, settled


def test_report_of_a_day_of_mixed_sales_matches_the_payments_table(make_config, sandbox):
    cfg = make_config(merchant={"settlement_currency": "EUR"}, reconciler=FAST_RECONCILER,
                      gateway={"currencies": ["USD", "JPY", "KWD", "PHP"]})
    with running_gateway(cfg) as gw:
        gw.add_terminal("T1")
        gw.add_terminal("T2")
        t1, t2 = gw.client("T1"), gw.client("T2")
        for order_id, amount, currency, wallet in SALES:
            created = t1.create(order_id, amount, currency, "Sale").body
            sandbox.pay(created["code_value"], wallet=wallet)
            assert t1.status(order_id, wait=10).body["status"] == "PAID"
        assert t1.refund("RP-6", "RF-1", 100, "123456").body["status"] == "SUCCEEDED"
        declined = t1.create("RP-7", 999, "USD", "Declined").body
        sandbox.decline(declined["code_value"])
        assert t1.status("RP-7", wait=10).body["status"] == "FAILED"
        t1.create("RP-8", 777, "USD", "[fault:pay-on-cancel]")
        assert t1.cancel("RP-8").body["status"] == "CANCELLED"
        eventually(lambda: gw.store.payment("T1", "RP-8")["cancel_state"] == "DONE")
        other = t2.create("RP-9", 4000, "JPY", "Other terminal").body
        sandbox.pay(other["code_value"], wallet="ALIPAY_HK")
        assert t2.status("RP-9", wait=10).body["status"] == "PAID"
        day = datetime.now(timezone.utc).date().isoformat()

        data = json.loads(cli(cfg, "--from", day, "--to", day, "--json"))
        sales, refunds, settled = table_sums(gw.store, day)
        assert sales == {"USD": 2430, "JPY": 5000, "KWD": 1234, "PHP": 50000} and refunds == {"USD": 100}
        currencies = {e["currency"]: e for e in data["currencies"]}
        assert {c: e["sales"] for c, e in currencies.items()} == sales
        assert {c: e["refunds"] for c, e in currencies.items() if e["refunds"]} == refunds
        for c, e in currencies.items():
            assert e["net"] == sales[c] - refunds.get(c, 0)
            # the other way round: the per-day and per-wallet lines add up to the same totals
            for lines in (data["days"], data["wallets"]):
                assert sum(x["sales"] for x in lines if x["currency"] == c) == sales[c]
                assert sum(x["refunds"] for x in lines if x["currency"] == c) == refunds.get(c, 0)
        gcash_usd = [x for x in data["wallets"] if x["wallet"] == "GCASH" and x["currency"] == "USD"][0]
        assert (gcash_usd["sales_count"], gcash_usd["sales"], gcash_usd["refunds"]) == (2, 1550, 100)
        assert {e["currency"]: e["amount"] for e in data["settlement"]} == settled
        assert data["settlement"][0]["sales_count"] == 7
        [late] = data["late_payments"]
        assert (late["order_id"], late["amount"], late["returned"]) == ("RP-8", 777, True)

        only_t2 = json.loads(cli(cfg, "--from", day, "--to", day, "--terminal", "T2", "--json"))
        assert [(e["currency"], e["sales"]) for e in only_t2["currencies"]] == [("JPY", 4000)]

        text = cli(cfg, "--from", day, "--to", day)
        for c, total in sales.items():
            assert display(c, total) in text and display(c, total - refunds.get(c, 0)) in text
        assert "GCash" in text and "Kakao Pay" in text and "RP-8" in text and "returned" in text

        rows = list(csv.DictReader(io.StringIO(cli(cfg, "--from", day, "--to", day, "--csv"))))
        minor = lambda value, c: int(Decimal(value) * 10 ** EXPONENTS[c])  # noqa: E731
        by_currency = {r["currency"]: r for r in rows if r["section"] == "currency"}
        assert {c: minor(r["sales"], c) for c, r in by_currency.items()} == sales
        assert {c: minor(r["net"], c) for c, r in by_currency.items()} == {
            c: sales[c] - refunds.get(c, 0) for c in sales}
        for c in sales:
            assert sum(minor(r["sales"], c) for r in rows if r["section"] == "day" and r["currency"] == c) == sales[c]
        assert by_currency["KWD"]["sales"] == "1.234" and by_currency["JPY"]["sales"] == "5000"


def test_report_refuses_bad_dates():
    assert report.day_range("2026-12-01", "2026-12-02")[1] - report.day_range("2026-12-01", "2026-12-02")[0] == 2 * 86400
    for bad in (("2026-13-01", "2026-12-01"), ("2026-12-02", "2026-12-01"), ("yesterday", "2026-12-01")):
        try:
            report.day_range(*bad)
        except report.ReportError:
            continue
        raise AssertionError(bad)
