"""Render one screen through the real driver into the panel emulator and save it as a PNG.

    python -m tools.sim snapshot --screen qr --code https://... --amount 1250 --currency USD \
        --panel st7789-135x240 --out qr.png

The screen is drawn by firmware/display/screens.py on lib/lcd.py over the machine shim's SPI bus; the PNG
is the emulator's picture of the glass (turned for --rotation as a viewer would hold it).
"""
from tools.sim import device_path

device_path()

from tests.shims import clock  # noqa: E402

from tools.sim.rig import DisplayRig  # noqa: E402

DEMO_CODE = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"


def segno_encode(text):
    """Packed rows from segno (host only), in the same shape as uqr's packed()."""
    import segno

    qr = segno.make(text, micro=False)
    rows = [[bool(v) for v in row] for row in qr.matrix]
    width = len(rows)
    row_bytes = (width + 7) // 8
    data = bytearray(row_bytes * width)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                data[y * row_bytes + (x >> 3)] |= 0x80 >> (x & 7)
    return (row_bytes * 8, width, bytes(data))


# screen name -> function(screens, options) drawing it
SCREENS = {
    "idle": lambda s, o: s.idle(),
    "idle-late": lambda s, o: s.idle(notice="Late payment of %s was refunded" % s._money(o.amount)),
    "amount": lambda s, o: s.amount(o.amount),
    "creating": lambda s, o: s.creating(o.amount),
    "qr": lambda s, o: s.qr(o.code, o.amount, o.seconds),
    "checking": lambda s, o: s.checking(o.amount),
    "paid": lambda s, o: s.paid(o.amount),
    "paid-wallet": lambda s, o: s.paid(o.amount, "Rabbit LINE Pay", "IDR 197,500.00"),  # the longest
    "failed": lambda s, o: s.failed(o.reason or "Declined by the wallet"),
    "expired": lambda s, o: s.expired(o.amount),
    "cancelled": lambda s, o: s.cancelled(o.amount),
    "offline": lambda s, o: s.offline(o.reason or "Wi-Fi lost"),
    "error-config": lambda s, o: s.error(o.reason or "gateway_url missing in /config.json", "config"),
    "error-hardware": lambda s, o: s.error(o.reason or "Keypad not responding", "hardware"),
    "pin": lambda s, o: s.pin(3),
    "pin-wrong": lambda s, o: s.pin(0, wrong=True),
    "refund-amount": lambda s, o: s.refund_amount(o.amount, o.amount * 2),
    "refund-confirm": lambda s, o: s.refund_confirm(o.amount),
    "refunding": lambda s, o: s.refunding(o.amount),
    "refunded": lambda s, o: s.refunded(o.amount),
    "refund-failed": lambda s, o: s.refund_failed(o.reason or "Refund window closed"),
    "late-payment": lambda s, o: s.late_payment(o.amount, "refunded"),
}


class Options:
    def __init__(self, code=DEMO_CODE, amount=1250, currency="USD", seconds=178, reason="",
                 merchant="Corner Cafe", encoder="uqr"):
        self.code = code
        self.amount = amount
        self.currency = currency
        self.seconds = seconds
        self.reason = reason
        self.merchant = merchant
        self.encoder = encoder


def render(screen, panel, options=None, rotation=0, strict=True):
    """Draw one screen; return the DisplayRig (its .panel holds the picture)."""
    from firmware.display.screens import Screens

    options = options or Options()
    if screen not in SCREENS:
        raise ValueError("unknown screen %r (known: %s)" % (screen, ", ".join(sorted(SCREENS))))
    manual = clock.is_manual
    if not manual:
        clock.manual(clock.ticks_ms())  # the driver's reset delays pass instantly
    try:
        rig = DisplayRig(panel, rotation=rotation, strict=strict)
        encode = segno_encode if options.encoder == "segno" else None
        screens = Screens(rig.lcd, merchant=options.merchant, currency=options.currency, encode=encode)
        SCREENS[screen](screens, options)
    finally:
        if not manual:
            clock.running()
    rig.screens = screens
    return rig


def main(args):
    options = Options(code=args.code, amount=args.amount, currency=args.currency,
                      seconds=args.seconds, reason=args.reason, merchant=args.merchant,
                      encoder=args.encoder)
    rig = render(args.screen, args.panel, options, rotation=args.rotation)
    rig.panel.save(args.out, rotation=args.rotation, scale=args.scale)
    print("%s on %s -> %s" % (args.screen, args.panel, args.out))
    return 0


def add_parser(subparsers):
    p = subparsers.add_parser("snapshot", help="render one screen to a PNG through the panel emulator")
    p.add_argument("--screen", required=True, choices=sorted(SCREENS))
    p.add_argument("--panel", required=True)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--code", default=DEMO_CODE, help="order code text shown as QR")
    p.add_argument("--amount", type=int, default=1250, help="amount in minor units")
    p.add_argument("--currency", default="USD")
    p.add_argument("--seconds", type=int, default=178, help="countdown shown on the QR screen")
    p.add_argument("--reason", default="", help="text for failed/offline/error screens")
    p.add_argument("--merchant", default="Corner Cafe")
    p.add_argument("--rotation", type=int, default=0, choices=(0, 1, 2, 3))
    p.add_argument("--scale", type=int, default=1, help="integer zoom of the PNG")
    p.add_argument("--encoder", choices=("uqr", "segno"), default="uqr",
                   help="QR encoder: lib/uqr (as on the device) or segno (host reference)")
    p.set_defaults(func=main)
    return p
