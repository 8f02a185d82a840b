"""Hypothesis payloads: digits, the alphanumeric set, printable ASCII, CJK text, mixtures."""
from hypothesis import strategies as st

from tests.uqr.reference import ALNUM

LEVELS = "LMQH"
# uQR's constants and mpy-qr's, per level letter
UQR_LEVEL = {"L": 1, "M": 0, "Q": 3, "H": 2}
ECC_LEVEL = {"L": 0, "M": 1, "Q": 2, "H": 3}


def payloads(max_size=300):
    return st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=max_size * 2),
        st.text(alphabet=ALNUM, min_size=1, max_size=max_size),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=max_size),
        st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1,
                max_size=max_size // 3),
        st.text(min_size=1, max_size=max_size // 2),  # anything, surrogates aside
    ).filter(_encodable)


def _encodable(s):
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


levels = st.sampled_from(LEVELS)
