"""The sandbox's exchange rates: a fixed table, quotes between two currencies, and rounding.

Rule (docs/sandbox.md): every rate is units of the currency per 1 USD (RATES). A cross rate
A->B is RATES[B] / RATES[A], rounded half-even to 8 decimal places: that is the quote's
`quotePrice` ("1 A = price B", `quoteCurrencyPair` "A/B"). An amount converts as
minor_A x price x 10^(exponent_B - exponent_A), rounded half-up to a whole minor unit of B
(ISO 4217 exponents, tools/antom/currencies.py). The fault `rate-move=P` moves a quote's price by
P percent (rounded the same way) between the quote the wallet page shows and the payment.
"""
import secrets
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from tools.antom.currencies import exponent

RATES = {  # units per 1 USD, fixed so tests and docs can compute every figure by hand
    "USD": "1", "AUD": "1.52", "CAD": "1.36", "CHF": "0.88", "CNY": "7.10", "EUR": "0.92",
    "GBP": "0.79", "HKD": "7.80", "IDR": "15800", "JPY": "150", "KRW": "1380", "KWD": "0.3075",
    "MYR": "4.45", "NZD": "1.65", "PHP": "57", "SGD": "1.34", "THB": "35.50", "BHD": "0.376",
    "TWD": "32.20", "VND": "25000", "INR": "83.20", "MOP": "8.04",
}
PRICE_PLACES = Decimal("0.00000001")
QUOTE_LIFETIME = 15 * 60  # seconds a shown quote is guaranteed (the sandbox's choice)


def supported(currency: str) -> bool:
    return currency in RATES


def price(source: str, target: str, move_percent: float = 0.0) -> Decimal:
    """1 source = price target (KeyError for a currency without a rate)."""
    value = Decimal(RATES[target]) / Decimal(RATES[source])
    if move_percent:
        value = value * (Decimal(1) + Decimal(repr(move_percent)) / Decimal(100))
    return value.quantize(PRICE_PLACES, rounding=ROUND_HALF_EVEN)


def convert(minor: int, source: str, target: str, quote_price: Decimal) -> int:
    """Minor units of source -> minor units of target at quote_price, half-up."""
    shift = exponent(target) - exponent(source)
    value = Decimal(minor) * quote_price * (Decimal(10) ** shift)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_text(value: Decimal) -> str:
    """The quotePrice string: no exponent notation, trailing zeros dropped ("57", "0.00703704")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True)
class Quote:
    quote_id: str
    source: str
    target: str
    price: Decimal
    start: float
    expiry: float

    def as_json(self, iso) -> dict:
        """Antom's Quote object (quoteId, quoteCurrencyPair, quotePrice, quoteStartTime,
        quoteExpiryTime, guaranteed)."""
        return {"quoteId": self.quote_id, "quoteCurrencyPair": "%s/%s" % (self.source, self.target),
                "quotePrice": price_text(self.price), "quoteStartTime": iso(self.start),
                "quoteExpiryTime": iso(self.expiry), "guaranteed": "true"}

    def to_store(self) -> dict:
        return {"quoteId": self.quote_id, "source": self.source, "target": self.target,
                "price": str(self.price), "start": self.start, "expiry": self.expiry}

    @classmethod
    def from_store(cls, data: dict | None):
        if not data:
            return None
        return cls(data["quoteId"], data["source"], data["target"], Decimal(data["price"]),
                   data["start"], data["expiry"])


def quote(source: str, target: str, move_percent: float = 0.0, now: float | None = None) -> Quote:
    now = time.time() if now is None else now
    return Quote("Q" + time.strftime("%Y%m%d", time.gmtime(now)) + secrets.token_hex(8).upper(),
                 source, target, price(source, target, move_percent), now, now + QUOTE_LIFETIME)
