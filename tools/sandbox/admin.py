"""Inspection and run-wide fault control for tests (`/_sandbox/...`; loopback, no auth)."""
from starlette.requests import Request
from starlette.responses import JSONResponse

from tools.sandbox import faults as fault_rules
from tools.sandbox import rules
from tools.sandbox.ledger import Ledger, amount_json, iso


def payment_view(payment: dict) -> dict:
    return {
        "paymentId": payment["payment_id"], "paymentRequestId": payment["payment_request_id"],
        "referenceOrderId": payment["reference_order_id"], "clientId": payment["client_id"],
        "amount": amount_json(payment["currency"], payment["value"]), "status": payment["status"],
        "resultCode": payment["result_code"], "refunded": str(payment["refunded"]),
        "returned": str(payment["reversed"]), "codeValue": payment["code_value"],
        "description": payment["description"], "createTime": iso(payment["create_time"]),
        "expireTime": iso(payment["expire_time"]),
        "paymentTime": iso(payment["payment_time"]) if payment["payment_time"] else None,
        "faults": payment["faults"],
        "settlementCurrency": payment["settlement_currency"],
        "wallet": payment["wallet"],
        **Ledger.wallet_fields(payment),
    }


def notification_view(note: dict) -> dict:
    return {"id": note["id"], "paymentId": note["payment_id"], "url": note["url"],
            "state": note["state"], "attempts": note["attempts"], "sent": note["sent"],
            "lastError": note["last_error"], "body": note["body"]}


def make_routes(ledger):
    store = ledger.store

    async def payments(request: Request) -> JSONResponse:
        order = request.query_params.get("referenceOrderId")
        return JSONResponse({"payments": [payment_view(ledger.refresh(p)) for p in store.payments(order)]})

    async def calls(request: Request) -> JSONResponse:
        q = request.query_params
        return JSONResponse({"calls": store.calls(q.get("operation"), q.get("key"))})

    async def notifications(request: Request) -> JSONResponse:
        return JSONResponse({"notifications": [notification_view(n) for n in store.notifications()]})

    async def set_faults(request: Request) -> JSONResponse:
        try:
            body = rules.parse_json_object(await request.body())
            specs = body.get("faults")
            amount = body.get("amount")
            if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
                raise rules.param("faults must be a list of strings")
            if amount is not None and not (isinstance(amount, str) and amount.isdigit()):
                raise rules.param("amount must be a string of minor units")
            parsed = [fault_rules.parse_spec(spec) for spec in specs]
        except rules.Invalid as problem:
            return JSONResponse({"error": problem.message}, status_code=400)
        for name, arg in parsed:
            store.add_run_fault(name, arg, amount)
        return JSONResponse({"faults": dict(parsed), "amount": amount})

    async def clear_faults(request: Request) -> JSONResponse:
        store.clear_run_faults()
        return JSONResponse({"faults": {}})

    async def expire(request: Request) -> JSONResponse:
        payment = store.payment(request.path_params["payment_id"])
        if payment is None:
            return JSONResponse({"error": "unknown payment"}, status_code=404)
        if payment["status"] == "PROCESSING":
            payment = ledger.close(payment, "order code expired")
        return JSONResponse(payment_view(payment))

    return payments, notifications, set_faults, clear_faults, expire, calls
