"""Optional buzzer and status LED (pins from config; absent pins make every call a no-op).

Beeps are short PWM bursts ended by the loop (`tick()`), never a blocking sleep.
"""
import time


class Signals:
    def __init__(self, machine, buzzer_pin=None, led_pin=None):
        self._pwm = None
        self._led = None
        self._until = None
        if buzzer_pin is not None:
            try:
                self._pwm = machine.PWM(machine.Pin(buzzer_pin), freq=2000, duty=0)
            except Exception:  # no PWM on this build: stay silent rather than fail the sale
                self._pwm = None
        if led_pin is not None:
            self._led = machine.Pin(led_pin, machine.Pin.OUT, value=0)

    def beep(self, ms=40, freq=2000):
        if self._pwm is None:
            return
        try:
            self._pwm.freq(freq)
            self._pwm.duty(512)
        except Exception:
            return
        self._until = time.ticks_add(time.ticks_ms(), ms)

    def led(self, on):
        if self._led is not None:
            self._led.value(1 if on else 0)

    def event(self, name, data):
        """Flow events -> sounds and light."""
        if name == "result":
            paid = data.get("state") == "PAID"
            self.beep(300 if paid else 120, 2500 if paid else 800)
            self.led(paid)
        elif name == "beep":
            self.beep(80, 600)
        elif name == "state" and data.get("state") == "SHOW_QR":
            self.led(False)

    def tick(self):
        if self._until is not None and time.ticks_diff(time.ticks_ms(), self._until) >= 0:
            self._until = None
            try:
                self._pwm.duty(0)
            except Exception:
                pass
