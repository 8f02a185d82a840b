"""The mip fields of the root package.json: `mpremote mip install` straight from a checkout or a URL.

package.json is also the npm manifest of the host's Node dependency (the WebAssembly MicroPython):
npm ignores "urls" and "deps", and "version" is valid semver for both, so one file serves both
tools. This module keeps "urls" equal to the device source files (boot.py, main.py, firmware/,
lib/ as sources: mip copies files, it does not compile) and "version" equal to firmware/app.py's.

    mpremote connect PORT mip install --target / ./package.json                  (from a checkout)
    mpremote connect PORT mip install --target / github:OWNER/REPO/package.json  (from the repository)
"""
import json
import os
import re

from tools.terminal import build as build_mod
from tools.terminal import errors
from tools.terminal.errors import TerminalError

PACKAGE_JSON = os.path.join(build_mod.REPO, "package.json")
MIP_DEPS = [[name, version] for name, version in sorted(build_mod.MIP_PACKAGES.items())]


def mip_fields(root=build_mod.REPO):
    return {
        "version": build_mod.read_version(root),
        "urls": [[rel, rel] for rel in build_mod.device_files(root)],
        "deps": MIP_DEPS,
    }


def updated(package):
    """package.json's dict with the mip fields refreshed; every npm field kept as it was."""
    out = dict(package)
    out.update(mip_fields())
    return out


def render(package):
    """JSON text with each [target, source] pair on one line (readable diffs when files change)."""
    text = json.dumps(package, indent=2) + "\n"
    return re.sub(r'\[\n\s+("[^"\n]*"),\n\s+("[^"\n]*")\n\s+\]', r"[\1, \2]", text)


def command(check, say, path=PACKAGE_JSON):
    with open(path, encoding="utf-8") as f:
        package = json.load(f)
    fresh = updated(package)
    if check:
        if fresh != package:
            raise TerminalError("package.json's mip file list is out of date: run "
                                "`python -m tools.terminal package-json`.", errors.GENERAL)
        say("package.json is up to date (%d files, version %s)" % (len(fresh["urls"]), fresh["version"]))
        return 0
    text = render(fresh)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    say("package.json: %d files, version %s" % (len(fresh["urls"]), fresh["version"]))
    return 0
