# Runs inside MicroPython: firmware.board.safemode's config handling (no machine module in the WASM build).
import firmware.board.safemode as safemode


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_default_pin_without_config():
    assert safemode.configured_pin("/no/such/config.json") == safemode.DEFAULT_PIN


def test_pin_from_config():
    _write("/cfg_ok.json", '{"safe_mode_pin": 35}')
    assert safemode.configured_pin("/cfg_ok.json") == 35


def test_broken_config_keeps_default():
    _write("/cfg_bad.json", '{"safe_mode_pin": ')
    assert safemode.configured_pin("/cfg_bad.json") == safemode.DEFAULT_PIN
    _write("/cfg_list.json", "[1, 2]")
    assert safemode.configured_pin("/cfg_list.json") == safemode.DEFAULT_PIN
    _write("/cfg_range.json", '{"safe_mode_pin": 99}')
    assert safemode.configured_pin("/cfg_range.json") == safemode.DEFAULT_PIN


def test_no_pin_hardware_never_blocks_the_application():
    # The WebAssembly build has no `machine`: check() must say "not held", not raise.
    assert safemode.check("/no/such/config.json") is False
    assert safemode.active() is False
