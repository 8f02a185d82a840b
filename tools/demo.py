"""`make demo`: run the whole system on this machine, no hardware.

This grows with the project. Today it shows the pieces that exist: the device's boot.py and main.py
run under the CPython shims, then inside the real (WebAssembly) MicroPython.
"""
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    sys.path[:0] = [os.path.join(ROOT, "lib"), ROOT]
    from tests import shims

    shims.install()
    print("demo: booting the terminal firmware under the CPython shims (boot.py, then main.py)")
    runpy.run_path(os.path.join(ROOT, "boot.py"), run_name="__main__")
    runpy.run_path(os.path.join(ROOT, "main.py"), run_name="__main__")
    print("demo: the same firmware inside the real WebAssembly MicroPython")
    from tests.mpy import MicroPython

    mp = MicroPython()
    try:
        print(mp.run("import sys\nprint('running on', sys.implementation.name)\n"
                     "import firmware.app\nfirmware.app.main()", modules=["firmware"]), end="")
    finally:
        mp.close()
    print("demo: done (the payment flow, sandbox and gateway join this demo as they land)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
