"""selftest: run tools/terminal/selftest_device.py on the terminal and report each check.

Checks (on the device): config, display test pattern, keypad (press each key), Wi-Fi signal, time
sync, a signed gateway round trip, QR encode + draw time, free heap. Each ends PASS, FAIL or SKIPPED
(with the reason: the virtual terminal has no display, keypad or network, so those are SKIPPED
there, never PASS). Exit code 0 when nothing FAILED, 1 otherwise.
"""
import os

from tools.terminal import errors
from tools.terminal.errors import TerminalError

DEVICE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "selftest_device.py")


def parse(lines):
    """[(name, state, detail)] from the device's SELFTEST lines."""
    results = []
    for line in lines:
        parts = line.strip().split(" ", 3)
        if len(parts) >= 3 and parts[0] == "SELFTEST":
            results.append((parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    return results


def selftest(device, say, key_seconds=20.0):
    with open(DEVICE_SCRIPT, encoding="utf-8") as f:
        script = f.read() + "\nrun(%r)\n" % float(key_seconds)
    lines = []
    pending = bytearray()

    def consume(b):  # line by line as it arrives, so keypad prompts show while the keys are pressed
        pending.extend(b)
        if b == b"\n":
            line = pending.decode("utf-8", "replace").strip()
            pending.clear()
            lines.append(line)
            if line.startswith("KEY"):
                say("  " + line)

    # The keypad check waits for presses: allow its time plus Wi-Fi (15 s) and the gateway call.
    device.run(script, timeout=key_seconds + 60, consumer=consume)
    if pending:
        lines.append(pending.decode("utf-8", "replace").strip())
    if "SELFTEST-END" not in lines:
        raise TerminalError("The self-test stopped before its end (last output: %r): check the device's "
                            "console with `mpremote connect PORT repl`." % (lines[-1] if lines else ""), errors.GENERAL)
    return report(parse(lines), say)


def report(results, say):
    failed = [r for r in results if r[1] == "FAIL"]
    for name, state, detail in results:
        say("%-8s %-7s %s" % (name, state, detail))
    say("%d passed, %d failed, %d skipped" % (
        sum(1 for r in results if r[1] == "PASS"), len(failed), sum(1 for r in results if r[1] == "SKIPPED")))
    return 1 if failed else 0
