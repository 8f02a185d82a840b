"""A virtual terminal: a pseudo-terminal that the unmodified `mpremote` talks to like a board.

Behind the pty runs the official WebAssembly MicroPython's REPL (tools/vterm/vterm.mjs under Node)
with a filesystem kept in a host folder. Used by the technician tool's tests and by hand:

    python -m tools.vterm --root /tmp/dev1 --link /tmp/dev1.port
    mpremote connect /tmp/dev1.port fs ls

    with VirtualTerminal(root) as vt:          # in Python
        subprocess.run(["mpremote", "connect", vt.port, "ls"])
        vt.power_cut()                          # kill the device mid-way, boot it again

The launcher owns the pty master and copies bytes between it and Node's stdin/stdout. It keeps
the slave side open too, so the line survives mpremote connecting and disconnecting, and drops
output nobody reads after a while (a UART with no listener loses bytes; it never blocks).
"""
import os
import select
import subprocess
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BRIDGE = os.path.join(HERE, "vterm.mjs")
_DROP_AFTER_S = 2.0


class VirtualTerminalError(RuntimeError):
    pass


class VirtualTerminal:
    def __init__(self, root, size_limit=0, heap=256 * 1024, link=None):
        self.root = os.path.abspath(root)
        self.size_limit = size_limit
        self.heap = heap
        self.link = link
        self._master = self._slave = None
        self._proc = None
        self._reader = None
        self._line_id = 0
        self.port = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout=30):
        os.makedirs(self.root, exist_ok=True)
        if self._master is None:
            self._open_line()
        self._boot(timeout)
        return self

    def _open_line(self):
        self._master, self._slave = os.openpty()
        self._line_id += 1
        tty.setraw(self._slave)  # no echo, no CR/LF translation, no signals: a plain UART
        self.port = os.ttyname(self._slave)
        self._reader = None
        if self.link:
            if os.path.lexists(self.link):
                os.unlink(self.link)
            os.symlink(self.port, self.link)

    def _close_line(self):
        master, slave = self._master, self._slave
        self._master = self._slave = None
        self._line_id += 1  # the old line's reader stops...
        if self._reader is not None:
            # ...and is gone before its fd is closed: the next pty may reuse the fd number, and a
            # reader still in select() on it would swallow the new line's bytes.
            self._reader.join(2)
            self._reader = None
        for fd in (master, slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _boot(self, timeout):
        cmd = ["node", BRIDGE, "--root", self.root, "--heap", str(self.heap)]
        if self.size_limit:
            cmd += ["--size-limit", str(self.size_limit)]
        self._proc = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
        line = _readline_with_timeout(self._proc.stderr, timeout)
        if b"vterm: ready" not in line:
            self._proc.kill()
            raise VirtualTerminalError("the virtual terminal did not start: %r" % line)
        proc = self._proc
        threads = [
            threading.Thread(target=self._device_to_line, args=(proc, self._line_id), daemon=True),
            threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True),
        ]
        if self._reader is None:  # one reader of the line for the terminal's whole life
            self._reader = threading.Thread(target=self._line_to_device, args=(self._master, self._line_id),
                                            daemon=True)
            threads.append(self._reader)
        for t in threads:
            t.start()

    def stop(self):
        self._kill()
        self._close_line()
        if self.link and os.path.islink(self.link):
            os.unlink(self.link)

    def power_cut(self, timeout=30, replug=True):
        """Kill the device without warning and boot it again with the same files.

        With `replug` (a USB-powered board: its serial port vanishes with the power) the host side
        sees the line drop at once and the device comes back on a new pty (`port`, and `link` if
        given, are updated). Without it the line stays up and simply goes quiet, then shows a boot.
        """
        self._kill()
        if replug:
            self._close_line()
            self._open_line()
        self._boot(timeout)

    def _kill(self):
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- byte pumps ----------------------------------------------------------------------------
    def _device_to_line(self, proc, line_id):
        while True:
            try:
                data = os.read(proc.stdout.fileno(), 4096)
            except (OSError, ValueError):
                return
            if not data:
                return
            if self._line_id != line_id:
                return  # the line was unplugged: what the dead device still had queued is lost
            self._write_line(data)

    def _write_line(self, data):
        deadline = time.monotonic() + _DROP_AFTER_S
        while data:
            try:
                _, writable, _ = select.select([], [self._master], [], 0.05)
                if writable:
                    n = os.write(self._master, data)
                    data = data[n:]
                    deadline = time.monotonic() + _DROP_AFTER_S
                elif time.monotonic() > deadline:
                    return  # nobody is reading: drop, as a UART would
            except (OSError, TypeError):
                return

    def _line_to_device(self, master, line_id):
        while self._line_id == line_id:  # a replugged line gets its own reader (fd numbers get reused)
            try:
                readable, _, _ = select.select([master], [], [], 0.1)
                if not readable:
                    continue
                data = os.read(master, 4096)
            except (OSError, TypeError, ValueError):
                return
            proc = self._proc
            if proc is None:
                continue  # the device is off (mid power cut): bytes on the line are lost
            try:
                proc.stdin.write(data)
            except (BrokenPipeError, OSError, ValueError):
                continue

    def _drain_stderr(self, proc):
        for line in iter(proc.stderr.readline, b""):
            if os.environ.get("VTERM_DEBUG"):
                print("vterm:", line.decode(errors="replace").rstrip())


def _readline_with_timeout(stream, timeout):
    result = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else b""
