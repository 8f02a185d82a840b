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

# ISO 4217 minor-unit exponents other than 2, "<code><digits> " each: one string rather than a dict,
# whose 26 three-letter keys would each be an interned name on the device's heap for good.
_OTHER_EXPONENTS = ("BIF0 CLP0 DJF0 GNF0 ISK0 JPY0 KMF0 KRW0 PYG0 RWF0 UGX0 UYI0 VND0 VUV0 XAF0 XOF0 XPF0 "
                    "BHD3 IQD3 JOD3 KWD3 LYD3 OMR3 TND3 CLF4 UYW4 ")
_defined = {}  # a config's currency_exponent overrides (define)
# Symbols shown before the amount; only where the symbol names one currency for our customers.
SYMBOLS = {
    "USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "CNY": "\u00a5",
    "KRW": "\u20a9",
}
FONT_SIGNS = "$\u20ac\u00a3\u00a5\u20a9"  # the currency signs the terminal's fonts carry


def exponent(currency):
    """Digits after the decimal point for this currency (ISO 4217)."""
    code = currency.upper()
    digits = _defined.get(code)
    if digits is not None:
        return digits
    at = _OTHER_EXPONENTS.find(code) if len(code) == 3 else -1
    # Three letters in a row occur only at an entry's start (entries end in a digit and a space).
    return int(_OTHER_EXPONENTS[at + 3]) if at >= 0 and at % 5 == 0 else 2


def define(currency, digits):
    """Use `digits` decimals for `currency` (a config's `currency_exponent` override)."""
    _defined[currency.upper()] = digits


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

