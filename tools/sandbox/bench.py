"""Measure the sandbox: start-up, signed round trips, pay-to-notification. Prints, asserts nothing.

    .venv/bin/python -m tools.sandbox.bench [--requests 200]
"""
import argparse
import json
import statistics
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tools.sandbox.testing import running_sandbox

ACK = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'


def pay_body(notify_url: str) -> dict:
    unique = uuid.uuid4().hex[:16]
    amount = {"currency": "USD", "value": "100"}
    return {"productCode": "IN_STORE_PAYMENT", "paymentRequestId": "B-" + unique, "paymentAmount": amount,
            "paymentMethod": {"paymentMethodType": "CONNECT_WALLET"},
            "paymentFactor": {"inStorePaymentScenario": "OrderCode"},
            "order": {"referenceOrderId": "B-" + unique, "orderDescription": "bench", "orderAmount": amount,
                      "merchant": {"referenceMerchantId": "M", "merchantMCC": "5812", "merchantName": "Bench",
                                   "store": {"referenceStoreId": "S", "storeName": "Bench", "storeMCC": "5812"}}},
            "paymentNotifyUrl": notify_url}


def percentiles(samples):
    ordered = sorted(samples)
    return "p50 %.1f ms, p95 %.1f ms" % (statistics.median(ordered) * 1000,
                                         ordered[int(len(ordered) * 0.95) - 1] * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    arrivals = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            arrivals[json.loads(body)["paymentId"]] = time.monotonic()
            self.send_response(200)
            self.send_header("content-length", str(len(ACK)))
            self.end_headers()
            self.wfile.write(ACK)

        def log_message(self, *a):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    notify_url = "http://127.0.0.1:%d/notify" % receiver.server_address[1]
    started = time.monotonic()
    with running_sandbox() as sb:
        print("start-up (fresh data dir, key generation included): %.2f s" % (time.monotonic() - started))
        pays, inquiries, notify_delays = [], [], []
        for _ in range(args.requests):
            t0 = time.monotonic()
            answer = sb.call("pay", pay_body(notify_url)).json()
            pays.append(time.monotonic() - t0)
            t0 = time.monotonic()
            sb.call("inquiryPayment", {"paymentId": answer["paymentId"]})
            inquiries.append(time.monotonic() - t0)
        code = [d["codeValue"] for d in answer["orderCodeForm"]["codeDetails"] if d["displayType"] == "TEXT"][0]
        for _ in range(20):
            answer = sb.call("pay", pay_body(notify_url)).json()
            code = [d["codeValue"] for d in answer["orderCodeForm"]["codeDetails"]
                    if d["displayType"] == "TEXT"][0]
            paid = time.monotonic()
            sb.pay(code)
            while answer["paymentId"] not in arrivals:
                time.sleep(0.001)
            notify_delays.append(arrivals[answer["paymentId"]] - paid)
        print("signed pay round trip (sign, verify, store, sign reply): %s" % percentiles(pays))
        print("signed inquiryPayment round trip: %s" % percentiles(inquiries))
        print("customer pays -> notification received: %s" % percentiles(notify_delays))
        print("code URL length: %d characters (%s)" % (len(code), code))
    receiver.shutdown()


if __name__ == "__main__":
    main()
