"""Drive Antom's official Python SDK (global-open-sdk-python, unmodified) against the sandbox.

Run as a subprocess so SSL_CERT_FILE (the test CA) applies to the SDK's default trust store.
Input (stdin JSON): gateway_url, client_id, merchant_private_pem, sandbox_public_pem, notify_url,
and optional fallback_port. Output (stdout JSON): what each call answered.

fallback_port: only when 127.0.0.1:443 cannot be bound. The SDK's transport always connects to
port 443; then the one function that opens its connection is replaced to use this port, and
everything else (headers, signing, HTTPS with certificate checks, response verification) stays the SDK's.
"""
import json
import ssl
import sys
import urllib.request
import uuid

from com.alipay.ams.api.default_alipay_client import DefaultAlipayClient
from com.alipay.ams.api.exception.exception import AlipayApiException
from com.alipay.ams.api.model.amount import Amount
from com.alipay.ams.api.model.merchant import Merchant
from com.alipay.ams.api.model.order import Order
from com.alipay.ams.api.model.store import Store
from com.alipay.ams.api.request.pay.alipay_inquiry_refund_request import AlipayInquiryRefundRequest
from com.alipay.ams.api.request.pay.alipay_pay_cancel_request import AlipayPayCancelRequest
from com.alipay.ams.api.request.pay.alipay_pay_query_request import AlipayPayQueryRequest
from com.alipay.ams.api.request.pay.alipay_refund_request import AlipayRefundRequest
from com.alipay.ams.api.request.pay.order_code_payment_request import OrderCodePaymentRequest


def use_port(port):
    import http.client
    from com.alipay.ams.api.net import default_http_rpc

    def connection(url, timeout=15):
        host = url.split("://", 1)[1].split("/", 1)[0].split(":")[0]
        return http.client.HTTPSConnection(host, port=port, timeout=timeout,
                                           context=ssl.create_default_context())

    default_http_rpc.__dict__["__get_http_connection"] = connection


def order_request(notify_url, value):
    store = Store()
    store.reference_store_id, store.store_name, store.store_mcc = "S0001", "Corner Cafe Main St", "5812"
    merchant = Merchant()
    merchant.reference_merchant_id, merchant.merchant_mcc, merchant.merchant_name = "M0001", "5812", "Corner Cafe"
    merchant.store = store
    order = Order()
    order.reference_order_id = "SDK-" + uuid.uuid4().hex[:12]
    order.order_description = "SDK order"
    order.order_amount = Amount("USD", value)
    order.merchant = merchant
    return OrderCodePaymentRequest("SDK-" + uuid.uuid4().hex, order, "USD", value,
                                   payment_notify_url=notify_url)


def customer_pays(code_url):
    request = urllib.request.Request(code_url + "/pay", data=b"", method="POST")
    with urllib.request.urlopen(request, context=ssl.create_default_context(), timeout=10) as reply:
        return json.loads(reply.read())


def main():
    cfg = json.load(sys.stdin)
    if cfg.get("fallback_port"):
        use_port(cfg["fallback_port"])
    client = DefaultAlipayClient(cfg["gateway_url"], cfg["client_id"], cfg["merchant_private_pem"],
                                 cfg["sandbox_public_pem"])
    out = {}
    pay = order_request(cfg["notify_url"], "1250")
    out["pay"] = json.loads(client.execute(pay))
    code = [d["codeValue"] for d in out["pay"]["orderCodeForm"]["codeDetails"] if d["displayType"] == "TEXT"][0]
    query = AlipayPayQueryRequest()
    query.payment_request_id = pay.payment_request_id
    out["inquiry_before"] = json.loads(client.execute(query))
    out["customer"] = customer_pays(code)
    out["inquiry_after"] = json.loads(client.execute(query))
    refund = AlipayRefundRequest()
    refund.refund_request_id = "SDK-R-" + uuid.uuid4().hex[:12]
    refund.payment_id = out["pay"]["paymentId"]
    refund.refund_amount = Amount("USD", "250")
    refund.refund_reason = "part returned"
    out["refund"] = json.loads(client.execute(refund))
    inquiry_refund = AlipayInquiryRefundRequest()
    inquiry_refund.refund_request_id = refund.refund_request_id
    out["inquiry_refund"] = json.loads(client.execute(inquiry_refund))
    second = order_request(cfg["notify_url"], "300")
    out["pay2"] = json.loads(client.execute(second))
    cancel = AlipayPayCancelRequest()
    cancel.payment_id = out["pay2"]["paymentId"]
    out["cancel"] = json.loads(client.execute(cancel))
    # The same calls with the wrong Antom public key must fail verification: proof it verifies.
    wrong = DefaultAlipayClient(cfg["gateway_url"], cfg["client_id"], cfg["merchant_private_pem"],
                                cfg["wrong_public_pem"])
    try:
        wrong.execute(query)
        out["wrong_key"] = "accepted"
    except AlipayApiException as problem:
        out["wrong_key"] = str(problem)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
