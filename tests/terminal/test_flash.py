"""flash: the image check, the exact esptool commands, and esptool's failures in one sentence.

A real esptool conversation needs an ESP32 ROM bootloader: `flash` is verified on hardware
(docs/technician.md); here esptool runs for real against a pty that never answers.
"""
import os
import struct
import sys

import pytest

from tests.terminal.conftest import cli
from tools.terminal import flash


def esp_image(path, chip_id, magic=0xE9):
    header = bytes([magic, 3, 2, 0x20]) + struct.pack("<I", 0x40080000) + bytes([0xEE, 0, 0, 0])
    header += struct.pack("<H", chip_id) + bytes(2)
    path.write_bytes(header + bytes(4096))
    return str(path)


def test_image_chip_is_read_from_the_header_as_esptool_reads_it(tmp_path):
    import subprocess
    for chip, (chip_id, _offset) in flash.CHIPS.items():
        path = esp_image(tmp_path / (chip + ".bin"), chip_id)
        assert flash.image_chip(path) == chip
    # cross-check one with esptool's own image-info
    out = subprocess.run([sys.executable, "-m", "esptool", "image-info", str(tmp_path / "esp32s3.bin")],
                         capture_output=True, text=True).stdout
    assert "ESP32-S3" in out


def test_image_for_another_chip_is_refused(tmp_path):
    image = esp_image(tmp_path / "s3.bin", 9)
    r = cli("flash", "--port", "/dev/null", image)
    assert r.returncode == 8
    assert r.stderr == ("error: %s is a firmware image for the ESP32-S3, not the ESP32: download the ESP32 build "
                        "from micropython.org/download.\n" % image)
    assert "esptool" not in r.stdout  # nothing was run


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 a zip, not an image" + bytes(32), b"\x7fELF" + bytes(60)])
def test_a_file_that_is_no_esp_image_is_refused(tmp_path, content):
    path = tmp_path / "firmware.bin"
    path.write_bytes(content)
    r = cli("flash", "--port", "/dev/null", str(path))
    assert r.returncode == 8
    assert "is not an ESP32 firmware image (no ESP image header)" in r.stderr


def test_dry_run_prints_the_exact_commands(tmp_path):
    image = esp_image(tmp_path / "esp32.bin", 0)
    r = cli("flash", "--port", "/dev/ttyUSB0", "--baud", "921600", "--dry-run", image)
    assert r.returncode == 0, r.stderr
    cmds = [line[2:] for line in r.stdout.splitlines() if line.startswith("$ ")]
    base = "%s -m esptool --chip esp32 --port /dev/ttyUSB0 --baud 921600 --before default-reset" % sys.executable
    assert cmds == [base + " flash-id", base + " erase-flash", base + " write-flash 0x1000 " + image,
                    base + " verify-flash 0x1000 " + image]
    r = cli("flash", "--port", "/dev/ttyUSB0", "--no-erase", "--dry-run", "--chip", "esp32s3",
            esp_image(tmp_path / "s3.bin", 9))
    assert "erase-flash" not in r.stdout and " write-flash 0x0 " in r.stdout


def test_no_device_for_flash(tmp_path):
    image = esp_image(tmp_path / "esp32.bin", 0)
    r = cli("flash", "--port", str(tmp_path / "ttyUSB7"), image)
    assert r.returncode == 3 and "No device on" in r.stderr


def test_esptool_against_a_silent_port_is_one_sentence(tmp_path):
    image = esp_image(tmp_path / "esp32.bin", 0)
    master, slave = os.openpty()
    port = os.ttyname(slave)
    try:
        r = cli("flash", "--port", port, "--before", "no-reset", "--connect-attempts", "1", image)
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == 9
    assert r.stderr == ("error: esptool cannot reach the ESP32 bootloader on %s: hold BOOT, tap EN (reset), release "
                        "BOOT and run flash again.\n" % port)
    assert "$ %s -m esptool" % sys.executable in r.stdout
    assert "erase-flash" not in r.stdout  # stopped at the chip check


@pytest.mark.parametrize("output,code,start", [
    ("A fatal error occurred: This chip is ESP32-S3, not ESP32. Wrong --chip argument?", 8, "The chip on P is not an ESP32"),
    ("A fatal error occurred: Could not open /dev/ttyUSB0, the port is busy or doesn't exist.", 3, "No device on P"),
    ("A fatal error occurred: Failed to connect to ESP32: No serial data received.", 9, "esptool cannot reach"),
    ("Verify failed! MD5 of file does not match data in flash", 9, "The flash does not match the image"),
    ("something else entirely", 9, "esptool failed on P: something else entirely"),
])
def test_esptool_failures_are_explained(output, code, start):
    e = flash.explain(output, "P", "esp32")
    assert e.code == code and e.message.startswith(start)
