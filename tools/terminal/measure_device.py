# Runs ON THE TERMINAL (MicroPython), sent by `alipay-terminal selftest --measure` right after
# selftest_device.py in the same script (it uses its report/_config/_machine); never imported on the
# host. Each measurement prints one line `MEASURE {json}`: name, state ("ok", "fail", "skipped"),
# figures, detail. `micropython.mem_info()` is printed between MEMINFO-BEGIN and MEMINFO-END: the
# host reads the largest free block from it. Nothing here starts the watchdog or the application.
import json
import sys

_BASE = "/"


def measure(name, state, values, detail):
    print("MEASURE", json.dumps({"name": name, "state": state, "values": values, "detail": detail}))


def _block_bytes():
    # A MicroPython GC block is 4 machine words: 16 bytes on the ESP32, 32 on a 64-bit port.
    return 32 if sys.maxsize > (1 << 32) else 16


def _modules(base):
    """Every firmware module, and the lib/ modules beside it, as import names."""
    import os

    names = []

    def walk(folder, package):
        try:
            entries = sorted(e[0] for e in os.ilistdir(folder))
        except OSError:
            return
        for name in entries:
            path = folder + "/" + name
            if name.endswith(".py") or name.endswith(".mpy"):
                mod = name.rsplit(".", 1)[0]
                if mod != "__init__":
                    names.append(package + "." + mod if package else mod)
            elif package and "." not in name:
                walk(path, package + "." + name)

    walk(base.rstrip("/") + "/firmware", "firmware")
    lib = base.rstrip("/") + "/lib"
    try:
        entries = sorted(e[0] for e in os.ilistdir(lib))
    except OSError:
        entries = []
    for name in entries:
        mod = name.rsplit(".", 1)[0]
        if (name.endswith(".py") or name.endswith(".mpy")) and mod not in ("machine", "network"):
            names.append(mod)
    return names


def _mem_info():
    try:
        import micropython
    except ImportError:
        return False
    print("MEMINFO-BEGIN")
    micropython.mem_info()
    print("MEMINFO-END")
    return True


def _screens(cfg, lcd):
    from firmware.display.screens import Screens
    return Screens(lcd, merchant=cfg.merchant_name if cfg else "", currency=cfg.currency if cfg else "USD")


def measure_heap_after_boot(cfg, lcd, base=_BASE):
    """Live heap with every module imported and the idle screen drawn, collected; largest free block."""
    import gc
    failed, absent = [], []
    for mod in _modules(base):
        try:
            __import__(mod)
        except ImportError as e:  # this port lacks what it needs (no socket in WebAssembly): noted
            absent.append("%s (%s)" % (mod, e))
        except Exception as e:  # a module that breaks on import: a failure, the rest still measured
            failed.append("%s (%s: %s)" % (mod, type(e).__name__, e))
    drawn = False
    if lcd is not None:
        try:
            _screens(cfg, lcd).idle()
            drawn = True
        except Exception as e:
            failed.append("idle screen (%s: %s)" % (type(e).__name__, e))
    gc.collect()
    used, free = gc.mem_alloc(), gc.mem_free()
    have_info = _mem_info()
    detail = "every module imported%s, collected" % (", idle screen drawn" if drawn else " (no display: idle screen not drawn)")
    if absent:
        detail += "; this port cannot import: " + ", ".join(absent)
    if failed:
        detail += "; FAILED to import: " + ", ".join(failed)
    measure("heap", "ok" if not failed else "fail",
            {"live_after_boot": used, "free": free, "block_bytes": _block_bytes(), "mem_info": have_info}, detail)


def _https_target(cfg):
    url = cfg.gateway_url
    if not url.startswith("https://"):
        return None, "the gateway is %s, not https: no TLS to measure" % url.split("://", 1)[0]
    rest = url.split("://", 1)[1].split("/", 1)[0]
    host, port = rest, 443
    if ":" in rest:
        host, port = rest.rsplit(":", 1)
        port = int(port)
    return (host, port), None


def _handshake(cfg, target):
    """One verified TLS handshake to the gateway; (ms, None) or (None, why)."""
    import socket
    import time

    from firmware.link import http
    host, port = target
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    sock = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    try:
        sock.settimeout(cfg.timeout_s or 10)
        sock.connect(ai[-1])
        ctx = http.tls_context(cfg.ca_cert)
        t0 = time.ticks_ms()
        sock = ctx.wrap_socket(sock, server_hostname=host)  # the handshake happens here
        return time.ticks_diff(time.ticks_ms(), t0), None
    except Exception as e:
        return None, "%s: %s" % (type(e).__name__, e)
    finally:
        sock.close()


def measure_tls(cfg, online):
    if cfg is None or not online:
        measure("tls", "skipped", {}, "no network connection" if cfg is not None else "no valid config")
        return None
    target, why = _https_target(cfg)
    if target is None:
        measure("tls", "skipped", {}, why)
        return None
    ms, why = _handshake(cfg, target)
    if ms is None:
        measure("tls", "fail", {}, "handshake with %s:%d failed: %s (is the clock set? run selftest)" % (target + (why,)))
        return None
    measure("tls", "ok", {"handshake_ms": ms}, "one verified handshake with %s:%d" % target)
    return target


def measure_qr(cfg, lcd):
    import gc
    import time
    try:
        import uqr
    except ImportError:
        measure("qr", "fail", {}, "lib/uqr is not on the device: run deploy")
        return
    gc.collect()
    t0 = time.ticks_us()
    code = uqr.make(QR_TEXT)
    encode_ms = time.ticks_diff(time.ticks_us(), t0) / 1000
    values = {"encode_ms": round(encode_ms, 1), "version": (code.width() - 17) // 4}
    if lcd is None:
        measure("qr", "ok", values, "encode measured; screen draw SKIPPED (no display)")
        return
    screens = _screens(cfg, lcd)
    gc.collect()
    t0 = time.ticks_us()
    screens.qr(QR_TEXT, 1250, 120)  # the whole QR screen: amount, code, countdown, keys
    values["screen_ms"] = round(time.ticks_diff(time.ticks_us(), t0) / 1000, 1)
    measure("qr", "ok", values, "encode, and the full QR screen on %dx%d" % (lcd.width, lcd.height))


def measure_stall(cfg, target):
    """The loop's worst stall while a worker thread does one TLS handshake (what a lane does)."""
    if target is None:
        measure("stall", "skipped", {}, "needs a TLS handshake to the gateway (see tls)")
        return
    try:
        import _thread
    except ImportError:
        measure("stall", "skipped", {}, "no _thread on this port")
        return
    import asyncio
    import time

    done = []

    def worker():
        done.append(_handshake(cfg, target))

    async def ticker():
        worst = 0
        last = time.ticks_ms()
        _thread.start_new_thread(worker, ())
        while not done:
            await asyncio.sleep_ms(10)
            now = time.ticks_ms()
            worst = max(worst, time.ticks_diff(now, last) - 10)
            last = now
        return worst

    worst = asyncio.run(ticker())
    ms, why = done[0]
    if ms is None:
        measure("stall", "fail", {}, "the handshake failed: %s" % why)
        return
    measure("stall", "ok", {"worst_ms": worst, "handshake_ms": ms},
            "a 10 ms loop task, while a thread did one handshake")


def run_measured(key_seconds, base=_BASE):
    cfg, why = _config()
    machine = _machine()
    lcd = None
    if machine is not None and hasattr(machine, "SPI"):
        try:
            from firmware.board import hw
            lcd = hw.make_lcd(machine, cfg.display if cfg else None)
        except Exception:
            lcd = None
    measure_heap_after_boot(cfg, lcd, base)  # first: a fresh heap, as after boot
    run(key_seconds)  # the self-test's checks (Wi-Fi up and the clock set for the TLS figures)
    online = False
    try:
        import network
        online = network.WLAN(network.STA_IF).isconnected()
    except Exception:
        online = False
    target = measure_tls(cfg, online)
    measure_qr(cfg, lcd)
    measure_stall(cfg, target)
    print("MEASURE-END")
