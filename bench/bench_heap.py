"""Benchmark the terminal's heap in real MicroPython, both ways issue 11 asks.

    .venv/bin/python bench/bench_heap.py [--sales 100]

The device files are built as a deploy builds them (tools/terminal/build.py: .mpy from mpy-cross
-O3, the font files as they are), and bench/heap_device.py boots the application from them (every
module boot.py and main.py import, the idle screen drawn on a 240x320 panel) and runs N sales in
turn paid, declined, cancelled, expired, with one supervisor refund, against an in-process fake
gateway that checks and signs every message.

(a) WebAssembly MicroPython 1.27 (32-bit, heap grows on demand): after boot and after every event
    of every sale the heap is collected and gc.mem_alloc() recorded. Printed: live after boot,
    the peak over all events of all sales, and the growth from sale 5 to sale N (both at idle).
(b) The MicroPython unix port (64-bit) with -X heapsize capped at the 64-bit equivalent of 96 KB:
    the factor is measured, not assumed (the same modules imported in both builds, retained bytes
    compared); the harness's own bytes (measured in that build) are added to the cap. The sales run with no collection forced (the collector runs when an allocation
    fails, as on a board); printed: MemoryErrors, then the largest free block after the last sale.

The last line is the summary issue 11 names.

    .venv/bin/python bench/bench_heap.py --modules

prints instead where the boot figure goes (WebAssembly): each module the terminal loads, in
dependency order, imported, dropped and imported again in one interpreter (its code: what a drop
frees; what stays: its interned names and the pool's growth), then the qstr pool after boot.
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BUDGET_SALE = 96 * 1024
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")


def device_files():
    from tools.terminal.build import build

    files = build(ROOT)
    return {path: data for path, data in files.items() if path not in ("/boot.py", "/main.py")}


def harness_mpy():
    """bench/heap_device.py compiled as the device files are (its cost is measured and left out)."""
    from tools.terminal.build import mpy_cross

    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "heap_device.mpy")
        mpy_cross(os.path.join(ROOT, "bench", "heap_device.py"), target, name="heap_device")
        with open(target, "rb") as f:
            return f.read()


def module_names(files):
    names = []
    for path in sorted(files):
        if not path.endswith(".mpy"):
            continue
        if path.startswith("/lib/"):
            names.append(path[5:-4])
        else:
            mod = path[1:-4].replace("/", ".")
            names.append(mod[:-9] if mod.endswith(".__init__") else mod)
    return names


def import_code(names):
    return "\n".join("import " + n for n in names) + "\n"


def probe_code(names):
    """Which modules import in a build (the WebAssembly one has no socket, ssl, machine...)."""
    lines = ["_ok = []"]
    for n in names:
        lines.append("try:\n    import %s\n    _ok.append(%r)\nexcept ImportError:\n    pass" % (n, n))
    lines.append("print('IMPORTABLE', ' '.join(_ok))")
    return "\n".join(lines) + "\n"


def run_wasm(files, code=None, n=0, imports=""):
    req = {"files": {p: {"b64": base64.b64encode(d).decode()} for p, d in files.items()},
           "harness": code or "", "imports": imports, "n": n}
    out = subprocess.run(["node", os.path.join(ROOT, "bench", "heap_wasm.mjs")], cwd=ROOT, input=json.dumps(req),
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "error" in result:
        raise RuntimeError(result["error"] + "\n" + result.get("output", ""))
    return result


def wasm_importable(files, names):
    from tests.mpy import MicroPython

    mp = MicroPython(timeout=300)
    try:
        enc = {p: {"b64": base64.b64encode(d).decode()} for p, d in files.items()}
        out = mp.run(probe_code(names), files=enc)
    finally:
        mp.close()
    line = [x for x in out.splitlines() if x.startswith("IMPORTABLE")][-1]
    return line.split()[1:]


class UnixPort:
    """The device files in a folder laid out as the device's flash, run by the unix port."""

    def __init__(self, files):
        self.dir = tempfile.mkdtemp(prefix="bench-heap-")
        for path, data in files.items():
            full = os.path.join(self.dir, path.lstrip("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)

    def run(self, code, heapsize=None, timeout=1800):
        script = os.path.join(self.dir, "run.py")
        with open(script, "w") as f:
            f.write(code)
        cmd = [MICROPYTHON]
        if heapsize:
            cmd += ["-X", "heapsize=%d" % heapsize]
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", os.path.join(self.dir, "lib"), self.dir]))
        out = subprocess.run(cmd + [script], cwd=self.dir, env=env, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError("micropython exited %d:\n%s%s" % (out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
        return out.stdout

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


UNIX_IMPORTS = """import gc
gc.collect()
_b0 = gc.mem_alloc()
%s
gc.collect()
print("IMPORTS", gc.mem_alloc() - _b0)
"""

UNIX_HARNESS = """import gc
gc.collect()
_h0 = gc.mem_alloc()
from heap_device import boot, sale_events, event, state, TALLY
gc.collect()
print("HARNESS", gc.mem_alloc() - _h0)
"""

UNIX_SALES = """import gc, micropython, sys
gc.collect()
_h0 = gc.mem_alloc()
from heap_device import boot, sale_events, event, state, TALLY
gc.collect()
harness = gc.mem_alloc() - _h0
errors = 0
others = []
def guarded(fn, *args):
    global errors
    try:
        return fn(*args)
    except MemoryError:
        errors += 1
        gc.collect()
    except Exception as e:  # what a MemoryError left half done; the loop's task guard restarts
        others.append(repr(e))
states = [None] * %(n)d  # made before the sales: the harness must not need the heap they fill
done = 0
try:
    app = boot(%(root)r)
except Exception as e:  # MemoryError, or the app's "hardware:" error made from one
    print("BOOT-FAILED", repr(e))
    errors += 1
    app = None
gc.collect()
print("BOOT", gc.mem_alloc() - harness)
for i in range(%(n)d if app else 0):
    ev = guarded(sale_events, i)  # the harness's own list: it too can find the heap full
    for name, arg in ev or ():
        guarded(event, app, name, arg)
    states[i] = guarded(state, app) or "?"
    done = i + 1
gc.collect()
# The report allocates nothing large: the heap may be full and in pieces after the last sale.
print("STATES", end="")
for i in range(done):
    print("", states[i], end="")
print()
print("ERRORS", errors)
print("WRONG", TALLY[2], "HELD", TALLY[1])
print("OTHERS", len(others), others[:1])
print("ALLOC", gc.mem_alloc() - harness, "FREE", gc.mem_free())
print("MEMINFO")
micropython.mem_info()
"""


# What loading a phase costs in time (unix port, uncapped): the first key at idle loads the drawing
# code (firmware/display/drawing.py) and draws the amount screen; the next key only draws; the
# OK key creates the order (answered in process) and its code is encoded with the drawing code let
# go, which loads again for the QR screen.
UNIX_TIMING = """import time
from heap_device import boot, sale_events, event
app = boot(%(root)r)
def timed(name, arg):
    t = time.ticks_us()
    event(app, name, arg)
    return time.ticks_diff(time.ticks_us(), t)
first, nxt, code = [], [], []
for i in range(%(n)d):
    ev = sale_events(i)
    ks = [k for k in range(len(ev)) if ev[k][0] == "key"]
    ok = ks[[ev[k] for k in ks].index(("key", "ok"))]
    for k in range(len(ev)):
        name, arg = ev[k]
        if k == ks[0]:
            first.append(timed(name, arg))
        elif k == ks[1]:
            nxt.append(timed(name, arg))
        elif k == ok:
            code.append(timed(name, arg))
        else:
            event(app, name, arg)
first.sort(); nxt.sort(); code.sort()
print("TIMING", first[len(first) // 2], nxt[len(nxt) // 2], code[len(code) // 2])
"""


def run_steps(files, steps):
    """Run code steps in one WebAssembly interpreter (bench/heap_steps.mjs): heap after each, collected."""
    req = {"files": {p: {"b64": base64.b64encode(d).decode()} for p, d in files.items()}, "steps": steps}
    out = subprocess.run(["node", os.path.join(ROOT, "bench", "heap_steps.mjs")], cwd=ROOT, input=json.dumps(req),
                         capture_output=True, text=True, timeout=1800)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "error" in result:
        raise RuntimeError(result["error"] + "\n" + result.get("output", ""))
    return result


def module_imports(name):
    """The device modules `name`'s source imports at module level (its load-time dependencies)."""
    import ast

    rel = "lib/%s.py" % name if "." not in name else name.replace(".", "/") + ".py"
    if not os.path.exists(os.path.join(ROOT, rel)):
        rel = name.replace(".", "/") + "/__init__.py"
    if not os.path.exists(os.path.join(ROOT, rel)):
        return []
    with open(os.path.join(ROOT, rel)) as f:
        tree = ast.parse(f.read())
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out += [node.module] + [node.module + "." + a.name for a in node.names]
    return out


def breakdown(files, names):
    """Print what each module costs on the heap, and the qstr pool after boot (WebAssembly)."""
    loaded = run_steps(files, ["from heap_device import *", "APP = boot('/flash')", "import sys\n"
                               "print('MODULES', ' '.join(sorted(sys.modules)))\nimport micropython\n"
                               "micropython.qstr_info()"])
    resident = [m for m in loaded["output"].split("MODULES")[1].split("\n")[0].split() if m in names]
    late = [m for m in ("firmware.display.ui", "firmware.display.screens", "textdraw", "fonts",
                        "firmware.display.texts", "kvfile", "firmware.sale.money", "firmware.display.screens_sale",
                        "firmware.display.screens_qr", "firmware.display.screens_refund", "qrdraw", "uqr",
                        "firmware.sale.payment", "firmware.sale.refunds", "firmware.config", "firmware.board.wiring",
                        "firmware.board.boards", "firmware.board.safemode", "firmware.assemble", "firmware.board.hw",
                        "panels") if m in names]
    order, seen = [], set()

    def visit(m):
        if m in seen or m not in names:
            return
        seen.add(m)
        for d in module_imports(m):
            visit(d)
        order.append(m)

    for m in ["late"] + resident + late:
        visit(m)
    steps = ["import late"]
    for m in order:
        unbind = "del " + m if "." not in m else "pass"
        steps += ["import " + m, "late.drop(%r)\n%s" % (m, unbind), "import " + m]
    marks = run_steps(files, steps)["marks"]
    rows = []
    for i, m in enumerate(order):
        before, _loaded, dropped, again = marks[3 * i:3 * i + 4]
        rows.append((again - dropped, dropped - before, m))
    print("Each module imported (its imports first), dropped and imported again, WebAssembly, bytes")
    print("(code: what dropping it frees; stays: its interned names, and the qstr pool's next chunk when")
    print("one came due during its import):")
    print("  %7s %7s  %s" % ("code", "stays", "module"))
    for code, stays, m in sorted(rows, reverse=True):
        print("  %7d %7d  %s%s" % (code, stays, m, "" if m in resident else "  (loaded late, dropped)"))
    print("  resident after boot: %d modules, %d B of code" % (
        len([r for r in rows if r[2] in resident]), sum(r[0] for r in rows if r[2] in resident)))
    print("  after boot (the harness's own names included), " + loaded["output"].strip().splitlines()[-1])


def smallest_cap(unix, n, cap, step=512):
    """The smallest -X heapsize (to `step` bytes) with which the same run has 0 MemoryError, and
    the two caps above it too (a fragmented heap's luck is not monotonic): what the terminal needs."""
    def clean(c):
        out = unix.run(UNIX_SALES % {"root": os.path.join(unix.dir, "flash-need"), "n": n}, heapsize=c)
        return int(out.split("ERRORS")[1].split()[0]) == 0

    lo, hi = cap, cap * 2
    while hi - lo > step:
        mid = (lo + hi) // 2
        if clean(mid) and clean(mid + step // 2) and clean(mid + step):
            hi = mid
        else:
            lo = mid
    return hi


def largest_free_block(meminfo, block_bytes):
    m = re.search(r"max free sz: (\d+)", meminfo)
    return int(m.group(1)) * block_bytes if m else None


def main(argv=None):
    from heap_device import expected

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sales", type=int, default=100)
    p.add_argument("--heapsize", type=int, help="cap of the unix-port run in bytes (default: 96 KB x the factor)")
    p.add_argument("--modules", action="store_true", help="print where the boot figure goes, module by module")
    args = p.parse_args(argv)
    n = args.sales
    files = device_files()
    names = module_names(files)
    files["/lib/heap_device.mpy"] = harness_mpy()
    if args.modules:
        breakdown(files, names)
        return 0

    # The 64-bit factor: the same modules (those the WebAssembly build can import) in both builds.
    common = wasm_importable(files, names)
    wasm = run_wasm(files, "from heap_device import *", n, import_code(common))
    for key in ("boot",):
        wasm[key] -= wasm["harness"]
    wasm["sales"] = [[m - wasm["harness"] for m in s] for s in wasm["sales"]]
    unix = UnixPort(files)
    try:
        unix_imports = int(unix.run(UNIX_IMPORTS % import_code(common)).split("IMPORTS")[1].split()[0])
        factor = unix_imports / wasm["imports"]
        # The harness is not the terminal: its own bytes are added to the cap, as they are left out in (a).
        harness64 = int(unix.run(UNIX_HARNESS).split("HARNESS")[1].split()[0])
        cap = args.heapsize or int(BUDGET_SALE * factor) + harness64
        out = unix.run(UNIX_SALES % {"root": os.path.join(unix.dir, "flash"), "n": n}, heapsize=cap)
        errors = int(out.split("ERRORS")[1].split()[0])
        needed = smallest_cap(unix, n, cap) if errors else None
        timing = unix.run(UNIX_TIMING % {"root": os.path.join(unix.dir, "flash2"), "n": min(n, 20)})
    finally:
        unix.close()

    states = out.split("STATES")[1].splitlines()[0].split()
    # A run that did not do what it says measures nothing: every sale must end as planned.
    want = [expected(i) for i in range(n)]
    wrong = [(i + 1, g, w) for i, (g, w) in enumerate(zip(wasm["states"], want)) if g != w]
    if wrong:
        raise SystemExit("bench_heap: the WebAssembly run went wrong: sale %d ended %s, not %s" % wrong[0])
    astray = [i + 1 for i, (g, w) in enumerate(zip(states, want)) if g != w]  # after a MemoryError
    sales = wasm["sales"]
    peak = max(max(s) for s in sales)
    peak_sale = max(range(n), key=lambda i: max(sales[i]))
    idle = [s[-1] for s in sales]
    growth = idle[-1] - idle[4] if n >= 5 else 0
    from tools.terminal.build import MPY_OPT

    print("Device files: %d modules as .mpy (mpy-cross %s), %d font files; %d modules import in both builds" % (
        len(names), MPY_OPT, len([x for x in files if x.endswith(".bfn")]), len(common)))
    print("(a) WebAssembly MicroPython 1.27, 32-bit, collected after every event (the harness's own %d B"
          " left out):" % wasm["harness"])
    print("  live after boot (every boot import, idle screen drawn): %d B" % wasm["boot"])
    print("  peak live during a sale: %d B (sale %d: %s)" % (peak, peak_sale + 1, wasm["states"][peak_sale]))
    print("  live at idle after sale 1 %d B, sale 5 %d B, sale %d %d B (growth 5->%d: %d B)" % (
        idle[0], idle[4], n, idle[-1], n, growth))
    print("  results: %s" % ", ".join("%s %d" % (k, wasm["states"].count(k)) for k in sorted(set(wasm["states"]))))
    print("(b) MicroPython unix port, 64-bit:")
    print("  the same %d modules retained: %d B here, %d B in WebAssembly: factor %.3f" % (
        len(common), unix_imports, wasm["imports"], factor))
    if args.heapsize:
        print("  heap capped at %d B (--heapsize), no forced collection:" % cap)
    else:
        print("  heap capped at 96 KB x %.3f + the harness's own %d B = %d B (-X heapsize=%d), no forced"
              " collection:" % (factor, harness64, cap, cap))
    if "BOOT-FAILED" in out:
        print("  boot failed: %s" % out.split("BOOT-FAILED")[1].splitlines()[0].strip())
    meminfo = out.split("MEMINFO")[1]
    block = 32 if sys.maxsize > 2 ** 32 else 16  # MICROPY_BYTES_PER_GC_BLOCK: 4 words
    largest = largest_free_block(meminfo, block)
    alloc_free = out.split("ALLOC")[1].split()
    boot64 = re.search(r"^BOOT (\d+)", out, re.M).group(1)
    print("  live after boot: %s B (the 64-bit figure%s)" % (boot64, ", a failed boot" if "BOOT-FAILED" in out else ""))
    other = out.split("OTHERS")[1].splitlines()[0].strip()
    if astray:
        print("  %d sales ended other than planned (first: sale %d)" % (len(astray), astray[0]))
    if not other.startswith("0 "):
        print("  other exceptions after a MemoryError: %s" % other)
    print("  %d sales, %d MemoryError; results: %s" % (
        len(states), errors, ", ".join("%s %d" % (k, states.count(k)) for k in sorted(set(states)))))
    print("  results shown that the gateway did not give (PAID unpaid, or paid not PAID): %s" % (
        out.split("WRONG")[1].split()[0]))
    print("  after %s (collected): %s B in use, %s B free, largest free block %s B" % (
        "sale %d" % len(states) if states else "the failed boot", alloc_free[0], alloc_free[2], largest))
    if needed:
        print("  the same run needs -X heapsize=%d for 0 MemoryError: %d B more than the cap (%d B in 32-bit"
              " at the factor)" % (needed, needed - cap, (needed - cap) / factor))
    first_us, next_us, code_us = [int(x) for x in timing.split("TIMING")[1].split()]
    print("  time, unix port uncapped (median of %d sales): first key at idle %.2f ms (drawing code loaded),"
          " next key %.2f ms, OK -> QR on the panel %.2f ms (order created in process, code encoded alone)" % (
              min(n, 20), first_us / 1000, next_us / 1000, code_us / 1000))
    print("heap: live after boot %d B, peak in sale %d B, growth %d B, capped run %d sales %d MemoryError" % (
        wasm["boot"], peak, growth, len(states), errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
