"""status and logs: what is on the terminal, read without changing anything.

status: firmware version and deploy state (/manifest.json), the config summary (never the secret)
with the firmware's own validation verdict, the journal (order counter, open sale, recent paid
sales), MicroPython version, free heap and free flash.

logs: the device's log ring buffer. Convention (docs/technician.md): the firmware appends lines to
/log.txt and, when it passes its size cap, renames it to /log.txt.1 (replacing the older one), so
at most two files exist and a power cut loses at most the line being written. Printed oldest first.
"""
import json

from tools.terminal import deploy as deploy_mod
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


def status(device, say, verify=False):
    info = device.run_json(
        "import sys,gc,os,json\ngc.collect()\n"
        "try:\n s=os.statvfs('/')\n fr=s[0]*s[3]\nexcept Exception:\n fr=None\n"
        "print(json.dumps({'mpy':'%d.%d.%d' % sys.implementation.version[:3],'machine':"
        "getattr(sys.implementation,'_machine',sys.platform),'heap_free':gc.mem_free(),'flash_free':fr}))")
    say("device:    MicroPython %s on %s; free heap %s bytes; free flash %s" % (
        info["mpy"], info["machine"], info["heap_free"],
        "%d KB" % (info["flash_free"] // 1024) if info["flash_free"] is not None else "unknown"))

    manifest = deploy_mod.read_manifest(device)
    if manifest is None:
        say("firmware:  not deployed (no %s): run deploy" % deploy_mod.MANIFEST_PATH)
    else:
        state = "complete" if manifest.get("complete") else "INCOMPLETE (a deploy was interrupted: run deploy again)"
        packages = ", ".join("%s %s" % kv for kv in sorted((manifest.get("packages") or {}).items())) or "none"
        say("firmware:  version %s, deploy %s, %d files, packages: %s" % (
            manifest.get("version"), state, len(manifest.get("files") or {}), packages))
        if verify and manifest.get("files"):
            wanted = manifest["files"]
            have = device.hashes(sorted(wanted))
            bad = sorted(p for p in wanted if have.get(p) != wanted[p])
            say("verify:    %s" % ("all %d files match the manifest" % len(wanted) if not bad else
                                   "%d files differ or are missing: %s (run deploy)" % (len(bad), ", ".join(bad))))

    cfg, problem = _json_file(device, CONFIG_PATH)
    if cfg is None:
        say("config:    %s %s: run provision" % (CONFIG_PATH, problem))
    else:
        from firmware import config as fc
        try:
            fc.validate(cfg)
            verdict = "valid"
        except fc.ConfigError as e:
            verdict = "INVALID: " + "; ".join(e.problems)
        say("config:    %s" % verdict)
        for line in summary(cfg).splitlines():
            say("  " + line)

    journal, problem = _json_file(device, JOURNAL_PATH)
    if journal is None:
        say("journal:   %s (no sale yet)" % problem if problem == "missing" else "journal:   " + problem)
    else:
        sale = journal.get("sale")
        open_sale = "none" if not sale else "%s %s %s (%s)" % (
            sale.get("order_id"), sale.get("amount"), sale.get("currency"), sale.get("state"))
        say("journal:   next order %s-%s%s, open sale: %s, recent paid: %d" % (
            ((cfg or {}).get("terminal") or {}).get("id", "?"), journal.get("series"), journal.get("next"),
            open_sale, len(journal.get("recent") or [])))
    return 0


def logs(device, say, lines=0):
    chunks = []
    for path in LOG_FILES:
        data = device.read_file(path)
        if data is not None:
            chunks.append(data.decode("utf-8", "replace"))
    if not chunks:
        say("no log on the device (%s): this firmware has written none yet" % " / ".join(reversed(LOG_FILES)))
        return 0
    text = "".join(chunks).splitlines()
    for line in text[-lines:] if lines else text:
        say(line)
    return 0
