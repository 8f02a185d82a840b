"""The supported panels by name: controller, glass size, offsets in RAM, colour order, inversion.

    lcd = panels.make("st7789-135x240", spi, dc, cs=cs, rst=rst, backlight=bl, rotation=0)
    lcd.init()

Offsets are where the glass sits in the controller's 240x320 RAM in portrait; lib/lcd.py works
out the offsets for the other rotations (the TTGO T-Display's 52/40 become 40/53 in landscape).
"""
import lcd as _lcd

# name -> (driver class name, glass width, glass height, x offset, y offset, bgr, invert)
PANELS = {
    "st7789-240x320": ("ST7789", 240, 320, 0, 0, False, True),
    "st7789-240x240": ("ST7789", 240, 240, 0, 0, False, True),
    "st7789-135x240": ("ST7789", 135, 240, 52, 40, False, True),  # TTGO T-Display
    "ili9341-240x320": ("ILI9341", 240, 320, 0, 0, True, False),
}


def names():
    return sorted(PANELS)


def spec(name):
    try:
        return PANELS[name]
    except KeyError:
        raise ValueError("unknown panel %r (known: %s)" % (name, ", ".join(names())))


def make(name, spi, dc, cs=None, rst=None, backlight=None, rotation=0, buffer_size=3840):
    driver, w, h, xo, yo, bgr, invert = spec(name)
    cls = getattr(_lcd, driver)
    return cls(spi, dc, cs=cs, rst=rst, backlight=backlight, width=w, height=h, x_offset=xo,
               y_offset=yo, rotation=rotation, bgr=bgr, invert=invert, buffer_size=buffer_size)
