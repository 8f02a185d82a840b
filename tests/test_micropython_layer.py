"""The real-MicroPython layer is real, catches MicroPython-only failures and measures allocation."""
import pytest

from tests.mpy import MicroPythonError

pytestmark = pytest.mark.micropython


def test_runs_inside_real_micropython(micropython):
    out = micropython.run("import sys\nprint(sys.implementation.name, sys.implementation.version[:2])")
    name, _version = out.split(" ", 1)
    assert name == "micropython"


def test_device_modules_are_loaded_where_the_device_has_them(micropython):
    out = micropython.run(
        "import sys\nimport firmware.board.safemode as s\nprint(s.DEFAULT_KEY, '/lib' in sys.path)",
        modules=["firmware/board/safemode.py", "firmware/__init__.py"],
    )
    assert out.split() == ["D", "True"]


def test_catches_a_micropython_only_failure(micropython):
    # Valid on CPython, wrong on MicroPython: its `re` has no \Z anchor and no counted repeats.
    # This is the kind of failure the layer exists to catch.
    snippet = (
        "import re\n"
        "assert re.match(r'^\\d+\\Z', '123') is not None, 'no \\\\Z anchor'\n"
        "assert re.match(r'^a{2}$', 'aa') is not None, 'no counted repeats'\n"
    )
    exec(snippet, {})  # CPython is happy
    with pytest.raises(MicroPythonError) as err:
        micropython.run(snippet)
    assert "AssertionError" in err.value.traceback


def test_traceback_names_the_failing_line(micropython):
    with pytest.raises(MicroPythonError) as err:
        micropython.run("x = 1\ny = x / 0\n")
    assert "line 2" in err.value.traceback and "ZeroDivisionError" in err.value.traceback


def test_alloc_measures_bytes_allocated(micropython):
    small = micropython.alloc("b = bytearray(16)")
    large = micropython.alloc("b = bytearray(4096)")
    nothing = micropython.alloc("x = 1 + 2")
    assert nothing == 0
    assert 16 <= small < 64
    assert 4096 <= large < 4096 + 64


def test_run_tests_runs_a_micropython_test_module(micropython, tmp_path):
    names = micropython.run_tests("tests/device/test_safemode_device.py",
                                  modules=["firmware/__init__.py", "firmware/board/__init__.py",
                                           "firmware/board/safemode.py", "firmware/board/boards.py"])
    assert "test_default_wiring_without_config" in names and "test_broken_config_keeps_the_default" in names


def test_run_tests_reports_failures(micropython, tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text("def test_good():\n    pass\n\ndef test_bad():\n    assert 1 == 2, 'arithmetic'\n")
    with pytest.raises(MicroPythonError) as err:
        micropython.run_tests(str(bad))
    assert "test_bad" in str(err.value) and "AssertionError" in err.value.stdout
