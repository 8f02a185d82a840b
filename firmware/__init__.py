"""The terminal application (runs on the ESP32 and, under tests/shims, on the host).

May import: MicroPython's built-in modules, `lib/` (device libraries) and micropython-lib packages
the device ships (`requests`). Never imports `tools/` or anything host-only. Hardware access
(`machine`, `network`, sockets) sits behind small adapters here so the flow logic is plain Python.
"""
