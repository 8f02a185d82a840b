"""Shared pytest set-up: device code importable under CPython (shims), and the MicroPython layer."""
import os
import sys

import pytest

from tests import shims

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Device code imports its libraries as top-level modules (`import uqr`), the way /lib works on the
# device, and the firmware as the `firmware` package from the filesystem root.
for path in (os.path.join(ROOT, "lib"), ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)
shims.install()


@pytest.fixture(autouse=True)
def _fresh_shims():
    shims.reset()
    yield


@pytest.fixture(scope="session")
def micropython():
    """The real MicroPython (WebAssembly build under Node), started once per test session."""
    from tests.mpy import MicroPython

    mp = MicroPython()
    yield mp
    mp.close()
