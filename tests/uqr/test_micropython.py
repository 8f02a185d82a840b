"""lib/uqr inside the real (WebAssembly) MicroPython draws exactly what it draws under CPython."""
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import uqr
from tests.uqr.strategies import payloads

pytestmark = pytest.mark.micropython

MODULES = ["lib/uqr.py"]

# (data, level ordinal) - texts of every mode, small and larger versions.
GOLDEN = [
    ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de", 1),
    ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de", 0),
    ("https://global.alipay.com/0000000100", 2),
    ("01234567890123456789", 3),
    ("HELLO WORLD $%*+-./:", 2),
    ("\u652f\u4ed8\u5b9d\u8ba2\u5355\u7801", 1),
    ("x" * 300, 1),
    ("A" * 700, 0),
]


def _cpython_digest(data, ecl):
    code = uqr.make(data, ecl=ecl, max_version=40)
    return "%d %d %d %s" % (code.version, code.ecl, code.mask,
                            hashlib.sha256(code.packed()[2]).hexdigest())


def test_golden_symbols_are_identical_in_micropython(micropython):
    program = (
        "import uqr, hashlib, binascii\n"
        "for data, ecl in CASES:\n"
        "    code = uqr.make(data, ecl=ecl, max_version=40)\n"
        "    h = binascii.hexlify(hashlib.sha256(code.packed()[2]).digest()).decode()\n"
        "    print(code.version, code.ecl, code.mask, h)\n"
    )
    out = micropython.run("CASES = %r\n" % (GOLDEN,) + program, modules=MODULES)
    assert out.strip().splitlines() == [_cpython_digest(d, e) for d, e in GOLDEN]


def test_qrcode_api_identical_in_micropython(micropython):
    data = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de"
    out = micropython.run(
        "import uqr\nqr = uqr.QRCode(error_correction=uqr.ERROR_CORRECT_Q, border=2)\n"
        "qr.add_data(%r)\nqr.make()\nprint(qr.version, qr.mask_pattern)\n"
        "print(''.join('1' if v else '0' for row in qr.get_matrix() for v in row))\n" % data,
        modules=MODULES)
    qr = uqr.QRCode(error_correction=uqr.ERROR_CORRECT_Q, border=2)
    qr.add_data(data)
    qr.make()
    head, bits = out.strip().splitlines()
    assert head == "%d %d" % (qr.version, qr.mask_pattern)
    assert bits == "".join("1" if v else "0" for row in qr.get_matrix() for v in row)


def test_device_tests_pass_inside_micropython(micropython):
    names = micropython.run_tests("tests/device/test_uqr_device.py", modules=MODULES)
    assert "test_packed_rows_are_msb_first_and_padded" in names


@settings(max_examples=4, deadline=None)
@given(st.lists(st.tuples(payloads(max_size=150), st.integers(0, 3)), min_size=10, max_size=15))
def test_random_symbols_are_identical_in_micropython(micropython, cases):
    # The WebAssembly build has framebuf, so this checks its fast path against CPython's pure one.
    program = (
        "import uqr, hashlib, binascii\n"
        "for data, ecl in CASES:\n"
        "    code = uqr.make(data, ecl=ecl, max_version=40)\n"
        "    h = binascii.hexlify(hashlib.sha256(code.packed()[2]).digest()).decode()\n"
        "    print(code.version, code.ecl, code.mask, h)\n"
    )
    out = micropython.run("CASES = %r\n" % (cases,) + program, modules=MODULES)
    assert out.strip().splitlines() == [_cpython_digest(d, e) for d, e in cases]
