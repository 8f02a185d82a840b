"""deploy against the virtual terminal with the real mpremote transport: fresh, unchanged, changed,
interrupted (host killed, device power-cut) and resumed, full filesystem."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.terminal.conftest import ROOT, cli, device_files, mpremote
from tools.terminal import build, deploy
from tools.terminal.device import Device


def built(checkout):
    return build.build(checkout)


def assert_matches_build(files, expected):
    for path, data in expected.items():
        assert files.get(path) == data, "%s differs from the build" % path


def test_fresh_deploy_installs_every_file_and_a_manifest(vterm, checkout):
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--no-mip")
    assert r.returncode == 0, r.stderr
    expected = built(checkout)
    files = device_files(vterm.root)
    assert_matches_build(files, expected)
    manifest = json.loads(files["/manifest.json"])
    assert manifest["complete"] is True
    assert manifest["version"] == build.read_version(checkout)
    assert manifest["files"] == {p: hashlib.sha256(d).hexdigest() for p, d in expected.items()}
    assert manifest["packages"] == {"requests": "missing"}
    assert "SKIPPED: mip install requests (--no-mip)" in r.stdout
    assert "copied %d, unchanged 0" % len(expected) in r.stdout
    # boot.py and main.py stay source; the rest is compiled bytecode MicroPython imports
    assert files["/main.py"].startswith(b"#") and files["/firmware/config.mpy"][:1] == b"M"
    r = mpremote(vterm.port, "exec", "from firmware import config; print(config.CONFIG_PATH)")
    assert r.returncode == 0 and "/config.json" in r.stdout, r.stderr


def test_second_deploy_copies_nothing(deployed, checkout):
    vterm = deployed
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--no-mip")
    assert r.returncode == 0, r.stderr
    assert "copied 0, unchanged %d, deleted 0" % len(built(checkout)) in r.stdout
    assert "manifest unchanged" in r.stdout  # nothing at all was written to flash


def test_changed_file_is_the_only_one_copied_and_stale_files_go(vterm, tmp_path, checkout):
    src = tmp_path / "src"
    shutil.copytree(checkout, str(src))
    log = []
    with Device.open(vterm.port) as dev:
        deploy.deploy(dev, log.append, root=str(src), mip=False)
    # a source .py left next to a module now deployed compiled would shadow it at import
    with open(os.path.join(vterm.root, "firmware", "sale", "money.py"), "w") as f:
        f.write("raise ImportError('stale source')\n")
    with open(src / "firmware" / "sale" / "money.py", "a") as f:
        f.write("\nCHANGED = 1\n")
    os.remove(src / "lib" / "textdraw.py")
    log = []
    with Device.open(vterm.port) as dev:
        result = deploy.deploy(dev, log.append, root=str(src), mip=False)
    assert result["copied"] == ["/firmware/sale/money.mpy"]
    assert sorted(result["deleted"]) == ["/firmware/sale/money.py", "/lib/textdraw.mpy"]
    files = device_files(vterm.root)
    assert "/lib/textdraw.mpy" not in files and "/firmware/sale/money.py" not in files
    assert "/lib/textdraw.mpy" not in json.loads(files["/manifest.json"])["files"]


def _deploy_in_background(port, checkout):
    return subprocess.Popen([sys.executable, "-m", "tools.terminal", "deploy", "--checkout", checkout, "--port", port,
                             "--no-mip"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_copies(proc, count, timeout=60):
    """Read the deploy's progress until `count` files are copied; returns the lines seen."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("[%d/" % count):
            return lines
    raise AssertionError("deploy never reached file %d: %s" % (count, "".join(lines)))


def _check_nothing_torn(root, expected):
    """Every file under its final name is complete: either the new build's bytes or absent."""
    files = device_files(root)
    for path, data in files.items():
        if path in expected:
            assert data == expected[path], "%s is torn" % path
    return files


@pytest.mark.parametrize("cut", ["host-killed", "power-cut"])
def test_interrupted_deploy_leaves_nothing_torn_and_resumes(vterm, cut, checkout):
    expected = built(checkout)
    proc = _deploy_in_background(vterm.port, checkout)
    try:
        _wait_for_copies(proc, 5)
        time.sleep(0.05)  # somewhere inside the next file's transfer
        if cut == "host-killed":
            proc.send_signal(signal.SIGKILL)  # laptop crashed / cable pulled on the host side
        else:
            vterm.power_cut()  # the terminal lost power mid-write
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode != 0
    _check_nothing_torn(vterm.root, expected)  # at the moment of the cut
    # A new connection first: the device finishes (or is interrupted in) what it had received.
    r = cli("status", "--port", vterm.port)
    assert "INCOMPLETE" in r.stdout, r.stdout + r.stderr
    files = _check_nothing_torn(vterm.root, expected)
    assert json.loads(files["/manifest.json"])["complete"] is False
    done_before = sum(1 for p in expected if files.get(p) == expected[p])
    assert 5 <= done_before < len(expected)

    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--no-mip")
    assert r.returncode == 0, r.stderr
    assert "copied %d, unchanged %d" % (len(expected) - done_before, done_before) in r.stdout
    files = device_files(vterm.root)
    assert_matches_build(files, expected)
    assert not [p for p in files if p.endswith(".part")]
    assert json.loads(files["/manifest.json"])["complete"] is True


def test_full_filesystem_is_one_sentence_and_nothing_half_written(make_vterm, checkout):
    vt = make_vterm(size_limit=40 * 1024)
    r = cli("deploy", "--checkout", checkout, "--port", vt.port, "--no-mip")
    assert r.returncode == 5
    assert r.stderr.startswith("error: The terminal's filesystem is full") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr + r.stdout
    files = device_files(vt.root)
    assert not [p for p in files if p.endswith(".part") or p.endswith(".mpy") or p.endswith(".py")]


def test_filesystem_filling_up_during_a_write_removes_the_partial_file(make_vterm):
    """The up-front space check can be wrong (other files grow): a write that hits ENOSPC is undone."""
    vt = make_vterm(size_limit=12 * 1024)
    with Device.open(vt.port) as dev:
        dev.write_file("/small.bin", b"s" * 1000)
        from tools.terminal.errors import TerminalError
        with pytest.raises(TerminalError) as e:
            dev.write_file("/big.bin", os.urandom(20000))
        assert e.value.code == 5
    files = device_files(vt.root)
    assert files == {"/small.bin": b"s" * 1000}


def test_deploy_after_verify_found_a_damaged_file_ends_complete(deployed, checkout):
    """The technician's path: `status --verify` names a damaged file, `deploy` recopies it. The
    manifest must end `complete: true` (the final write was once skipped because the new manifest
    equalled the one read before the incomplete marker), and `status --verify` must then pass."""
    vterm = deployed
    with open(os.path.join(vterm.root, "firmware", "sale", "flow.mpy"), "ab") as f:
        f.write(b"\0")
    r = cli("status", "--port", vterm.port, "--verify")
    assert r.returncode != 0 and "/firmware/sale/flow.mpy" in r.stdout, r.stdout + r.stderr
    r = cli("deploy", "--checkout", checkout, "--port", vterm.port, "--no-mip")
    assert r.returncode == 0, r.stderr
    assert "copied 1," in r.stdout and "deploy complete" in r.stdout
    files = device_files(vterm.root)
    assert json.loads(files["/manifest.json"])["complete"] is True
    assert_matches_build(files, built(checkout))
    r = cli("status", "--port", vterm.port, "--verify")
    assert r.returncode == 0 and "deploy complete" in r.stdout and "files match the manifest" in r.stdout, r.stdout
