"""Fixtures for the technician tool's tests: a virtual terminal per test, and the real CLI."""
import os
import subprocess
import sys

import pytest

from tools.vterm import VirtualTerminal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "5e" * 32


@pytest.fixture(scope="session")
def checkout(tmp_path_factory):
    """A snapshot of the device files: other work may change the live tree while the tests run."""
    import shutil
    root = tmp_path_factory.mktemp("checkout")
    for name in ("boot.py", "main.py", "package.json"):
        shutil.copy(os.path.join(ROOT, name), str(root / name))
    for folder in ("firmware", "lib"):
        shutil.copytree(os.path.join(ROOT, folder), str(root / folder),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return str(root)


@pytest.fixture
def vterm(tmp_path):
    """A running virtual terminal; its filesystem is the host folder `vterm.root`."""
    vt = VirtualTerminal(str(tmp_path / "device")).start()
    yield vt
    vt.stop()


@pytest.fixture(scope="session")
def deployed_image(tmp_path_factory, checkout):
    """A device filesystem with the firmware deployed once per session, to copy into tests."""
    root = str(tmp_path_factory.mktemp("deployed") / "device")
    vt = VirtualTerminal(root).start()
    try:
        r = cli("deploy", "--checkout", checkout, "--port", vt.port, "--no-mip")
        assert r.returncode == 0, r.stderr
    finally:
        vt.stop()
    return root


@pytest.fixture
def deployed(tmp_path, deployed_image):
    """A running virtual terminal that already holds the deployed firmware."""
    import shutil
    shutil.copytree(deployed_image, str(tmp_path / "device"))
    vt = VirtualTerminal(str(tmp_path / "device")).start()
    yield vt
    vt.stop()


@pytest.fixture
def make_vterm(tmp_path):
    """Start virtual terminals with options (size_limit=...)."""
    started = []

    def make(name="device", **kw):
        vt = VirtualTerminal(str(tmp_path / name), **kw).start()
        started.append(vt)
        return vt

    yield make
    for vt in started:
        vt.stop()


def cli(*args, timeout=120, env=None):
    """Run `python -m tools.terminal ARGS` as the technician would; returns CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "tools.terminal", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, **(env or {})))


def mpremote(port, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def device_files(root):
    """{device path: bytes} of every file in a virtual terminal's host folder."""
    out = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            with open(full, "rb") as f:
                out["/" + os.path.relpath(full, root).replace(os.sep, "/")] = f.read()
    return out


def base_config(**over):
    cfg = {"wifi": {"ssid": "shop", "password": "pw"}, "gateway": {"url": "http://127.0.0.1:9"},
           "merchant": {"name": "Corner Cafe"}, "currency": "USD"}
    cfg.update(over)
    return cfg
