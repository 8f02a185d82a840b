"""Packaging: package.json's mip fields (a real `mpremote mip install` from the checkout into the
virtual terminal), deploy's mip step against a local package index, and the freeze manifest."""
import hashlib
import http.server
import json
import os
import threading

import pytest

from tests.terminal.conftest import ROOT, cli, device_files, mpremote
from tools.terminal import build, packaging

STAND_IN = b"# a stand-in for micropython-lib's requests, served by a local index\nSTAND_IN = True\n"


@pytest.fixture
def mip_index(tmp_path):
    """A mip package index (micropython.org/pi/v2 layout) on 127.0.0.1 serving `requests`."""
    root = tmp_path / "index"
    digest = hashlib.sha256(STAND_IN).hexdigest()[:8]
    (root / "file" / digest[:2]).mkdir(parents=True)
    (root / "file" / digest[:2] / digest).write_bytes(STAND_IN)
    (root / "package" / "6" / "requests").mkdir(parents=True)
    # Only the pinned version is served: deploy must ask for it, not for "latest".
    (root / "package" / "6" / "requests" / "0.10.2.json").write_text(
        json.dumps({"hashes": [["requests/__init__.py", digest]], "version": "0.10.2"}))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_package_json_lists_every_device_file_and_keeps_npm_fields():
    with open(os.path.join(ROOT, "package.json")) as f:
        package = json.load(f)
    assert package == packaging.updated(package), (
        "package.json is out of date with the device files: run `python -m tools.terminal package-json`")
    assert [u[0] for u in package["urls"]] == build.device_files()
    assert package["version"] == build.read_version()
    assert package["dependencies"] == {"@micropython/micropython-webassembly-pyscript": "1.27.0"}
    with open(os.path.join(ROOT, "package-lock.json")) as f:
        lock = json.load(f)
    assert lock["packages"][""]["dependencies"] == package["dependencies"]  # `npm ci` stays in step


def test_package_json_check_command(tmp_path):
    r = cli("package-json", "--check")
    assert r.returncode == 0, r.stderr
    stale = tmp_path / "package.json"
    with open(os.path.join(ROOT, "package.json")) as f:
        package = json.load(f)
    package["urls"] = package["urls"][:-1]
    stale.write_text(json.dumps(package))
    from tools.terminal.errors import TerminalError
    with pytest.raises(TerminalError):
        packaging.command(True, print, path=str(stale))
    packaging.command(False, print, path=str(stale))
    assert json.loads(stale.read_text()) == packaging.updated(package)


def test_mpremote_mip_installs_the_firmware_from_the_checkout(vterm, mip_index, checkout):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "mpremote", "connect", vterm.port, "mip", "install", "--target", "/",
                        "--index", mip_index, "./package.json"], cwd=checkout, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    files = device_files(vterm.root)
    with open(os.path.join(checkout, "package.json")) as f:
        urls = json.load(f)["urls"]
    assert urls
    for target, source in urls:
        with open(os.path.join(checkout, source), "rb") as f:
            assert files["/" + target] == f.read(), target
    assert files["/requests/__init__.py"] == STAND_IN  # the dependency, from the index
    r = mpremote(vterm.port, "exec", "from firmware import config; import uqr; print(uqr.make('HI').width())")
    assert r.returncode == 0 and r.stdout.strip() == "21", r.stderr


def test_deploy_installs_missing_packages_with_mip(deployed, mip_index, checkout):
    vterm = deployed
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--mip-index", mip_index)
    assert r.returncode == 0, r.stderr
    assert "package requests: installing with mip from %s" % mip_index in r.stdout
    files = device_files(vterm.root)
    assert files["/lib/requests/__init__.py"] == STAND_IN
    assert json.loads(files["/manifest.json"])["packages"] == {"requests": "installed"}
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--mip-index", mip_index)
    assert "package requests: already on the device" in r.stdout
    assert json.loads(device_files(vterm.root)["/manifest.json"])["packages"] == {"requests": "present"}


def test_deploy_without_a_reachable_index_says_so(vterm, checkout):
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--mip-index", "http://127.0.0.1:9")
    assert r.returncode == 9
    assert r.stderr.startswith("error: Cannot install requests with mip from http://127.0.0.1:9")
    assert "pass --no-mip to deploy without it." in r.stderr and r.stderr.count("\n") == 1
    assert json.loads(device_files(vterm.root)["/manifest.json"])["complete"] is False


def test_frozen_deploy_keeps_only_the_entry_files_fonts_and_words(deployed, checkout):
    vterm = deployed
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--no-mip", "--frozen")
    assert r.returncode == 0, r.stderr
    files = device_files(vterm.root)
    modules = [p for p in files if p.startswith("/firmware/") or p.startswith("/lib/")]
    assert sorted(modules) == ["/firmware/display/reasons.txt", "/firmware/display/texts_en.txt",
                               "/firmware/display/texts_zh_hans.txt", "/firmware/display/texts_zh_hant.txt",
                               "/lib/font_large.bfn", "/lib/font_medium.bfn", "/lib/font_small.bfn"]
    assert "/boot.py" in files and "/main.py" in files
    assert json.loads(files["/manifest.json"])["frozen"] is True


def test_freeze_manifest_covers_every_device_module():
    calls = []
    env = {
        "include": lambda path, **kw: calls.append(("include", path)),
        "package": lambda name, **kw: calls.append(("package", name, kw.get("base_path", "."))),
        "module": lambda name, **kw: calls.append(("module", name, kw.get("base_path", "."))),
        "metadata": lambda **kw: calls.append(("metadata", kw.get("version"))),
        "require": lambda name, **kw: calls.append(("require", name)),
    }
    with open(os.path.join(ROOT, "manifest.py")) as f:
        exec(compile(f.read(), "manifest.py", "exec"), env)
    assert ("include", "$(PORT_DIR)/boards/manifest.py") in calls
    assert ("metadata", build.read_version()) in calls and ("require", "requests") in calls
    frozen = set()
    for call in calls:
        if call[0] == "package":
            for rel in build.source_files():
                if rel.startswith(call[1] + "/"):
                    frozen.add(rel)
        elif call[0] == "module":
            rel = os.path.join(call[2], call[1]).replace(os.sep, "/")
            assert os.path.exists(os.path.join(ROOT, rel)), rel
            frozen.add(rel)
    expected = [rel for rel in build.source_files() if rel not in build.ENTRY_FILES]
    assert sorted(frozen) == sorted(expected), "manifest.py must freeze exactly firmware/ and lib/"
