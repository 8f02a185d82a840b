"""Byte-exact signatures: the sandbox accepts requests signed by Antom's official SDK (the shared
vectors), and its own response signature equals one computed here by hand with `cryptography`."""
import base64
import json
import os

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tools.sandbox.store import Store

with open(os.path.join(os.path.dirname(__file__), "..", "antom", "antom_signature.json")) as _src:
    VECTORS = json.load(_src)  # the official SDK's vectors (tests/antom keeps the copy)


def by_hand(sb, path, response):
    """The signature header the sandbox must send, built from first principles."""
    with open(os.path.join(sb.data_dir, "sandbox_private.pem"), "rb") as src:
        key = serialization.load_pem_private_key(src.read(), password=None)
    content = ("POST " + path + "\n" + response.headers["client-id"] + "." +
               response.headers["response-time"] + ".").encode() + response.content
    raw = key.sign(content, padding.PKCS1v15(), hashes.SHA256())
    value = base64.b64encode(raw).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return "algorithm=RSA256,keyVersion=1,signature=" + value


def test_requests_signed_by_the_official_sdk_are_accepted_and_answers_match_by_hand(sandbox):
    store = Store(sandbox.data_dir)
    store.register_merchant(VECTORS["cases"][0]["client_id"], VECTORS["public_key_spki_pem"])
    store.close()
    answers = []
    for case in VECTORS["cases"]:  # epoch-ms and ISO-8601 request-time, same body
        response = httpx.post(sandbox.base_url + case["path"], content=case["body"].encode(),
                              headers={"client-id": case["client_id"], "request-time": case["request_time"],
                                       "signature": case["signature_header"],
                                       "content-type": "application/json; charset=UTF-8"})
        assert response.status_code == 200
        assert response.headers["signature"] == by_hand(sandbox, case["path"], response)
        answers.append(response.json())
    assert answers[0]["result"]["resultCode"] == "PAYMENT_IN_PROCESS"
    assert answers[1] == answers[0]  # the same paymentRequestId and body: the same answer


def test_a_vector_signature_replayed_over_another_body_is_refused(sandbox):
    case = VECTORS["cases"][0]
    store = Store(sandbox.data_dir)
    store.register_merchant(case["client_id"], VECTORS["public_key_spki_pem"])
    store.close()
    response = httpx.post(sandbox.base_url + case["path"], content=case["body"].replace("1250", "1251"),
                          headers={"client-id": case["client_id"], "request-time": case["request_time"],
                                   "signature": case["signature_header"]})
    assert response.json()["result"]["resultCode"] == "SIGNATURE_INVALID"
