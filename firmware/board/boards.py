"""Board presets and the chips' pin facts: the one table everything reads.

firmware/config.py checks /config.json against CHIPS (and fills unset wiring from the named
preset), firmware/hw.py falls back to DEFAULT_BOARD's display, `alipay-terminal provision --panel`
and `alipay-terminal boards` write and list BOARDS, and docs/technician.md's wiring tables are
generated from it (`alipay-terminal boards --docs`; tests/test_boards.py keeps them equal).

Facts, from the Espressif datasheets and ESP-IDF's SPI master driver:
- ESP32: GPIO 6-11 are the module's SPI flash; 1/3 are UART0 (the REPL and esptool); 34-39 are
  inputs only and have no pull-up or pull-down; 0, 2, 5, 12, 15 are strapping pins read at reset
  (GPIO12 high at power-on selects 1.8 V flash: a module with 3.3 V flash then fails to boot);
  16/17 carry the PSRAM on WROVER modules.
- ESP32-S3: GPIO 26-32 are the SPI flash (and quad PSRAM), 33-37 also the octal PSRAM (N8R8,
  N16R8 modules); 43/44 are UART0 and 19/20 the USB serial/JTAG (the REPL); 0, 3, 45, 46 are
  strapping pins.
- SPI clock by route: a bus on its host's native IO_MUX pins runs up to 80 MHz; through the GPIO
  matrix ESP-IDF accepts at most 80/3 = 26.7 MHz in full duplex (MicroPython's SPI is full duplex),
  and a request of up to 30 MHz is rounded to that divisor (what nano-gui and st7789py use on the
  TTGO T-Display). Display buses leave `miso` unset: the panel is only written.
"""

CHIPS = {
    "esp32": {
        "title": "ESP32",
        "gpio": tuple(range(0, 20)) + (21, 22, 23, 25, 26, 27) + tuple(range(32, 40)),
        "flash": (6, 7, 8, 9, 10, 11),
        "console": (1, 3),
        "input_only": (34, 35, 36, 37, 38, 39),
        "strapping": (0, 2, 5, 12, 15),
        "psram": {"none": (), "quad": (16, 17)},
        # MicroPython SPI id -> its host's IO_MUX (sck, mosi, miso): SPI(1) = HSPI, SPI(2) = VSPI
        "spi_native": {1: (14, 13, 12), 2: (18, 23, 19)},
    },
    "esp32s3": {
        "title": "ESP32-S3",
        "gpio": tuple(range(0, 22)) + tuple(range(26, 49)),
        "flash": (26, 27, 28, 29, 30, 31, 32),
        "console": (19, 20, 43, 44),
        "input_only": (),
        "strapping": (0, 3, 45, 46),
        "psram": {"none": (), "quad": (), "octal": (33, 34, 35, 36, 37)},
        # SPI(1) = SPI2 (FSPI) has IO_MUX pins; SPI(2) = SPI3 only the GPIO matrix
        "spi_native": {1: (12, 11, 13)},
    },
}

SPI_APB_HZ = 80000000
SPI_MAX_HZ = {"iomux": 80000000, "matrix": 26666667}  # the clock the bus runs at, after the divider

DEFAULT_BOARD = "ttgo-t-display"

BOARDS = {
    "esp32s3-st7789": {
        "title": "ESP32-S3-DevKitC-1 N8R8 (8 MB octal PSRAM) + 2.0\" ST7789 240x320 SPI module + 4x4 keypad",
        "recommended": True,
        "chip": "esp32s3",
        "psram": "octal",
        "display": {"panel": "st7789-240x320", "spi": 1, "baudrate": 40000000, "sck": 12, "mosi": 11,
                    "cs": 10, "dc": 9, "rst": 8, "backlight": 14, "rotation": 0},
        "keypad": {"rows": [4, 5, 6, 7], "cols": [15, 16, 17, 18]},
    },
    "ttgo-t-display": {
        "title": "LILYGO TTGO T-Display (ESP32, built-in 1.14\" ST7789 135x240) + 4x4 keypad",
        "chip": "esp32",
        "psram": "none",
        "display": {"panel": "st7789-135x240", "spi": 1, "baudrate": 30000000, "sck": 18, "mosi": 19,
                    "cs": 5, "dc": 16, "rst": 23, "backlight": 4, "rotation": 0},
        "keypad": {"rows": [21, 22, 17, 13], "cols": [26, 25, 33, 32]},
    },
    "devkit-st7789": {
        "title": "ESP32 DevKit (WROOM-32) + 2.0\" ST7789 240x320 SPI module + 4x4 keypad",
        "chip": "esp32",
        "psram": "none",
        "display": {"panel": "st7789-240x320", "spi": 2, "baudrate": 40000000, "sck": 18, "mosi": 23,
                    "cs": 5, "dc": 16, "rst": 17, "backlight": 4, "rotation": 0},
        "keypad": {"rows": [13, 14, 27, 21], "cols": [26, 25, 33, 32]},
    },
    "devkit-ili9341": {
        "title": "ESP32 DevKit (WROOM-32) + 2.4\" ILI9341 240x320 SPI module + 4x4 keypad",
        "chip": "esp32",
        "psram": "none",
        "display": {"panel": "ili9341-240x320", "spi": 2, "baudrate": 40000000, "sck": 18, "mosi": 23,
                    "cs": 5, "dc": 16, "rst": 17, "backlight": 4, "rotation": 0},
        "keypad": {"rows": [13, 14, 27, 21], "cols": [26, 25, 33, 32]},
    },
}


def spi_route(chip, spi_id, sck, mosi, miso=None):
    """"iomux" when every bus pin is its host's native one (the full 80 MHz), else "matrix"."""
    native = CHIPS[chip]["spi_native"].get(spi_id)
    if native is None or sck != native[0] or mosi != native[1]:
        return "matrix"
    if miso is not None and miso != native[2]:
        return "matrix"
    return "iomux"


def spi_actual_hz(hz):
    """The clock ESP-IDF sets for a requested one: the divisor of 80 MHz nearest to it (30 MHz
    runs at 26.7 MHz). Below 5 MHz the divider is fine enough to take the request as it is."""
    if hz >= SPI_APB_HZ:
        return SPI_APB_HZ
    if hz < SPI_APB_HZ // 16:
        return hz
    best = SPI_APB_HZ
    for n in range(2, 17):
        f = SPI_APB_HZ // n
        if abs(f - hz) < abs(best - hz):
            best = f
    return best
