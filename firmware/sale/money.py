"""Amounts for people: an integer in minor units and an ISO 4217 currency code to text.

    money.format(1250, "USD")            -> "$12.50"
    money.format(1250, "USD", code=True) -> "USD 12.50"
    money.format(1250, "SGD")            -> "SGD 12.50"   (no symbol of its own in our fonts)
    money.format(1500, "JPY")            -> "¥1,500"      (0 decimals)
    money.format(1250, "KWD")            -> "KWD 1.250"   (3 decimals)
    money.exponent("BHD")                -> 3

Money stays an integer all the way: no float ever touches an amount. The exponents are ISO 4217's
(currencies not listed have 2). The symbols are the ones the terminal's fonts carry; every other
currency shows its code, which is never ambiguous.
"""

# ISO 4217 minor-unit exponents other than 2.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
# Symbols shown before the amount; only where the symbol names one currency for our customers.
SYMBOLS = {
    "USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "CNY": "\u00a5",
    "KRW": "\u20a9",
}
FONT_SIGNS = "$\u20ac\u00a3\u00a5\u20a9"  # the currency signs the terminal's fonts carry


def exponent(currency):
    """Digits after the decimal point for this currency (ISO 4217)."""
    return _EXPONENTS.get(currency.upper(), 2)


def define(currency, digits):
    """Use `digits` decimals for `currency` (a config's `currency_exponent` override)."""
    _EXPONENTS[currency.upper()] = digits


def symbol(currency, sign):
    """Show `sign` before amounts of `currency`, or its code when sign is None (a config's
    `currencies[].symbol`)."""
    currency = currency.upper()
    if sign:
        SYMBOLS[currency] = sign
    elif currency in SYMBOLS:
        del SYMBOLS[currency]


def _group(digits, sep=","):
    """'1234567' -> '1,234,567'."""
    out = ""
    while len(digits) > 3:
        out = sep + digits[-3:] + out
        digits = digits[:-3]
    return digits + out


def number(minor, currency):
    """The amount without symbol or code: 1234567, 'USD' -> '12,345.67'."""
    if not isinstance(minor, int):
        raise TypeError("amounts are integers in minor units")
    sign = "-" if minor < 0 else ""
    digits = str(-minor if minor < 0 else minor)
    exp = exponent(currency)
    if exp == 0:
        return sign + _group(digits)
    digits = "0" * (exp + 1 - len(digits)) + digits
    return sign + _group(digits[:-exp]) + "." + digits[-exp:]


def format(minor, currency, code=False):
    """Amount with its symbol ('$12.50') or, when code=True or no symbol is known, its code."""
    currency = currency.upper()
    text = number(minor, currency)
    symbol = None if code else SYMBOLS.get(currency)
    if symbol is None:
        return currency + " " + text
    if text.startswith("-"):
        return "-" + symbol + text[1:]
    return symbol + text

