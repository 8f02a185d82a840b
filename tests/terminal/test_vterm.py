"""The virtual terminal behaves like a board to the unmodified mpremote."""
import os

from tests.terminal.conftest import mpremote


def test_mpremote_runs_code_in_micropython(vterm):
    r = mpremote(vterm.port, "exec", "import sys; print(sys.implementation.name, 6 * 7)")
    assert r.returncode == 0, r.stderr
    assert "micropython 42" in r.stdout


def test_files_copied_with_mpremote_land_in_the_host_folder_and_survive_soft_reset(vterm, tmp_path):
    src = tmp_path / "hello.py"
    src.write_bytes(b"X = 'hello from flash'\n" * 200)  # > one raw-paste window and one write chunk
    r = mpremote(vterm.port, "fs", "mkdir", ":app", "+", "fs", "cp", str(src), ":app/hello.py")
    assert r.returncode == 0, r.stderr
    with open(os.path.join(vterm.root, "app", "hello.py"), "rb") as f:
        assert f.read() == src.read_bytes()
    # a new connection soft-resets the device: a fresh interpreter, the same files
    r = mpremote(vterm.port, "exec", "import app.hello; print(app.hello.X, 'x' in globals())")
    assert r.returncode == 0, r.stderr
    assert "hello from flash False" in r.stdout


def test_soft_reset_gives_a_fresh_interpreter(vterm):
    r = mpremote(vterm.port, "exec", "marker = 1", "+", "soft-reset", "+", "exec", "print('marker' in globals())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("False")


def test_power_cut_keeps_the_filesystem(vterm):
    assert mpremote(vterm.port, "exec", "open('/kept.txt','w').write('still here')").returncode == 0
    vterm.power_cut()
    r = mpremote(vterm.port, "exec", "print(open('/kept.txt').read())")
    assert r.returncode == 0, r.stderr
    assert "still here" in r.stdout


def test_missing_file_errors_use_micropython_numbers(vterm):
    r = mpremote(vterm.port, "exec", "import errno\ntry:\n open('/nope')\nexcept OSError as e:\n print(e.errno == errno.ENOENT, e)")
    assert "True [Errno 2] ENOENT" in r.stdout
    r = mpremote(vterm.port, "fs", "cat", ":nope.txt")
    assert r.returncode != 0
    assert "No such file" in r.stdout + r.stderr


def test_size_limit_gives_enospc_and_keeps_the_rest(make_vterm):
    vt = make_vterm(size_limit=16 * 1024)
    r = mpremote(vt.port, "exec",
                 "f=open('/big','wb')\ntry:\n for i in range(40):\n  f.write(b'x'*1024)\nexcept OSError as e:\n print('ERR', e.errno)\nf.close()\nimport os\nprint(os.stat('/big')[6], os.statvfs('/')[3])")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert lines[:2] == ["ERR", "28"]
    assert int(lines[2]) == 16 * 1024 and int(lines[3]) == 0
