"""The terminal's hardware from config: panel (lib/panels.py on machine.SPI), keypad, signals.

Only this module and firmware/app.py touch `machine`; a missing or broken display section falls
back to the TTGO T-Display wiring so even a config error can be shown.
"""
DEFAULT_DISPLAY = {"panel": "st7789-135x240", "rotation": 0, "spi": 1, "baudrate": 40000000,
                   "sck": 18, "mosi": 19, "dc": 16, "cs": 5, "rst": 23, "backlight": 4}


def make_lcd(machine, display):
    import panels

    d = dict(DEFAULT_DISPLAY)
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
