"""ISO 4217 minor-unit exponents: Antom amounts travel as strings of minor units ("100" = USD 1.00).

Spec data that both a real Antom client (the gateway) and a real Antom server (the sandbox) need;
each side decides for itself which of these currencies it accepts.
"""

_EXPONENT_0 = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
               "VND", "VUV", "XAF", "XOF", "XPF"}
_EXPONENT_3 = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_EXPONENT_2 = {"AED", "AUD", "BDT", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EGP", "EUR", "GBP",
               "HKD", "HUF", "IDR", "ILS", "INR", "KHR", "KZT", "LAK", "LKR", "MAD", "MMK", "MNT",
               "MOP", "MXN", "MYR", "NOK", "NPR", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON",
               "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD", "ZAR"}

EXPONENTS = {code: 0 for code in _EXPONENT_0}
EXPONENTS.update({code: 2 for code in _EXPONENT_2})
EXPONENTS.update({code: 3 for code in _EXPONENT_3})
KNOWN = frozenset(EXPONENTS)


def exponent(currency: str) -> int:
    """Digits after the decimal point; KeyError for a currency not listed here."""
    return EXPONENTS[currency]


def display(currency: str, minor: int) -> str:
    """Human form of a minor-unit amount: ("USD", 123) -> "USD 1.23", ("JPY", 5) -> "JPY 5"."""
    exp = EXPONENTS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10 ** exp)
    if exp == 0:
        return "%s %s%d" % (currency, sign, major)
    return "%s %s%d.%0*d" % (currency, sign, major, exp, rest)
