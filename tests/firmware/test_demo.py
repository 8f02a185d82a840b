"""`make demo` without a TTY: five scripted sales, one line each with its final state, exit 0."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_scripted_demo():
    out = subprocess.run([sys.executable, "-m", "tools.demo", "--scripted"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stdout + out.stderr
    finals = [line.rsplit("-> ", 1)[1] for line in out.stdout.splitlines() if line.startswith("sale ")]
    assert finals == ["PAID", "FAILED", "CANCELLED", "EXPIRED", "PAID"], out.stdout
    assert "every process stopped" in out.stdout
    engine = [line for line in out.stdout.splitlines() if line.startswith("engine: ")]
    assert engine and engine[0].startswith("engine: MicroPython 1.") and engine[0].endswith(" unix port"), out.stdout
