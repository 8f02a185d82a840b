"""Amounts are integers in minor units, formatted with the ISO 4217 exponent."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.sale import money
from tests.display.helpers import missing


@pytest.mark.parametrize("minor, currency, text", [
    (1250, "USD", "$12.50"), (5, "USD", "$0.05"), (0, "USD", "$0.00"), (123456789, "USD", "$1,234,567.89"),
    (1500, "JPY", "\u00a51,500"), (1000000, "KRW", "\u20a91,000,000"), (1250, "KWD", "KWD 1.250"),
    (1, "BHD", "BHD 0.001"), (1250, "SGD", "SGD 12.50"), (-1250, "EUR", "-\u20ac12.50"),
    (99, "gbp", "\u00a30.99"), (12345, "CLF", "CLF 1.2345"),
])
def test_format(minor, currency, text):
    assert money.format(minor, currency) == text


def test_code_style():
    assert money.format(1250, "USD", code=True) == "USD 12.50"
    assert money.format(1500, "JPY", code=True) == "JPY 1,500"


def test_exponents():
    assert [money.exponent(c) for c in ("USD", "JPY", "KRW", "BHD", "KWD", "CLF")] == [2, 0, 0, 3, 3, 4]


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money.number(12.5, "USD")


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["USD", "JPY", "KWD", "CNY"]))
def test_the_digits_read_back_to_the_same_integer(minor, currency):
    text = money.number(minor, currency)
    assert int(text.replace(",", "").replace(".", "")) == minor
    if money.exponent(currency):
        assert len(text.split(".")[1]) == money.exponent(currency)


def test_every_symbol_is_in_the_fonts():
    import fonts

    for symbol in money.SYMBOLS.values():
        for font in (fonts.small, fonts.medium, fonts.large):
            assert font.has(symbol) and missing(font, symbol) == ""
