"""Both public APIs: uQR's QRCode and mpy-qr's uqr.make(), as their callers use them."""
import pytest

import uqr
from tests.uqr.reference import matrix_bits, reference_symbol

URL = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"


def test_constants_match_uqr_and_mpy_qr():
    assert (uqr.ERROR_CORRECT_L, uqr.ERROR_CORRECT_M, uqr.ERROR_CORRECT_Q, uqr.ERROR_CORRECT_H) == (1, 0, 3, 2)
    assert (uqr.ECC_LOW, uqr.ECC_MEDIUM, uqr.ECC_QUARTILE, uqr.ECC_HIGH) == (0, 1, 2, 3)
    assert (uqr.Mode_NUMERIC, uqr.Mode_ALPHANUMERIC, uqr.Mode_BYTE) == (1, 2, 4)
    assert (uqr.VERSION_MIN, uqr.VERSION_MAX) == (1, 40)


def test_get_matrix_includes_the_border_and_reports_version_and_mask():
    qr = uqr.QRCode(border=4)
    assert qr.mask_pattern is None
    qr.add_data(URL)
    qr.make()
    m = qr.get_matrix()
    size = 4 * qr.version + 17
    assert len(m) == len(m[0]) == size + 8
    assert all(isinstance(v, bool) for row in m for v in row)
    assert not any(m[0]) and not any(row[0] for row in m)  # quiet zone
    assert m[4][4:11] == [True] * 7  # top edge of the top-left finder
    assert 0 <= qr.mask_pattern <= 7
    ref = reference_symbol(URL, "M", boost=False)
    assert (qr.version, qr.mask_pattern) == (ref.version, ref.mask)
    assert [[1 if v else 0 for v in row[4:-4]] for row in m[4:-4]] == matrix_bits(ref)


def test_add_data_twice_appends():
    a = uqr.QRCode(border=0)
    a.add_data("HELLO ")
    a.add_data("WORLD")
    b = uqr.QRCode(border=0)
    b.add_data("HELLO WORLD")
    assert a.get_matrix() == b.get_matrix()  # get_matrix() makes the symbol if needed


def test_fixed_version_without_fit_overflows():
    qr = uqr.QRCode(version=1, error_correction=uqr.ERROR_CORRECT_H)
    qr.add_data("x" * 20)
    with pytest.raises(uqr.DataOverflowError):
        qr.make(fit=False)
    qr.make(fit=True)  # fit=True grows the version from the one given
    assert qr.version > 1


def test_given_version_is_a_minimum_with_fit():
    qr = uqr.QRCode(version=5)
    qr.add_data("1")
    qr.make()
    assert qr.version == 5
    assert len(qr.get_matrix()) == 37 + 8


def test_too_much_data_raises_a_clear_error():
    qr = uqr.QRCode(error_correction=uqr.ERROR_CORRECT_H)
    qr.add_data("x" * 1300)
    with pytest.raises(uqr.DataOverflowError):
        qr.make()
    with pytest.raises(ValueError, match="QR data overflow"):
        uqr.make("x" * 300)  # mpy-qr's default max_version=10
    assert issubclass(uqr.DataOverflowError, ValueError)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        uqr.QRCode(version=41)
    with pytest.raises(ValueError):
        uqr.QRCode(mask_pattern=8)
    with pytest.raises(ValueError):
        uqr.QRCode(error_correction=4)
    for kw in ({"max_version": 0}, {"max_version": 41}, {"min_version": 11}, {"ecl": 4},
               {"mask": 8}, {"encoding": 3}):
        with pytest.raises(ValueError):
            uqr.make("HI", **kw)
    with pytest.raises(ValueError):
        uqr.make("12a", encoding=uqr.Mode_NUMERIC)
    with pytest.raises(ValueError):
        uqr.make("abc", encoding=uqr.Mode_ALPHANUMERIC)


def test_packed_layout_matches_get():
    for data, ecl in ((URL, uqr.ECC_MEDIUM), ("12345", uqr.ECC_LOW), ("A" * 200, uqr.ECC_HIGH)):
        code = uqr.make(data, ecl=ecl, max_version=40)
        row_bits, width, buf = code.packed()
        assert width == code.width() == 4 * code.version + 17  # no quiet zone
        assert row_bits % 8 == 0 and 0 <= row_bits - width < 8
        assert isinstance(buf, bytes) and len(buf) == row_bits // 8 * width
        stride = row_bits // 8
        for y in range(width):
            for x in range(row_bits):
                bit = buf[y * stride + x // 8] >> (7 - x % 8) & 1
                assert bit == (code.get(x, y) if x < width else 0), (x, y)


def test_make_boosts_the_level_while_the_version_holds():
    code = uqr.make("HELLO", ecl=uqr.ECC_LOW)
    assert (code.version, code.ecl) == (1, uqr.ECC_HIGH)  # 5 alphanumerics fit 1-H
    code = uqr.make(URL, ecl=uqr.ECC_LOW)
    ref = reference_symbol(URL, "L", boost=True)
    assert (code.version, "LMQH"[code.ecl]) == (ref.version, ref.error)


def test_make_min_version_and_fixed_mask():
    code = uqr.make("HI", min_version=3, mask=5)
    assert code.version == 3 and code.mask == 5 and code.width() == 29


def test_make_encodings():
    byte = uqr.make(b"\x00\xff binary", encoding=uqr.Mode_BYTE)
    assert byte.width() == 21
    # forcing byte mode costs more than the automatic numeric mode
    assert uqr.make("1" * 40, encoding=uqr.Mode_BYTE).version > uqr.make("1" * 40).version
    assert uqr.make("1" * 40, encoding=uqr.Mode_NUMERIC).packed() == uqr.make("1" * 40).packed()
    assert uqr.make("AB12", encoding=uqr.Mode_ALPHANUMERIC).packed() == uqr.make("AB12").packed()


def test_empty_text_is_a_valid_symbol_like_qrcodegen():
    code = uqr.make("")
    assert code.width() == 21


def test_reed_solomon_generators_match_the_product_of_their_roots():
    # The encoder keeps generator coefficients as logs, which needs every coefficient non-zero.
    uqr._gf_tables()
    exp, log = uqr._EXP, uqr._LOG
    for degree in sorted(set(uqr._EC_PER_BLOCK)):
        g = [1]
        for i in range(degree):  # multiply by (x - a^i)
            nxt = [0] * (len(g) + 1)
            for j, c in enumerate(g):
                nxt[j] ^= c
                if c:
                    nxt[j + 1] ^= exp[log[c] + i]
            g = nxt
        assert all(g)
        assert bytes(uqr._generator_logs(degree)) == bytes(log[c] for c in g[1:])
