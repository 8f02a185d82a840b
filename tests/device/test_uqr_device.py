# Runs inside MicroPython: lib/uqr's own consistency checks on the real interpreter.
import uqr

URL = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"


def _bits(code):
    n = code.width()
    return [[1 if code.get(x, y) else 0 for x in range(n)] for y in range(n)]


def test_packed_rows_are_msb_first_and_padded():
    code = uqr.make(URL, ecl=uqr.ECC_MEDIUM)
    row_bits, width, buf = code.packed()
    assert width == code.width() and row_bits == (width + 7) // 8 * 8
    stride = row_bits // 8
    assert len(buf) == stride * width
    for y in range(width):
        for x in range(row_bits):
            bit = (buf[y * stride + x // 8] >> (7 - x % 8)) & 1
            assert bit == ((1 if code.get(x, y) else 0) if x < width else 0)


def test_qrcode_and_make_agree_on_a_fixed_level():
    qr = uqr.QRCode(error_correction=uqr.ERROR_CORRECT_H, border=0)
    qr.add_data(URL)
    qr.make()
    code = uqr.make(URL, ecl=uqr.ECC_HIGH)
    assert (qr.version, qr.mask_pattern) == (code.version, code.mask)
    assert [[1 if v else 0 for v in row] for row in qr.get_matrix()] == _bits(code)


def test_text_is_utf8_and_bytes_are_accepted():
    a = uqr.make("caf\u00e9 \u652f\u4ed8")
    b = uqr.make("caf\u00e9 \u652f\u4ed8".encode("utf-8"), encoding=uqr.Mode_BYTE)
    assert a.packed() == b.packed()


def test_overflow_is_a_value_error():
    try:
        uqr.make("x" * 300)
    except ValueError as e:
        assert "overflow" in str(e)
    else:
        raise AssertionError("no overflow raised")
    qr = uqr.QRCode(version=1, error_correction=uqr.ERROR_CORRECT_H)
    qr.add_data("x" * 20)
    try:
        qr.make(fit=False)
    except uqr.DataOverflowError:
        pass
    else:
        raise AssertionError("no DataOverflowError")


def test_every_mask_and_level_draws_a_symbol():
    for ecl in range(4):
        for mask in range(8):
            code = uqr.make("HELLO 123", ecl=ecl, mask=mask)
            assert code.mask == mask and code.width() == 21


def test_fast_path_matches_the_pure_path():
    # The framebuf mask search and the plain-loop one must draw the same symbols.
    if not uqr._FAST:
        return  # a port without framebuf: only the pure path exists
    cases = [(URL, 1), ("0123456789" * 9, 3), ("HELLO WORLD", 0), ("\u652f\u4ed8 caf\u00e9" * 5, 2),
             ("x" * 150, 1)]
    fast = [uqr.make(d, ecl=e, max_version=40) for d, e in cases]
    uqr._FAST = False
    try:
        pure = [uqr.make(d, ecl=e, max_version=40) for d, e in cases]
    finally:
        uqr._FAST = True
    for a, b in zip(fast, pure):
        assert (a.version, a.ecl, a.mask) == (b.version, b.ecl, b.mask)
        assert a.packed() == b.packed()
