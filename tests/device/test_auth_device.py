# Runs inside MicroPython: firmware.link.auth against the shared vectors (tests/terminal_auth_vectors.json,
# written into the interpreter's filesystem as /vectors.json by tests/gateway/test_auth.py).
import binascii
import json

import firmware.link.auth as auth

with open("/vectors.json") as _f:
    V = json.load(_f)
SECRET = V["secret"]


def test_hmac_matches_rfc4231_and_cpython():
    for case in V["hmac"]:
        key = binascii.unhexlify(case["key_hex"])
        data = binascii.unhexlify(case["data_hex"])
        assert auth.hmac_hex(key, data) == case["hmac_hex"], case["key_hex"][:8]


def test_request_strings_and_signatures():
    for r in V["requests"]:
        s = auth.request_string(r["method"], r["target"], r["timestamp"], r["nonce"], r["body"].encode())
        assert s == r["string_to_sign"], r["target"]
        sig = auth.sign_request(SECRET, r["method"], r["target"], r["timestamp"], r["nonce"], r["body"])
        assert sig == r["signature"], r["target"]
        h = auth.request_headers("T0001", SECRET, r["method"], r["target"], r["body"].encode(),
                                 int(r["timestamp"]), r["nonce"])
        assert h["X-Signature"] == r["signature"]
        assert h["X-Timestamp"] == r["timestamp"] and h["X-Nonce"] == r["nonce"]


def test_responses_verify_and_tampering_fails():
    for r in V["responses"]:
        body = r["body"].encode()
        hdrs = {"x-timestamp": r["timestamp"], "x-signature": r["signature"]}
        assert auth.check_response(SECRET, r["status"], r["target"], r["nonce"], hdrs, body)
        # another request's nonce (a replayed answer), another status, body or secret: rejected
        assert not auth.check_response(SECRET, r["status"], r["target"], "0" * 32, hdrs, body)
        assert not auth.check_response(SECRET, 200 if r["status"] != 200 else 500, r["target"],
                                       r["nonce"], hdrs, body)
        assert not auth.check_response(SECRET, r["status"], r["target"], r["nonce"], hdrs, body + b" ")
        assert not auth.check_response("0" * 64, r["status"], r["target"], r["nonce"], hdrs, body)
        # unsigned answers never verify
        assert not auth.check_response(SECRET, r["status"], r["target"], r["nonce"], {}, body)
        assert not auth.check_response(SECRET, r["status"], r["target"], r["nonce"],
                                       {"X-Timestamp": r["timestamp"]}, body)


def test_nonces_are_fresh_and_valid():
    a = auth.new_nonce()
    b = auth.new_nonce()
    assert a != b and auth.valid_nonce(a) and len(a) == 32
    assert not auth.valid_nonce("ABCDEF0123456789")
    assert not auth.valid_nonce("0123")
    assert not auth.valid_nonce("g" * 16)
    assert not auth.valid_nonce(None)


def test_equal_is_exact():
    assert auth.equal("abc", "abc")
    assert not auth.equal("abc", "abd")
    assert not auth.equal("abc", "abcd")
