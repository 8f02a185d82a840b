"""Run a script in the real MicroPython unix port (.venv/bin/micropython) with the device's path
(firmware/, lib/, the frozen micropython-lib) and, optionally, a clock that reads 2000-01-01."""
import json
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
HERE = os.path.dirname(os.path.abspath(__file__))
Y2000 = 946684800


def run(script, tmp, env=None, clock_at=None, timeout=120, heap="2M"):
    """Run `script` (source text); returns the JSON objects it printed, one per line.
    clock_at: Unix seconds the process's clock (and mbedTLS's) starts at, via libfaketime."""
    path = os.path.join(str(tmp), "script.py")
    with open(path, "w") as f:
        f.write(script)
    e = dict(os.environ)
    e["MICROPYPATH"] = ":".join((HERE, ROOT, os.path.join(ROOT, "lib"), ".frozen"))
    if clock_at is not None:
        if not os.path.exists(LIBFAKETIME):
            raise RuntimeError("libfaketime is missing: run `make setup` (tools/setup.sh installs faketime)")
        offset = int(clock_at - time.time())
        stamp = os.path.join(str(tmp), "faketime")
        with open(stamp, "w") as f:
            f.write("%+d\n" % offset)
        e.update(LD_PRELOAD=LIBFAKETIME, FAKETIME_TIMESTAMP_FILE=stamp, FAKETIME_NO_CACHE="1",
                 FAKETIME_DONT_FAKE_MONOTONIC="1", LINK_FAKE_OFFSET=str(offset))
    e.update(env or {})
    proc = subprocess.run([MICROPYTHON, "-X", "heapsize=" + heap, path], env=e, capture_output=True, text=True,
                          timeout=timeout, cwd=str(tmp))
    out = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    if proc.returncode != 0:
        raise AssertionError("micropython exited %d\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                              proc.stderr[-3000:]))
    return out
