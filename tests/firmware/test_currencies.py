"""A terminal selling in several currencies (config `currencies`), and PAID naming the wallet."""
import pytest

from firmware import config
from firmware.display.ui import _customer
from firmware.sale import flow as F
from firmware.sale import money
from firmware.sale import payment
from tests.firmware.fakes import make_config
from tests.firmware.test_flow import Rig
from tests.shims import clock as shim_clock

CURRENCIES = [{"code": "USD", "min": 100, "max": 50000}, "JPY",
              {"code": "KWD", "exponent": 3, "symbol": False, "min": 500, "max": 900000}]


@pytest.fixture
def rig(tmp_path):
    shim_clock.manual(1000)
    return Rig(tmp_path, currencies=CURRENCIES)


def test_currencies_config_first_is_the_default_each_with_exponent_symbol_and_limits():
    cfg = make_config(currencies=CURRENCIES)
    assert [c["code"] for c in cfg.currencies] == ["USD", "JPY", "KWD"]
    assert cfg.currency == "USD" and (cfg.amount_min, cfg.amount_max) == (100, 50000)
    jpy, kwd = cfg.currencies[1], cfg.currencies[2]
    assert jpy["exponent"] == 0 and (jpy["min"], jpy["max"]) == (1, 500000)  # the amount section's
    assert kwd["exponent"] == 3 and money.format(1234, "KWD") == "KWD 1.234"   # shown by its code
    assert money.format(1500, "JPY") == "\u00a51,500" and money.format(1250, "USD") == "$12.50"
    only = make_config()  # without `currencies`: the one `currency` with the `amount` limits
    assert only.currencies == [{"code": "USD", "exponent": 2, "min": 1, "max": 500000}]


@pytest.mark.parametrize("value,problem", [
    ([], "currencies"), ("USD", "currencies"), (["usd"], "currencies[0]"), (["USD", "USD"], "currencies[1]"),
    ([{"code": "USD", "exponent": 7}], "currencies[0].exponent"),
    ([{"code": "USD", "symbol": "\u0e3f"}], "currencies[0].symbol"),
    ([{"code": "USD", "min": 10, "max": 5}], "currencies[0]")])
def test_bad_currencies_are_named(value, problem):
    with pytest.raises(config.ConfigError) as e:
        make_config(currencies=value)
    assert any(p.startswith(problem) for p in e.value.problems), e.value.problems


def test_currencies_without_a_single_currency_is_enough():
    cfg = make_config(currency=None, currencies=["JPY"])
    assert cfg.currency == "JPY" and cfg.currencies[0]["exponent"] == 0


def test_menu_cycles_the_currency_and_each_keeps_its_limits(rig):
    rig.keys("5")
    assert rig.flow.view[1]["currency"] == "USD" and rig.flow.view[1]["currencies"] == 3
    rig.keys("ok")
    assert rig.flow.view[1]["message"] == "min"      # USD min is 1.00
    rig.keys("menu")
    view = rig.flow.view[1]
    assert view["currency"] == "JPY" and view["digits"] == ""  # the entry starts again
    rig.keys("5", "ok")                              # JPY 5 is allowed (min 1)
    assert rig.flow.state == F.CREATING and rig.journal.sale["currency"] == "JPY"
    rig.step()
    assert rig.gw.payments[rig.journal.sale["order_id"]]["currency"] == "JPY"


def test_a_new_sale_starts_in_the_default_currency(rig):
    rig.keys("1", "menu", "menu")
    assert rig.flow.view[1]["currency"] == "KWD"
    rig.keys(*"9999999")                             # over KWD's max 900.000
    assert rig.flow.view[1]["message"] == "max"
    rig.keys("cancel", "2")
    assert rig.flow.view[1]["currency"] == "USD"


def test_paid_result_names_the_wallet_and_the_customers_amount(rig):
    rig.keys("1", "2", "5", "0", "ok")
    rig.step()
    order = rig.journal.sale["order_id"]
    rig.gw.pay(order)
    rig.gw.payments[order].update(wallet="GCash", customer_amount=71250, customer_currency="PHP")
    rig.settle()
    assert rig.flow.state == F.PAID
    result = rig.flow.view[1]
    assert (result["wallet"], result["customer_amount"], result["customer_currency"]) == ("GCash", 71250, "PHP")
    assert _customer(result) == "PHP 712.50"
    assert rig.journal.record["recent"][0]["wallet"] == "GCash"  # the refund screen names it


@pytest.mark.parametrize("extra", [{"wallet": "x" * 40}, {"wallet": "Gcash\u202e"}, {"wallet": 7},
                                   {"customer_amount": "71250", "customer_currency": "PHP"},
                                   {"customer_amount": 71250, "customer_currency": "php"},
                                   {"customer_amount": True, "customer_currency": "PHP"}])
def test_malformed_wallet_fields_are_left_out(extra):
    assert payment._who_paid(dict({"status": "PAID"}, **extra)) == {}
