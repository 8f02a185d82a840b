"""The CPython shims behave like the MicroPython modules they stand in for."""
import asyncio
import time

import machine
import micropython
import network
import pytest

from tests.shims import clock
from tests.shims.clock import TICKS_MAX, TICKS_PERIOD


# --- micropython ---------------------------------------------------------------------------------
def test_micropython_const_and_emitters_are_transparent():
    assert micropython.const(42) == 42

    @micropython.native
    def f(x):
        return x + 1

    @micropython.viper
    def g(x):
        return x * 2

    assert f(1) == 2 and g(3) == 6


def test_mem_info_prints_the_device_summary(capsys):
    micropython.mem_info()
    out = capsys.readouterr().out
    assert out.startswith("stack:") and "GC: total:" in out


# --- time extras ---------------------------------------------------------------------------------
def test_manual_clock_stands_still_and_advances():
    clock.manual(1000)
    a = time.ticks_ms()
    assert time.ticks_ms() == a == 1000
    clock.advance_ms(250)
    assert time.ticks_diff(time.ticks_ms(), a) == 250
    time.sleep_ms(50)  # in manual mode sleeping moves the clock instead of waiting
    assert time.ticks_ms() == 1300
    assert time.ticks_us() == 1_300_000


def test_ticks_wrap_like_micropython():
    clock.manual(TICKS_PERIOD - 10)  # 10 ms before ticks_ms wraps
    before = time.ticks_ms()
    clock.advance_ms(30)
    after = time.ticks_ms()
    assert after == 20  # wrapped
    assert after < before  # which is why only ticks_diff may compare ticks
    assert time.ticks_diff(after, before) == 30
    assert time.ticks_diff(before, after) == -30
    assert time.ticks_add(before, 30) == after
    assert time.ticks_add(5, -10) == TICKS_MAX - 4


def test_ticks_add_rejects_overflowing_intervals():
    with pytest.raises(OverflowError):
        time.ticks_add(0, TICKS_PERIOD)


def test_ticks_us_wraps_after_the_period():
    clock.manual(0)
    clock.advance_us(TICKS_PERIOD + 7)
    assert time.ticks_us() == 7


def test_running_clock_follows_host_time():
    clock.running()
    a = time.ticks_ms()
    time.sleep_ms(20)
    assert 15 <= time.ticks_diff(time.ticks_ms(), a) < 2000


def test_asyncio_has_sleep_ms():
    async def main():
        await asyncio.sleep_ms(1)
        return "done"

    assert asyncio.run(main()) == "done"


# --- machine.Pin ---------------------------------------------------------------------------------
def test_pins_share_one_wire_per_number():
    out = machine.Pin(5, machine.Pin.OUT, value=0)
    again = machine.Pin(5)
    out.on()
    assert again.value() == 1
    out(0)
    assert again() == 0


def test_input_reads_pull_then_driven_level():
    key = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
    assert key.value() == 1  # released: the pull-up wins
    machine.Pin.board.drive(0, 0)  # pressed: shorted to ground
    assert key.value() == 0
    machine.Pin.board.drive(0, None)
    assert key.value() == 1
    floating = machine.Pin(4, machine.Pin.IN)
    assert floating.value() == 0


def test_input_from_a_source_function_sees_other_pins():
    row = machine.Pin(12, machine.Pin.OUT, value=1)
    col = machine.Pin(13, machine.Pin.IN, machine.Pin.PULL_UP)
    # a key joining row 12 and column 13: the column follows the row while pressed
    machine.Pin.board.source(13, lambda: machine.Pin.board.level(12))
    row.off()
    assert col.value() == 0
    row.on()
    assert col.value() == 1


def test_pin_irq_fires_on_the_chosen_edge():
    seen = []
    key = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
    key.irq(handler=lambda p: seen.append(p.value()), trigger=machine.Pin.IRQ_FALLING)
    machine.Pin.board.drive(0, 0)
    machine.Pin.board.drive(0, 1)
    assert seen == [0]


# --- machine.SPI ---------------------------------------------------------------------------------
def test_spi_records_each_write_with_the_dc_level():
    dc = machine.Pin(16, machine.Pin.OUT, value=0)
    spi = machine.SPI(1, baudrate=40_000_000)
    spi.watch_dc(dc)
    heard = []
    spi.listeners.append(lambda level, data: heard.append((level, data)))
    spi.write(b"\x2a")
    dc.on()
    spi.write(bytearray(b"\x00\x00\x00\xef"))
    assert spi.writes == [(0, b"\x2a"), (1, b"\x00\x00\x00\xef")]
    assert heard == spi.writes
    assert spi.bytes_written() == 5


def test_spi_write_with_cs_high_reaches_nobody():
    cs = machine.Pin(5, machine.Pin.OUT, value=1)
    spi = machine.SPI(1)
    spi.watch_cs(cs)
    spi.write(b"\x01")
    cs.off()
    spi.write(b"\x02")
    assert [d for _, d in spi.writes] == [b"\x02"]


def test_spi_write_copies_the_buffer():
    spi = machine.SPI(1)
    buf = bytearray(b"\x01\x02")
    spi.write(buf)
    buf[0] = 9  # a reused row buffer must not change what was already sent
    assert spi.writes[0][1] == b"\x01\x02"


# --- machine.WDT, UART, reset, unique_id ----------------------------------------------------------
def test_wdt_is_overdue_only_after_its_timeout():
    clock.manual(0)
    wdt = machine.WDT(timeout=2000)
    clock.advance_ms(1500)
    assert not wdt.overdue()
    wdt.feed()
    clock.advance_ms(1999)
    assert not wdt.overdue()
    clock.advance_ms(2)
    assert wdt.overdue()


def test_wdt_rejects_a_zero_timeout():
    with pytest.raises(ValueError):
        machine.WDT(timeout=0)


def test_uart_reads_what_was_injected():
    uart = machine.UART(1, 9600)
    assert uart.read() is None and uart.any() == 0
    uart.inject(b"line one\nrest")
    assert uart.any() == 13
    assert uart.readline() == b"line one\n"
    assert uart.read(2) == b"re"
    assert uart.read() == b"st"
    uart.write(b"hello")
    assert bytes(uart.tx) == b"hello"


def test_reset_raises_a_device_reset():
    with pytest.raises(machine.DeviceReset) as err:
        machine.reset()
    assert not err.value.soft
    with pytest.raises(SystemExit):
        machine.soft_reset()


def test_unique_id_is_six_bytes():
    assert isinstance(machine.unique_id(), bytes) and len(machine.unique_id()) == 6


# --- network.WLAN --------------------------------------------------------------------------------
def test_wlan_connects_after_a_delay_and_can_be_scripted_down_and_up():
    clock.manual(0)
    network.air.access_points = {"shop": ("secret", -61)}
    wlan = network.WLAN(network.STA_IF)
    with pytest.raises(OSError):
        wlan.connect("shop", "secret")  # not active yet, like the ESP32
    wlan.active(True)
    wlan.connect("shop", "secret")
    assert wlan.status() == network.STAT_CONNECTING and not wlan.isconnected()
    clock.advance_ms(network.air.connect_delay_ms)
    assert wlan.isconnected() and wlan.status("rssi") == -61
    network.air.drop()
    assert not wlan.isconnected() and wlan.status() == network.STAT_NO_AP_FOUND
    network.air.restore()
    assert wlan.isconnected()


def test_wlan_wrong_password_and_unknown_ap():
    clock.manual(0)
    network.air.access_points = {"shop": ("secret", -61)}
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect("shop", "wrong")
    clock.advance_ms(5000)
    assert wlan.status() == network.STAT_WRONG_PASSWORD
    wlan.connect("elsewhere", "x")
    assert wlan.status() == network.STAT_NO_AP_FOUND
    with pytest.raises(OSError):
        wlan.status("rssi")
