"""provision against the virtual terminal and a real gateway (uvicorn on a free port, real SQLite)."""
import json
import os

import pytest

from tests.terminal.conftest import SECRET, base_config, cli, device_files
from tools.terminal import provision


@pytest.fixture
def gateway(tmp_path):
    from tools.gateway.testing import running_gateway, write_config
    cfg_path = write_config(str(tmp_path / "gw"), reconciler={"probe_interval": 3600.0})
    with running_gateway(cfg_path, reconcile=False) as gw:
        gw.config_path = cfg_path
        gw.add_terminal("T1", pin="123456")
        yield gw


def write_base(tmp_path, gateway_url, **over):
    path = tmp_path / "base.json"
    path.write_text(json.dumps(base_config(gateway={"url": gateway_url}, **over)))
    return str(path)


def test_provision_writes_exactly_the_config_and_hides_the_secret(vterm, gateway, tmp_path):
    secret = gateway.secrets["T1"]
    base = write_base(tmp_path, gateway.base_url)
    r = cli("provision", "--port", vterm.port, "--config-file", base, "--terminal-id", "T1",
            "--panel", "devkit-ili9341", env={"ALIPAY_TERMINAL_SECRET": secret})
    assert r.returncode == 0, r.stderr
    assert secret not in r.stdout + r.stderr
    assert "accepts terminal T1 (signed round trip verified)" in r.stdout
    assert "read back identical" in r.stdout
    written = device_files(vterm.root)["/config.json"]
    preset = provision.presets()["devkit-ili9341"]
    expected = base_config(gateway={"url": gateway.base_url}, terminal={"id": "T1", "secret": secret},
                           board="devkit-ili9341", chip=preset["chip"], psram=preset["psram"],
                           display=preset["display"], keypad=preset["keypad"])
    assert written == provision.encode(expected)
    assert not [p for p in device_files(vterm.root) if p.endswith(".part")]
    r = cli("provision", "--port", vterm.port, "--config-file", base, "--terminal-id", "T1", "--secret", secret,
            "--show-secret", "--dry-run")
    assert r.returncode == 0 and secret in r.stdout


def test_create_registers_at_the_gateway_and_a_second_create_is_refused(vterm, gateway, tmp_path):
    base = write_base(tmp_path, gateway.base_url)
    args = ["provision", "--port", vterm.port, "--config-file", base, "--terminal-id", "T2", "--create",
            "--pin", "432100", "--gateway-config", gateway.config_path]
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert "terminal T2 registered at the gateway" in r.stdout
    cfg = json.loads(device_files(vterm.root)["/config.json"])
    assert cfg["terminal"]["id"] == "T2" and cfg["terminal"]["secret"] not in r.stdout
    assert gateway.store.terminal("T2") is not None
    before = device_files(vterm.root)["/config.json"]
    r = cli(*args)
    assert r.returncode == 7
    assert r.stderr == "error: The gateway refused to register terminal T2: terminal T2 already exists (ids are never reused).\n"
    assert device_files(vterm.root)["/config.json"] == before


@pytest.mark.parametrize("terminal_id,secret,code", [
    ("T9", SECRET, "UNAUTHORIZED"),   # unknown and badly signed look alike (no enumeration)
    ("T1", SECRET, "UNAUTHORIZED"),
])
def test_gateway_refusing_the_terminal_writes_nothing(vterm, gateway, tmp_path, terminal_id, secret, code):
    base = write_base(tmp_path, gateway.base_url)
    r = cli("provision", "--port", vterm.port, "--config-file", base, "--terminal-id", terminal_id,
            "--secret", secret)
    assert r.returncode == 7
    assert r.stderr.startswith("error: The gateway at %s refuses terminal %s (%s)" % (gateway.base_url, terminal_id, code))
    assert "/config.json" not in device_files(vterm.root)


def test_revoked_terminal_is_refused(vterm, gateway, tmp_path):
    gateway.store.revoke_terminal("T1")
    base = write_base(tmp_path, gateway.base_url)
    r = cli("provision", "--port", vterm.port, "--config-file", base, "--terminal-id", "T1",
            "--secret", gateway.secrets["T1"])
    assert r.returncode == 7 and "(UNAUTHORIZED)" in r.stderr


def test_invalid_config_lists_every_problem_and_writes_nothing(vterm, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"wifi": {}, "gateway": {"url": "ftp://x"}, "currency": "usd"}))
    r = cli("provision", "--port", vterm.port, "--config-file", str(path), "--terminal-id", "T1",
            "--secret", SECRET, "--no-gateway-check")
    assert r.returncode == 6
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    for problem in ("wifi.ssid: missing", "gateway.url: must start with https:// or http://", "merchant: missing",
                    "currency: must be a 3-letter ISO 4217 code"):
        assert problem in r.stderr
    assert device_files(vterm.root) == {}


def test_create_is_not_attempted_for_an_invalid_config(vterm, gateway, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(base_config(currency="dollars")))
    r = cli("provision", "--port", vterm.port, "--config-file", str(path), "--terminal-id", "T3", "--create",
            "--pin", "123456", "--gateway-config", gateway.config_path)
    assert r.returncode == 6
    assert gateway.store.terminal("T3") is None  # the id was not spent on a config that cannot work


def test_full_filesystem_keeps_the_old_config(make_vterm, tmp_path):
    vt = make_vterm(size_limit=3 * 4096)
    base = write_base(tmp_path, "http://127.0.0.1:9")
    ok = cli("provision", "--port", vt.port, "--config-file", base, "--terminal-id", "T1", "--secret", SECRET,
             "--no-gateway-check")
    assert ok.returncode == 0, ok.stderr
    old = device_files(vt.root)["/config.json"]
    with open(os.path.join(vt.root, "filler.bin"), "wb") as f:
        f.write(b"f" * 8000)  # two of the three blocks: no room for the new file beside the old
    r = cli("provision", "--port", vt.port, "--config-file", base, "--terminal-id", "T7", "--secret", SECRET,
            "--no-gateway-check")
    assert r.returncode == 5
    assert r.stderr.startswith("error: The terminal's filesystem is full")
    files = device_files(vt.root)
    assert files["/config.json"] == old
    assert sorted(files) == ["/config.json", "/filler.bin"]


def test_device_rejecting_the_config_is_reported(vterm, tmp_path):
    """The deployed firmware's validator has the last word (here: an older firmware stand-in)."""
    os.makedirs(os.path.join(vterm.root, "firmware"))
    with open(os.path.join(vterm.root, "firmware", "__init__.py"), "w"):
        pass
    with open(os.path.join(vterm.root, "firmware", "config.py"), "w") as f:
        f.write("class ConfigError(Exception):\n    pass\n"
                "def load(path):\n    raise ConfigError('display.panel: unknown panel')\n")
    base = write_base(tmp_path, "http://127.0.0.1:9")
    r = cli("provision", "--port", vterm.port, "--config-file", base, "--terminal-id", "T1", "--secret", SECRET,
            "--no-gateway-check")
    assert r.returncode == 6
    assert "firmware rejects the new config (display.panel: unknown panel)" in r.stderr
    files = device_files(vterm.root)
    assert "/config.json" not in files and not [p for p in files if p.endswith(".part")]
