"""segno as the reference encoder, with its two known departures from ISO/IEC 18004 corrected.

1. Padding (heuer/segno#148, open): when the data and terminator end exactly on a codeword
   boundary, segno still appends 8 zero bits, i.e. a 0x00 codeword before the 0xEC/0x11 pad
   codewords. ISO 18004 7.4.10 adds padding bits only "if the bit stream does not end at a codeword
   boundary". Decoders ignore it, but the matrix differs.
2. Penalty rule N3 (finder-like 1:1:3:1:1 pattern): after counting an occurrence segno resumes its
   search 7 modules later, so an occurrence overlapping a counted one (they can share 1 or 3
   modules: 1011101011101, 10111011101) is never seen. The standard penalises every occurrence
   with 4 light modules on either side; `penalty` below is a literal reading of table 11 and
   replaces segno's scorer.

Everything else (mode, version, RS blocks, placement, masks, format and version information) is
segno's own code.
"""
import contextlib

import segno
import segno.encoder as _enc

_FINDER_LIKE = (1, 0, 1, 1, 1, 0, 1)


def _line_scores(line):
    n = len(line)
    n1 = 0
    run = 1
    for i in range(1, n + 1):
        if i < n and line[i] == line[i - 1]:
            run += 1
            continue
        if run >= 5:
            n1 += 3 + (run - 5)
        run = 1
    n3 = 0
    for i in range(n - 6):
        if tuple(line[i:i + 7]) != _FINDER_LIKE:
            continue
        # modules outside the symbol are light: the quiet zone is at least 4 modules wide
        before = all(line[j] == 0 for j in range(i - 4, i) if j >= 0)
        after = all(line[j] == 0 for j in range(i + 7, i + 11) if j < n)
        if before or after:
            n3 += 40
    return n1, n3


def penalty_scores(matrix):
    """(N1, N2, N3, N4) of a square matrix of 0/1 rows, ISO/IEC 18004:2015 table 11 read literally."""
    rows = [list(r) for r in matrix]
    n = len(rows)
    cols = [[rows[y][x] for y in range(n)] for x in range(n)]
    n1 = n3 = 0
    for line in rows + cols:
        a, b = _line_scores(line)
        n1 += a
        n3 += b
    n2 = 3 * sum(
        1
        for y in range(n - 1)
        for x in range(n - 1)
        if rows[y][x] == rows[y][x + 1] == rows[y + 1][x] == rows[y + 1][x + 1]
    )
    dark = sum(map(sum, rows))
    n4 = 10 * (abs(dark * 20 - n * n * 10) // (n * n))
    return n1, n2, n3, n4


def _fixed_padding(buff, version, length):
    if version not in (segno.consts.VERSION_M1, segno.consts.VERSION_M3):
        buff.extend([0] * (-length % 8))


@contextlib.contextmanager
def corrected_segno():
    """segno with the padding fix and the literal N3 scorer, restored afterwards."""
    saved = _enc.write_padding_bits, _enc.evaluate_mask
    _enc.write_padding_bits = _fixed_padding
    _enc.evaluate_mask = lambda matrix, width, height: sum(penalty_scores(matrix))
    try:
        yield segno
    finally:
        _enc.write_padding_bits, _enc.evaluate_mask = saved


def reference_symbol(data, level, boost):
    """The corrected segno symbol for `data` (str) encoded the way lib/uqr chooses its mode."""
    payload, mode = segno_input(data)
    with corrected_segno():
        return segno.make(payload, error=level, mode=mode, boost_error=boost, micro=False)


ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def segno_input(data):
    """(payload, mode) for segno: digits and the alphanumeric set as text, anything else as UTF-8
    bytes in byte mode (segno would otherwise prefer ISO-8859-1 or Shift_JIS/kanji mode, which
    lib/uqr deliberately does not do: it always sends UTF-8, like MicroPython's str)."""
    if data and all(c in "0123456789" for c in data):
        return data, "numeric"
    if data and all(c in ALNUM for c in data):
        return data, "alphanumeric"
    return data.encode("utf-8"), "byte"


def matrix_bits(code):
    return [list(row) for row in code.matrix]
