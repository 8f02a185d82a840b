"""Who paid and at what rate: the wallet fields of Antom's verified answers (inquiryPayment,
notifyPayment), as the payment columns of the wallet migration, and as the gateway tells them.

Only a signed inquiry answer about this payment, or a verified notification, is read (the callers
check that); a field that is missing, malformed or inconsistent with the payment (a quote for
another currency pair, an "actual" amount in the order's currency that differs from it) is left
out rather than guessed. The first verified answer that names a wallet is kept.
"""
import json
import re
from decimal import Decimal, InvalidOperation

from tools.antom.currencies import EXPONENTS
from tools.antom.wallets import brand

COLUMNS = ("wallet", "customer_amount", "customer_currency", "quote", "settlement_amount",
           "settlement_currency", "settlement_quote")
_DIGITS = re.compile(r"(0|[1-9][0-9]{0,15})\Z")
_PSP_NAME = re.compile(r"[A-Za-z0-9_]{1,32}\Z")
_PAIR = re.compile(r"([A-Z]{3})/([A-Z]{3})\Z")


def _money(value):
    if (isinstance(value, dict) and value.get("currency") in EXPONENTS
            and isinstance(value.get("value"), str) and _DIGITS.match(value["value"])):
        return int(value["value"]), value["currency"]
    return None


def _text(value, limit=64):
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _quote(value, source, target):
    """Antom's Quote as stored: {quote_id, pair, price, start, expiry}; None unless it quotes
    source -> target at a positive finite price."""
    if not isinstance(value, dict) or not isinstance(value.get("quoteCurrencyPair"), str):
        return None
    pair = _PAIR.match(value["quoteCurrencyPair"])
    if pair is None or pair.groups() != (source, target):
        return None
    price = value.get("quotePrice")
    if not isinstance(price, (str, int, float)) or isinstance(price, bool):
        return None
    try:
        number = Decimal(str(price))
    except InvalidOperation:
        return None
    if not number.is_finite() or number <= 0 or len(str(price)) > 32:
        return None
    return {"quote_id": _text(value.get("quoteId")), "pair": value["quoteCurrencyPair"],
            "price": str(price), "start": _text(value.get("quoteStartTime")),
            "expiry": _text(value.get("quoteExpiryTime"))}


def from_answer(body, row):
    """Column values from a verified answer about the paid payment `row` (only those present)."""
    if not isinstance(body, dict):
        return {}
    out = {}
    info = body.get("pspCustomerInfo")
    if isinstance(info, dict) and isinstance(info.get("pspName"), str) and _PSP_NAME.match(info["pspName"]):
        out["wallet"] = info["pspName"]
    actual = _money(body.get("actualPaymentAmount"))
    if actual is not None and not (actual[1] == row["currency"] and actual[0] != row["amount"]):
        out["customer_amount"], out["customer_currency"] = actual
        if actual[1] != row["currency"]:
            quote = _quote(body.get("paymentQuote"), row["currency"], actual[1])
            if quote is not None:
                out["quote"] = json.dumps(quote, sort_keys=True)
    gross = _money(body.get("grossSettlementAmount"))
    if gross is not None and not (gross[1] == row["currency"] and gross[0] != row["amount"]):
        out["settlement_amount"], out["settlement_currency"] = gross
        if gross[1] != row["currency"]:
            quote = _quote(body.get("settlementQuote"), row["currency"], gross[1])
            if quote is not None:
                out["settlement_quote"] = json.dumps(quote, sort_keys=True)
    return out


def record(row):
    """The wallet figures of a payment for `payments show/list --json` and the report."""
    keys = row.keys()
    get = (lambda name: row[name] if name in keys else None)
    wallet = get("wallet")
    return {
        "wallet": wallet, "wallet_name": brand(wallet) if wallet else None,
        "customer_amount": get("customer_amount"), "customer_currency": get("customer_currency"),
        "quote": json.loads(get("quote")) if get("quote") else None,
        "settlement_amount": get("settlement_amount"), "settlement_currency": get("settlement_currency"),
        "settlement_quote": json.loads(get("settlement_quote")) if get("settlement_quote") else None,
    }


def for_terminal(row):
    """What the terminal's signed status answer adds once a wallet is known: its display name
    and, when the customer paid in another currency, their amount and currency."""
    if not row["wallet"]:
        return {}
    out = {"wallet": brand(row["wallet"])}
    if row["customer_currency"] and row["customer_currency"] != row["currency"]:
        out["customer_amount"] = row["customer_amount"]
        out["customer_currency"] = row["customer_currency"]
    return out
