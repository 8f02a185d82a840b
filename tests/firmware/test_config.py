"""Config validation: every problem named in words a technician can act on; never a crash."""
import json

import pytest

from firmware import config

from firmware.sale import money
from tests.firmware.fakes import SECRET, make_config


def test_minimal_config_gets_defaults():
    cfg = make_config()
    assert cfg.gateway_url == "http://127.0.0.1:9" and cfg.terminal_id == "T1"
    assert cfg.currency_exponent == 2 and cfg.amount_min == 1
    assert cfg.keypad_layout == config.DEFAULT_LAYOUT and cfg.keypad_keys["#"] == "ok"
    assert cfg.result_timeout_s == 0 and cfg.long_poll_s == 20


def test_missing_file_and_bad_json(tmp_path):
    with pytest.raises(config.ConfigError) as e:
        config.load(str(tmp_path / "none.json"))
    assert "not found" in e.value.problems[0]
    p = tmp_path / "c.json"
    p.write_text("{")
    with pytest.raises(config.ConfigError) as e:
        config.load(str(p))
    assert "not valid JSON" in e.value.problems[0]
    p.write_text("[]")
    with pytest.raises(config.ConfigError):
        config.load(str(p))


def test_every_problem_is_listed():
    with pytest.raises(config.ConfigError) as e:
        config.validate({"wifi": {}, "gateway": {"url": "ftp://x"}, "terminal": {"id": "T 1", "secret": "zz"},
                         "currency": "usd", "amount": {"min": 10, "max": 5}, "buzzer_pin": 99})
    text = "\n".join(e.value.problems)
    for field in ("wifi.ssid", "gateway.url", "terminal.id", "terminal.secret", "merchant", "currency",
                  "amount", "buzzer_pin"):
        assert field in text, field


def test_https_needs_a_ca_certificate():
    with pytest.raises(config.ConfigError) as e:
        make_config(gateway={"url": "https://gw.example"})
    assert "gateway.ca_cert" in e.value.problems[0]
    cfg = make_config(gateway={"url": "https://gw.example/", "ca_cert": "-----BEGIN CERTIFICATE-----\nx"})
    assert cfg.gateway_url == "https://gw.example"


def test_currency_exponent():
    assert make_config(currency="JPY").currency_exponent == 0
    assert make_config(currency="KWD").currency_exponent == 3
    # an override is what the screens use too
    assert make_config(currency="XTS", currency_exponent=0).currency_exponent == 0
    assert money.format(1500, "XTS") == "XTS 1,500"
    with pytest.raises(config.ConfigError):
        make_config(currency="USD", currency_exponent=7)


def test_keypad_layout_must_match_pins():
    with pytest.raises(config.ConfigError) as e:
        make_config(keypad={"rows": [21, 22], "cols": [25, 26], "layout": ["12", "345"]})
    assert "keypad.layout" in e.value.problems[0]
    cfg = make_config(keypad={"rows": [21, 22], "cols": [25, 26], "layout": ["12", "*#"], "keys": {"*": "back"}})
    assert cfg.keypad_keys["*"] == "back"
    with pytest.raises(config.ConfigError):
        make_config(keypad={"keys": {"A": "explode"}})


def test_load_from_file(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"wifi": {"ssid": "s"}, "gateway": {"url": "http://127.0.0.1:8700"},
                             "terminal": {"id": "T9", "secret": SECRET}, "merchant": {"name": "M"},
                             "currency": "EUR"}))
    assert config.load(str(p)).terminal_id == "T9"
