"""status and logs: what is on the terminal, read without changing anything.

status: firmware version and deploy state (/manifest.json), the config summary (never the secret)
with the firmware's own validation verdict, the journal (order counter, open sale, recent paid
sales), MicroPython version, free heap and free flash.

logs: the device's log ring buffer. Convention (docs/technician.md): the firmware appends lines to
/log.txt and, when it passes its size cap, renames it to /log.txt.1 (replacing the older one), so
at most two files exist and a power cut loses at most the line being written. Printed oldest first,
with the firmware's Unix-second stamps shown as ISO 8601 local time (the computer's time zone).
"""
import json

from tools.terminal import deploy as deploy_mod
from tools.terminal import errors
from tools.terminal.provision import CONFIG_PATH, summary

JOURNAL_PATH = "/journal.json"
LOG_FILES = ("/log.txt.1", "/log.txt")


def _json_file(device, path):
    data = device.read_file(path)
    if data is None:
        return None, "missing"
    try:
        return json.loads(data), None
    except ValueError:
        return None, "not valid JSON (%d bytes)" % len(data)


def status(device, say, verify=False, as_json=False):
    """Print the terminal's state (or one JSON object with --json). With verify: exit 1 unless the
    files on the device are exactly what a complete deploy wrote."""
    report = gather(device, verify)
    if as_json:
        say(json.dumps(report, indent=1, sort_keys=True))
    else:
        for line in describe(report):
            say(line)
    if verify and not report["verified"]:
        if not as_json:
            say("status --verify: FAILED (the firmware on the terminal is not what deploy wrote: run deploy)")
        return errors.GENERAL
    return 0


def gather(device, verify=False):
    """Everything status shows, as a JSON-ready dict (never the secret)."""
    info = device.run_json(
        "import sys,gc,os,json\ngc.collect()\n"
        "try:\n s=os.statvfs('/')\n fr=s[0]*s[3]\nexcept Exception:\n fr=None\n"
        "print(json.dumps({'mpy':'%d.%d.%d' % sys.implementation.version[:3],'machine':"
        "getattr(sys.implementation,'_machine',sys.platform),'heap_free':gc.mem_free(),'flash_free':fr}))")
    report = {"device": {"micropython": info["mpy"], "machine": info["machine"], "heap_free": info["heap_free"],
                         "flash_free": info["flash_free"]}}

    manifest = deploy_mod.read_manifest(device)
    verified = manifest is not None and bool(manifest.get("complete"))
    if manifest is None:
        report["firmware"] = None
    else:
        report["firmware"] = {"version": manifest.get("version"), "complete": bool(manifest.get("complete")),
                              "files": len(manifest.get("files") or {}), "packages": manifest.get("packages") or {}}
    if verify:
        wanted = (manifest or {}).get("files") or {}
        have = device.hashes(sorted(wanted)) if wanted else {}
        bad = sorted(p for p in wanted if have.get(p) != wanted[p])
        verified = verified and bool(wanted) and not bad
        report["verify"] = {"checked": len(wanted), "differ": bad}
    report["verified"] = verified

    cfg, problem = _json_file(device, CONFIG_PATH)
    if cfg is None:
        report["config"] = {"problem": "%s %s" % (CONFIG_PATH, problem)}
    else:
        from firmware import config as fc
        try:
            fc.validate(cfg)
            problems = []
        except fc.ConfigError as e:
            problems = e.problems
        report["config"] = {"valid": not problems, "problems": problems, "summary": summary(cfg)}

    journal, problem = _json_file(device, JOURNAL_PATH)
    if journal is None:
        report["journal"] = {"problem": problem}
    else:
        report["journal"] = {"terminal": ((cfg or {}).get("terminal") or {}).get("id", "?"),
                             "series": journal.get("series"), "next": journal.get("next"),
                             "sale": journal.get("sale") or None, "recent_paid": len(journal.get("recent") or [])}
    return report


def describe(report):
    """The report as the lines a technician reads."""
    d = report["device"]
    yield "device:    MicroPython %s on %s; free heap %s bytes; free flash %s" % (
        d["micropython"], d["machine"], d["heap_free"],
        "%d KB" % (d["flash_free"] // 1024) if d["flash_free"] is not None else "unknown")
    fw = report["firmware"]
    if fw is None:
        yield "firmware:  not deployed (no %s): run deploy" % deploy_mod.MANIFEST_PATH
    else:
        state = "complete" if fw["complete"] else "INCOMPLETE (a deploy was interrupted: run deploy again)"
        packages = ", ".join("%s %s" % kv for kv in sorted(fw["packages"].items())) or "none"
        yield "firmware:  version %s, deploy %s, %d files, packages: %s" % (fw["version"], state, fw["files"], packages)
    v = report.get("verify")
    if v is not None and fw is not None and v["checked"]:
        yield "verify:    %s" % ("all %d files match the manifest" % v["checked"] if not v["differ"] else
                                 "%d files differ or are missing: %s (run deploy)" % (len(v["differ"]),
                                                                                      ", ".join(v["differ"])))
    c = report["config"]
    if "problem" in c:
        yield "config:    %s: run provision" % c["problem"]
    else:
        yield "config:    %s" % ("valid" if c["valid"] else "INVALID: " + "; ".join(c["problems"]))
        for line in c["summary"].splitlines():
            yield "  " + line
    j = report["journal"]
    if "problem" in j:
        yield "journal:   %s (no sale yet)" % j["problem"] if j["problem"] == "missing" else "journal:   " + j["problem"]
    else:
        sale = j["sale"]
        open_sale = "none" if not sale else "%s %s %s (%s)" % (
            sale.get("order_id"), sale.get("amount"), sale.get("currency"), sale.get("state"))
        yield "journal:   next order %s-%s-<random>, open sale: %s, recent paid: %d" % (
            j["terminal"], j["next"], open_sale, j["recent_paid"])


def read_log(device):
    """The ring buffer's lines, oldest first (None when the device has no log)."""
    chunks = []
    for path in LOG_FILES:
        data = device.read_file(path)
        if data is not None:
            chunks.append(data.decode("utf-8", "replace"))
    if not chunks:
        return None
    return "".join(chunks).splitlines()


# The firmware stamps a line with Unix seconds once its clock is set, else with "t+<s since boot>"
# (firmware/log.py). Anything below this is not a wall-clock time (a clock that never got set).
_FIRST_PLAUSIBLE = 1000000000  # 2001-09-09


def parse_line(line):
    """{"time": ISO 8601 local or None, "unix", "since_boot_s", "text"} for one log line."""
    stamp, _, text = line.partition(" ")
    entry = {"time": None, "unix": None, "since_boot_s": None, "text": text}
    if stamp.isdigit() and int(stamp) >= _FIRST_PLAUSIBLE:
        import datetime
        unix = int(stamp)
        entry["unix"] = unix
        entry["time"] = datetime.datetime.fromtimestamp(unix).astimezone().isoformat(timespec="seconds")
    elif stamp.startswith("t+") and stamp[2:].isdigit():
        entry["since_boot_s"] = int(stamp[2:])
    else:  # not a stamp this firmware writes: show the line as it is
        entry["text"] = line
    return entry


def show_line(entry):
    if entry["time"] is not None:
        return "%s %s" % (entry["time"], entry["text"])
    if entry["since_boot_s"] is not None:
        # Before the clock is set the firmware only knows the time since boot.
        return "boot+%ds (clock not set yet) %s" % (entry["since_boot_s"], entry["text"])
    return entry["text"]


def logs(device, say, lines=0, as_json=False):
    text = read_log(device)
    if text is None:
        if as_json:
            say("[]")
        else:
            say("no log on the device (%s): this firmware has written none yet" % " / ".join(reversed(LOG_FILES)))
        return 0
    entries = [parse_line(line) for line in (text[-lines:] if lines else text)]
    if as_json:
        say(json.dumps(entries, indent=1, ensure_ascii=False))
    else:
        for entry in entries:
            say(show_line(entry))
    return 0
