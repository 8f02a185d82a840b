"""flash: write a MicroPython firmware image to the terminal's ESP32 with esptool.

Before touching the chip the image is checked: it must start with an ESP image header (magic 0xE9)
whose chip id (bytes 12-13 of the extended header) names the chip we flash; an image for another
chip, or a file that is no ESP image at all, is refused with one sentence. Then, printing each
exact command before it runs:

    python -m esptool --chip esp32 --port P --baud B --before default-reset flash-id     (chip check)
    python -m esptool --chip esp32 --port P --baud B --before default-reset erase-flash
    python -m esptool --chip esp32 --port P --baud B --before default-reset write-flash 0x1000 IMAGE
    python -m esptool --chip esp32 --port P --baud B --before default-reset verify-flash 0x1000 IMAGE

esptool itself refuses a connected chip of another kind ("This chip is ESP32-S2, not ESP32"), which
we turn into a clear sentence too. tests/terminal/fake_esp32.py plays the ESP32's serial bootloader
(and flasher stub) on a pty, so the real esptool runs every one of these commands in the tests.
"""
import os
import re
import shlex
import struct
import subprocess
import sys

from tools.terminal import errors
from tools.terminal.errors import TerminalError

ESP_IMAGE_MAGIC = 0xE9
# esptool's chip ids (ESP image extended header) and the offset of the bootloader in flash.
CHIPS = {
    "esp32": (0, 0x1000), "esp32s2": (2, 0x1000), "esp32c3": (5, 0x0), "esp32s3": (9, 0x0),
    "esp32c2": (12, 0x0), "esp32c6": (13, 0x0), "esp32h2": (16, 0x0), "esp32p4": (18, 0x2000),
}
CHIP_NAMES = {"esp32": "ESP32", "esp32s2": "ESP32-S2", "esp32c3": "ESP32-C3", "esp32s3": "ESP32-S3",
              "esp32c2": "ESP32-C2", "esp32c6": "ESP32-C6", "esp32h2": "ESP32-H2", "esp32p4": "ESP32-P4"}


def image_chip(path):
    """The chip an ESP firmware image is built for ("esp32", ...). Raises TerminalError otherwise."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise TerminalError("Cannot read the firmware image %s: %s." % (path, e.strerror), errors.WRONG_IMAGE)
    if len(head) < 16 or head[0] != ESP_IMAGE_MAGIC:
        raise TerminalError("%s is not an ESP32 firmware image (no ESP image header): download the .bin for "
                            "your board from micropython.org/download." % path, errors.WRONG_IMAGE)
    chip_id = struct.unpack_from("<H", head, 12)[0]
    for name, (cid, _offset) in CHIPS.items():
        if cid == chip_id:
            return name
    raise TerminalError("%s is an ESP image for an unknown chip (id %d): download the ESP32 build from "
                        "micropython.org/download." % (path, chip_id), errors.WRONG_IMAGE)


def check_image(path, chip):
    found = image_chip(path)
    if found != chip:
        raise TerminalError("%s is a firmware image for the %s, not the %s: download the %s build from "
                            "micropython.org/download." % (path, CHIP_NAMES[found], CHIP_NAMES[chip],
                                                           CHIP_NAMES[chip]), errors.WRONG_IMAGE)
    return found


def commands(image, port, chip="esp32", baud=460800, address=None, erase=True, before="default-reset",
             connect_attempts=None):
    """The exact esptool command lines, in order."""
    address = address if address is not None else "0x%x" % CHIPS[chip][1]
    base = [sys.executable, "-m", "esptool", "--chip", chip, "--port", port, "--baud", str(baud),
            "--before", before]
    if connect_attempts is not None:
        base += ["--connect-attempts", str(connect_attempts)]
    cmds = [base + ["flash-id"]]
    if erase:
        cmds.append(base + ["erase-flash"])
    cmds.append(base + ["write-flash", address, image])
    cmds.append(base + ["verify-flash", address, image])
    return cmds


def explain(output, port, chip):
    """One sentence for an esptool failure, from what it printed."""
    text = output.lower()
    found = re.search(r"This chip is (ESP[\w-]+), not", output)
    if found:
        other = found.group(1)
        return TerminalError("The chip on %s is an %s, not an %s: flash the %s build of MicroPython with --chip %s."
                             % (port, other, CHIP_NAMES[chip], other, other.lower().replace("-", "")),
                             errors.WRONG_IMAGE)
    if "wrong --chip" in text or "wrong chip" in text:
        return TerminalError("The chip on %s is not an %s (esptool: %s): use the firmware image for that chip "
                             "and --chip." % (port, CHIP_NAMES[chip], _last_line(output)), errors.WRONG_IMAGE)
    if "could not open" in text or "no such file" in text or "could not exclusively lock" in text:
        return TerminalError("No device on %s: check the USB cable and the port name "
                             "(ls /dev/ttyUSB* /dev/ttyACM*)." % port, errors.NO_DEVICE)
    if "failed to connect" in text or "no serial data received" in text or "timed out" in text:
        return TerminalError("esptool cannot reach the ESP32 bootloader on %s: hold BOOT, tap EN (reset), "
                             "release BOOT and run flash again." % port, errors.TOOL)
    if "verify failed" in text or "md5 of file does not match" in text:
        return TerminalError("The flash does not match the image after writing (verify failed): run flash again; "
                             "if it fails twice, lower --baud to 115200.", errors.TOOL)
    return TerminalError("esptool failed on %s: %s" % (port, _last_line(output)), errors.TOOL)


def _last_line(output):
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def run_command(cmd, say):
    """Run one esptool command, echoing its output; returns (exit code, output)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    seen = []
    for line in proc.stdout:
        seen.append(line)
        say("  " + line.rstrip())
    return proc.wait(), "".join(seen)


def flash(args, say, runner=run_command):
    if args.chip not in CHIPS:
        raise TerminalError("Unknown chip %r: use one of %s." % (args.chip, ", ".join(sorted(CHIPS))), errors.WRONG_IMAGE)
    check_image(args.image, args.chip)
    say("%s: %s firmware image, %d bytes" % (args.image, CHIP_NAMES[args.chip], os.path.getsize(args.image)))
    if not args.port:
        raise TerminalError("No serial port given: pass --port (for example /dev/ttyUSB0) or set "
                            "ALIPAY_TERMINAL_PORT.", errors.NO_DEVICE)
    cmds = commands(args.image, args.port, args.chip, args.baud, args.address, not args.no_erase, args.before,
                    args.connect_attempts)
    for cmd in cmds:
        say("$ " + " ".join(shlex.quote(c) for c in cmd))
        if args.dry_run:
            continue
        if not os.path.exists(args.port):
            raise TerminalError("No device on %s: check the USB cable and the port name "
                                "(ls /dev/ttyUSB* /dev/ttyACM*)." % args.port, errors.NO_DEVICE)
        code, output = runner(cmd, say)
        if code != 0:
            raise explain(output, args.port, args.chip)
    if args.dry_run:
        say("dry run: nothing was written")
    else:
        say("flash complete: MicroPython is on the board; next: deploy")
    return 0
