"""The terminal simulator: device code under CPython with the shims, and an emulated panel.

`device_path()` makes the device code importable the way the device sees it (`lib/` modules by
their own name, `firmware` as a package) and installs the MicroPython shims (tests/shims).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def device_path():
    for path in (os.path.join(ROOT, "lib"), ROOT):
        if path not in sys.path:
            sys.path.insert(0, path)
    from tests import shims

    shims.install()
