"""boot.py / main.py: safe mode skips the application, otherwise main.py starts it."""
import json
import runpy
import sys

import machine
import pytest

from tests.conftest import ROOT
from tests.shims import clock


@pytest.fixture
def device(monkeypatch, tmp_path):
    import firmware.board.safemode as safemode

    config = tmp_path / "config.json"
    monkeypatch.setattr(safemode, "CONFIG_PATH", str(config))
    monkeypatch.setattr(safemode, "check", lambda path=None, _orig=safemode.check: _orig(str(config)))
    clock.manual(0)
    return config


def boot_and_main(capsys):
    runpy.run_path(ROOT + "/boot.py", run_name="__main__")
    runpy.run_path(ROOT + "/main.py", run_name="__main__")
    return capsys.readouterr().out


def test_without_the_key_main_starts_the_application(device, capsys):
    out = boot_and_main(capsys)
    assert "application" in out and "safe mode" not in out


def test_key_held_at_boot_enters_safe_mode(device, capsys):
    machine.Pin.board.drive(0, 0)  # BOOT button held
    out = boot_and_main(capsys)
    assert "safe mode" in out
    assert "application not built" not in out


def test_safe_mode_pin_comes_from_config(device, capsys):
    device.write_text(json.dumps({"safe_mode_pin": 27}))
    machine.Pin.board.drive(0, 0)  # the default key no longer counts
    assert "safe mode" not in boot_and_main(capsys)
    machine.Pin.board.drive(27, 0)
    assert "safe mode" in boot_and_main(capsys)


def test_a_bouncing_key_is_not_a_held_key(device, capsys):
    presses = iter([0, 0, 1] + [0] * 20)  # released during the sampling window
    machine.Pin.board.source(0, lambda: next(presses))
    assert "safe mode" not in boot_and_main(capsys)


def test_broken_config_still_allows_safe_mode(device, capsys):
    device.write_text("{not json")
    machine.Pin.board.drive(0, 0)
    assert "safe mode" in boot_and_main(capsys)
