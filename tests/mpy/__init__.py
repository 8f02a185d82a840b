"""The real-MicroPython test layer: device modules run inside the official WebAssembly MicroPython.

`MicroPython` starts Node once (tests/mpy/runner.mjs) and sends it requests; each request runs in a
fresh interpreter with the chosen device files written into its filesystem the way they sit on the
device (`lib/x.py` -> `/lib/x.py`, `firmware/y.py` -> `/firmware/y.py`).

    mp.run("import uqr; print(uqr.make('HI').width())", modules=["lib/uqr.py"])  -> "21\\n"
    mp.alloc("uqr.make(URL)", setup="import uqr", modules=[...])                -> bytes allocated
    mp.run_tests("tests/device/test_x.py", modules=[...])                        -> names passed

A Python exception inside MicroPython raises `MicroPythonError` carrying MicroPython's traceback.
"""
import base64
import json
import os
import subprocess
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "tests", "mpy", "runner.mjs")


class MicroPythonError(AssertionError):
    """Code inside MicroPython raised; `traceback` is MicroPython's own."""

    def __init__(self, traceback, stdout=""):
        self.traceback = traceback
        self.stdout = stdout
        super().__init__("MicroPython raised:\n" + traceback + ("\n--- output ---\n" + stdout if stdout else ""))


def device_path(repo_path):
    """Where a repository file sits on the device."""
    repo_path = repo_path.replace(os.sep, "/")
    if repo_path.startswith("lib/"):
        return "/lib/" + repo_path[4:]
    return "/" + repo_path


# Device data files that are not source, read from flash on demand: the fonts (lib/font_*.bfn) and
# the word catalogues (firmware/display/*.txt).
DATA_SUFFIXES = (".bfn", ".txt")


def collect_files(modules):
    """Map repository paths (files or folders) to {device path: text, or {"b64": ...} for a data
    file}. A folder brings its .py files and its data files."""
    files = {}
    for item in modules:
        full = os.path.join(ROOT, item)
        if os.path.isdir(full):
            for folder, _dirs, names in os.walk(full):
                for name in sorted(names):
                    if name.endswith(".py") or name.endswith(DATA_SUFFIXES):
                        rel = os.path.relpath(os.path.join(folder, name), ROOT)
                        files[device_path(rel)] = _read(os.path.join(folder, name))
        else:
            files[device_path(item)] = _read(full)
    return files


def _read(path):
    if path.endswith(DATA_SUFFIXES):
        with open(path, "rb") as f:
            return {"b64": base64.b64encode(f.read()).decode()}
    with open(path, encoding="utf-8") as f:
        return f.read()


_TEST_DRIVER = '''
import sys
_passed = []
_failed = []
for _name in sorted(k for k in globals() if k.startswith("test_")):
    try:
        globals()[_name]()
        _passed.append(_name)
    except Exception as _e:
        print("FAIL", _name)
        sys.print_exception(_e)
        _failed.append(_name)
print("MPY-TESTS", " ".join(_passed), "|", " ".join(_failed))
'''


class MicroPython:
    def __init__(self, timeout=120):
        self.timeout = timeout
        self._proc = None
        self._lock = threading.Lock()
        self._next_id = 0

    # --- process ---------------------------------------------------------------------------
    def _start(self):
        self._proc = subprocess.Popen(
            ["node", RUNNER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1,
        )

    def close(self):
        if self._proc is not None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

    def _request(self, code, files, heapsize):
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            self._next_id += 1
            req = {"id": self._next_id, "files": files, "code": code, "heapsize": heapsize}
            self._proc.stdin.write(json.dumps(req) + "\n")
            self._proc.stdin.flush()
            line = _readline_with_timeout(self._proc, self.timeout)
            if not line:
                err = self._proc.stderr.read() if self._proc.poll() is not None else ""
                self._proc.kill()
                self._proc = None
                raise RuntimeError("the MicroPython runner stopped answering\n" + err)
            return json.loads(line)

    # --- API -------------------------------------------------------------------------------
    def run(self, code, modules=(), files=None, heapsize=None):
        """Run `code` with the given device files loaded; return what it printed."""
        all_files = collect_files(modules)
        all_files.update(files or {})
        answer = self._request(code, all_files, heapsize)
        if not answer["ok"]:
            raise MicroPythonError(answer["error"], answer["stdout"])
        return answer["stdout"]

    def alloc(self, code, setup="", modules=(), files=None, repeat=1):
        """Bytes of heap that `code` (a statement block) allocates inside MicroPython.

        `setup` runs first (imports, fixtures); `code` is compiled into a function before the
        measurement so that compiling it is not counted. The collector is disabled while it runs,
        so the figure is every byte allocated, garbage included. With `repeat` > 1 the median of
        that many runs is returned.
        """
        body = "\n".join("    " + line for line in code.splitlines()) or "    pass"
        program = (
            setup + "\nimport gc\ndef _measured():\n" + body + "\n"
            "_sizes = []\n"
            "for _i in range(%d):\n"
            "    gc.collect()\n    gc.disable()\n    _before = gc.mem_alloc()\n    _measured()\n"
            "    _after = gc.mem_alloc()\n    gc.enable()\n    _sizes.append(_after - _before)\n"
            "_sizes.sort()\nprint('ALLOC', _sizes[len(_sizes) // 2])\n" % repeat
        )
        out = self.run(program, modules=modules, files=files)
        return int(out.strip().splitlines()[-1].split()[1])

    def run_tests(self, test_file, modules=(), files=None):
        """Run every `test_*` function of a MicroPython-compatible test module inside MicroPython.

        Returns the names that passed; raises MicroPythonError naming the failures otherwise.
        """
        source = _read(os.path.join(ROOT, test_file))
        out = self.run(source + "\n" + _TEST_DRIVER, modules=modules, files=files)
        summary = [line for line in out.splitlines() if line.startswith("MPY-TESTS")][-1]
        passed, failed = summary[len("MPY-TESTS"):].split("|")
        if failed.split():
            raise MicroPythonError("failed inside MicroPython: " + failed.strip(), out)
        names = passed.split()
        if not names:
            raise MicroPythonError("no test_* functions ran in " + test_file, out)
        return names


def _readline_with_timeout(proc, timeout):
    result = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""
