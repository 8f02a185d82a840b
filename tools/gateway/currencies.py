"""ISO 4217 currencies the gateway accepts, with their minor-unit exponents (amounts are minor units)."""

EXPONENTS = {
    "AUD": 2, "CAD": 2, "CHF": 2, "CNY": 2, "EUR": 2, "GBP": 2, "HKD": 2, "IDR": 2, "JPY": 0,
    "KRW": 0, "MYR": 2, "NZD": 2, "PHP": 2, "SGD": 2, "THB": 2, "USD": 2, "VND": 0, "KWD": 3,
    "BHD": 3, "DKK": 2, "NOK": 2, "SEK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "INR": 2, "TWD": 2,
    "MOP": 2, "AED": 2, "SAR": 2, "BRL": 2, "MXN": 2, "ZAR": 2, "PKR": 2, "BDT": 2, "LKR": 2,
    "NPR": 2, "KZT": 2, "MNT": 2, "KHR": 2, "LAK": 2, "MMK": 2,
}

DEFAULT_ACCEPTED = ("USD", "EUR", "GBP", "JPY", "CNY", "HKD", "SGD", "AUD", "CAD", "KRW", "MYR", "THB",
                    "PHP", "IDR", "NZD", "CHF")


def exponent(code):
    return EXPONENTS[code]


def format_amount(amount, code):
    """Human form of a minor-unit amount: 1250 USD -> '12.50 USD'."""
    exp = EXPONENTS.get(code, 2)
    if exp == 0:
        return "%d %s" % (amount, code)
    return "%d.%0*d %s" % (amount // 10 ** exp, exp, amount % 10 ** exp, code)
