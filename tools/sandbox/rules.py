"""Request validation for the Order Code API: fields, types, lengths and amounts (ALIPAY.md).

Every check raises Invalid(result_code, message); the API turns it into an F result. Nothing here
touches the store, so the rules can be tested on their own.
"""
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from tools.sandbox import currencies, rates

_DIGITS = re.compile(r"(0|[1-9][0-9]{0,15})\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")


class Invalid(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def param(message: str) -> Invalid:
    return Invalid("PARAM_ILLEGAL", message)


@dataclass(frozen=True)
class Amount:
    currency: str
    value: int

    def as_json(self) -> dict:
        return {"currency": self.currency, "value": str(self.value)}


@dataclass(frozen=True)
class PayRequest:
    payment_request_id: str
    amount: Amount
    reference_order_id: str
    description: str
    merchant_id: str
    merchant_name: str
    store_id: str
    store_name: str
    notify_url: str
    expiry: datetime | None
    settlement_currency: str | None = None

    def key_fields(self) -> str:
        """What must match for a repeated pay to count as the same request."""
        return json.dumps([self.amount.currency, self.amount.value, self.reference_order_id,
                           self.merchant_id, self.store_id, self.notify_url, self.settlement_currency])


def parse_json_object(raw: bytes) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise param("body is not valid UTF-8 JSON")
    if not isinstance(data, dict):
        raise param("body must be a JSON object")
    try:  # an escaped lone surrogate ("\\ud800") parses, but cannot be stored or signed as UTF-8
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise param("body contains a lone UTF-16 surrogate")
    return data


def obj(parent: dict, name: str, required: bool = True) -> dict | None:
    value = parent.get(name)
    if value is None:
        if required:
            raise param("%s is required" % name)
        return None
    if not isinstance(value, dict):
        raise param("%s must be an object" % name)
    return value


def text(parent: dict, name: str, max_len: int, required: bool = True) -> str | None:
    value = parent.get(name)
    if value is None or value == "":
        if required:
            raise param("%s is required" % name)
        return None
    if not isinstance(value, str):
        raise param("%s must be a string" % name)
    if len(value) > max_len:
        raise param("%s is longer than %d characters" % (name, max_len))
    return value


def fixed(parent: dict, name: str, expected: str) -> None:
    if text(parent, name, 64) != expected:
        raise param("%s must be %s" % (name, expected))


def amount(parent: dict, name: str) -> Amount:
    data = obj(parent, name)
    currency = text(data, "currency", 3)
    if not _CURRENCY.match(currency):
        raise param("%s.currency must be an ISO 4217 code" % name)
    if currency not in currencies.KNOWN:
        raise Invalid("CURRENCY_NOT_SUPPORT", "currency %s is not supported" % currency)
    value = text(data, "value", 16)
    if not _DIGITS.match(value):
        raise param("%s.value must be a string of minor units (digits only)" % name)
    return Amount(currency, int(value))


def iso_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise param("%s must be ISO-8601" % name)
    if moment.tzinfo is None:
        raise param("%s needs a time zone offset" % name)
    return moment


def request_time_ok(value: str) -> bool:
    """request-time: epoch milliseconds (Antom's docs) or ISO-8601 (the official SDK)."""
    if value.isdigit() and 10 <= len(value) <= 16:
        return True
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def notify_url_ok(url: str) -> bool:
    """An http(s) URL with a host and a valid port: one the notifier can actually POST to."""
    if any(ch <= " " or ch == "\x7f" for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError when out of range
        httpx.Request("POST", url)  # what the notifier sends with: IDNA and IPv6 checks
    except (ValueError, httpx.InvalidURL):  # UnicodeError (IDNA) is a ValueError
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def pay(body: dict) -> PayRequest:
    fixed(body, "productCode", "IN_STORE_PAYMENT")
    request_id = text(body, "paymentRequestId", 64)
    paid = amount(body, "paymentAmount")
    if paid.value <= 0:
        raise param("paymentAmount.value must be more than 0")
    fixed(obj(body, "paymentMethod"), "paymentMethodType", "CONNECT_WALLET")
    fixed(obj(body, "paymentFactor"), "inStorePaymentScenario", "OrderCode")
    order = obj(body, "order")
    reference = text(order, "referenceOrderId", 64)
    description = text(order, "orderDescription", 256)
    if amount(order, "orderAmount") != paid:
        raise param("order.orderAmount must equal paymentAmount")
    merchant = obj(order, "merchant")
    merchant_id = text(merchant, "referenceMerchantId", 64)
    text(merchant, "merchantMCC", 32)
    merchant_name = text(merchant, "merchantName", 256)
    store = obj(merchant, "store")
    store_id = text(store, "referenceStoreId", 64)
    store_name = text(store, "storeName", 512)
    text(store, "storeMCC", 32)
    env = obj(order, "env", required=False)
    if env is not None:
        text(env, "storeTerminalId", 64, required=False)
        text(env, "storeTerminalRequestTime", 64, required=False)
    goods = order.get("goods")
    if goods is not None and not isinstance(goods, list):
        raise param("order.goods must be a list")
    notify_url = text(body, "paymentNotifyUrl", 2048)
    if not notify_url_ok(notify_url):
        raise param("paymentNotifyUrl must be an http(s) URL")
    expiry_text = text(body, "paymentExpiryTime", 64, required=False)
    expiry = iso_time(expiry_text, "paymentExpiryTime") if expiry_text else None
    settlement = obj(body, "settlementStrategy", required=False)
    settlement_currency = None
    if settlement is not None:
        settlement_currency = text(settlement, "settlementCurrency", 3, required=False)
        if settlement_currency is not None:
            if not _CURRENCY.match(settlement_currency):
                raise param("settlementStrategy.settlementCurrency must be an ISO 4217 code")
            if settlement_currency != paid.currency and not (
                    rates.supported(settlement_currency) and rates.supported(paid.currency)):
                raise Invalid("CURRENCY_NOT_SUPPORT",
                              "no settlement from %s to %s" % (paid.currency, settlement_currency))
    text(body, "merchantRegion", 2, required=False)
    return PayRequest(request_id, paid, reference, description, merchant_id, merchant_name,
                      store_id, store_name, notify_url, expiry, settlement_currency)


def payment_ref(body: dict) -> tuple[str | None, str | None]:
    """(paymentId, paymentRequestId) for inquiryPayment and cancel; at least one is required."""
    payment_id = text(body, "paymentId", 64, required=False)
    request_id = text(body, "paymentRequestId", 64, required=False)
    if payment_id is None and request_id is None:
        raise param("paymentId or paymentRequestId is required")
    return payment_id, request_id


@dataclass(frozen=True)
class RefundRequest:
    refund_request_id: str
    payment_id: str
    amount: Amount
    reason: str | None


def refund(body: dict) -> RefundRequest:
    request_id = text(body, "refundRequestId", 64)
    payment_id = text(body, "paymentId", 64)
    value = amount(body, "refundAmount")
    if value.value <= 0:
        raise param("refundAmount.value must be more than 0")
    reason = text(body, "refundReason", 256, required=False)
    return RefundRequest(request_id, payment_id, value, reason)


def refund_ref(body: dict) -> tuple[str | None, str | None]:
    """(refundId, refundRequestId) for inquiryRefund."""
    refund_id = text(body, "refundId", 64, required=False)
    request_id = text(body, "refundRequestId", 64, required=False)
    if refund_id is None and request_id is None:
        raise param("refundId or refundRequestId is required")
    return refund_id, request_id


@dataclass(frozen=True)
class RegistrationRequest:
    registration_request_id: str
    reference_merchant_id: str
    reference_store_id: str

    def key_fields(self) -> str:
        return json.dumps([self.reference_merchant_id, self.reference_store_id])


def registration(body: dict) -> RegistrationRequest:
    """registration (docs.antom.com ams/registration): for IN_STORE_PAYMENT, storeInfo is required
    (PARAM_ILLEGAL without it)."""
    request_id = text(body, "registrationRequestId", 64)
    merchant = obj(body, "merchantInfo")
    merchant_id = text(merchant, "referenceMerchantId", 64)
    text(merchant, "merchantMCC", 32)
    text(merchant, "merchantDisplayName", 256, required=False)
    codes = body.get("productCodes")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise param("productCodes must be a list of product codes")
    if "IN_STORE_PAYMENT" not in codes:
        raise param("productCodes must include IN_STORE_PAYMENT")
    store = obj(body, "storeInfo")
    store_id = text(store, "referenceStoreId", 32)
    text(store, "storeName", 256)
    text(store, "storeMCC", 32)
    notify = text(body, "registrationNotifyURL", 2048, required=False)
    if notify is not None and not notify_url_ok(notify):
        raise param("registrationNotifyURL must be an http(s) URL")
    return RegistrationRequest(request_id, merchant_id, store_id)


def registration_ref(body: dict) -> tuple[str | None, str | None]:
    """(registrationRequestId, referenceMerchantId) for inquiryRegistrationStatus; one is required."""
    request_id = text(body, "registrationRequestId", 64, required=False)
    merchant_id = text(body, "referenceMerchantId", 64, required=False)
    if request_id is None and merchant_id is None:
        raise param("registrationRequestId or referenceMerchantId is required")
    return request_id, merchant_id
