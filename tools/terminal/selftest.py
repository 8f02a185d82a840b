"""selftest: run tools/terminal/selftest_device.py on the terminal and report each check.

Checks (on the device): config, display test pattern, keypad (press each key), Wi-Fi signal, time
sync, a signed gateway round trip, QR encode + draw time, free heap. Each ends PASS, FAIL or SKIPPED
(with the reason: the virtual terminal has no display, keypad or network, so those are SKIPPED
there, never PASS). Exit code 0 when nothing FAILED, 1 otherwise.
"""
import json
import os
import re

from tools.terminal import errors
from tools.terminal.errors import TerminalError

DEVICE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "selftest_device.py")
MEASURE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "measure_device.py")


def parse(lines):
    """[(name, state, detail)] from the device's SELFTEST lines."""
    results = []
    for line in lines:
        parts = line.strip().split(" ", 3)
        if len(parts) >= 3 and parts[0] == "SELFTEST":
            results.append((parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    return results


def selftest(device, say, key_seconds=20.0, measure=False):
    with open(DEVICE_SCRIPT, encoding="utf-8") as f:
        script = f.read()
    if measure:
        with open(MEASURE_SCRIPT, encoding="utf-8") as f:
            script += "\n" + f.read() + "\nrun_measured(%r)\n" % float(key_seconds)
    else:
        script += "\nrun(%r)\n" % float(key_seconds)
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
    device.run(script, timeout=key_seconds + (120 if measure else 60), consumer=consume)
    if pending:
        lines.append(pending.decode("utf-8", "replace").strip())
    if "SELFTEST-END" not in lines:
        raise TerminalError("The self-test stopped before its end (last output: %r): check the device's "
                            "console with `mpremote connect PORT repl`." % (lines[-1] if lines else ""), errors.GENERAL)
    if measure and "MEASURE-END" not in lines:
        raise TerminalError("The measurements stopped before their end (last output: %r): check the device's "
                            "console with `mpremote connect PORT repl`." % (lines[-1] if lines else ""), errors.GENERAL)
    code = report(parse(lines), say)
    if measure:
        figures = parse_measures(lines)
        report_measures(figures, say)
        if any(m["state"] == "fail" for m in figures):
            code = 1
    return code


def report(results, say):
    failed = [r for r in results if r[1] == "FAIL"]
    for name, state, detail in results:
        say("%-8s %-7s %s" % (name, state, detail))
    say("%d passed, %d failed, %d skipped" % (
        sum(1 for r in results if r[1] == "PASS"), len(failed), sum(1 for r in results if r[1] == "SKIPPED")))
    return 1 if failed else 0


# --- selftest --measure ---------------------------------------------------------------------------
_MAX_FREE = re.compile(r"max free sz:\s*(\d+)")


def parse_measures(lines):
    """[{"name", "state", "values", "detail"}] from the device's MEASURE lines; the heap gets its
    largest free block (bytes) from the mem_info() block printed before it."""
    figures, max_free_blocks, in_info = [], None, False
    for line in lines:
        if line == "MEMINFO-BEGIN":
            in_info = True
        elif line == "MEMINFO-END":
            in_info = False
        elif in_info:
            m = _MAX_FREE.search(line)
            if m:
                max_free_blocks = int(m.group(1))
        elif line.startswith("MEASURE {"):
            figure = json.loads(line[len("MEASURE "):])
            if figure["name"] == "heap" and max_free_blocks is not None:
                figure["values"]["largest_free_block"] = max_free_blocks * figure["values"]["block_bytes"]
            figures.append(figure)
    return figures


def _b(n):
    return "{:,} B".format(n)


def describe_measure(figure):
    v = figure["values"]
    if figure["state"] != "ok":
        return figure["detail"]
    name = figure["name"]
    if name == "heap":
        text = "live after boot %s, free %s" % (_b(v["live_after_boot"]), _b(v["free"]))
        if "largest_free_block" in v:
            text += ", largest free block %s" % _b(v["largest_free_block"])
        return text + " (%s)" % figure["detail"]
    if name == "tls":
        return "handshake %d ms (%s)" % (v["handshake_ms"], figure["detail"])
    if name == "qr":
        text = "encode %.1f ms (version %d)" % (v["encode_ms"], v["version"])
        if "screen_ms" in v:
            text += ", full QR screen %.1f ms" % v["screen_ms"]
        return text + " (%s)" % figure["detail"]
    if name == "stall":
        return "worst loop stall %d ms during a %d ms handshake (%s)" % (v["worst_ms"], v["handshake_ms"], figure["detail"])
    return figure["detail"]


def report_measures(figures, say):
    say("measured (what good looks like: docs/technician.md, 'Measuring a terminal'):")
    for figure in figures:
        say("%-8s %-7s %s" % (figure["name"], figure["state"].upper(), describe_measure(figure)))
