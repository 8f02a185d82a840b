"""firmware/link/auth.py (terminal<->gateway HMAC) on CPython and inside real MicroPython, one set of vectors.

Expected values are recomputed here with CPython's `hmac`, independent of the code under test.
"""
import hashlib
import hmac
import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from firmware.link import auth

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS_PATH = os.path.join(ROOT, "tests", "terminal_auth_vectors.json")
V = json.load(open(VECTORS_PATH, encoding="utf-8"))


def _std(key, text):
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_vectors_are_what_cpython_hmac_computes():
    for r in V["requests"]:
        digest = hashlib.sha256(r["body"].encode()).hexdigest()
        assert r["string_to_sign"] == "\n".join([r["method"], r["target"], r["timestamp"], r["nonce"], digest])
        assert r["signature"] == _std(V["secret"], r["string_to_sign"])
    for r in V["responses"]:
        digest = hashlib.sha256(r["body"].encode()).hexdigest()
        assert r["string_to_sign"] == "\n".join([str(r["status"]), r["target"], r["nonce"], r["timestamp"], digest])
        assert r["signature"] == _std(V["secret"], r["string_to_sign"])


@pytest.mark.parametrize("r", V["requests"], ids=lambda r: r["method"] + " " + r["target"])
def test_request_signature(r):
    assert auth.request_string(r["method"], r["target"], r["timestamp"], r["nonce"], r["body"].encode()) \
        == r["string_to_sign"]
    assert auth.sign_request(V["secret"], r["method"], r["target"], r["timestamp"], r["nonce"], r["body"]) \
        == r["signature"]
    assert auth.verify_request(V["secret"], r["method"], r["target"], r["timestamp"], r["nonce"],
                               r["body"].encode(), r["signature"].upper())
    assert not auth.verify_request(V["secret"], r["method"], r["target"] + "x", r["timestamp"], r["nonce"],
                                   r["body"].encode(), r["signature"])


@pytest.mark.parametrize("r", V["responses"], ids=lambda r: str(r["status"]))
def test_response_signature(r):
    body = r["body"].encode()
    assert auth.sign_response(V["secret"], r["status"], r["target"], r["nonce"], r["timestamp"], body) \
        == r["signature"]
    hdrs = {"X-TIMESTAMP": r["timestamp"], "x-Signature": r["signature"]}
    assert auth.check_response(V["secret"], r["status"], r["target"], r["nonce"], hdrs, body)
    assert not auth.check_response(V["secret"], r["status"], r["target"], "f" * 32, hdrs, body)


@settings(max_examples=200, deadline=None)
@given(key=st.binary(max_size=200), msg=st.binary(max_size=300))
def test_hand_written_hmac_equals_stdlib(key, msg):
    assert auth.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


@pytest.mark.micropython
def test_same_vectors_inside_real_micropython(micropython):
    with open(VECTORS_PATH, encoding="utf-8") as f:
        vectors = f.read()
    names = micropython.run_tests("tests/device/test_auth_device.py",
                                  modules=["firmware/__init__.py", "firmware/link/auth.py"],
                                  files={"/vectors.json": vectors})
    assert {"test_hmac_matches_rfc4231_and_cpython", "test_request_strings_and_signatures",
            "test_responses_verify_and_tampering_fails", "test_nonces_are_fresh_and_valid"} <= set(names)


def test_the_gateways_fast_signer_matches_the_vectors():
    from tools.gateway import terminal_auth
    for r in V["requests"]:
        assert terminal_auth.sign_request(V["secret"], r["method"], r["target"], r["timestamp"], r["nonce"],
                                          r["body"].encode()) == r["signature"]
        assert terminal_auth.verify_request(V["secret"], r["method"], r["target"], r["timestamp"], r["nonce"],
                                            r["body"].encode(), r["signature"])
        assert not terminal_auth.verify_request(V["secret"], r["method"], r["target"], r["timestamp"], r["nonce"],
                                                r["body"].encode(), "\u00e9" + r["signature"][1:])
    for r in V["responses"]:
        assert terminal_auth.sign_response(V["secret"], r["status"], r["target"], r["nonce"], r["timestamp"],
                                           r["body"].encode()) == r["signature"]


@pytest.mark.micropython
def test_signing_allocates_little_inside_micropython(micropython):
    """The device budget allows short-lived buffers of a few KB: signing and verifying stay well under."""
    setup = ("import firmware.link.auth as auth\n"
             "S = %r\nB = %r\nH = {'x-timestamp': '1764090003', 'x-signature': 'ab' * 32}\n"
             % (V["secret"], V["requests"][1]["body"].encode()))
    mods = ["firmware/__init__.py", "firmware/link/auth.py"]
    sign = micropython.alloc("auth.request_headers('T1', S, 'POST', '/v1/payments', B, 1764090000, '%s')" % ("0" * 32),
                             setup=setup, modules=mods, repeat=3)
    check = micropython.alloc("auth.check_response(S, 200, '/v1/payments', '%s', H, B)" % ("0" * 32),
                              setup=setup, modules=mods, repeat=3)
    assert 0 < sign < 4096 and 0 < check < 4096, (sign, check)
