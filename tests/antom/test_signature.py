"""tools.antom.signature reproduces the official SDK's signatures byte for byte."""
import base64
import json
import os
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tools.antom import signature

# A copy of ../shared/vectors/antom_signature.json (computed with Antom's official Python SDK),
# kept here so a clone without shared/ still checks against it.
VECTORS = json.load(open(os.path.join(os.path.dirname(__file__), "antom_signature.json")))
CASES = VECTORS["cases"]


@pytest.fixture(scope="module")
def keys():
    return (signature.load_private_key(VECTORS["private_key_pkcs1_pem"]),
            signature.load_public_key(VECTORS["public_key_spki_pem"]))


@pytest.mark.parametrize("case", CASES, ids=[c["request_time"] for c in CASES])
def test_content_and_signature_match_the_official_sdk(case, keys):
    private, public = keys
    data = signature.content(case["method"], case["path"], case["client_id"], case["request_time"], case["body"])
    assert data == case["content_signed"].encode("utf-8")
    assert signature.sign(private, data) == case["signature_value"]
    assert signature.sign_message(private, case["method"], case["path"], case["client_id"],
                                  case["request_time"], case["body"]) == case["signature_header"]
    assert signature.verify_message(public, case["method"], case["path"], case["client_id"],
                                    case["request_time"], case["body"], case["signature_header"])


def test_signature_by_hand_with_cryptography(keys):
    """Independent of tools.antom: sign the vector's content directly and compare."""
    private, _public = keys
    case = CASES[0]
    raw = private.sign(case["content_signed"].encode(), padding.PKCS1v15(), hashes.SHA256())
    assert base64.b64encode(raw).decode() == unquote(case["signature_value"])


def test_tampering_breaks_verification(keys):
    _private, public = keys
    case = CASES[0]
    args = (case["method"], case["path"], case["client_id"], case["request_time"])
    assert not signature.verify_message(public, *args, case["body"] + " ", case["signature_header"])
    assert not signature.verify_message(public, case["method"], case["path"], case["client_id"],
                                        "1764090000124", case["body"], case["signature_header"])
    other = signature.generate_private_key()
    forged = signature.sign_message(other, *args, case["body"])
    assert not signature.verify_message(public, *args, case["body"], forged)


def test_header_parsing_tolerates_spaces_and_unencoded_values(keys):
    private, public = keys
    case = CASES[0]
    spaced = case["signature_header"].replace(",", ", ")
    assert signature.verify_message(public, case["method"], case["path"], case["client_id"],
                                    case["request_time"], case["body"], spaced)
    raw_b64 = unquote(case["signature_value"])  # not URL-encoded, '=' padding inside
    assert signature.verify_message(public, case["method"], case["path"], case["client_id"],
                                    case["request_time"], case["body"], signature.header(raw_b64))


@pytest.mark.parametrize("bad", [None, "", "algorithm=RSA256", "algorithm=RSA256,signature=",
                                 "algorithm=HMAC,keyVersion=1,signature=abc", "signature=%%%%",
                                 "garbage"])
def test_missing_or_malformed_headers_never_verify(bad, keys):
    _private, public = keys
    case = CASES[0]
    assert not signature.verify_message(public, case["method"], case["path"], case["client_id"],
                                        case["request_time"], case["body"], bad)


def test_keys_round_trip_through_pem_and_bare_base64():
    key = signature.generate_private_key()
    again = signature.load_private_key(signature.private_pem(key))
    bare_public = b"".join(signature.public_pem(key).splitlines()[1:-1])
    public = signature.load_public_key(bare_public)
    data = b"x"
    assert signature.verify(public, data, signature.sign(again, data))
