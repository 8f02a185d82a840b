"""The merchant's report: sales, refunds and net per day, per wallet and per currency, the
settlement totals Antom quoted, and late payments (docs/gateway.md, "Report").

Every figure is a sum of integer minor units straight from the payments and refunds tables, so the
report reconciles with them to the minor unit. Days are UTC calendar days: a sale counts on the day
it was paid (`paid_at`), a refund on the day it was requested, a late payment on the day it was
created. Sales are PAID payments; refunds are succeeded refunds of them (the money a late payment
brought is returned, so it is listed apart and counted in neither).
"""
import csv
import io
from datetime import date, datetime, timedelta, timezone

from tools.antom.currencies import EXPONENTS, display
from tools.antom.wallets import brand

UNKNOWN_WALLET = "-"  # a sale whose answers named no wallet


class ReportError(ValueError):
    pass


def day_range(start_text, end_text):
    """[start, end) unix seconds of the UTC days D1..D2 (inclusive), and the dates."""
    try:
        first, last = date.fromisoformat(start_text), date.fromisoformat(end_text)
    except (TypeError, ValueError):
        raise ReportError("dates are YYYY-MM-DD")
    if last < first:
        raise ReportError("--to is before --from")
    start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp()
    end = datetime(last.year, last.month, last.day, tzinfo=timezone.utc) + timedelta(days=1)
    return int(start), int(end.timestamp()), first, last


def utc_day(ts):
    return datetime.fromtimestamp(ts, timezone.utc).date().isoformat()


def _line(key):
    return dict(key, sales_count=0, sales=0, refunds_count=0, refunds=0, net=0)


def build(store, start_text, end_text, terminal_id=None, merchant_id=None):
    start, end, first, last = day_range(start_text, end_text)
    by_day, by_wallet, by_currency, settlement = {}, {}, {}, {}

    def add(table, key, sale=0, refund=0):
        entry = table.get(tuple(key.items()))
        if entry is None:
            entry = table[tuple(key.items())] = _line(key)
        if sale:
            entry["sales_count"] += 1
            entry["sales"] += sale
        if refund:
            entry["refunds_count"] += 1
            entry["refunds"] += refund
        entry["net"] = entry["sales"] - entry["refunds"]

    for row in store.paid_between(start, end, terminal_id, merchant_id=merchant_id):
        wallet = row["wallet"] or UNKNOWN_WALLET
        add(by_day, {"day": utc_day(row["paid_at"]), "currency": row["currency"], "wallet": wallet},
            sale=row["amount"])
        add(by_wallet, {"wallet": wallet, "currency": row["currency"]}, sale=row["amount"])
        add(by_currency, {"currency": row["currency"]}, sale=row["amount"])
        if row["settlement_currency"] and row["settlement_amount"] is not None:
            entry = settlement.setdefault(row["settlement_currency"], {
                "currency": row["settlement_currency"], "sales_count": 0, "amount": 0})
            entry["sales_count"] += 1
            entry["amount"] += row["settlement_amount"]
    for ref in store.refunds_between(start, end, terminal_id, merchant_id=merchant_id):
        wallet = ref["wallet"] or UNKNOWN_WALLET
        add(by_day, {"day": utc_day(ref["created_at"]), "currency": ref["currency"], "wallet": wallet},
            refund=ref["amount"])
        add(by_wallet, {"wallet": wallet, "currency": ref["currency"]}, refund=ref["amount"])
        add(by_currency, {"currency": ref["currency"]}, refund=ref["amount"])
    late = [{"terminal_id": row["terminal_id"], "order_id": row["order_id"], "status": row["status"],
             "amount": row["amount"], "currency": row["currency"], "wallet": row["wallet"] or UNKNOWN_WALLET,
             "created_at": row["created_at"], "day": utc_day(row["created_at"]),
             "returned": returned(store, row)}
            for row in store.late_between(start, end, terminal_id, merchant_id=merchant_id)]
    order = lambda table, *keys: sorted(table.values(), key=lambda e: tuple(e[k] for k in keys))  # noqa: E731
    return {"from": first.isoformat(), "to": last.isoformat(), "terminal": terminal_id, "timezone": "UTC",
            "days": order(by_day, "day", "currency", "wallet"),
            "wallets": order(by_wallet, "wallet", "currency"),
            "currencies": order(by_currency, "currency"),
            "settlement": sorted(settlement.values(), key=lambda e: e["currency"]),
            "late_payments": late}


def returned(store, row):
    """A late payment's money went back: cancelled at Antom, or refunded in full."""
    return row["cancel_state"] == "DONE" or store.refunded_total(row["id"]) >= row["amount"]


def major(minor, currency):
    """Minor units as a decimal string of the currency's exponent: (1250, USD) -> "12.50"."""
    return display(currency, minor).split(" ", 1)[1] if currency in EXPONENTS else str(minor)


def wallet_label(wallet):
    return wallet if wallet == UNKNOWN_WALLET else brand(wallet)


def as_text(report):
    out = ["Report %s to %s (UTC days)%s" % (report["from"], report["to"],
                                            ", terminal %s" % report["terminal"] if report["terminal"] else "")]

    def table(title, rows, keys):
        out.append("")
        out.append(title)
        if not rows:
            out.append("  (none)")
            return
        for e in rows:
            label = "  ".join(("%-10s" % e["day"]) if k == "day" else ("%-16s" % wallet_label(e["wallet"]))
                              if k == "wallet" else "%-3s" % e[k] for k in keys)
            out.append("  %s  sales %4d %18s  refunds %4d %18s  net %18s" % (
                label, e["sales_count"], display(e["currency"], e["sales"]), e["refunds_count"],
                display(e["currency"], e["refunds"]), display(e["currency"], e["net"])))

    table("Per day, currency and wallet", report["days"], ("day", "currency", "wallet"))
    table("Per wallet", report["wallets"], ("wallet", "currency"))
    table("Per currency", report["currencies"], ("currency",))
    out.append("")
    out.append("Settlement (Antom's grossSettlementAmount of the sales)")
    if not report["settlement"]:
        out.append("  (none)")
    for e in report["settlement"]:
        out.append("  %-3s  sales %4d  %18s" % (e["currency"], e["sales_count"], display(e["currency"], e["amount"])))
    out.append("")
    out.append("Late payments (paid after the terminal gave up; not in the sales)")
    if not report["late_payments"]:
        out.append("  (none)")
    for e in report["late_payments"]:
        out.append("  %s  %-16s %-24s %-9s %18s  %-16s %s" % (
            e["day"], e["terminal_id"], e["order_id"], e["status"], display(e["currency"], e["amount"]),
            wallet_label(e["wallet"]), "returned" if e["returned"] else "NOT RETURNED YET"))
    return "\n".join(out) + "\n"


CSV_FIELDS = ("section", "day", "currency", "wallet", "sales_count", "sales", "refunds_count", "refunds",
              "net", "terminal_id", "order_id", "status")


def as_csv(report):
    """One CSV: a `section` column (day, wallet, currency, settlement, late); amounts in major units
    of each row's currency ("12.50", "1000", "1.234")."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for section, rows in (("day", report["days"]), ("wallet", report["wallets"]),
                          ("currency", report["currencies"])):
        for e in rows:
            c = e["currency"]
            writer.writerow({"section": section, "day": e.get("day", ""), "currency": c,
                             "wallet": e.get("wallet", ""), "sales_count": e["sales_count"],
                             "sales": major(e["sales"], c), "refunds_count": e["refunds_count"],
                             "refunds": major(e["refunds"], c), "net": major(e["net"], c)})
    for e in report["settlement"]:
        writer.writerow({"section": "settlement", "currency": e["currency"], "sales_count": e["sales_count"],
                         "sales": major(e["amount"], e["currency"])})
    for e in report["late_payments"]:
        writer.writerow({"section": "late", "day": e["day"], "currency": e["currency"], "wallet": e["wallet"],
                         "sales": major(e["amount"], e["currency"]), "terminal_id": e["terminal_id"],
                         "order_id": e["order_id"], "status": e["status"] + ("" if e["returned"] else " NOT RETURNED")})
    return buffer.getvalue()
