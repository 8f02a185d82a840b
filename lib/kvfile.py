"""A `key = value` text file looked up on flash: only a sorted table of line offsets in RAM.

    words = KVFile(kvfile.find("firmware/display/texts_en.txt"))
    words.get("idle.prompt")          -> "Enter amount"   (None for a key the file lacks)

One entry per line: the key, " = ", then the value to the end of the line (UTF-8; a key has no
" = " in it). Blank lines and lines starting with "#" are comments, and the entries may come in
any order: opening the file reads it once and keeps, per entry, where its line starts (2 or 4
bytes), sorted by key; a lookup is a binary search that reads a few lines. So a catalogue of
words costs a few hundred bytes of heap instead of every string and a dict (a module of them).
"""
import sys
from array import array

SEP = b" = "


class KVFile:
    def __init__(self, path):
        self.path = path
        f = open(path, "rb")
        self._file = f
        try:
            found = []
            pos = 0
            number = 0
            while True:
                line = f.readline()
                if not line:
                    break
                number += 1
                head = line[:1]
                if head != b"#" and line.strip():
                    cut = line.find(SEP)
                    if cut <= 0:
                        raise ValueError("%s line %d: not `key = value`" % (path, number))
                    found.append((line[:cut], pos))
                pos += len(line)
            found.sort()
            for i in range(1, len(found)):
                if found[i][0] == found[i - 1][0]:
                    raise ValueError("%s: key %s twice" % (path, found[i][0].decode()))
            self._at = array("H" if pos < 65536 else "L", [p for _k, p in found])
        except Exception:
            f.close()
            raise

    def __len__(self):
        return len(self._at)

    def get(self, key, default=None):
        want = key.encode()
        f = self._file
        at = self._at
        lo = 0
        hi = len(at) - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            f.seek(at[mid])
            line = f.readline()
            cut = line.find(SEP)
            have = line[:cut]
            if have == want:
                return line[cut + 3:].rstrip(b"\r\n").decode()
            if have < want:
                lo = mid + 1
            else:
                hi = mid - 1
        return default

    def close(self):
        self._file.close()


def find(relpath):
    """Path of a data file along sys.path (the device's flash root, the host's checkout)."""
    import os
    for folder in sys.path:
        path = (folder + "/" + relpath) if folder else relpath
        try:
            os.stat(path)
            return path
        except OSError:
            pass
    raise OSError("data file not found: " + relpath)
