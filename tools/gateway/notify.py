"""Antom's notifyPayment endpoint: verify, deduplicate, record, apply, then acknowledge.

The ack (exactly ACK_BODY) is sent only after the event is committed, so a notification Antom sees
acknowledged is never lost. Anything not verified gets a non-ack answer, which makes Antom retry.
"""
import hashlib
import json

from tools.antom import signature
from tools.gateway.antom import parse_iso
from tools.gateway.api import dumps, read_body
from tools.gateway.service import ServiceError

ACK_BODY = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'
MAX_NOTIFY_BODY = 65536


class NotifyEndpoint:
    """The bare notify URL: the configuration merchant's (merchant mode, and payments made before
    merchants existed). `for_merchant` serves <notify URL>/<merchant id>, one per merchant: each is
    verified with that merchant's client id and Antom key, and applies only to its own payments."""

    def __init__(self, gateway, verify_path):
        self.gw = gateway
        self.verify_path = verify_path  # the path of the notify URL Antom was given
        self.for_merchant = _MerchantNotify(self)

    async def __call__(self, scope, receive, send):
        merchant = self.gw.config_merchant
        await _send(send, *(await self.handle(scope, receive, merchant["id"] if merchant else None, self.verify_path)))

    async def handle(self, scope, receive, merchant_id, verify_path):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] != "POST":
            return 405, dumps(_error("METHOD_NOT_ALLOWED", "POST only"))
        try:
            raw = await read_body(scope, receive, headers, MAX_NOTIFY_BODY, self.gw.cfg["gateway"]["body_timeout"])
        except ServiceError as e:
            return e.status, dumps(_error(e.code, e.message))
        # verifying, recording and applying are one store step, off the event loop
        return await self.gw.db(self.process, headers, raw, merchant_id, verify_path)

    def process(self, headers, raw, merchant_id, verify_path):
        """(HTTP status, body) for a notification's headers and raw body."""
        store = self.gw.store
        client_id = headers.get("client-id")
        antom = self.gw.clients.for_merchant(merchant_id) if merchant_id else None
        if antom is None:
            return 404, dumps(_error("NOT_FOUND", "no merchant receives notifications here"))
        ok = client_id == antom.client_id and signature.verify_message(
            antom.public_key, "POST", verify_path, client_id, headers.get("request-time"), raw,
            headers.get("signature"))
        if ok and not request_time_ok(headers.get("request-time"), self.gw.clock(),
                                      self.gw.cfg["gateway"]["notify_time_tolerance"]):
            with store.transaction():
                store.event("notification_rejected", reason="request-time outside the tolerance",
                            request_time=(headers.get("request-time") or "")[:40], digest=hashlib.sha256(raw).hexdigest())
            return 401, dumps(_error("REQUEST_TIME_INVALID", "request-time is too far from the gateway's clock"))
        if not ok:
            with store.transaction():
                store.event("notification_rejected", reason="bad or missing signature", client_id=(client_id or "")[:64],
                            digest=hashlib.sha256(raw).hexdigest())
            return 401, dumps(_error("SIGNATURE_INVALID", "the notification signature does not verify"))
        try:
            note = json.loads(raw.decode("utf-8"))
            result = note["result"]
            prid = note.get("paymentRequestId")
            kind = note.get("notifyType")
            status = result["resultStatus"]
            if not isinstance(result, dict) or not isinstance(status, str) or (prid is not None and not isinstance(prid, str)):
                raise TypeError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):  # 5,000 levels deep: 400
            with store.transaction():
                store.event("notification_rejected", reason="signed but unreadable", digest=hashlib.sha256(raw).hexdigest())
            return 400, dumps(_error("PARAM_ILLEGAL", "not a notifyPayment body"))
        digest = hashlib.sha256(raw).hexdigest()
        row = store.payment_by_request_id(prid) if prid else None
        if row is None and isinstance(note.get("paymentId"), str):
            row = store.payment_by_antom_id(note["paymentId"])
        if row is not None and row["merchant_id"] is not None and row["merchant_id"] != merchant_id:
            # signed for this merchant's URL, about another merchant's payment: never applied
            with store.transaction():
                store.event("notification_rejected", reason="a payment of another merchant", merchant_id=merchant_id,
                            payment_request_id=prid, digest=hashlib.sha256(raw).hexdigest())
            return 400, dumps(_error("ORDER_NOT_EXIST", "no such payment of this merchant"))
        tid, oid = (row["terminal_id"], row["order_id"]) if row is not None else (None, None)
        # one transaction: remembered, recorded and applied together, or not at all
        with store.transaction():
            fresh = store.remember_notification(digest, prid, raw.decode("utf-8"))
            store.event("notification" if fresh else "notification_duplicate", tid, oid, notify_type=kind,
                        status=status, code=result.get("resultCode"), payment_request_id=prid)
            if fresh and row is not None:
                store.update_payment(row["id"], notified=1)
            if fresh and row is not None and kind == "PAYMENT_RESULT" and status in ("S", "F"):
                if status == "S" and not self._amount_matches(row, note.get("paymentAmount")):
                    store.event("notification_amount_mismatch", tid, oid, amount=note.get("paymentAmount"))
                else:
                    self.gw.service.apply_outcome(
                        row, "SUCCESS" if status == "S" else "FAIL", result.get("resultCode"),
                        parse_iso(note.get("paymentTime")), source="notification", answer=note)
        return 200, ACK_BODY

    @staticmethod
    def _amount_matches(row, money):
        return (isinstance(money, dict) and money.get("currency") == row["currency"]
                and money.get("value") == str(row["amount"]))


class _MerchantNotify:
    """<notify path>/<merchant id> (an ASGI app: Starlette passes the id in path_params)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    async def __call__(self, scope, receive, send):
        merchant_id = scope.get("path_params", {}).get("merchant_id", "")
        verify_path = self.endpoint.verify_path.rstrip("/") + "/" + merchant_id
        await _send(send, *(await self.endpoint.handle(scope, receive, merchant_id, verify_path)))


async def _send(send, status, body):
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 408:
        headers.append((b"connection", b"close"))  # the rest of a trickled body is not waited for
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_time_ok(value, now, tolerance):
    """A signed notification's `request-time` (epoch milliseconds or ISO-8601) within `tolerance` s
    of now: an old signed notification replayed later is refused (Antom re-signs each retry)."""
    if not isinstance(value, str) or not value:
        return False
    if value.isascii() and value.isdigit():
        if len(value) > 16:
            return False
        moment = int(value) / 1000.0
    else:
        moment = parse_iso(value)
        if moment is None:
            return False
    return abs(moment - now) <= tolerance


def _error(code, message):
    return {"result": {"resultCode": code, "resultStatus": "F", "resultMessage": message}}
