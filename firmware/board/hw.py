"""The terminal's hardware from config: panel (lib/panels.py on machine.SPI), keypad, signals.

Only this module, firmware/board/safemode.py and firmware/app.py touch `machine`; a missing or
broken display section falls back to the default board preset's wiring (firmware/board/boards.py:
the TTGO T-Display, whose panel is built in) so even a config error can be shown. The SPI bus is
made without `miso`: the panel is only written, and a MISO pin off the native ones would cap the
clock at 26.7 MHz.
"""


def default_display():
    from firmware.board import boards
    return boards.BOARDS[boards.DEFAULT_BOARD]["display"]


def make_lcd(machine, display):
    import panels

    d = dict(default_display())
    d.update(display or {})
    Pin = machine.Pin
    spi = machine.SPI(d["spi"], baudrate=d["baudrate"], sck=Pin(d["sck"]), mosi=Pin(d["mosi"]))

    def out(name, level):
        return None if d.get(name) is None else Pin(d[name], Pin.OUT, value=level)

    lcd = panels.make(d["panel"], spi, out("dc", 0), cs=out("cs", 1), rst=out("rst", 1),
                      backlight=out("backlight", 0), rotation=d["rotation"])
    lcd.init()
    return lcd


def make_keypad(machine, cfg):
    from firmware.board.keypad import Keypad

    return Keypad(machine.Pin, cfg.keypad_rows, cfg.keypad_cols, cfg.keypad_layout, cfg.keypad_keys,
                  cfg.debounce_ms)
