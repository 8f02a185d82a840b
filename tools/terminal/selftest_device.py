# Runs ON THE TERMINAL (MicroPython), sent by `python -m tools.terminal selftest`; never imported on
# the host. Each check prints one line "SELFTEST <name> PASS|FAIL|SKIPPED <detail>"; keypad progress
# lines "KEY <label>" arrive as keys are pressed. A check that needs hardware or a network the device
# lacks (the virtual terminal has neither) reports SKIPPED with the reason, never PASS.
import gc
import time

QR_TEXT = "https://qr.alipay.com/bax03431ljhokirwl38f00a7"  # an Order Code-sized URL (46 chars)


def _ms(t0):
    return time.ticks_diff(time.ticks_ms(), t0)


def report(name, state, detail):
    print("SELFTEST", name, state, detail)


def _config():
    try:
        from firmware import config
        return config.load("/config.json"), None
    except ImportError:
        return None, "firmware not deployed"
    except Exception as e:
        return None, "config: " + str(e)


def _machine():
    try:
        import machine
        return machine
    except ImportError:
        return None


def check_display(cfg, machine):
    if machine is None:
        report("display", "SKIPPED", "no display hardware here (no machine module)")
        return None
    try:
        from firmware.board import hw
        lcd = hw.make_lcd(machine, cfg.display if cfg else None)
        w, h = lcd.width, lcd.height
        t0 = time.ticks_ms()
        bars = (0xF800, 0x07E0, 0x001F, 0xFFFF, 0x0000, 0xFFE0, 0x07FF, 0xF81F)
        bw = w // len(bars)
        for i in range(len(bars)):
            lcd.fill_rect(i * bw, 0, bw if i < len(bars) - 1 else w - i * bw, h, bars[i])
        report("display", "PASS", "colour bars on %dx%d in %d ms: check 8 bars, red to magenta" % (w, h, _ms(t0)))
        return lcd
    except Exception as e:
        report("display", "FAIL", "%s: %s" % (type(e).__name__, e))
        return None


def check_keypad(cfg, machine, seconds):
    if machine is None:
        report("keypad", "SKIPPED", "no keypad hardware here (no machine module)")
        return
    if cfg is None:
        report("keypad", "SKIPPED", "no valid config, so no pin map")
        return
    if seconds <= 0:
        report("keypad", "SKIPPED", "skipped on request")
        return
    try:
        from firmware.board import hw
        pad = hw.make_keypad(machine, cfg)
        wanted = set()
        for row in cfg.keypad_layout:
            for label in row:
                wanted.add(label)
        seen = set()
        gc.collect()  # now, not in the middle of the presses: a collection could swallow one
        print("KEYS press each key once:", " ".join(sorted(wanted)))
        t0 = time.ticks_ms()
        held = None
        while seen != wanted and _ms(t0) < seconds * 1000:
            label = pad.scan()
            if label != held:
                time.sleep_ms(cfg.debounce_ms)
                if pad.scan() == label:
                    held = label
                    if label is not None and label not in seen:
                        seen.add(label)
                        print("KEY", label)
            time.sleep_ms(5)
        missing = sorted(wanted - seen)
        if missing:
            report("keypad", "FAIL", "no press seen from: %s (check those rows/columns)" % " ".join(missing))
        else:
            report("keypad", "PASS", "all %d keys answer" % len(wanted))
    except Exception as e:
        report("keypad", "FAIL", "%s: %s" % (type(e).__name__, e))


def check_wifi(cfg):
    try:
        import network
    except ImportError:
        report("wifi", "SKIPPED", "no Wi-Fi here (no network module)")
        return None
    if cfg is None:
        report("wifi", "SKIPPED", "no valid config, so no network name")
        return None
    try:
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        if not wlan.isconnected():
            wlan.connect(cfg.wifi_ssid, cfg.wifi_password)
            t0 = time.ticks_ms()
            while not wlan.isconnected() and _ms(t0) < 15000:
                time.sleep_ms(100)
        if not wlan.isconnected():
            report("wifi", "FAIL", "not connected to %r after 15 s (status %s)" % (cfg.wifi_ssid, wlan.status()))
            return None
        rssi = wlan.status("rssi")
        quality = "good" if rssi >= -67 else ("usable" if rssi >= -75 else "weak: move the terminal or the access point")
        report("wifi", "PASS", "%s, signal %d dBm (%s)" % (cfg.wifi_ssid, rssi, quality))
        return wlan
    except Exception as e:
        report("wifi", "FAIL", "%s: %s" % (type(e).__name__, e))
        return None


def _link(cfg):
    # The firmware's own network owner, without its lane threads: the same TLS, clock and RTC rules.
    from firmware.link.clock import WallClock
    from firmware.link.owner import Link
    clock = WallClock()
    try:
        import machine
        clock.attach(machine.RTC())
    except Exception:
        pass
    return Link(cfg, clock, threads=False)


def check_time_and_gateway(cfg, wlan):
    if wlan is None:
        reason = "no network connection"
        report("time", "SKIPPED", reason)
        report("gateway", "SKIPPED", reason)
        return
    try:
        link = _link(cfg)
        # The RTC first: mbedTLS checks the certificate's dates against it.
        if link.sync_time():
            how = {"ntp": "NTP %s" % cfg.ntp_host, "gateway": "the gateway's signed answer",
                   "rtc": "the RTC, which kept its time"}.get(link.clock.source, link.clock.source)
            report("time", "PASS", "RTC set from %s: %s UTC" % (how, time.gmtime()[:6]))
        else:
            report("time", "FAIL", "no time from NTP or the gateway: %s" % (link.gateway.last_error,))
        gw = link.gateway
        t0 = time.ticks_ms()
        answer = gw.health()
        took = _ms(t0)
        if answer.kind == "ok":
            report("gateway", "PASS", "signed round trip to %s verified in %d ms" % (cfg.gateway_url, took))
        else:
            report("gateway", "FAIL", "%s %s %s" % (answer.kind, answer.code or "", answer.why or ""))
    except Exception as e:
        report("gateway", "FAIL", "%s: %s" % (type(e).__name__, e))


def check_qr(lcd):
    try:
        import uqr
    except ImportError:
        report("qr", "FAIL", "lib/uqr is not on the device: run deploy")
        return
    try:
        gc.collect()
        t0 = time.ticks_ms()
        qr = uqr.make(QR_TEXT)
        encode_ms = _ms(t0)
        detail = "encode %d ms (version %d, %d modules)" % (encode_ms, (qr.width() - 17) // 4, qr.width())
        if lcd is None:
            report("qr", "PASS", detail + "; draw SKIPPED (no display)")
            return
        import qrdraw
        t0 = time.ticks_ms()
        qrdraw.draw(lcd, qr.packed(), 0, 0, lcd.width, lcd.height)
        report("qr", "PASS", detail + ", draw %d ms: scan it with a phone" % _ms(t0))
    except Exception as e:
        report("qr", "FAIL", "%s: %s" % (type(e).__name__, e))


def check_heap():
    gc.collect()
    free = gc.mem_free()
    state = "PASS" if free >= 40000 else "FAIL"
    report("heap", state, "%d bytes free after collect%s" % (free, "" if state == "PASS" else
                                                             " (below 40000: TLS will not fit)"))


def run(key_seconds):
    cfg, why = _config()
    if cfg is None:
        report("config", "FAIL", why)
    else:
        report("config", "PASS", "valid, terminal %s" % cfg.terminal_id)
    machine = _machine()
    lcd = check_display(cfg, machine)
    check_keypad(cfg, machine, key_seconds)
    wlan = check_wifi(cfg)
    check_time_and_gateway(cfg, wlan)
    check_qr(lcd)
    check_heap()
    print("SELFTEST-END")
