"""Writes tests/terminal_auth_vectors.json with CPython's own `hmac` (not firmware/link/auth.py).

Run once by hand (`.venv/bin/python -m tests.gateway.make_auth_vectors`); the tests recompute
every expected value with `hmac` too, so a mistake here cannot hide one in firmware/link/auth.py.
"""
import hashlib
import hmac
import json
import os

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "terminal_auth_vectors.json")
SECRET = "5f1c3a9e0b7d4c2a8e6f1b3d5c7a9e0f2b4d6c8a1e3f5b7d9c0a2e4f6b8d1c3a"


def hexmac(key, text):
    return hmac.new(key.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def build():
    requests = [
        {"method": "GET", "target": "/v1/payments/T0001-000042?wait=20", "timestamp": "1764090000",
         "nonce": "00112233445566778899aabbccddeeff", "body": ""},
        {"method": "POST", "target": "/v1/payments", "timestamp": "1764090001",
         "nonce": "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4",
         "body": '{"order_id": "T0001-000043", "amount": 1250, "currency": "USD", "description": "Caf\u00e9 \u5496\u5561"}'},
        {"method": "POST", "target": "/v1/payments/T0001-000043/refund", "timestamp": "1764090002",
         "nonce": "ffffffffffffffff", "body": '{"refund_id": "T0001-000043-R1", "amount": 500, "pin": "1234"}'},
    ]
    for r in requests:
        body_hash = hashlib.sha256(r["body"].encode("utf-8")).hexdigest()
        r["string_to_sign"] = "\n".join([r["method"], r["target"], r["timestamp"], r["nonce"], body_hash])
        r["signature"] = hexmac(SECRET, r["string_to_sign"])
    responses = [
        {"status": 200, "target": "/v1/payments/T0001-000042?wait=20", "nonce": requests[0]["nonce"],
         "timestamp": "1764090003",
         "body": '{"order_id":"T0001-000042","status":"PAID","amount":1250,"currency":"USD"}'},
        {"status": 401, "target": "/v1/payments", "nonce": requests[1]["nonce"], "timestamp": "1764090004",
         "body": '{"error":{"code":"STALE_TIMESTAMP","message":"timestamp outside \u00b1300 s"},"time":1764090004}'},
    ]
    for r in responses:
        body_hash = hashlib.sha256(r["body"].encode("utf-8")).hexdigest()
        r["string_to_sign"] = "\n".join([str(r["status"]), r["target"], r["nonce"], r["timestamp"], body_hash])
        r["signature"] = hexmac(SECRET, r["string_to_sign"])
    # RFC 4231 test cases 2 (short key) and 6 (key longer than the block), plus a 64-byte key
    hmacs = [
        {"key_hex": "4a656665", "data_hex": b"what do ya want for nothing?".hex()},
        {"key_hex": "aa" * 131, "data_hex": b"Test Using Larger Than Block-Size Key - Hash Key First".hex()},
        {"key_hex": "0b" * 64, "data_hex": b"exactly one block of key".hex()},
    ]
    for h in hmacs:
        h["hmac_hex"] = hmac.new(bytes.fromhex(h["key_hex"]), bytes.fromhex(h["data_hex"]), hashlib.sha256).hexdigest()
    return {
        "about": "Terminal<->gateway HMAC vectors (docs/protocol.md), computed with CPython's hmac module by "
                 "tests/gateway/make_auth_vectors.py. Bodies are UTF-8 text; the secret is used as ASCII bytes.",
        "secret": SECRET,
        "requests": requests,
        "responses": responses,
        "hmac": hmacs,
    }


if __name__ == "__main__":
    with open(PATH, "w", encoding="utf-8") as f:
        json.dump(build(), f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", PATH)
