"""Buzzer and LED are optional: absent pins or a build without PWM never get in a sale's way."""
import machine

from firmware.board.signals import Signals


def test_led_follows_the_result():
    s = Signals(machine, buzzer_pin=None, led_pin=2)
    s.event("result", {"state": "PAID"})
    assert machine.Pin.board.level(2) == 1
    s.event("state", {"state": "SHOW_QR"})
    assert machine.Pin.board.level(2) == 0
    s.event("result", {"state": "FAILED"})
    assert machine.Pin.board.level(2) == 0


def test_missing_hardware_is_silent():
    s = Signals(None)
    s.beep()
    s.event("result", {"state": "PAID"})
    s.tick()
    Signals(machine, buzzer_pin=4).beep()  # the shim has no PWM: no exception either


class FakePWM:
    def __init__(self, pin, freq=0, duty=0):
        self.log = [("init", freq, duty)]

    def freq(self, f):
        self.log.append(("freq", f))

    def duty(self, d):
        self.log.append(("duty", d))


def test_beep_is_ended_by_tick(monkeypatch):
    from tests.shims import clock

    clock.manual(0)
    monkeypatch.setattr(machine, "PWM", FakePWM, raising=False)
    s = Signals(machine, buzzer_pin=4)
    s.beep(40, 1000)
    assert s._pwm.log[-1] == ("duty", 512)
    clock.advance_ms(20)
    s.tick()
    assert s._pwm.log[-1] == ("duty", 512)
    clock.advance_ms(25)
    s.tick()
    assert s._pwm.log[-1] == ("duty", 0)
