"""Antom (AMS) client for Order Code Payment: signs every request, verifies every answer.

Trust rule (ALIPAY.md): only a correctly signed HTTP 200 answer is believed. An unsigned or badly
signed answer is never a success: an unsigned `F` is reported as `F` with `signed=False` (callers may
log it as an error, never act on it as a payment outcome) and everything else untrusted is `U`.
A timeout, a refused connection, a non-200 or an unparsable body are `U` (unknown): Antom's
guidance then is to re-send `pay` with the same paymentRequestId, inquire, or retry the cancel.
"""
import hashlib
import json
import time
from datetime import datetime, timezone

import httpx

from tools.antom import signature

UNKNOWN = "U"


class Result:
    """One Antom answer. `status` is S, F or U; `code` Antom's resultCode (or ours for transport)."""

    __slots__ = ("status", "code", "message", "body", "signed", "http_status", "latency")

    def __init__(self, status, code, message="", body=None, signed=False, http_status=None, latency=0.0):
        self.status = status
        self.code = code
        self.message = message
        self.body = body or {}
        self.signed = signed
        self.http_status = http_status
        self.latency = latency

    @property
    def trusted(self):
        return self.signed and self.status in ("S", "F", "U")

    @property
    def reached(self):
        """Antom answered with a signed message (upstream is reachable and our keys work)."""
        return self.signed

    def __repr__(self):
        return "Result(%s %s signed=%s http=%s)" % (self.status, self.code, self.signed, self.http_status)


def payment_request_id(terminal_id, order_id):
    """1:1 with (terminal, order): terminal ids never contain '.', so the split is unambiguous."""
    return "%s.%s" % (terminal_id, order_id)


def refund_request_id(payment_request_id_, refund_id):
    """Deterministic per (payment, refund id), <= 64 characters."""
    digest = hashlib.sha256(("%s\n%s" % (payment_request_id_, refund_id)).encode()).hexdigest()
    return "R" + digest[:40]


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_iso(text):
    """Unix seconds of an ISO-8601 time, or None."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


def amount(value, currency):
    return {"currency": currency, "value": str(value)}


class AntomClient:
    def __init__(self, base_url, path_prefix, client_id, private_key, antom_public_key, timeout=10.0,
                 key_version="1", clock=time.time, transport=None, agent_token=None):
        """`agent_token`: ISV mode, the merchant this ISV client id acts for (sent as the
        `agent-token` header on every call; not part of the signed content, as Antom's SDK signs)."""
        self.base_url = base_url.rstrip("/")
        self.path_prefix = path_prefix
        self.client_id = client_id
        self.agent_token = agent_token or None
        self.private_key = private_key
        self.public_key = antom_public_key
        self.key_version = key_version
        self.clock = clock
        self.timeout = timeout
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)
        # the outcome of the latest exchange: (reached, unix time)
        self.last_contact = (None, None)

    async def close(self):
        await self.http.aclose()

    def path(self, endpoint, group="payments"):
        return "%s/v1/%s/%s" % (self.path_prefix, group, endpoint)

    def encode(self, payload):
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def sign_headers(self, path, body, request_time=None):
        request_time = request_time or str(int(self.clock() * 1000))
        value = signature.sign(self.private_key, signature.content("POST", path, self.client_id, request_time, body))
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "client-id": self.client_id,
            "request-time": request_time,
            "signature": signature.header(value, self.key_version),
        }
        if self.agent_token:
            headers["agent-token"] = self.agent_token
        return headers

    async def call(self, endpoint, payload=None, body=None, timeout=None, group="payments"):
        """POST one signed request; `body` (exact bytes) wins over `payload` so re-sends are identical."""
        path = self.path(endpoint, group)
        if body is None:
            body = self.encode(payload)
        headers = self.sign_headers(path, body)
        started = time.monotonic()
        try:
            resp = await self.http.post(self.base_url + path, content=body, headers=headers,
                                        timeout=timeout if timeout is not None else self.timeout)
        except httpx.TimeoutException:
            return self._note(Result(UNKNOWN, "TIMEOUT", "no answer within the timeout",
                                     latency=time.monotonic() - started))
        except httpx.HTTPError as e:
            return self._note(Result(UNKNOWN, "NETWORK_ERROR", "%s: %s" % (type(e).__name__, e),
                                     latency=time.monotonic() - started))
        return self._note(self.interpret(path, resp.status_code, resp.headers, resp.content,
                                         time.monotonic() - started))

    def interpret(self, path, http_status, headers, raw, latency=0.0):
        """Turn an HTTP answer into a Result, trusting only what is signed by Antom."""
        signed = (headers.get("client-id") == self.client_id and signature.verify_message(
            self.public_key, "POST", path, headers.get("client-id"), headers.get("response-time"), raw,
            headers.get("signature")))
        try:
            body = json.loads(raw.decode("utf-8"))
            result = body["result"]
            status, code = result["resultStatus"], result["resultCode"]
            message = result.get("resultMessage", "")
            if status not in ("S", "F", "U") or not isinstance(code, str):
                raise ValueError("bad result")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
            return Result(UNKNOWN, "BAD_RESPONSE", "HTTP %d with no usable result" % http_status,
                          signed=False, http_status=http_status, latency=latency)
        if http_status != 200:
            return Result(UNKNOWN, "HTTP_%d" % http_status, message, body, False, http_status, latency)
        if not signed:
            # Antom answers SIGNATURE_INVALID/CLIENT_INVALID unsigned: report it, never act on it.
            return Result("F" if status == "F" else UNKNOWN, code, message, body, False, http_status, latency)
        return Result(status, code, message, body, True, http_status, latency)

    def _note(self, result):
        self.last_contact = (result.reached, int(self.clock()))
        return result

    # --- the four calls ---------------------------------------------------------------------
    def pay_body(self, prid, order_id, amount_minor, currency, description, notify_url, merchant,
                 terminal_id, expires_at):
        money = amount(amount_minor, currency)
        payload = {
            "productCode": "IN_STORE_PAYMENT",
            "paymentRequestId": prid,
            "paymentAmount": money,
            "paymentMethod": {"paymentMethodType": "CONNECT_WALLET"},
            "paymentFactor": {"inStorePaymentScenario": "OrderCode"},
            "order": {
                "referenceOrderId": prid,
                "orderDescription": description or ("Order %s" % order_id),
                "orderAmount": money,
                "merchant": {
                    "referenceMerchantId": merchant["id"],
                    "merchantMCC": merchant["mcc"],
                    "merchantName": merchant["name"],
                    "store": {
                        "referenceStoreId": merchant["store_id"],
                        "storeName": merchant["store_name"],
                        "storeMCC": merchant["store_mcc"],
                    },
                },
                "env": {"storeTerminalId": terminal_id, "storeTerminalRequestTime": iso(self.clock())},
            },
            "paymentNotifyUrl": notify_url,
            "paymentExpiryTime": iso(expires_at),
        }
        if merchant.get("merchant_account_id"):  # one client id serving several merchant accounts
            payload["merchantAccountId"] = merchant["merchant_account_id"]
        if merchant.get("settlement_currency"):  # the merchant's choice; Antom's contract default otherwise
            payload["settlementStrategy"] = {"settlementCurrency": merchant["settlement_currency"]}
        return self.encode(payload)

    async def pay(self, body):
        return await self.call("pay", body=body)

    async def inquiry(self, prid, timeout=None):
        return await self.call("inquiryPayment", {"paymentRequestId": prid}, timeout=timeout)

    async def cancel(self, prid, timeout=None):
        return await self.call("cancel", {"paymentRequestId": prid}, timeout=timeout)

    async def refund(self, refund_request_id_, payment_id, amount_minor, currency, reason=None):
        payload = {"refundRequestId": refund_request_id_, "paymentId": payment_id,
                   "refundAmount": amount(amount_minor, currency)}
        if reason:
            payload["refundReason"] = reason
        return await self.call("refund", payload)


def registration_body(registration_request_id, merchant, store, notify_url=None):
    """Antom's merchant registration (docs.antom.com ams/registration) for in-store payments:
    storeInfo is required with IN_STORE_PAYMENT."""
    payload = {
        "registrationRequestId": registration_request_id,
        "merchantInfo": {"referenceMerchantId": merchant["id"], "merchantMCC": merchant["mcc"],
                         "merchantDisplayName": merchant["name"]},
        "productCodes": ["IN_STORE_PAYMENT"],
        "storeInfo": {"referenceStoreId": store["id"], "storeName": store["name"], "storeMCC": store["mcc"]},
    }
    if notify_url:
        payload["registrationNotifyURL"] = notify_url
    return payload


async def register_merchant(client, registration_request_id, merchant, store):
    return await client.call("registration", registration_body(registration_request_id, merchant, store),
                             group="merchants")


async def registration_status(client, registration_request_id):
    return await client.call("inquiryRegistrationStatus", {"registrationRequestId": registration_request_id},
                             group="merchants")


def code_value(body):
    """The TEXT code of a pay answer's orderCodeForm (the URL the terminal draws), or None."""
    form = body.get("orderCodeForm")
    if not isinstance(form, dict):
        return None
    for detail in form.get("codeDetails") or ():
        if isinstance(detail, dict) and detail.get("displayType") == "TEXT" and isinstance(detail.get("codeValue"), str):
            return detail["codeValue"]
    return None
