"""QR Code (model 2) encoder for MicroPython, written from ISO/IEC 18004.

Two APIs over one encoder:

- uQR's:    qr = QRCode(error_correction=ERROR_CORRECT_M); qr.add_data(s); qr.make(); qr.get_matrix()
- mpy-qr's: uqr.make(s, ecl=ECC_MEDIUM).packed() -> (row_bits, width, bytes)   (the C `uqr` module)

One segment in the most compact single mode (numeric, alphanumeric or byte = UTF-8), versions 1-40,
levels L/M/Q/H, mask chosen by the four penalty rules (docs/uqr.md says which reading of them).
"""
from micropython import const

try:
    import framebuf  # C-speed element-wise byte operations for the mask search
except ImportError:  # CPython, or a port built without it: the pure path is used
    framebuf = None

# uQR's constants are the format-information bits of each level (L=01, M=00, Q=11, H=10).
ERROR_CORRECT_L = const(1)
ERROR_CORRECT_M = const(0)
ERROR_CORRECT_Q = const(3)
ERROR_CORRECT_H = const(2)
# mpy-qr (nayuki qrcodegen) constants: levels in order of strength, mode indicators, versions.
ECC_LOW = const(0)
ECC_MEDIUM = const(1)
ECC_QUARTILE = const(2)
ECC_HIGH = const(3)
Mode_NUMERIC = const(1)
Mode_ALPHANUMERIC = const(2)
Mode_BYTE = const(4)
VERSION_MIN = const(1)
VERSION_MAX = const(40)

_FORMAT_BITS = const(b"\x01\x00\x03\x02")  # level ordinal (L, M, Q, H) -> format bits
_ORDINAL = const(b"\x01\x00\x03\x02")  # uQR constant -> level ordinal (the same involution)

# ISO/IEC 18004 table 9, per level ordinal then version 1..40: EC codewords per block, and blocks.
_EC_PER_BLOCK = (
    b"\x07\x0a\x0f\x14\x1a\x12\x14\x18\x1e\x12\x14\x18\x1a\x1e\x16\x18\x1c\x1e\x1c\x1c"
    b"\x1c\x1c\x1e\x1e\x1a\x1c\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"
    b"\x0a\x10\x1a\x12\x18\x10\x12\x16\x16\x1a\x1e\x16\x16\x18\x18\x1c\x1c\x1a\x1a\x1a"
    b"\x1a\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c"
    b"\x0d\x16\x12\x1a\x12\x18\x12\x16\x14\x18\x1c\x1a\x18\x14\x1e\x18\x1c\x1c\x1a\x1e"
    b"\x1c\x1e\x1e\x1e\x1e\x1c\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"
    b"\x11\x1c\x16\x10\x16\x1c\x1a\x1a\x18\x1c\x18\x1c\x16\x18\x18\x1e\x1c\x1c\x1a\x1c"
    b"\x1e\x18\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"
)
_BLOCKS = (
    const(b"\x01\x01\x01\x01\x01\x02\x02\x02\x02\x04\x04\x04\x04\x04\x06\x06\x06\x06\x07\x08"
    b"\x08\x09\x09\x0a\x0c\x0c\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x13\x14\x15\x16\x18\x19"
    b"\x01\x01\x01\x02\x02\x04\x04\x04\x05\x05\x05\x08\x09\x09\x0a\x0a\x0b\x0d\x0e\x10"
    b"\x11\x11\x12\x14\x15\x17\x19\x1a\x1c\x1d\x1f\x21\x23\x25\x26\x28\x2b\x2d\x2f\x31"
    b"\x01\x01\x02\x02\x04\x04\x06\x06\x08\x08\x08\x0a\x0c\x10\x0c\x11\x10\x12\x15\x14"
    b"\x17\x17\x19\x1b\x1d\x22\x22\x23\x26\x28\x2b\x2d\x30\x33\x35\x38\x3b\x3e\x41\x44"
    b"\x01\x01\x02\x04\x04\x04\x05\x06\x08\x08\x0b\x0b\x10\x10\x12\x10\x13\x15\x19\x19"
    b"\x19\x22\x1e\x20\x23\x25\x28\x2a\x2d\x30\x33\x36\x39\x3c\x3f\x42\x46\x4a\x4d\x51")
)
_ALNUM = const(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


class DataOverflowError(ValueError):
    """The data does not fit in the largest allowed version at the requested level."""


# --- GF(256) arithmetic (primitive polynomial 0x11d), tables built on first use --------------
_EXP = None  # 512 bytes: exp[i] = alpha^i, doubled so that exp[log a + log b] needs no modulo
_LOG = None  # 256 bytes


def _gf_tables():
    global _EXP, _LOG
    exp = bytearray(512)
    log = bytearray(256)
    x = 1
    for i in range(255):
        exp[i] = x
        exp[i + 255] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    _EXP = exp
    _LOG = log


_GEN = None  # the last generator used: (degree, logs); a terminal keeps using one version


def _generator_logs(degree):
    """Logs of the RS generator polynomial's coefficients (x - a^0)...(x - a^(d-1)), leading 1 dropped."""
    global _GEN
    if _GEN is not None and _GEN[0] == degree:
        return _GEN[1]
    exp = _EXP
    log = _LOG
    g = bytearray(degree)
    g[degree - 1] = 1
    root = 1
    for _ in range(degree):
        lr = log[root]
        for j in range(degree):
            c = g[j]
            g[j] = (exp[log[c] + lr] if c else 0) ^ (g[j + 1] if j + 1 < degree else 0)
        root = exp[lr + 1]
    for j in range(degree):
        g[j] = log[g[j]]  # every coefficient of this generator is non-zero
    _GEN = (degree, g)
    return g


# --- symbol geometry ------------------------------------------------------------------------
def _raw_modules(ver):
    """Modules left for data and EC codewords (incl. remainder bits) in a version."""
    r = (16 * ver + 128) * ver + 64
    if ver >= 2:
        na = ver // 7 + 2
        r -= (25 * na - 10) * na - 55
        if ver >= 7:
            r -= 36
    return r


def _data_codewords(ver, ordinal):
    i = ordinal * 40 + ver - 1
    return _raw_modules(ver) // 8 - _EC_PER_BLOCK[i] * _BLOCKS[i]


def _alignment_positions(ver):
    if ver == 1:
        return b""
    na = ver // 7 + 2
    step = 26 if ver == 32 else (ver * 4 + na * 2 + 1) // (na * 2 - 2) * 2
    pos = bytearray(na)
    pos[0] = 6
    p = ver * 4 + 10
    for i in range(na - 1, 0, -1):
        pos[i] = p
        p -= step
    return pos


# --- data encoding ---------------------------------------------------------------------------
def _mode_of(data):
    """The most compact single mode that holds every byte of `data` (bytes)."""
    if not data:
        return Mode_BYTE
    numeric = True
    for c in data:
        if c < 48 or c > 57:
            numeric = False
            if _ALNUM.find(bytes((c,))) < 0:
                return Mode_BYTE
    return Mode_NUMERIC if numeric else Mode_ALPHANUMERIC


def _count_bits(mode, ver):
    k = 0 if ver < 10 else (1 if ver < 27 else 2)
    if mode == Mode_NUMERIC:
        return 10 + 2 * k
    if mode == Mode_ALPHANUMERIC:
        return 9 + 2 * k
    return 8 if k == 0 else 16


def _payload_bits(mode, n):
    """Bits of the data part of a segment of `n` characters (without header)."""
    if mode == Mode_NUMERIC:
        return n // 3 * 10 + (0, 4, 7)[n % 3]
    if mode == Mode_ALPHANUMERIC:
        return n // 2 * 11 + (n & 1) * 6
    return n * 8


def _put(buf, n, value, width):
    """Write `width` bits of `value` big-endian at bit offset `n` of `buf`; return the new offset."""
    while width:
        i = n >> 3
        free = 8 - (n & 7)
        take = width if width < free else free
        width -= take
        buf[i] |= ((value >> width) & ((1 << take) - 1)) << (free - take)
        n += take
    return n


def _codewords(data, mode, segment, ver, ordinal):
    """Data codewords (mode, count, payload, terminator, padding) for one segment or none."""
    cap = _data_codewords(ver, ordinal)
    buf = bytearray(cap)
    n = 0  # bits written
    if segment:
        n = _put(buf, n, mode, 4)
        n = _put(buf, n, len(data), _count_bits(mode, ver))
        if mode == Mode_NUMERIC:
            i = 0
            k = len(data)
            while i < k:
                m = 3 if k - i >= 3 else k - i
                v = 0
                for j in range(i, i + m):
                    v = v * 10 + data[j] - 48
                n = _put(buf, n, v, 3 * m + 1)
                i += m
        elif mode == Mode_ALPHANUMERIC:
            find = _ALNUM.find
            i = 0
            k = len(data)
            while i + 1 < k:
                n = _put(buf, n, find(data[i:i + 1]) * 45 + find(data[i + 1:i + 2]), 11)
                i += 2
            if i < k:
                n = _put(buf, n, find(data[i:i + 1]), 6)
        else:
            # after the 4-bit mode and the 8- or 16-bit count the writer is 4 bits into a byte
            i = n >> 3
            for c in data:
                buf[i] |= c >> 4
                i += 1
                buf[i] = (c & 15) << 4
            n += 8 * len(data)
    # terminator (up to 4 zero bits) and zero bits to a byte boundary: the buffer is zero already
    nbits = n + 4
    nbytes = (nbits + 7) >> 3 if nbits < cap * 8 else cap
    pad = 0xEC
    for i in range(nbytes, cap):
        buf[i] = pad
        pad ^= 0xEC ^ 0x11
    return buf


def _fits(mode, nchars, segment, ver, ordinal):
    bits = (4 + _count_bits(mode, ver) + _payload_bits(mode, nchars)) if segment else 0
    return bits <= _data_codewords(ver, ordinal) * 8


def _interleave(data, ver, ordinal):
    """Split into RS blocks, append each block's EC codewords, interleave (ISO 18004 7.6)."""
    if _EXP is None:
        _gf_tables()
    i = ordinal * 40 + ver - 1
    nblocks = _BLOCKS[i]
    ec = _EC_PER_BLOCK[i]
    raw = _raw_modules(ver) // 8
    nshort = nblocks - raw % nblocks
    short_len = raw // nblocks - ec  # data codewords in a short block
    gen = _generator_logs(ec)
    exp = _EXP
    log = _LOG
    out = bytearray(raw)
    work = bytearray(short_len + 1 + ec)  # one block's data, then its remainder
    pos = 0
    base = len(data)
    for b in range(nblocks):
        dlen = short_len + (1 if b >= nshort else 0)
        work[:dlen] = data[pos:pos + dlen]
        for j in range(dlen, dlen + ec):
            work[j] = 0
        # synthetic division by the generator, in place: work[dlen:] ends as the remainder
        # (the data part is overwritten on the way, so the data columns are copied from `data`)
        for k in range(dlen):
            c = work[k]
            if c:
                lc = log[c]
                j = k + 1
                for g in gen:
                    work[j] ^= exp[lc + g]
                    j += 1
        # data codeword k of block b goes to column k (short blocks lack the last column)
        o = b
        for k in range(pos, pos + short_len):
            out[o] = data[k]
            o += nblocks
        if dlen > short_len:
            out[short_len * nblocks + b - nshort] = data[pos + short_len]
        o = base + b
        for k in range(dlen, dlen + ec):
            out[o] = work[k]
            o += nblocks
        pos += dlen
    return out


# --- matrix ----------------------------------------------------------------------------------
# The symbol is a bytearray of n*n modules, row-major, 1 = dark. `fn` marks function modules
# (finder, separator, timing, alignment, format and version areas, dark module) with 1.

def _function_pattern(ver):
    """(template, fn): function patterns drawn with format/version areas light; the fn mask."""
    n = 4 * ver + 17
    m = bytearray(n * n)
    fn = bytearray(n * n)
    # timing patterns
    for i in range(8, n - 8):
        m[6 * n + i] = m[i * n + 6] = (i + 1) & 1
        fn[6 * n + i] = fn[i * n + 6] = 1
    # finder patterns with separators
    for cy, cx in ((3, 3), (3, n - 4), (n - 4, 3)):
        for dy in range(-4, 5):
            y = cy + dy
            if 0 <= y < n:
                for dx in range(-4, 5):
                    x = cx + dx
                    if 0 <= x < n:
                        d = max(abs(dx), abs(dy))
                        m[y * n + x] = 1 if d != 2 and d != 4 else 0
                        fn[y * n + x] = 1
    # alignment patterns
    pos = _alignment_positions(ver)
    na = len(pos)
    for a in range(na):
        for b in range(na):
            if (a == 0 and b == 0) or (a == 0 and b == na - 1) or (a == na - 1 and b == 0):
                continue
            cy = pos[a]
            cx = pos[b]
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    k = (cy + dy) * n + cx + dx
                    m[k] = 1 if max(abs(dx), abs(dy)) != 1 else 0
                    fn[k] = 1
    # format areas (and the dark module) stay light here; reserved in fn
    for i in range(9):
        fn[8 * n + i] = fn[i * n + 8] = 1
    for i in range(8):
        fn[8 * n + n - 1 - i] = fn[(n - 1 - i) * n + 8] = 1
    if ver >= 7:
        for i in range(6):
            for j in range(n - 11, n - 8):
                fn[i * n + j] = fn[j * n + i] = 1
    return m, fn


def _place(m, fn, n, cw):
    """Codeword bits into the non-function modules, two-column zigzag from bottom right."""
    total = len(cw) * 8
    i = 0
    right = n - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for vert in range(n):
            y = n - 1 - vert if upward else vert
            row = y * n
            for x in (right, right - 1):
                k = row + x
                if not fn[k]:
                    if i < total:
                        m[k] = (cw[i >> 3] >> (7 - (i & 7))) & 1
                        i += 1
        right -= 2


def _mask_bit(mask, y, x):
    if mask == 0:
        return (x + y) % 2 == 0
    if mask == 1:
        return y % 2 == 0
    if mask == 2:
        return x % 3 == 0
    if mask == 3:
        return (x + y) % 3 == 0
    if mask == 4:
        return (x // 3 + y // 2) % 2 == 0
    p = x * y
    if mask == 5:
        return p % 2 + p % 3 == 0
    if mask == 6:
        return (p % 2 + p % 3) % 2 == 0
    return ((x + y) % 2 + p % 3) % 2 == 0


def _apply_mask(m, fn, n, mask):
    k = 0
    for y in range(n):
        for x in range(n):
            if not fn[k] and _mask_bit(mask, y, x):
                m[k] ^= 1
            k += 1


_N3 = const(b"\x01\x00\x01\x01\x01\x00\x01")
_ONE = const(b"\x01")


def _line_penalty(line, n):
    """N1 (runs of >= 5) and N3 (1:1:3:1:1 with 4 light modules on a side) for one row/column."""
    score = 0
    run = 0
    prev = 2
    for c in line:
        if c == prev:
            run += 1
        else:
            if run >= 5:
                score += run - 2
            run = 1
            prev = c
    if run >= 5:
        score += run - 2
    i = line.find(_N3)
    while i >= 0:
        # outside the symbol counts as light (the quiet zone)
        before = line[i - 4 if i >= 4 else 0:i]
        after = line[i + 7:i + 11]
        if before.find(_ONE) < 0 or after.find(_ONE) < 0:
            score += 40
        i = line.find(_N3, i + 1)
    return score


def _penalty_pure(m, n):
    """ISO 18004 7.8.3 penalty of a masked symbol (format/version areas light)."""
    score = 0
    col = bytearray(n)
    for y in range(n):
        score += _line_penalty(m[y * n:(y + 1) * n], n)
    for x in range(n):
        for y in range(n):
            col[y] = m[y * n + x]
        score += _line_penalty(col, n)
    # N2: 2x2 blocks of one colour
    blocks = 0
    for y in range(n - 1):
        r = y * n
        for x in range(n - 1):
            c = m[r + x]
            if c == m[r + x + 1] and c == m[r + n + x] and c == m[r + n + x + 1]:
                blocks += 1
    score += 3 * blocks
    # N4: 10 points per full 5 % step away from half dark
    dark = 0
    for c in m:
        dark += c
    total = n * n
    score += 10 * (abs(dark * 20 - total * 10) // total)
    return score


def _draw_format(m, n, ordinal, mask, pitch=0, offset=0):
    """Format information (level, mask; BCH-protected, XOR 0x5412) and the dark module."""
    w = pitch or n
    data = _FORMAT_BITS[ordinal] << 3 | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    bits = (data << 10 | rem) ^ 0x5412
    for i in range(15):
        b = (bits >> i) & 1
        # first copy, around the top-left finder
        if i < 6:
            m[i * w + offset + 8] = b
        elif i < 8:
            m[(i + 1) * w + offset + 8] = b
        elif i == 8:
            m[8 * w + offset + 7] = b
        else:
            m[8 * w + offset + 14 - i] = b
        # second copy, split between the top-right and bottom-left finders
        if i < 8:
            m[8 * w + offset + n - 1 - i] = b
        else:
            m[(n - 15 + i) * w + offset + 8] = b
    m[(n - 8) * w + offset + 8] = 1  # the dark module


def _draw_version(m, n, ver, pitch=0, offset=0):
    """Version information (versions 7+), BCH-protected, in both corners."""
    if ver < 7:
        return
    w = pitch or n
    rem = ver
    for _ in range(12):
        rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
    bits = ver << 12 | rem
    for i in range(18):
        b = (bits >> i) & 1
        a = n - 11 + i % 3
        c = i // 3
        m[c * w + offset + a] = b
        m[a * w + offset + c] = b


# --- fast path: the mask search with framebuf (C loops over whole buffers) ----------------------
# Layout: every row of the symbol is preceded by _SEP = 4 separator bytes (the quiet zone, light)
# and a separator row follows the last one, so a whole symbol is one buffer of P * (n + 1) bytes,
# P = n + 4 (module (x, y) at y * P + 4 + x), and patterns never run from one row into the next.
# Before masking, a module holds 2 * class + bit, where class = (y % 12) * 6 + x % 6 decides every
# mask pattern's bit (all eight repeat within 12 rows and 6 columns); function modules hold
# 144 (light) or 145 (dark), separators 146. One palette blit turns that byte into the module's
# value under all eight masks at once (bit m = mask m); a MONO_VLSB view of that buffer then reads
# mask m's symbol as its row m, which a plain blit copies out as one byte per module.
# Penalties use blits with a transparent key as element-wise AND over shifted copies, and
# bytes.count for the counting: see _n3 and _runs_blocks.
# Older MicroPython releases lack bytearray.count (only bytes had it): they take the pure path.
_FAST = framebuf is not None and hasattr(bytearray, "count")
_MASKVEC = None  # palette: pre-mask byte -> eight masked bits
_N3B = _N3 + b"\x00\x00\x00\x00"  # light area after
# light area before but not after: the first dark module within the next four
_N3A_ONLY = (b"\x00\x00\x00\x00" + _N3 + b"\x01", b"\x00\x00\x00\x00" + _N3 + b"\x00\x01",
             b"\x00\x00\x00\x00" + _N3 + b"\x00\x00\x01", b"\x00\x00\x00\x00" + _N3 + b"\x00\x00\x00\x01")
_SEP = const(4)  # separator (quiet zone) bytes before each row
_ALT = b"\x91\x90" * 90  # timing pattern, dark first


def _maskvec():
    global _MASKVEC
    pal = bytearray(147)
    for c in range(72):
        y = c // 6
        x = c % 6
        v = 0
        for k in range(8):
            if _mask_bit(k, y, x):
                v |= 1 << k
        pal[2 * c] = v
        pal[2 * c + 1] = v ^ 0xFF
    pal[145] = 0xFF
    _MASKVEC = framebuf.FrameBuffer(pal, 147, 1, framebuf.GS8)


def _layout(ver):
    """Function patterns and separators of a version in the fast layout; data modules 255."""
    n = 4 * ver + 17
    P = n + _SEP
    v = bytearray(P * (n + 1))
    framebuf.FrameBuffer(v, P, n + 1, framebuf.GS8).fill(146)
    s = framebuf.FrameBuffer(memoryview(v)[_SEP:], n, n, framebuf.GS8, P)  # clips to the symbol
    s.fill(255)
    fr = s.fill_rect
    for x, y in ((0, 0), (n - 7, 0), (0, n - 7)):
        fr(x - 1, y - 1, 9, 9, 144)
        fr(x, y, 7, 7, 145)
        fr(x + 1, y + 1, 5, 5, 144)
        fr(x + 2, y + 2, 3, 3, 145)
    pos = _alignment_positions(ver)
    na = len(pos)
    for a in range(na):
        for b in range(na):
            if (a == 0 and (b == 0 or b == na - 1)) or (a == na - 1 and b == 0):
                continue
            fr(pos[b] - 2, pos[a] - 2, 5, 5, 145)
            fr(pos[b] - 1, pos[a] - 1, 3, 3, 144)
            s.pixel(pos[b], pos[a], 145)
    # format areas, the dark module and version areas: reserved, light while masks are scored
    fr(0, 8, 9, 1, 144)
    fr(8, 0, 1, 9, 144)
    fr(n - 8, 8, 8, 1, 144)
    fr(8, n - 8, 1, 8, 144)
    if ver >= 7:
        fr(n - 11, 0, 3, 6, 144)
        fr(0, n - 11, 6, 3, 144)
    # timing patterns last: they cross the format areas at (8, 6) and (6, 8)
    k = 6 * P + _SEP + 8
    v[k:k + n - 16] = _ALT[:n - 16]
    for i in range(8, n - 8):
        v[i * P + _SEP + 6] = v[6 * P + _SEP + i]
    return v


def _place_fast(v, n, cw, bits):
    """Codeword bits (then remainder zeros) into the layout as 2 * class + bit.

    `bits` is scratch space of at least len(cw) * 8 + 8 bytes.
    """
    P = n + _SEP
    # one byte per bit, expanded in C; remainder bits read the zeros past the end
    total = len(cw) * 8
    fb = framebuf.FrameBuffer(bits, total + 8, 1, framebuf.GS8)
    fb.fill(0)
    fb.blit(framebuf.FrameBuffer(cw, total, 1, framebuf.MONO_HLSB), 0, 0)
    cy = bytearray(n)  # 2 * 6 * (y % 12): the row's part of the class
    for y in range(n):
        cy[y] = y % 12 * 12
    up = range(n - 1, -1, -1)
    down = range(n)
    i = 0
    right = n - 1
    while right >= 1:
        if right == 6:
            right = 5
        cr = right % 6 * 2
        cl = cr - 2 if cr else 10
        kc = _SEP + right
        for y in (up if ((right + 1) & 2) == 0 else down):
            k = y * P + kc
            c = cy[y]
            if v[k] == 255:
                v[k] = bits[i] + c + cr
                i += 1
            if v[k - 1] == 255:
                v[k - 1] = bits[i] + c + cl
                i += 1
        right -= 2


def _transpose(v, vt, n):
    """Column x of `v` into row x of `vt` (same layout), one clipped blit per column."""
    P = n + _SEP
    src = framebuf.FrameBuffer(v, P, n + 1, framebuf.GS8)
    dst = framebuf.FrameBuffer(vt, 1, len(vt), framebuf.GS8)  # pixel (0, y) is vt[y]
    for x in range(n):
        dst.blit(src, -_SEP - x, x * P + _SEP)


def _n3(d):
    """Finder-like patterns with 4 light modules after, or before only, x 40 (separators are light).

    None of these patterns can overlap itself, so bytes.count finds every occurrence.
    """
    c = d.count(_N3B)
    for pat in _N3A_ONLY:
        c += d.count(pat)
    return 40 * c


def _n4(d, n):
    total = n * n
    return 10 * (abs(d.count(b"\x01") * 20 - total * 10) // total)


def _runs_blocks(d, t, views, rows):
    """N1 over every row of `d` (0/1 in the fast layout); with `rows` also N2. Destroys `d`.

    For each colour a buffer is ANDed with itself shifted left by 1, 2 and 1 module (a blit whose
    key skips the colour being kept writes the other colour wherever the shifted module differs),
    leaving one marker per window of five equal modules: sum(L - 4) over runs L >= 5 is the number
    of markers and the number of runs the number of marker runs, and N1 = sum(L - 2). ANDing the
    pairs with the pairs one row down leaves one marker per 2x2 block (N2).
    `views` = (flat view of d, flat view of t, 2D view of t, n).
    """
    df, tf, td, n = views
    score = 0
    if rows:  # light 2x2 blocks first, while `d` is intact
        _light_copy(d, t, td, n)
        tf.blit(tf, -1, 0, 0)
        td.blit(td, 0, -1, 0)
        score = 3 * t.count(b"\x00")
    _light_copy(d, t, td, n)
    score += _runs(t, tf, 0, b"\x00", b"\x01\x00")
    df.blit(df, -1, 0, 1)  # dark pairs
    if rows:
        t[:] = d
        td.blit(td, 0, -1, 1)
        score += 3 * t.count(b"\x01")
    return score + _runs(d, df, 1, b"\x01", b"\x00\x01", True)


def _light_copy(d, t, td, n):
    """`d` into `t` with the separators marked "not light"."""
    t[:] = d
    td.fill_rect(0, 0, _SEP, n + 1, 1)
    td.fill_rect(0, n, n + _SEP, 1, 1)


def _runs(buf, fb, key, mark, start, paired=False):
    if not paired:
        fb.blit(fb, -1, 0, key)  # pairs
    fb.blit(fb, -2, 0, key)  # windows of 4
    fb.blit(fb, -1, 0, key)  # windows of 5
    return buf.count(mark) + 2 * buf.count(start)


def _symbol_fast(ver, ordinal, mask, cw):
    """Mask search and final symbol on the fast path; returns (mask, packed rows)."""
    if _MASKVEC is None:
        _maskvec()
    n = 4 * ver + 17
    P = n + _SEP
    v = _layout(ver)
    N = len(v)
    t = bytearray(N)  # scratch: the expanded codeword bits, then the penalty work buffers
    _place_fast(v, n, cw, t)
    GS8 = framebuf.GS8
    FB = framebuf.FrameBuffer
    # pre-mask bytes -> eight masked bits, in place; separators become 0 (light)
    vf = FB(v, N, 1, GS8)
    vf.blit(vf, 0, 0, -1, _MASKVEC)
    vt = bytearray(N)  # the same for the columns: zeros are separators already
    _transpose(v, vt, n)
    allv = FB(v, N, 8, framebuf.MONO_VLSB)  # row m = the symbol under mask m
    allt = FB(vt, N, 8, framebuf.MONO_VLSB)
    d = bytearray(N)
    df = FB(d, N, 1, GS8)
    if mask < 0:
        views = (df, FB(t, N, 1, GS8), FB(t, P, n + 1, GS8), n)
        # Everything but the column runs first, for all eight masks; then the column runs in order
        # of that partial score, a lower bound, stopping once no mask left can win (for the order
        # URL about one mask in five is cut). Ties go to the lower mask number.
        order = []
        for k in range(8):
            df.blit(allv, 0, -k)  # rows
            p = _n3(d) + _n4(d, n) + _runs_blocks(d, t, views, True)
            df.blit(allt, 0, -k)  # columns
            order.append((p + _n3(d)) * 8 + k)
        order.sort()
        best = -1
        for e in order:
            p = e >> 3
            k = e & 7
            if best >= 0 and (p > best or (p == best and k > mask)):
                break
            df.blit(allt, 0, -k)
            p += _runs_blocks(d, t, views, False)
            if best < 0 or p < best or (p == best and k < mask):
                best = p
                mask = k
    df.blit(allv, 0, -mask)
    _draw_format(d, n, ordinal, mask, P, _SEP)
    _draw_version(d, n, ver, P, _SEP)
    return mask, _pack(d, n, P, _SEP)


def _pack(m, n, pitch, offset):
    """Rows of `m` (one byte per module) as MSB-first bits, rows padded to whole bytes."""
    rb = (n + 7) & ~7
    out = bytearray(rb // 8 * n)
    if framebuf is not None:
        src = framebuf.FrameBuffer(m, pitch, len(m) // pitch, framebuf.GS8)
        # source columns past the symbol are separators or absent: keep the padding bits zero
        framebuf.FrameBuffer(out, rb, n, framebuf.MONO_HLSB).blit(src, -offset, 0, -1)
        return out
    stride = rb >> 3
    for y in range(n):
        k = y * pitch + offset
        o = y * stride
        for x in range(n):
            if m[k + x]:
                out[o + (x >> 3)] |= 0x80 >> (x & 7)
    return out


def _encode(data, mode, segment, ordinal, minv, maxv, mask, boost):
    """Encode bytes `data`; return (version, level ordinal, mask, packed rows)."""
    nchars = len(data)
    ver = minv
    while not _fits(mode, nchars, segment, ver, ordinal):
        ver += 1
        if ver > maxv:
            raise DataOverflowError("data does not fit in version %d" % maxv)
    if boost:
        while ordinal < 3 and _fits(mode, nchars, segment, ver, ordinal + 1):
            ordinal += 1
    cw = _interleave(_codewords(data, mode, segment, ver, ordinal), ver, ordinal)
    if _FAST:
        mask, packed = _symbol_fast(ver, ordinal, mask, cw)
    else:
        mask, packed = _symbol_pure(ver, ordinal, mask, cw)
    return ver, ordinal, mask, packed


def _symbol_pure(ver, ordinal, mask, cw):
    """Mask search and final symbol with plain loops (CPython, ports without framebuf)."""
    n = 4 * ver + 17
    m, fn = _function_pattern(ver)
    _place(m, fn, n, cw)
    if mask < 0:
        best = -1
        work = bytearray(n * n)
        for k in range(8):
            work[:] = m
            _apply_mask(work, fn, n, k)
            p = _penalty_pure(work, n)
            if best < 0 or p < best:
                best = p
                mask = k
    _apply_mask(m, fn, n, mask)
    _draw_format(m, n, ordinal, mask)
    _draw_version(m, n, ver)
    return mask, _pack(m, n, n, 0)


def _as_bytes(data):
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


# --- mpy-qr API --------------------------------------------------------------------------------
class RenderedQR:
    """A finished symbol: `width()` modules square, no quiet zone, kept as packed rows."""

    def __init__(self, version, ecl, mask, packed):
        self.version = version
        self.ecl = ecl  # level ordinal actually used (after boosting)
        self.mask = mask
        self._n = 4 * version + 17
        self._stride = (self._n + 7) >> 3
        self._bits = packed

    def width(self):
        return self._n

    def get(self, x, y):
        n = self._n
        if 0 <= x < n and 0 <= y < n:
            return (self._bits[y * self._stride + (x >> 3)] >> (7 - (x & 7))) & 1 == 1
        return False

    def packed(self):
        """(row_bits, width, bytes): rows padded to whole bytes, MSB = leftmost module."""
        return self._stride * 8, self._n, bytes(self._bits)

    def __str__(self):
        n = self._n
        return "\n".join("".join("##" if self.get(x, y) else "  " for x in range(n)) for y in range(n))


def make(message, encoding=0, max_version=10, min_version=1, mask=-1, ecl=ECC_LOW):
    """Encode like mpy-qr's `uqr.make`: the level is raised while the data fits the same version."""
    if not VERSION_MIN <= max_version <= VERSION_MAX:
        raise ValueError("max_version")
    if min_version > max_version or min_version < VERSION_MIN:
        raise ValueError("min_version")
    if not 0 <= ecl <= 3:
        raise ValueError("ecl")
    if not -1 <= mask <= 7:
        raise ValueError("mask")
    data = _as_bytes(message)
    segment = True
    if encoding == 0:
        mode = _mode_of(data)
        segment = len(data) > 0  # qrcodegen encodes empty text as no segment at all
    elif encoding == Mode_BYTE:
        mode = Mode_BYTE
    elif encoding == Mode_NUMERIC or encoding == Mode_ALPHANUMERIC:
        mode = _mode_of(data) if data else encoding
        if mode > encoding:
            raise ValueError("encoding")
        mode = encoding
    else:
        raise ValueError("encoding")
    try:
        ver, used, msk, m = _encode(data, mode, segment, ecl, min_version, max_version, mask, True)
    except DataOverflowError:
        raise DataOverflowError("QR data overflow")
    return RenderedQR(ver, used, msk, m)


def buffer_for_version(ver):
    """Bytes qrcodegen needs for a version (kept for API compatibility with mpy-qr)."""
    n = 4 * ver + 17
    return (n * n + 7) // 8 + 1


# --- uQR API -----------------------------------------------------------------------------------
class QRCode:
    """uQR/python-qrcode compatible front end (single segment, no level boost)."""

    def __init__(self, version=None, error_correction=ERROR_CORRECT_M, box_size=10, border=4,
                 mask_pattern=None):
        if version is not None and not 1 <= version <= 40:
            raise ValueError("Invalid version (was %s, expected 1 to 40)" % version)
        if error_correction not in (0, 1, 2, 3):
            raise ValueError("Invalid error correction level")
        if mask_pattern is not None and not 0 <= mask_pattern <= 7:
            raise ValueError("Mask pattern should be in range(8) (got %s)" % mask_pattern)
        self.version = version
        self.error_correction = error_correction
        self.box_size = box_size
        self.border = border
        self.mask_pattern = mask_pattern
        self._fixed_mask = mask_pattern
        self.clear()

    def clear(self):
        self._data = b""
        self._rendered = None
        self.modules_count = None

    def add_data(self, data, optimize=20):
        """Append data (str is UTF-8); `optimize` is accepted for uQR compatibility and ignored."""
        data = _as_bytes(data)
        self._data = self._data + data if self._data else data
        self._rendered = None

    def make(self, fit=True):
        ordinal = _ORDINAL[self.error_correction]
        if fit or self.version is None:
            minv = self.version or 1
            maxv = 40
        else:
            minv = maxv = self.version
        mask = -1 if self._fixed_mask is None else self._fixed_mask
        ver, _, msk, m = _encode(self._data, _mode_of(self._data), True, ordinal, minv, maxv, mask,
                                 False)
        self.version = ver
        self.mask_pattern = msk
        self.modules_count = 4 * ver + 17
        self._rendered = RenderedQR(ver, ordinal, msk, m)

    def get_matrix(self):
        """Rows of booleans (True = dark) with the quiet zone (`border` modules) included."""
        if self._rendered is None:
            self.make()
        r = self._rendered
        n = r._n
        b = self.border
        w = n + 2 * b
        get = r.get
        rows = [[False] * w for _ in range(b)]
        for y in range(n):
            rows.append([False] * b + [get(x, y) for x in range(n)] + [False] * b)
        rows.extend([False] * w for _ in range(b))
        return rows

