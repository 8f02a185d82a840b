"""Bad input: one clear sentence on stderr, a specific non-zero exit, no traceback, nothing written."""
import os
import threading

import pytest

from tests.terminal.conftest import SECRET, cli


def assert_one_sentence(r, code, start):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("error: " + start), r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr + r.stdout


@pytest.mark.parametrize("command", [["deploy", "--no-mip"], ["status"], ["logs"], ["selftest"],
                                     ["provision", "--terminal-id", "T1", "--secret", SECRET, "--no-gateway-check",
                                      "--wifi-ssid", "s", "--gateway-url", "http://127.0.0.1:8700", "--merchant-name", "m",
                                      "--currency", "USD"]])
def test_no_device_on_the_port(tmp_path, command):
    port = str(tmp_path / "ttyUSB9")
    r = cli(command[0], "--port", port, *command[1:])
    assert_one_sentence(r, 3, "No device on %s: check the USB cable" % port)


def test_no_port_given():
    r = cli("status", env={"ALIPAY_TERMINAL_PORT": ""})
    assert_one_sentence(r, 3, "No serial port given")


class _Chatty:
    """A serial device that is not MicroPython: it answers every line with a modem's 'OK'."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        import tty
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import select
        while not self.stopped:
            try:
                if select.select([self.master], [], [], 0.05)[0]:
                    os.read(self.master, 1024)
                    os.write(self.master, b"\r\nOK\r\n")
            except OSError:
                return

    def close(self):
        self.stopped = True
        os.close(self.master)
        os.close(self.slave)


def test_a_port_that_is_not_micropython():
    dev = _Chatty()
    try:
        r = cli("deploy", "--port", dev.port, "--timeout", "1", "--no-mip")
    finally:
        dev.close()
    assert_one_sentence(r, 4, "The device on %s does not answer as MicroPython" % dev.port)


def test_a_port_with_nothing_behind_it():
    master, slave = os.openpty()
    try:
        r = cli("status", "--port", os.ttyname(slave), "--timeout", "1")
    finally:
        os.close(master)
        os.close(slave)
    assert_one_sentence(r, 4, "The device on")


def test_unknown_panel_preset(vterm):
    r = cli("provision", "--port", vterm.port, "--panel", "st7735", "--secret", SECRET, "--dry-run")
    assert_one_sentence(r, 6, "Unknown panel 'st7735': use one of devkit-ili9341, devkit-st7789, esp32s3-st7789, ttgo-t-display.")


def test_config_file_that_is_not_json(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{wifi: shop}")
    r = cli("provision", "--config-file", str(path), "--secret", SECRET, "--dry-run")
    assert_one_sentence(r, 6, "%s is not valid JSON" % path)


def test_a_port_without_permission(vterm, monkeypatch):
    from tools.terminal import device
    from tools.terminal.errors import TerminalError
    monkeypatch.setattr(device.os, "access", lambda path, mode: False)  # what a user outside dialout sees
    with pytest.raises(TerminalError) as e:
        device.Device.open(vterm.port)
    assert e.value.code == 3 and e.value.message.startswith("No permission to open %s" % vterm.port)
