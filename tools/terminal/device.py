"""One connection to a terminal over its serial port, through mpremote's own transport.

`Device.open(port)` connects, interrupts whatever runs and soft-resets into the raw REPL (a fresh
heap and no application running), exactly as `mpremote connect PORT ...` does. Every failure is
turned into a TerminalError with one clear sentence: no device on the port, a port that does not
answer as MicroPython, a full filesystem.

Files are written the crash-safe way: data goes to `<path>.part`, is read back and hashed on the
device, and only then renamed over `<path>` (atomic on LittleFS). A cable pulled at any byte leaves
the old file or the new one, never a torn one; a stale `.part` is removed by the next deploy.
"""
import binascii
import contextlib
import hashlib
import io
import json
import os

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from tools.terminal import errors
from tools.terminal.errors import TerminalError

PART_SUFFIX = ".part"
_CHUNK = 2048  # raw bytes per exec: base64 keeps each command under 3 KB, easy on the device heap


# Device-side snippets (MicroPython). `%s` placeholders are filled with repr()'d paths.
_MKDIRS = ("import os\n_p=''\nfor _s in %s.strip('/').split('/'):\n"
           " if _s:\n  _p+='/'+_s\n  try:\n   os.mkdir(_p)\n  except OSError:\n   pass\n")
_CLOSE_CHECK = (
    "_f.close()\nimport hashlib,binascii,os\n_q=%s\n_h=hashlib.sha256()\n_b=bytearray(512)\n_f=open(_q,'rb')\n"
    "while True:\n _n=_f.readinto(_b)\n if not _n:\n  break\n _h.update(_b if _n==512 else _b[:_n])\n"
    "_f.close()\n_ok=binascii.hexlify(_h.digest()).decode()==%r\n_t=%s\n"
    "if _ok and _t:\n os.rename(_q,_t)\n"
    "print('HASH-OK' if _ok else 'HASH-BAD')\n"
)


def _quote(path):
    return repr(path)


def is_full(text):
    return "ENOSPC" in text or "[Errno 28]" in text or "OSError: 28" in text


class Device:
    def __init__(self, transport, port):
        self.transport = transport
        self.port = port
        self.lost = False  # the line failed once: talking on would only wait for more time-outs

    # --- connecting ------------------------------------------------------------------------
    @classmethod
    def open(cls, port, timeout=8.0):
        if not port:
            raise TerminalError("No serial port given: pass --port (for example /dev/ttyUSB0) or set "
                                "ALIPAY_TERMINAL_PORT.", errors.NO_DEVICE)
        if not os.path.exists(port):
            raise TerminalError("No device on %s: check the USB cable and the port name "
                                "(ls /dev/ttyUSB* /dev/ttyACM*)." % port, errors.NO_DEVICE)
        if not os.access(port, os.R_OK | os.W_OK):
            raise TerminalError("No permission to open %s: add yourself to the serial port's group (Debian: "
                                "sudo usermod -aG dialout $USER, then log in again)." % port, errors.NO_DEVICE)
        try:
            # A read timeout, so a pty that never answers cannot block a read forever.
            transport = SerialTransport(port, baudrate=115200, timeout=min(timeout, 2.0))
        except (TransportError, OSError) as e:
            raise TerminalError("Cannot open %s (%s): is another program (a serial monitor, "
                                "another mpremote) using it?" % (port, _reason(e)), errors.NO_DEVICE)
        device = cls(transport, port)
        try:
            # mpremote prints what it received when the raw REPL does not answer: keep it quiet.
            with contextlib.redirect_stdout(io.StringIO()):
                transport.enter_raw_repl(soft_reset=True, timeout_overall=timeout)
        except (TransportError, OSError, Exception) as e:  # serial errors come in many classes
            device.close()
            raise TerminalError("The device on %s does not answer as MicroPython (no raw REPL within "
                                "%.0f s): flash MicroPython first (`flash`), or hold the safe-mode key "
                                "while resetting it." % (port, timeout), errors.NOT_MICROPYTHON) from e
        return device

    def close(self):
        try:
            if self.transport.in_raw_repl and not self.lost:
                self.transport.exit_raw_repl()
        except Exception:
            pass
        try:
            self.transport.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- running code ----------------------------------------------------------------------
    def run(self, code, timeout=10, consumer=None):
        """Run code on the device; return its output. A Python error on the device raises."""
        if self.lost:
            raise TerminalError("The device on %s stopped answering: check the cable and try again." % self.port)
        try:
            out, err = self.transport.exec_raw(code, timeout=timeout, data_consumer=consumer)
        except Exception as e:  # TransportError, or pyserial's own errors when the port vanishes
            self.lost = True
            raise TerminalError("The device on %s stopped answering (%s): check the cable and try "
                                "again." % (self.port, _reason(e)), errors.GENERAL) from e
        if err:
            text = err.decode("utf-8", "replace")
            if is_full(text):
                raise TerminalError("The terminal's filesystem is full: remove files or erase it "
                                    "(`flash` erases everything) and deploy again.", errors.FILESYSTEM_FULL)
            raise DeviceCodeError(text)
        return out.decode("utf-8", "replace")

    def run_json(self, code, timeout=10):
        """Run code whose last output line is JSON; return it parsed."""
        out = self.run(code, timeout=timeout)
        lines = [line for line in out.splitlines() if line.strip()]
        if not lines:
            raise TerminalError("The device gave no answer to a query: is this the terminal firmware's "
                                "MicroPython?", errors.GENERAL)
        return json.loads(lines[-1])

    # --- files -------------------------------------------------------------------------------
    def read_file(self, path):
        """Bytes of a file on the device, or None when it does not exist."""
        code = (
            "import binascii\n"
            "try:\n f=open(%s,'rb')\nexcept OSError:\n print('NOFILE')\nelse:\n"
            " while True:\n  b=f.read(%d)\n  if not b:\n   break\n"
            "  print(binascii.b2a_base64(b).decode().strip())\n"
            " f.close()\n print('EOF')\n" % (_quote(path), _CHUNK)
        )
        out = self.run(code, timeout=30).split()
        if out and out[0] == "NOFILE":
            return None
        if not out or out[-1] != "EOF":
            raise TerminalError("Reading %s from the device was cut short: try again." % path)
        return b"".join(binascii.a2b_base64(line) for line in out[:-1])

    def write_file(self, path, data, progress=None, before_rename=None):
        """Write `data` to `path` crash-safely (temp name, verify, rename). Returns its sha256.

        `before_rename(part_path)` may check the complete temp file on the device and raise to
        abandon it: the old file then stays as it was.
        """
        digest = hashlib.sha256(data).hexdigest()
        part = path + PART_SUFFIX
        folder = path.rsplit("/", 1)[0]
        chunks = [binascii.b2a_base64(data[i:i + _CHUNK], newline=False) for i in range(0, len(data), _CHUNK)]
        try:
            # One command opens the temp file (creating folders) and sends the first chunk; one per
            # further chunk; one closes, hashes and, if the hash is right, renames on the device.
            self.run(_MKDIRS % _quote(folder) + "import binascii\n_f=open(%s,'wb')\n_w=_f.write\n"
                     "_d=binascii.a2b_base64\n" % _quote(part) + ("_w(_d(%r))" % chunks[0] if chunks else ""))
            for i, chunk in enumerate(chunks[1:], 2):
                self.run("_w(_d(%r))" % chunk)
                if progress:
                    progress(min(i * _CHUNK, len(data)), len(data))
            rename = before_rename is None
            out = self.run(_CLOSE_CHECK % (_quote(part), digest, _quote(path) if rename else "None"))
            if "HASH-OK" not in out:
                raise TerminalError("%s arrived corrupted (hash mismatch): check the cable and deploy "
                                    "again." % path)
            if not rename:
                before_rename(part)
                self.run("import os\nos.rename(%s,%s)" % (_quote(part), _quote(path)))
        except BaseException:
            if not self.lost:  # a lost line cannot be cleaned up now: the next deploy removes the .part
                self._discard(part)
            raise
        return digest

    def _discard(self, part):
        try:
            self.run("try:\n _f.close()\nexcept Exception:\n pass\nimport os\n"
                     "try:\n os.remove(%s)\nexcept OSError:\n pass" % _quote(part))
        except Exception:
            pass  # the device is gone; the next deploy removes the stale .part

    def sha256(self, path):
        """Hex sha256 of a device file, or None when it does not exist."""
        return self.hashes([path]).get(path)

    def hashes(self, paths):
        """{path: hex sha256} for those of `paths` that exist on the device (one round trip)."""
        code = (
            "import hashlib,binascii,json\n"
            "def _h(p):\n try:\n  f=open(p,'rb')\n except OSError:\n  return None\n"
            " h=hashlib.sha256()\n b=bytearray(512)\n while True:\n  n=f.readinto(b)\n  if not n:\n   break\n"
            "  h.update(b if n==512 else b[:n])\n f.close()\n return binascii.hexlify(h.digest()).decode()\n"
            "_r={}\nfor _p in %s:\n _x=_h(_p)\n if _x:\n  _r[_p]=_x\nprint(json.dumps(_r))\n" % json.dumps(list(paths))
        )
        return self.run_json(code, timeout=60)

    def makedirs(self, folder):
        if folder and folder != "/":
            self.run(_MKDIRS % _quote(folder))

    def remove(self, path):
        self.run("import os\ntry:\n os.remove(%s)\nexcept OSError:\n pass" % _quote(path))

    def walk(self, top="/"):
        """Every file under `top` as {path: size} (directories are descended)."""
        code = (
            "import os,json\n_r={}\n"
            "def _w(d):\n for e in os.ilistdir(d):\n  p=(d if d!='/' else '')+'/'+e[0]\n"
            "  if e[1]==0x4000:\n   if p not in ('/dev','/proc'):\n    _w(p)\n"
            "  else:\n   try:\n    _r[p]=os.stat(p)[6]\n   except OSError:\n    pass\n"
            "_w(%s)\nprint(json.dumps(_r))\n" % _quote(top)
        )
        return self.run_json(code, timeout=30)

    def free_bytes(self):
        """Free bytes on the filesystem, or None when the port cannot tell."""
        try:
            return self.run_json("import os,json\ns=os.statvfs('/')\nprint(json.dumps(s[0]*s[3]))")
        except (DeviceCodeError, ValueError):
            return None


class DeviceCodeError(TerminalError):
    """Python code on the device raised; `traceback` is the device's own."""

    def __init__(self, traceback):
        last = [line for line in traceback.strip().splitlines() if line.strip()][-1:] or ["?"]
        TerminalError.__init__(self, "The device raised %s" % last[0].strip(), errors.GENERAL)
        self.traceback = traceback


def _reason(e):
    text = str(e).strip() or e.__class__.__name__
    return text.splitlines()[0]
