"""lib/uqr matches segno (with its two documented departures corrected, see reference.py) bit for bit."""
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

import uqr
from tests.uqr.reference import matrix_bits, reference_symbol
from tests.uqr.strategies import ECC_LEVEL, UQR_LEVEL, levels, payloads

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def qrcode_bits(data, level, **kw):
    qr = uqr.QRCode(error_correction=UQR_LEVEL[level], border=0, **kw)
    qr.add_data(data)
    qr.make()
    return qr, [[1 if m else 0 for m in row] for row in qr.get_matrix()]


@SETTINGS
@given(data=payloads(), level=levels)
def test_qrcode_matches_segno_without_boost(data, level):
    ref = reference_symbol(data, level, boost=False)
    qr, bits = qrcode_bits(data, level)
    assert (qr.version, qr.mask_pattern) == (ref.version, ref.mask)
    assert bits == matrix_bits(ref)


@SETTINGS
@given(data=payloads(max_size=120), level=levels)
def test_make_matches_segno_with_boost(data, level):
    ref = reference_symbol(data, level, boost=True)
    code = uqr.make(data, ecl=ECC_LEVEL[level], max_version=40)
    assert (code.version, code.mask, "LMQH"[code.ecl]) == (ref.version, ref.mask, ref.error)
    n = code.width()
    assert [[1 if code.get(x, y) else 0 for x in range(n)] for y in range(n)] == matrix_bits(ref)


@settings(max_examples=25, deadline=None)
@given(data=payloads(max_size=60), level=levels, mask=st.integers(0, 7))
def test_fixed_mask_is_used_as_given(data, level, mask):
    from tests.uqr.reference import corrected_segno, segno_input

    payload, mode = segno_input(data)
    with corrected_segno() as segno:
        ref = segno.make(payload, error=level, mode=mode, mask=mask, boost_error=False, micro=False)
    qr, bits = qrcode_bits(data, level, mask_pattern=mask)
    assert qr.mask_pattern == mask
    assert bits == matrix_bits(ref)


def test_large_versions_match(subtests=None):
    # A few payloads that need the biggest symbols (several RS block groups, version information).
    for data, level in (("A" * 4296, "L"), ("7" * 3000, "H"), ("\u4e2d" * 450, "M"),
                        ("https://example.com/?" + "x" * 900, "Q")):
        ref = reference_symbol(data, level, boost=False)
        qr, bits = qrcode_bits(data, level)
        assert (qr.version, qr.mask_pattern) == (ref.version, ref.mask), (data[:10], level)
        assert bits == matrix_bits(ref)
