"""zbar reads what lib/uqr draws, at every level and across the version range."""
import pytest
from PIL import Image
from pyzbar import pyzbar

import uqr

SCALE = 3


def render(matrix):
    """A PIL image from rows of booleans (True = dark), quiet zone already in the matrix."""
    n = len(matrix)
    img = Image.new("L", (n, n), 255)
    img.putdata([0 if v else 255 for row in matrix for v in row])
    return img.resize((n * SCALE, n * SCALE), Image.NEAREST)


def decode(matrix):
    found = pyzbar.decode(render(matrix), symbols=[pyzbar.ZBarSymbol.QRCODE])
    assert len(found) == 1, "zbar found %d symbols" % len(found)
    return found[0].data.decode("utf-8")


CASES = [
    ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de", "L"),
    ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de", "M"),
    ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de", "Q"),
    ("https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de", "H"),
    ("0123456789" * 30, "M"),
    ("PAY:ORDER 42/7-A.$%*+", "H"),
    ("\u652f\u4ed8\u5b9d\u8ba2\u5355\u7801 \u2714 caf\u00e9", "Q"),
    ("x" * 500, "L"),  # version 12
    ("https://example.com/" + "ab" * 600, "M"),  # version 30-ish
    ("A" * 4296, "L"),  # version 40
]


@pytest.mark.parametrize("data,level", CASES, ids=[d[:12] + "-" + l for d, l in CASES])
def test_zbar_reads_qrcode(data, level):
    qr = uqr.QRCode(error_correction={"L": 1, "M": 0, "Q": 3, "H": 2}[level], border=4)
    qr.add_data(data)
    qr.make()
    assert decode(qr.get_matrix()) == data


@pytest.mark.parametrize("ecl", [0, 1, 2, 3])
def test_zbar_reads_packed_output_of_make(ecl):
    data = "https://global.alipay.com/281002040090bbmmzTC4BzSex92tUglv31de?level=%d" % ecl
    row_bits, width, buf = uqr.make(data, ecl=ecl).packed()
    stride = row_bits // 8
    rows = [[False] * (width + 8) for _ in range(4)]
    for y in range(width):
        rows.append([False] * 4 + [bool(buf[y * stride + x // 8] >> (7 - x % 8) & 1)
                                   for x in range(width)] + [False] * 4)
    rows += [[False] * (width + 8) for _ in range(4)]
    assert decode(rows) == data
