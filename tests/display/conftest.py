"""Display tests: the shim clock stands still so the drivers' reset delays cost no real time
(the emulator still checks them against that clock)."""
import pytest

from tests.shims import clock

from tools.sim import device_path

device_path()

URL_60 = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"
URL_120 = URL_60 + "?orderId=20261125184512000123456789&sig=Zx81Kq0bT7uPqY2mWv4nLr9s"


@pytest.fixture(autouse=True)
def _manual_clock():
    clock.manual(1_000)
    yield
    clock.running()


@pytest.fixture
def rig_factory():
    from tools.sim.rig import DisplayRig

    return DisplayRig
