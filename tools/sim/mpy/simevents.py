"""The simulator's event lines, shaped the same way by both engines (this file runs under
MicroPython in the MicroPython engine and under CPython in the CPython engine).

    {"event": "state", "state": "SHOW_QR", "order_id": ..., "amount": ..., "code": ..., "expires_at": ..., "t": ...}
    {"event": "screen", "screen": "qr", "code": ..., "state": ..., "t": ...}
    {"event": <any other flow event>, <its plain fields>..., "t": ...}
"""


def flow_event(name, data, t):
    obj = {"event": name, "t": t}
    if name == "state":
        sale = data.get("sale") or {}
        obj["state"] = data["state"]
        for key in ("order_id", "amount", "code", "expires_at"):
            obj[key] = sale.get(key)
        return obj
    for key in data:
        value = data[key]
        if value is None or isinstance(value, (str, int, bool)):
            obj[key] = value
    return obj


def screen_event(view, t):
    name, data = view
    return {"event": "screen", "screen": name, "t": t, "code": data.get("code"), "state": data.get("state")}


def engine_event(sys):
    """Which interpreter runs the firmware: {"event": "engine", "text": "MicroPython 1.29.0 unix port", ...}."""
    impl = sys.implementation
    version = "%d.%d.%d" % tuple(impl.version[:3])
    if len(impl.version) > 3 and impl.version[3]:
        version += "-" + impl.version[3]
    if impl.name == "micropython":
        port = "unix" if sys.platform in ("linux", "darwin") else sys.platform
        text = "MicroPython %s %s port" % (version, port)
    else:
        port = "host"
        text = "CPython %s with the device shims" % version
    return {"event": "engine", "engine": impl.name, "version": version, "port": port, "text": text}
