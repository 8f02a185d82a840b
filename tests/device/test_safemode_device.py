# Runs inside MicroPython: firmware.board.safemode's config handling (no machine module in the WASM build).
import firmware.board.safemode as safemode
from firmware.board import boards


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _d(keypad):
    return keypad["rows"][3], keypad["cols"][3]


def test_default_wiring_without_config():
    assert safemode.key_wiring("/no/such/config.json") == _d(boards.BOARDS[boards.DEFAULT_BOARD]["keypad"])


def test_wiring_and_key_from_config():
    _write("/cfg_ok.json", '{"keypad": {"rows": [13, 14, 27, 21], "cols": [26, 25, 33, 32]}, "safe_mode_key": "1"}')
    assert safemode.key_wiring("/cfg_ok.json") == (13, 26)
    _write("/cfg_board.json", '{"board": "esp32s3-st7789"}')
    assert safemode.key_wiring("/cfg_board.json") == _d(boards.BOARDS["esp32s3-st7789"]["keypad"])


def test_custom_layout_without_the_key_uses_the_bottom_right_key():
    _write("/cfg_small.json", '{"keypad": {"rows": [21, 22], "cols": [25, 26], "layout": ["12", "34"]}}')
    assert safemode.key_wiring("/cfg_small.json") == (22, 26)


def test_broken_config_keeps_the_default():
    default = safemode.key_wiring("/no/such/config.json")
    _write("/cfg_bad.json", '{"keypad": ')
    assert safemode.key_wiring("/cfg_bad.json") == default
    _write("/cfg_list.json", "[1, 2]")
    assert safemode.key_wiring("/cfg_list.json") == default
    _write("/cfg_junk.json", '{"keypad": {"rows": "x", "cols": [-1]}, "board": 7, "safe_mode_key": 5}')
    assert safemode.key_wiring("/cfg_junk.json") == default


def test_no_pin_hardware_never_blocks_the_application():
    # The WebAssembly build has no `machine`: check() must say "not held", not raise.
    assert safemode.check("/no/such/config.json") is False
    assert safemode.active() is False
