"""flash: the image check, the exact esptool commands, and esptool's failures in one sentence.

The real esptool runs every command against tests/terminal/fake_esp32.py, an ESP32 serial
bootloader (and flasher stub) played on a pty, and against a pty that never answers.
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
    ("A fatal error occurred: This chip is ESP32-S3, not ESP32. Wrong chip argument?", 8,
     "The chip on P is an ESP32-S3, not an ESP32: flash the ESP32-S3 build of MicroPython with --chip esp32s3."),
    ("A fatal error occurred: Wrong --chip argument?", 8, "The chip on P is not an ESP32"),
    ("A fatal error occurred: Could not open /dev/ttyUSB0, the port is busy or doesn't exist.", 3, "No device on P"),
    ("A fatal error occurred: Failed to connect to ESP32: No serial data received.", 9, "esptool cannot reach"),
    ("Verify failed! MD5 of file does not match data in flash", 9, "The flash does not match the image"),
    ("something else entirely", 9, "esptool failed on P: something else entirely"),
])
def test_esptool_failures_are_explained(output, code, start):
    e = flash.explain(output, "P", "esp32")
    assert e.code == code and e.message.startswith(start)


@pytest.fixture
def fake_esp32():
    from tests.terminal.fake_esp32 import FakeESP32
    made = []

    def make(**kw):
        dev = FakeESP32(**kw)
        made.append(dev)
        return dev

    yield make
    for dev in made:
        dev.close()


def realistic_image(tmp_path):
    """An ESP32 image whose body compresses partly, as a real firmware does."""
    path = esp_image(tmp_path / "fw.bin", 0)
    with open(path, "ab") as f:
        f.write(os.urandom(60000) + bytes(60000))
    return path


def test_flash_erases_writes_and_verifies_through_esptool(tmp_path, fake_esp32):
    from tests.terminal.fake_esp32 import FLASH_SIZE
    dev = fake_esp32()
    dev.flash[0x300000:0x300004] = b"OLD!"  # a filesystem from before: erase must clear it
    image = realistic_image(tmp_path)
    r = cli("flash", "--port", dev.port, image)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    with open(image, "rb") as f:
        data = f.read()
    assert bytes(dev.flash[0x1000:0x1000 + len(data)]) == data
    assert bytes(dev.flash[0x300000:0x300004]) == b"\xff" * 4 and len(dev.flash) == FLASH_SIZE
    for step in ("SYNC", "MEM_END", "ERASE_FLASH", "FLASH_DEFL_DATA", "SPI_FLASH_MD5"):
        assert step in dev.commands, step
    assert dev.commands.count("SYNC") == 4  # four esptool runs: chip check, erase, write, verify
    assert "Verification successful (digest matched)" in r.stdout
    assert r.stdout.strip().endswith("flash complete: MicroPython is on the board; next: deploy")


def test_flash_without_erase_keeps_the_rest_of_the_flash(tmp_path, fake_esp32):
    dev = fake_esp32()
    dev.flash[0x300000:0x300004] = b"KEEP"
    r = cli("flash", "--port", dev.port, "--no-erase", realistic_image(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "ERASE_FLASH" not in dev.commands and bytes(dev.flash[0x300000:0x300004]) == b"KEEP"


def test_another_chip_on_the_port_is_refused_before_anything_is_written(tmp_path, fake_esp32):
    from tests.terminal.fake_esp32 import ESP32S2_MAGIC
    dev = fake_esp32(chip_magic=ESP32S2_MAGIC)
    r = cli("flash", "--port", dev.port, realistic_image(tmp_path))
    assert r.returncode == 8
    assert r.stderr == ("error: The chip on %s is an ESP32-S2, not an ESP32: flash the ESP32-S2 build of "
                        "MicroPython with --chip esp32s2.\n" % dev.port)
    assert not [c for c in dev.commands if c.startswith("FLASH") or c == "ERASE_FLASH"]


def test_a_flash_that_does_not_keep_the_data_fails_verification(tmp_path, fake_esp32):
    dev = fake_esp32(corrupt=True)
    r = cli("flash", "--port", dev.port, realistic_image(tmp_path))
    assert r.returncode == 9
    assert r.stderr.startswith("error: The flash does not match the image after writing (verify failed)")
