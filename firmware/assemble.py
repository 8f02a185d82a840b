"""Builds the terminal from /config.json at boot: Application.setup() (firmware/app.py) imports this
module, runs `setup(app)` once and drops it (lib/late.py), so the building code, like the config
checker and the hardware builders it calls, does not stay on the heap for the life of the terminal.

    setup(app)      -> app, every piece built (drawing, signals, keypad, link, journal, flow)
                       or ConfigError raised after the error screen is shown

In that order: the config is checked and the checker dropped before the pieces are imported and
built, so the two never share the heap (the boot's peak is the larger of the two, not their sum,
and the checker's freed blocks are there for the pieces' long-lived buffers).
"""
import late

# The config checker and what it alone uses: dropped as soon as the config is checked.
_CHECKER = ("firmware.config", "firmware.board.wiring", "firmware.board.boards", "firmware.board.safemode")


def machine(app):
    if app.machine is None:
        import machine as m
        app.machine = m
    return app.machine


def lcd(app):
    """The display driver: the host's (app.lcd) or built from the config's display section."""
    if app.lcd is None:
        from firmware.board import hw
        display = app.cfg.display if app.cfg is not None else _lenient_display(app.path("config.json"))
        app.lcd = hw.make_lcd(machine(app), display)
    return app.lcd


def setup(app):
    """Load the config and build every piece; raises ConfigError (after showing it, with
    `app.problems` set).

    The config checker (firmware/config.py with the wiring rules and board presets) is needed
    only until the config is checked, the hardware builders (firmware/board/hw.py) until the
    pieces are built: each is dropped then (lib/late.py)."""
    problems = _check(app)
    if problems is None:
        for name in _CHECKER:
            late.drop(name)
        late.collect()
        # What is loaded only to be dropped goes first, while the heap is empty: the pieces built
        # next then live above and in the holes it leaves, not between it.
        _intern_rare()
        late.collect()
        try:
            _build(app, app.cfg)
        except Exception as e:  # a pin the chip lacks, a panel the driver does not know...
            problems = ["hardware: %s (check the pin map and display)" % (e,)]
    if problems is not None:
        _refuse(app, problems)
    for name in ("firmware.board.hw", "panels"):
        late.drop(name)
    late.collect()
    return app


def _check(app):
    """app.cfg from /config.json; the problems found (None when there are none)."""
    from firmware import config
    try:
        app.cfg = config.load(app.path("config.json"))
    except config.ConfigError as e:
        return e.problems
    return None


def _refuse(app, problems):
    """Show the problems on the error screen, in the log and on the console; raise ConfigError."""
    from firmware import config
    app.problems = problems
    app.log.write("config: " + "; ".join(problems))
    try:
        from firmware.display.drawing import Drawing
        cfg = app.cfg
        languages = (cfg.cashier_language, cfg.customer_languages) if cfg is not None else None
        Drawing(lcd(app), languages=languages).render(("error", {"message": "; ".join(problems[:4]),
                                                                 "kind": "config"}))
    except Exception as err:  # no usable display either: the console is all there is
        print("display unavailable:", err)
    print("terminal application %s not started: configuration problems: %s"
          % (app.version, "; ".join(problems)))
    if app.on_config_error is not None:
        app.on_config_error(problems)
    raise config.ConfigError(problems)


def _intern_rare():
    """The supervisor's modules (a refund's steps and screens) load at the menu key, which may
    come months after boot. Imported once here and dropped, so the names they intern (qstrs: on
    the heap for good, wherever they land) are there from boot and a first refund does not grow
    the heap mid-life. A sale's modules intern theirs at the first sale."""
    from firmware.display import screens_refund  # noqa: F401
    from firmware.sale import refunds  # noqa: F401
    late.drop("firmware.display.screens_refund")
    late.drop("firmware.sale.refunds")


def _build(app, cfg):
    from firmware.board.signals import Signals
    from firmware.display.drawing import Drawing
    from firmware.link.owner import Link
    from firmware.sale.flow import Flow
    from firmware.sale.journal import Journal
    # The drawing code loads per view and leaves the heap at the idle screen (drawing.py).
    app.drawing = Drawing(lcd(app), merchant=cfg.merchant_name, currency=cfg.currency,
                          languages=(cfg.cashier_language, cfg.customer_languages), clock=app.clock,
                          log=app.log.write, utc_offset_min=cfg.utc_offset_min)
    wired = cfg.buzzer_pin is not None or cfg.led_pin is not None
    app.signals = Signals(machine(app) if wired else None, cfg.buzzer_pin, cfg.led_pin)
    if app.keypad is None:
        from firmware.board import hw
        app.keypad = hw.make_keypad(machine(app), cfg)
    net = app.network
    if net is None:
        try:
            import network as net
        except ImportError:
            net = None
    _attach_rtc(app)
    # The one owner of the network: Wi-Fi, time, the two lanes and their connections.
    app.link = Link(cfg, app.clock, network=net, transport=app.transport, runner=app.runner)
    app.link.heartbeat_source = app.heartbeat_info
    app.gateway = app.link.gateway
    app.runner = app.link.runner
    app.wifi = app.link.wifi
    app.journal = Journal(app.path("journal.json"))
    app.flow = Flow(cfg, app.journal, app.gateway, app.runner, app.clock, describe=app.describe,
                    events=app.event, online=False)
    if cfg.watchdog_ms:
        app.wdt = machine(app).WDT(timeout=cfg.watchdog_ms)


def _attach_rtc(app):
    # The RTC is what mbedTLS reads: the clock sets it before the first https call.
    if app.clock.rtc is not None or not hasattr(app.clock, "attach"):
        return
    try:
        rtc = getattr(machine(app), "RTC", None)
        if rtc is not None:
            app.clock.attach(rtc())
    except Exception:  # no RTC on this board or stand-in: the clock keeps an offset
        pass


def _lenient_display(path):
    """The display section of a config that failed validation, if it can be read at all."""
    try:
        import json
        with open(path) as f:
            d = json.load(f).get("display")
        return d if isinstance(d, dict) else None
    except Exception:
        return None
