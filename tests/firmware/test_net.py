"""Wi-Fi: connects by itself, notices a lost access point, retries with growing back-off."""
import network

from firmware.link import net
from tests.shims import clock


def _run(wifi, ms, step=250):
    ups = []
    for _ in range(ms // step):
        ups.append(wifi.step())
        clock.advance_ms(step)
    return ups


def test_connects_and_reconnects():
    clock.manual(0)
    wifi = net.Wifi(network, "sim-wifi", "sim-password")
    assert _run(wifi, 1500)[-1] is True
    network.air.drop()
    assert wifi.step() is False
    network.air.restore()
    assert _run(wifi, 2000)[-1] is True and wifi.rssi() == -55


def test_back_off_grows_while_the_access_point_is_missing():
    clock.manual(0)
    calls = []
    wifi = net.Wifi(network, "sim-wifi", "sim-password")
    real_connect = wifi.wlan.connect
    wifi.wlan.connect = lambda *a: (calls.append(clock.ticks_ms()), real_connect(*a))
    network.air.drop()
    _run(wifi, 120000)
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert len(calls) >= 3 and gaps == sorted(gaps) and gaps[-1] > gaps[0]
    network.air.restore()
    assert _run(wifi, 60000)[-1] is True and wifi.attempts == 0


def test_wrong_password_never_connects():
    clock.manual(0)
    wifi = net.Wifi(network, "sim-wifi", "nope")
    assert not any(_run(wifi, 20000))
