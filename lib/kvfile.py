"""A `key = value` text file looked up on flash: only a table of line offsets in RAM.

    words = KVFile(kvfile.find("firmware/display/texts_en.txt"))
    words.get("idle.prompt")          -> "Enter amount"   (None for a key the file lacks)

One entry per line: the key, " = ", then the value to the end of the line (UTF-8; a key has no
" = " in it). Blank lines and lines starting with "#" are comments, and the entries may come in
any order. Opening the file reads it once and keeps, per entry, where its line starts (2 or 4
bytes) in a hash table of half as many slots again as entries: a lookup reads the line its key
hashes to, and the next slot's line after a collision. So a catalogue of words costs a few hundred bytes
of heap instead of every string and a dict (a module of them), and opening it keeps nothing of a
line once the next is read (the terminal opens its catalogue for each sale's screens).
"""
import sys
from array import array

SEP = b" = "
_CHUNK = 256  # bytes read at a time while the file is opened (a longer line is read on its own)


class KVFile:
    def __init__(self, path):
        self.path = path
        f = open(path, "rb")
        self._file = f
        try:
            buf = bytearray(_CHUNK)
            entries, size = self._scan(buf, False)
            self._slots = slots = entries + (entries >> 1) + 1
            # A slot holds where its line starts + 1; 0 is an empty slot.
            wide = size >= 0xFFFF
            self._at = array("L" if wide else "H", bytes((4 if wide else 2) * slots))
            self._scan(buf, True)
        except Exception:
            f.close()
            raise

    def _scan(self, buf, fill):
        """Read the file line by line, a chunk per line (a stream's readline reads a byte at a
        time); with `fill`, enter each entry in the table. Returns (entries, file size); raises
        ValueError for a line that is neither an entry nor a comment."""
        f = self._file
        pos = 0
        entries = 0
        number = 0
        while True:
            f.seek(pos)
            n = f.readinto(buf)
            if not n:
                return entries, pos
            end = buf.find(b"\n", 0, n)
            if end >= 0:
                line = buf[:end + 1]
            elif n < len(buf):
                line = buf[:n]  # the last line, without a newline
            else:
                f.seek(pos)
                line = f.readline()  # longer than a chunk
            number += 1
            if line[:1] != b"#" and line.strip():
                cut = line.find(SEP)
                if cut <= 0:
                    raise ValueError("%s line %d: not `key = value`" % (self.path, number))
                entries += 1
                if fill:
                    self._put(bytes(line[:cut]), pos, buf)
            pos += len(line)

    def _put(self, key, pos, buf):
        """Enter the line at pos under key (bytes); buf: the scan's chunk, to read other keys."""
        at = self._at
        i = hash(key) % self._slots
        while at[i]:
            if self._key_at(at[i] - 1, buf) == key:
                raise ValueError("%s: key %s twice" % (self.path, key.decode()))
            i = (i + 1) % self._slots
        at[i] = pos + 1

    def _key_at(self, pos, buf):
        f = self._file
        f.seek(pos)
        n = f.readinto(buf)
        cut = buf.find(SEP, 0, n)
        if cut >= 0:
            return buf[:cut]
        f.seek(pos)
        line = f.readline()
        return line[:line.find(SEP)]

    def __len__(self):
        n = 0
        for p in self._at:
            if p:
                n += 1
        return n

    def get(self, key, default=None):
        want = key.encode()
        f = self._file
        at = self._at
        i = hash(want) % self._slots
        while at[i]:
            f.seek(at[i] - 1)
            line = f.readline()
            cut = line.find(SEP)
            if line[:cut] == want:
                return line[cut + 3:].rstrip(b"\r\n").decode()
            i = (i + 1) % self._slots
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
