"""Per-chip pin rules in /config.json (firmware/board/wiring.py, data in firmware/board/boards.py):
flash pins, console pins unless allowed, input-only pins, strapping pins for keypad rows, one pin
one job, the display bus's MISO and its clock by route. Each rule names the field and the reason."""
import pytest

from firmware import config
from firmware.board import boards
from tests.firmware.fakes import make_config


def problems(**over):
    with pytest.raises(config.ConfigError) as e:
        make_config(**over)
    return e.value.problems


def problem(field, **over):
    found = [p for p in problems(**over) if p.startswith(field + ":")]
    assert found, "no problem for %s" % field
    return found[0]


@pytest.mark.parametrize("name", sorted(boards.BOARDS))
def test_every_preset_passes_its_own_rules(name):
    p = boards.BOARDS[name]
    cfg = make_config(board=name)
    assert cfg.board == name and cfg.chip == p["chip"] and cfg.psram == p["psram"]
    assert cfg.display == p["display"] and cfg.keypad_rows == p["keypad"]["rows"]
    assert "miso" not in p["display"]


def test_the_recommended_reference_is_an_s3_with_psram_and_a_240x320_st7789():
    recommended = [n for n, p in boards.BOARDS.items() if p.get("recommended")]
    assert len(recommended) == 1
    p = boards.BOARDS[recommended[0]]
    assert p["chip"] == "esp32s3" and p["psram"] != "none" and p["display"]["panel"] == "st7789-240x320"
    assert {"ttgo-t-display", "devkit-st7789", "devkit-ili9341"} <= set(boards.BOARDS)


@pytest.mark.parametrize("pin", [6, 7, 8, 9, 10, 11])
def test_esp32_flash_pins_are_refused(pin):
    assert "SPI flash (6-11)" in problem("buzzer_pin", buzzer_pin=pin)


@pytest.mark.parametrize("pin", [26, 29, 32])
def test_s3_flash_pins_are_refused(pin):
    why = problem("led_pin", chip="esp32s3", led_pin=pin)
    assert "ESP32-S3's SPI flash (26-32)" in why
    assert make_config(chip="esp32s3", led_pin=38).led_pin == 38


def test_s3_octal_psram_pins_are_refused_only_with_octal_psram():
    assert "PSRAM" in problem("led_pin", chip="esp32s3", psram="octal", led_pin=35)
    assert make_config(chip="esp32s3", psram="quad", led_pin=35).led_pin == 35


def test_esp32_wrover_psram_pins():
    assert "PSRAM" in problem("led_pin", chip="esp32", psram="quad", led_pin=16,
                              display={"dc": 2})
    assert make_config(led_pin=15).led_pin == 15


@pytest.mark.parametrize("pin", [1, 3])
def test_uart_pins_only_when_asked(pin):
    assert "console" in problem("buzzer_pin", buzzer_pin=pin) and "allow_pins" in problem("buzzer_pin", buzzer_pin=pin)
    assert make_config(buzzer_pin=pin, allow_pins=[pin]).buzzer_pin == pin
    assert "allow_pins" in problems(allow_pins=[12])[0]  # only console pins can be allowed


def test_s3_console_pins_are_its_uart_and_usb():
    for pin in (43, 44, 19, 20):
        assert "console" in problem("led_pin", chip="esp32s3", led_pin=pin)
    assert make_config(chip="esp32s3", led_pin=1).led_pin == 1  # GPIO1 is an ordinary pin on the S3


@pytest.mark.parametrize("pin", [34, 35, 36, 39])
def test_input_only_pins_get_no_pull_up_and_drive_nothing(pin):
    col = problem("keypad.cols[0]", keypad={"cols": [pin, 25, 33, 32]})
    assert "input-only" in col and "no pull-up" in col
    assert "input-only" in problem("display.backlight", display={"backlight": pin})


@pytest.mark.parametrize("chip, pin", [("esp32", 12), ("esp32", 0), ("esp32", 2), ("esp32", 5), ("esp32", 15),
                                       ("esp32s3", 0), ("esp32s3", 3), ("esp32s3", 45), ("esp32s3", 46)])
def test_keypad_rows_stay_off_strapping_pins(chip, pin):
    rows = [pin, 4 if chip == "esp32s3" else 13, 21, 14]
    why = problem("keypad.rows[0]", chip=chip, keypad={"rows": rows})
    assert "strapping pin" in why and "power-on" in why


def test_the_old_devkit_rows_with_gpio12_are_refused():
    assert "GPIO 12 is a strapping pin" in problem("keypad.rows[1]", keypad={"rows": [13, 12, 14, 27]})


def test_a_pin_that_does_not_exist_on_the_chip():
    assert "20 is not a GPIO of the ESP32" in problem("led_pin", led_pin=20)
    assert "47 is not a GPIO of the ESP32" in problem("led_pin", led_pin=47)
    assert make_config(chip="esp32s3", led_pin=47).led_pin == 47
    assert "not a GPIO" in problem("led_pin", led_pin="13")


def test_one_pin_one_job():
    why = problem("led_pin", led_pin=16)  # the TTGO preset's display DC
    assert "already display.dc" in why


def test_display_miso_must_stay_unset():
    assert "must be unset" in problem("display.miso", display={"miso": 19})


def test_spi_clock_by_route():
    # The TTGO T-Display's pins are not HSPI's native ones: the GPIO matrix, 26.7 MHz at most.
    why = problem("display.baudrate", board="ttgo-t-display", display=dict(
        boards.BOARDS["ttgo-t-display"]["display"], baudrate=40000000))
    assert "GPIO matrix" in why and "26.7 MHz" in why and "SPI 1's native pins are SCK 14, MOSI 13" in why
    assert make_config(board="ttgo-t-display").display["baudrate"] == 30000000  # runs at 26.7 MHz
    # The DevKit's VSPI native pins take 80 MHz; the S3's SPI 1 (FSPI) native pins too.
    assert make_config(board="devkit-st7789", display={"baudrate": 80000000}).display["baudrate"] == 80000000
    assert make_config(board="esp32s3-st7789", display={"baudrate": 80000000}).display["baudrate"] == 80000000
    # The S3's SPI 2 has no IO_MUX pins at all.
    why = problem("display.baudrate", board="esp32s3-st7789", display={"spi": 2})
    assert "SPI 2 has no native pins on the ESP32-S3" in why


def test_spi_actual_clock_is_the_nearest_divisor_of_80_mhz():
    assert boards.spi_actual_hz(30000000) == 26666666
    assert boards.spi_actual_hz(40000000) == 40000000
    assert boards.spi_actual_hz(34000000) == 40000000  # nearer 40 than 26.7: too fast off the native pins
    assert boards.spi_route("esp32", 2, 18, 23) == "iomux" and boards.spi_route("esp32", 1, 18, 19) == "matrix"


def test_unknown_board_chip_and_psram():
    assert "unknown preset" in problem("board", board="esp8266-thing")
    assert "esp32, esp32s3" in problem("chip", chip="esp32c3")
    assert "none, quad" in problem("psram", psram="octal")  # no octal PSRAM on the ESP32


def test_an_s3_config_without_a_board_takes_s3_wiring():
    cfg = make_config(chip="esp32s3")
    assert cfg.keypad_rows == boards.BOARDS["esp32s3-st7789"]["keypad"]["rows"]


def test_every_problem_at_once():
    found = problems(keypad={"rows": [6, 12, 34, 1], "cols": [26, 25, 33, 39]}, display={"miso": 19})
    fields = [p.split(":")[0] for p in found]
    for field in ("keypad.rows[0]", "keypad.rows[1]", "keypad.rows[2]", "keypad.rows[3]", "keypad.cols[3]",
                  "display.miso"):
        assert field in fields


def test_safe_mode_pin_is_replaced_by_the_key():
    assert "safe_mode_key" in problem("safe_mode_pin", safe_mode_pin=0)
    assert make_config().safe_mode_key == "D"
    assert "not a key" in problem("safe_mode_key", safe_mode_key="Z")


def test_watchdog_and_liveness_limits_agree():
    assert make_config().liveness_ms == 4000  # half the default 8 s watchdog
    why = problem("liveness_ms", watchdog_ms=4000, liveness_ms=3600)
    assert "below watchdog_ms - 500 (3500)" in why
    assert make_config(watchdog_ms=4000, liveness_ms=3400).liveness_ms == 3400
    assert make_config(watchdog_ms=0, liveness_ms=30000).liveness_ms == 30000  # no watchdog: nothing to agree with
