"""Fixtures for the sandbox tests: a real sandbox per module, a real notification receiver, and
an order builder. Requests are signed independently of tools.sandbox (tools.antom + cryptography)."""
import copy
import itertools
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.waiting import wait_until  # noqa: F401 (the sandbox tests import it from here)

from tools.antom import signature
from tools.sandbox.testing import running_sandbox

ACK = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'

ORDER = {
    "productCode": "IN_STORE_PAYMENT",
    "paymentRequestId": None,
    "paymentAmount": {"currency": "USD", "value": "1250"},
    "paymentMethod": {"paymentMethodType": "CONNECT_WALLET"},
    "paymentFactor": {"inStorePaymentScenario": "OrderCode"},
    "order": {
        "referenceOrderId": None,
        "orderDescription": "Coffee and cake",
        "orderAmount": {"currency": "USD", "value": "1250"},
        "merchant": {"referenceMerchantId": "M0001", "merchantMCC": "5812", "merchantName": "Corner Cafe",
                     "store": {"referenceStoreId": "S0001", "storeName": "Corner Cafe Main St",
                               "storeMCC": "5812"}},
        "env": {"storeTerminalId": "T0001"},
    },
    "paymentNotifyUrl": None,
}


def order(notify_url="http://127.0.0.1:9/notify", value="1250", currency="USD", description=None,
          **top) -> dict:
    """A valid Order Code pay body with fresh ids; keyword arguments replace top-level fields."""
    body = copy.deepcopy(ORDER)
    unique = uuid.uuid4().hex[:16]
    body["paymentRequestId"] = "PR-" + unique
    body["order"]["referenceOrderId"] = "ORD-" + unique
    body["paymentAmount"] = {"currency": currency, "value": value}
    body["order"]["orderAmount"] = {"currency": currency, "value": value}
    if description is not None:
        body["order"]["orderDescription"] = description
    body["paymentNotifyUrl"] = notify_url
    body.update(top)
    return body


def text_code(response_json: dict) -> str:
    details = response_json["orderCodeForm"]["codeDetails"]
    return [d["codeValue"] for d in details if d["displayType"] == "TEXT"][0]


class Receiver:
    """A merchant's notify endpoint: records every POST, checks its signature with the sandbox key,
    and answers with the next entry of `answers` (then `default`); an answer is (status, body)."""

    def __init__(self):
        self.public_key = None
        self.received = []
        self.answers = []
        self.default = (200, ACK)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                valid = receiver.public_key is not None and signature.verify_message(
                    receiver.public_key, "POST", self.path, self.headers.get("client-id"),
                    self.headers.get("request-time"), raw, self.headers.get("signature"))
                with receiver.lock:
                    status, body = receiver.answers.pop(0) if receiver.answers else receiver.default
                    if not valid and body == ACK:
                        status, body = 401, b"bad signature"  # a correct receiver refuses it
                    receiver.received.append({"path": self.path, "headers": dict(self.headers),
                                              "body": raw, "valid": valid, "at": time.monotonic(),
                                              "answered": status})
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/antom/notify" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def for_payment(self, payment_id):
        with self.lock:
            return [r for r in self.received if json.loads(r["body"])["paymentId"] == payment_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def sandbox(receiver):
    with running_sandbox(client_id="SANDBOX_T1", time_scale=0.001) as sb:
        receiver.public_key = sb.public_key
        yield sb
