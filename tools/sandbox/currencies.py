"""ISO 4217 minor-unit exponents: amounts travel as strings of minor units ("100" = USD 1.00)."""

# Exponent 2 unless listed. Only codes in KNOWN are accepted (CURRENCY_NOT_SUPPORT otherwise).
_EXPONENT_0 = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
               "VND", "VUV", "XAF", "XOF", "XPF"}
_EXPONENT_3 = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_EXPONENT_2 = {"AED", "AUD", "BDT", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EGP", "EUR", "GBP",
               "HKD", "HUF", "IDR", "ILS", "INR", "KZT", "LKR", "MAD", "MOP", "MXN", "MYR", "NOK",
               "NPR", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "RUB", "SAR", "SEK", "SGD",
               "THB", "TRY", "TWD", "UAH", "USD", "ZAR"}
KNOWN = _EXPONENT_0 | _EXPONENT_2 | _EXPONENT_3


def exponent(currency: str) -> int:
    if currency in _EXPONENT_0:
        return 0
    if currency in _EXPONENT_3:
        return 3
    return 2


def display(currency: str, minor: int) -> str:
    """Human form for the wallet page: ("USD", 123) -> "USD 1.23", ("JPY", 5) -> "JPY 5"."""
    exp = exponent(currency)
    if exp == 0:
        return "%s %d" % (currency, minor)
    major, rest = divmod(minor, 10 ** exp)
    return "%s %d.%0*d" % (currency, major, exp, rest)
