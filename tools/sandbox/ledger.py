"""What Antom does with each call: create, inquire, cancel and refund payments, the customer's
pay/decline, expiry, and queuing notifications. HTTP and signatures live in api.py.

Each API operation returns a Reply: the JSON body plus how the transport should misbehave (faults).
"""
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from tools.sandbox import faults as fault_rules
from tools.sandbox import rates, rules, wallets
from tools.sandbox.rules import Invalid

MAX_EXPIRY_AHEAD = 30 * 60  # paymentExpiryTime at most 30 minutes ahead (ALIPAY.md)
EXPIRY_GRACE = 60           # tolerate a client clock this far ahead of ours
_ALPHABET = string.ascii_letters + string.digits

PAYMENT_IN_PROCESS = ("PAYMENT_IN_PROCESS", "U", "payment in process")
SUCCESS = ("SUCCESS", "S", "success")
UNKNOWN = ("UNKNOWN_EXCEPTION", "U", "unknown exception")


@dataclass
class Config:
    public_url: str = "http://127.0.0.1"
    code_lifetime: float = 900.0
    cancel_window: float = 86400.0
    time_scale: float = 1.0
    run_faults: list = field(default_factory=list)  # (amount or None, name, arg) from `serve --fault`


@dataclass
class Reply:
    body: dict | None
    http_status: int = 200
    lose: bool = False   # close the connection without answering
    delay: float = 0.0   # seconds to hold the reply
    skew: float = 0.0    # seconds added to response-time


def result(code: str, status: str, message: str) -> dict:
    return {"resultCode": code, "resultStatus": status, "resultMessage": message}


def failure(code: str, message: str) -> Reply:
    return Reply({"result": result(code, "F", message)})


def iso(moment: float) -> str:
    return datetime.fromtimestamp(int(moment), tz=timezone.utc).isoformat()


def new_id(prefix: str = "") -> str:
    """Antom-looking ids: date + digits (paymentId, refundId)."""
    return prefix + time.strftime("%Y%m%d", time.gmtime()) + "".join(
        secrets.choice(string.digits) for _ in range(20))


def amount_json(currency: str, value: int) -> dict:
    return {"currency": currency, "value": str(value)}


class Ledger:
    def __init__(self, store, config: Config):
        self.store = store
        self.config = config
        self.on_queued = lambda: None  # the notifier sets this to wake up at once

    # --- faults ----------------------------------------------------------------------------------
    def faults_for(self, description: str, value: int) -> dict:
        chosen = {name: arg for amount, name, arg in self.config.run_faults
                  if amount is None or amount == str(value)}
        chosen.update(self.store.run_faults(str(value)))
        chosen.update(fault_rules.from_description(description))
        return chosen

    def fault(self, payment: dict, name: str) -> bool:
        """True when a counted fault of this payment still has uses left (and uses one)."""
        limit = payment["faults"].get(name)
        return bool(limit) and self.store.take(payment["payment_id"], name, limit)

    @staticmethod
    def shaped(payment: dict, reply: Reply) -> Reply:
        reply.delay = max(reply.delay, payment["faults"].get("slow", 0))
        reply.skew = payment["faults"].get("skew", 0)
        return reply

    # --- pay -------------------------------------------------------------------------------------
    def pay(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        request = rules.pay(body)
        now = time.time()
        existing = self.store.payment_by_request(client_id, request.payment_request_id)
        if existing is not None and existing["agent_token"] != agent_token:
            # another merchant of this ISV used the id: nothing of its payment is shown
            return failure("REPEAT_REQ_INCONSISTENT", "paymentRequestId was used with different parameters")
        if existing is not None:  # before the expiry check: a late retry still gets the same answer
            if existing["key_fields"] != request.key_fields():
                return failure("REPEAT_REQ_INCONSISTENT",
                               "paymentRequestId was used with different parameters")
            return self.shaped(existing, Reply(json.loads(existing["pay_response"])))
        expire_at = self._expiry(request, now)
        chosen = self.faults_for(request.description, request.amount.value)
        scope = "pay:%s:%s" % (client_id, request.payment_request_id)
        if chosen.get("pay-500") and self.store.take(scope, "pay-500", chosen["pay-500"]):
            return Reply(None, http_status=500)
        if chosen.get("traffic-limit") and self.store.take(scope, "traffic-limit", chosen["traffic-limit"]):
            return failure("REQUEST_TRAFFIC_EXCEED_LIMIT", "request traffic exceeds the limit")
        payment_id = new_id()
        token = "".join(secrets.choice(_ALPHABET) for _ in range(24))
        code_value = "%s/c/%s" % (self.config.public_url.rstrip("/"), token)
        response = {
            "result": result(*PAYMENT_IN_PROCESS),
            "paymentRequestId": request.payment_request_id,
            "paymentId": payment_id,
            "paymentAmount": request.amount.as_json(),
            "paymentCreateTime": iso(now),
            "orderCodeForm": {
                "expireTime": iso(expire_at),
                "codeDetails": [
                    {"displayType": "SMALLIMAGE", "codeValue": code_value + "/qr.png"},
                    {"displayType": "TEXT", "codeValue": code_value},
                ],
            },
        }
        payment = self.store.add_payment(
            payment_id=payment_id, client_id=client_id, agent_token=agent_token,
            payment_request_id=request.payment_request_id, key_fields=request.key_fields(),
            reference_order_id=request.reference_order_id, description=request.description,
            merchant_name=request.merchant_name, store_name=request.store_name,
            currency=request.amount.currency, value=request.amount.value,
            notify_url=request.notify_url, settlement_currency=request.settlement_currency,
            status="PROCESSING",
            result_code=PAYMENT_IN_PROCESS[0], result_message=PAYMENT_IN_PROCESS[2],
            create_time=now, expire_time=expire_at, token=token, code_value=code_value,
            faults=chosen, pay_response=json.dumps(response))
        if self.fault(payment, "pay-lost"):
            return self.shaped(payment, Reply(response, lose=True))
        if self.fault(payment, "pay-unknown"):
            return self.shaped(payment, Reply({"result": result(*UNKNOWN)}))
        return self.shaped(payment, Reply(response))

    def _expiry(self, request, now: float) -> float:
        if request.expiry is None:
            return now + self.config.code_lifetime
        at = request.expiry.timestamp()
        if at <= now:
            raise rules.param("paymentExpiryTime is in the past")
        if at > now + MAX_EXPIRY_AHEAD + EXPIRY_GRACE:
            raise rules.param("paymentExpiryTime is more than 30 minutes ahead")
        return at

    # --- lookups ---------------------------------------------------------------------------------
    def find(self, client_id: str, payment_id: str | None, request_id: str | None,
             agent_token: str | None = None) -> dict | None:
        """A payment of this caller (client id, and for an ISV the merchant its agent token names):
        another merchant's payment does not exist for it (ORDER_NOT_EXIST)."""
        if payment_id is not None:
            payment = self.store.payment(payment_id)
            if payment is None or payment["client_id"] != client_id:
                return None
            if request_id is not None and payment["payment_request_id"] != request_id:
                return None
        else:
            payment = self.store.payment_by_request(client_id, request_id)
        if payment is not None and payment["agent_token"] != agent_token:
            return None
        return self.refresh(payment) if payment else None

    def refresh(self, payment: dict) -> dict:
        """Close an unpaid payment whose code has expired (also done by the background sweep)."""
        if payment["status"] == "PROCESSING" and payment["expire_time"] <= time.time():
            return self.close(payment, "order code expired")
        return payment

    # --- inquiryPayment --------------------------------------------------------------------------
    def inquire(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        payment = self.find(client_id, *rules.payment_ref(body), agent_token=agent_token)
        if payment is None:
            return failure("ORDER_NOT_EXIST", "the payment does not exist")
        if self.fault(payment, "http-500"):
            return Reply(None, http_status=500)
        if self.fault(payment, "inquiry-not-exist"):
            return self.shaped(payment, failure("ORDER_NOT_EXIST", "the payment does not exist"))
        if self.fault(payment, "inquiry-unknown"):
            return self.shaped(payment, Reply({"result": result(*UNKNOWN)}))
        return self.shaped(payment, Reply(self.status_body(payment)))

    @staticmethod
    def status_body(payment: dict) -> dict:
        body = {
            "result": result(*SUCCESS),
            "paymentId": payment["payment_id"],
            "paymentRequestId": payment["payment_request_id"],
            "paymentStatus": payment["status"],
            "paymentResultCode": payment["result_code"],
            "paymentResultMessage": payment["result_message"],
            "paymentAmount": amount_json(payment["currency"], payment["value"]),
            "paymentCreateTime": iso(payment["create_time"]),
        }
        if payment["status"] == "SUCCESS":
            body["paymentTime"] = iso(payment["payment_time"])
        body.update(Ledger.wallet_fields(payment))
        return body

    @staticmethod
    def wallet_fields(payment: dict) -> dict:
        """What Antom adds once a wallet paid: pspCustomerInfo, actualPaymentAmount (always, equal
        to paymentAmount when the wallet pays in the order's currency), paymentQuote (only when it
        does not), and with a settlementCurrency in the pay: grossSettlementAmount, plus
        settlementQuote when that currency differs from the order's."""
        wallet = wallets.BY_NAME.get(payment["wallet"] or "")
        if wallet is None:
            return {}
        fields = {"pspCustomerInfo": wallets.customer_info(wallet),
                  "actualPaymentAmount": amount_json(payment["customer_currency"], payment["customer_value"])}
        quote = rates.Quote.from_store(payment["payment_quote"])
        if quote is not None:
            fields["paymentQuote"] = quote.as_json(iso)
        if payment["settlement_currency"]:
            fields["grossSettlementAmount"] = amount_json(payment["settlement_currency"],
                                                          payment["settlement_value"])
            quote = rates.Quote.from_store(payment["settlement_quote"])
            if quote is not None:
                fields["settlementQuote"] = quote.as_json(iso)
        return fields

    # --- cancel ----------------------------------------------------------------------------------
    def cancel(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        payment = self.find(client_id, *rules.payment_ref(body), agent_token=agent_token)
        if payment is None:
            return failure("ORDER_NOT_EXIST", "the payment does not exist")
        if self.fault(payment, "http-500"):
            return Reply(None, http_status=500)
        if self.fault(payment, "cancel-unknown"):
            return self.shaped(payment, Reply({"result": result(*UNKNOWN)}))
        if payment["status"] != "CANCELLED" and (
                payment["faults"].get("cancel-window")
                or time.time() - payment["create_time"] > self.config.cancel_window):
            return self.shaped(payment, failure("CANCEL_WINDOW_EXCEED", "the cancel window has passed"))
        if payment["status"] == "PROCESSING" and payment["faults"].get("pay-on-cancel"):
            payment = self.mark_paid(payment)  # the customer's tap lands just before the cancel
        if payment["status"] == "SUCCESS" and payment["refunded"] > 0:
            return self.shaped(payment, failure("ORDER_STATUS_INVALID",
                                                "a refunded payment cannot be cancelled"))
        if payment["status"] in ("PROCESSING", "SUCCESS"):
            now = time.time()
            returned = payment["value"] if payment["status"] == "SUCCESS" else 0
            payment = self.store.update_payment(
                payment["payment_id"], status="CANCELLED", cancel_time=now, reversed=returned,
                result_code="ORDER_IS_CANCELED", result_message="the payment was cancelled")
        answer = {"result": result(*SUCCESS), "paymentId": payment["payment_id"],
                  "paymentRequestId": payment["payment_request_id"]}
        if payment["cancel_time"] is not None:
            answer["cancelTime"] = iso(payment["cancel_time"])
        return self.shaped(payment, Reply(answer))

    # --- refund ----------------------------------------------------------------------------------
    def refund(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        request = rules.refund(body)
        earlier = self.store.refund_by_request(client_id, request.refund_request_id)
        if earlier is not None:
            if earlier["agent_token"] != agent_token or (earlier["payment_id"], earlier["currency"], earlier["value"]) != (
                    request.payment_id, request.amount.currency, request.amount.value):
                return failure("REPEAT_REQ_INCONSISTENT",
                               "refundRequestId was used with different parameters")
            payment = self.store.payment(earlier["payment_id"])
            return self.shaped(payment, Reply(json.loads(earlier["response"])))
        payment = self.find(client_id, request.payment_id, None, agent_token)
        if payment is None:
            return failure("ORDER_NOT_EXIST", "the payment does not exist")
        if self.fault(payment, "http-500"):
            return Reply(None, http_status=500)
        if payment["status"] != "SUCCESS":
            return self.shaped(payment, failure("ORDER_STATUS_INVALID",
                                                "only a successful payment can be refunded"))
        if request.amount.currency != payment["currency"]:
            return self.shaped(payment, failure("CURRENCY_NOT_SUPPORT",
                                                "refund currency differs from the payment's"))
        if payment["refunded"] + request.amount.value > payment["value"]:
            return self.shaped(payment, failure("REFUND_AMOUNT_EXCEED",
                                                "refunds would exceed the paid amount"))
        now = time.time()
        refund_id = new_id()
        answer = {"result": result(*SUCCESS), "refundRequestId": request.refund_request_id,
                  "refundId": refund_id, "paymentId": payment["payment_id"],
                  "refundAmount": request.amount.as_json(), "refundTime": iso(now)}
        with self.store.transaction():
            self.store.add_refund(refund_id=refund_id, client_id=client_id, agent_token=agent_token,
                                  refund_request_id=request.refund_request_id,
                                  payment_id=payment["payment_id"], currency=request.amount.currency,
                                  value=request.amount.value, reason=request.reason,
                                  create_time=now, response=json.dumps(answer))
            payment = self.store.update_payment(payment["payment_id"],
                                                refunded=payment["refunded"] + request.amount.value)
        return self.shaped(payment, Reply(answer))

    def inquire_refund(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        refund_id, request_id = rules.refund_ref(body)
        if refund_id is not None:
            refund = self.store.refund(client_id, refund_id)
            if refund is not None and request_id is not None and refund["refund_request_id"] != request_id:
                refund = None
        else:
            refund = self.store.refund_by_request(client_id, request_id)
        if refund is None or refund["agent_token"] != agent_token:
            return failure("REFUND_NOT_EXIST", "the refund does not exist")
        payment = self.store.payment(refund["payment_id"])
        return self.shaped(payment, Reply({
            "result": result(*SUCCESS), "refundId": refund["refund_id"],
            "refundRequestId": refund["refund_request_id"], "paymentId": refund["payment_id"],
            "refundStatus": "SUCCESS", "refundAmount": amount_json(refund["currency"], refund["value"]),
            "refundTime": iso(refund["create_time"])}))

    # --- merchant registration (/ams/api/v1/merchants/...) ------------------------------------------
    def register(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        """registration: accepted (S) and, in this sandbox, approved at once; the same
        registrationRequestId with other merchant or store ids is REPEAT_REQ_INCONSISTENT."""
        request = rules.registration(body)
        earlier = self.store.registration(client_id, agent_token, request_id=request.registration_request_id)
        if earlier is not None and earlier["key_fields"] != request.key_fields():
            return failure("REPEAT_REQ_INCONSISTENT", "registrationRequestId was used with different parameters")
        if earlier is None:
            self.store.add_registration(
                client_id=client_id, agent_token=agent_token,
                registration_request_id=request.registration_request_id,
                reference_merchant_id=request.reference_merchant_id,
                reference_store_id=request.reference_store_id, key_fields=request.key_fields(),
                status="COMPLETED", created=time.time())
        return Reply({"result": result(*SUCCESS)})

    def inquire_registration(self, client_id: str, body: dict, agent_token: str | None = None) -> Reply:
        request_id, merchant_id = rules.registration_ref(body)
        found = self.store.registration(client_id, agent_token, request_id=request_id,
                                        reference_merchant_id=merchant_id)
        if found is None:
            return failure("REGISTRATION_NOT_EXIST", "no registration of this merchant")
        return Reply({"result": result(*SUCCESS),
                      "registrationResult": {"registrationStatus": found["status"]},
                      "pspRegistrationResultList": [{
                          "pspName": "ALIPAY_CN", "productCodes": ["IN_STORE_PAYMENT"],
                          "registrationResult": {"registrationStatus": "APPROVED"}}]})

    # --- the customer and the clock ---------------------------------------------------------------
    def customer(self, token: str, decline: bool, wallet_name: str | None = None) -> tuple[int, dict | None]:
        """The wallet's Pay/Decline: (HTTP status, payment). 404 unknown, 409 no longer payable.
        Raises Invalid for a wallet the sandbox does not know or that cannot pay this currency."""
        payment = self.store.payment_by_token(token)
        if payment is None:
            return 404, None
        wallet = None if decline else self.wallet_for(payment, wallet_name)
        payment = self.refresh(payment)
        if payment["status"] == "PROCESSING":
            payment = self.close(payment, "declined by the customer") if decline else self.mark_paid(payment, wallet)
            return 200, payment
        wanted = "FAIL" if decline else "SUCCESS"
        return (200 if payment["status"] == wanted else 409), payment

    @staticmethod
    def wallet_for(payment: dict, wallet_name: str | None) -> "wallets.Wallet | None":
        """The named wallet; without a name the default one (Alipay), else one in the order's
        currency, else None: an anonymous wallet in the order's currency, as before wallets."""
        if not wallet_name:
            for wallet in (wallets.BY_NAME[wallets.DEFAULT],) + wallets.WALLETS:
                if Ledger.can_pay(payment, wallet):
                    return wallet
            return None
        wallet = wallets.find(wallet_name)
        if wallet is None:
            raise rules.param("unknown wallet %r (docs/sandbox.md lists them)" % (wallet_name,))
        if not Ledger.can_pay(payment, wallet):
            raise rules.Invalid("CURRENCY_NOT_SUPPORT", "%s cannot pay in %s" % (
                wallet.display_name, payment["currency"]))
        return wallet

    @staticmethod
    def can_pay(payment: dict, wallet) -> bool:
        return wallet.currency == payment["currency"] or (
            rates.supported(wallet.currency) and rates.supported(payment["currency"]))

    def offer(self, payment: dict, wallet) -> tuple[dict, int, "rates.Quote | None"]:
        """What the page shows once the customer picked a wallet: (payment, customer minor units,
        quote). The quote is kept (for QUOTE_LIFETIME) and used by the payment, unless the
        rate-move fault moves the rate in between."""
        if wallet.currency == payment["currency"]:
            return payment, payment["value"], None
        shown = payment["shown_quote"] or {}
        quote = rates.Quote.from_store(shown.get("quote")) if shown.get("wallet") == wallet.psp_name else None
        if quote is None or quote.expiry <= time.time():
            quote = rates.quote(payment["currency"], wallet.currency)
            payment = self.store.update_payment(payment["payment_id"], shown_quote={
                "wallet": wallet.psp_name, "quote": quote.to_store()})
        return payment, rates.convert(payment["value"], quote.source, quote.target, quote.price), quote

    def charge(self, payment: dict, wallet) -> dict:
        """The figures of a payment by `wallet`: customer amount, quote, settlement."""
        fields = {"wallet": wallet.psp_name, "customer_currency": wallet.currency,
                  "customer_value": payment["value"], "payment_quote": None}
        if wallet.currency != payment["currency"]:
            shown = payment["shown_quote"] or {}
            quote = rates.Quote.from_store(shown.get("quote")) if shown.get("wallet") == wallet.psp_name else None
            move = payment["faults"].get("rate-move", 0)
            if quote is None or quote.expiry <= time.time() or move:
                quote = rates.quote(payment["currency"], wallet.currency, move)
            fields["customer_value"] = rates.convert(payment["value"], quote.source, quote.target, quote.price)
            fields["payment_quote"] = quote.to_store()
        target = payment["settlement_currency"]
        if target:
            fields["settlement_value"], fields["settlement_quote"] = payment["value"], None
            if target != payment["currency"]:
                quote = rates.quote(payment["currency"], target)
                fields["settlement_value"] = rates.convert(payment["value"], quote.source, target, quote.price)
                fields["settlement_quote"] = quote.to_store()
        return fields

    def mark_paid(self, payment: dict, wallet=None) -> dict:
        now = time.time()
        wallet = wallet or self.wallet_for(payment, None)
        figures = self.charge(payment, wallet) if wallet is not None else {}
        with self.store.transaction():
            payment = self.store.update_payment(payment["payment_id"], status="SUCCESS", payment_time=now,
                                                result_code="SUCCESS", result_message="success",
                                                **figures)
            self.queue_notification(payment, result(*SUCCESS))
        return payment

    def close(self, payment: dict, why: str) -> dict:
        with self.store.transaction():
            payment = self.store.update_payment(payment["payment_id"], status="FAIL",
                                                result_code="ORDER_IS_CLOSED", result_message=why)
            self.queue_notification(payment, result("ORDER_IS_CLOSED", "F", why))
        return payment

    def sweep_expired(self) -> int:
        closed = self.store.expired_open_payments(time.time())
        for payment in closed:
            self.close(payment, "order code expired")
        return len(closed)

    def queue_notification(self, payment: dict, outcome: dict) -> None:
        body = {"notifyType": "PAYMENT_RESULT", "result": outcome,
                "paymentRequestId": payment["payment_request_id"], "paymentId": payment["payment_id"],
                "paymentAmount": amount_json(payment["currency"], payment["value"]),
                "paymentCreateTime": iso(payment["create_time"])}
        if payment["status"] == "SUCCESS":
            body["paymentTime"] = iso(payment["payment_time"])
            body.update(self.wallet_fields(payment))
        chosen = payment["faults"]
        self.store.add_notification(
            payment["payment_id"], payment["client_id"], payment["notify_url"],
            json.dumps(body, separators=(",", ":")),
            "lost" if chosen.get("notify-lost") else "pending",
            time.time() + chosen.get("notify-late", 0),
            int(chosen.get("notify-bad-signature", 0)), 1 if chosen.get("notify-duplicate") else 0)
        self.on_queued()
