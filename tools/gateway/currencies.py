"""The currencies the gateway accepts by default (configurable; any ISO 4217 code listed in
tools/antom/currencies.py may be added), and amounts for operators to read."""
from tools.antom.currencies import EXPONENTS, display  # noqa: F401 (this module's API)

DEFAULT_ACCEPTED = ("USD", "EUR", "GBP", "JPY", "CNY", "HKD", "SGD", "AUD", "CAD", "KRW", "MYR", "THB",
                    "PHP", "IDR", "NZD", "CHF")


def format_amount(amount, code):
    """1250, "USD" -> "USD 12.50"."""
    return display(code, amount)
