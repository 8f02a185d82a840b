"""ISO 4217 exponents shared by the gateway and the sandbox."""
from tools.antom import currencies


def test_exponents_follow_iso_4217():
    assert currencies.exponent("USD") == 2 and currencies.exponent("JPY") == 0
    assert currencies.exponent("KWD") == 3 and currencies.exponent("KRW") == 0


def test_display_places_the_decimal_point_by_exponent():
    assert currencies.display("USD", 123) == "USD 1.23"
    assert currencies.display("EUR", 5) == "EUR 0.05"
    assert currencies.display("JPY", 1500) == "JPY 1500"
    assert currencies.display("BHD", 1005) == "BHD 1.005"
    assert currencies.display("USD", -250) == "USD -2.50"
