"""The customer's side: the page an order code opens (sized for a phone), and Pay/Decline.

Plain HTML forms and no script, so it works in any browser; `POST /c/<token>/pay|decline` without
`Accept: text/html` answers JSON for scripts (`python -m tools.sandbox pay URL`).
"""
import html
import io

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from tools.sandbox import currencies

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f3f5f9;color:#1b2330}
main{max-width:420px;margin:0 auto;padding:24px 16px}
.card{background:#fff;border-radius:14px;padding:20px;box-shadow:0 2px 8px #0001}
.merchant{font-size:1.1rem;font-weight:600}.store{color:#5b6577;font-size:.9rem}
.amount{font-size:2.2rem;font-weight:700;margin:18px 0 6px}.desc{color:#3b4556;word-wrap:break-word}
form{margin:0}button{width:100%;font-size:1.15rem;padding:14px;border:0;border-radius:10px;margin-top:14px}
.pay{background:#1677ff;color:#fff}.decline{background:#e8ebf0;color:#1b2330}
.state{font-size:1.3rem;font-weight:600;margin-top:16px}
"""

MESSAGES = {"SUCCESS": "Paid", "FAIL": "Closed", "CANCELLED": "Cancelled by the merchant",
            "PROCESSING": "Waiting for payment"}


def page(title: str, inner: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>%s</title><style>%s</style></head><body><main>%s</main></body></html>"
        % (html.escape(title), STYLE, inner), status_code=status)


def order_card(payment: dict) -> str:
    amount = currencies.display(payment["currency"], payment["value"])
    return ("<div class=card><div class=merchant id=merchant>%s</div><div class=store>%s</div>"
            "<div class=amount id=amount>%s</div><div class=desc id=description>%s</div>"
            % tuple(html.escape(part) for part in (payment["merchant_name"], payment["store_name"],
                                                   amount, payment["description"])))


def make_routes(ledger):
    async def show(request: Request) -> Response:
        token = request.path_params["token"]
        payment = ledger.store.payment_by_token(token)
        if payment is None:
            return page("Unknown code", "<div class=card>This code is not known.</div>", 404)
        payment = ledger.refresh(payment)
        inner = order_card(payment)
        if payment["status"] == "PROCESSING":
            inner += ("<form method=post action='/c/%s/pay'><button class=pay id=pay>Pay</button></form>"
                      "<form method=post action='/c/%s/decline'><button class=decline id=decline>"
                      "Decline</button></form>" % (token, token))
        else:
            inner += "<div class=state id=state>%s</div>" % MESSAGES[payment["status"]]
        return page("Pay " + payment["merchant_name"], inner + "</div>")

    async def act(request: Request) -> Response:
        token = request.path_params["token"]
        if request.path_params["action"] not in ("pay", "decline"):
            return JSONResponse({"error": "not found"}, status_code=404)
        decline = request.path_params["action"] == "decline"
        status, payment = ledger.customer(token, decline)
        if "text/html" in request.headers.get("accept", ""):
            if payment is None:
                return page("Unknown code", "<div class=card>This code is not known.</div>", 404)
            words = MESSAGES[payment["status"]] if status == 200 else (
                "Not possible: " + MESSAGES[payment["status"]].lower())
            return page(words, order_card(payment) + "<div class=state id=state>%s</div></div>"
                        % html.escape(words), status)
        if payment is None:
            return JSONResponse({"error": "unknown code"}, status_code=404)
        return JSONResponse({"status": payment["status"], "paymentId": payment["payment_id"]},
                            status_code=status)

    async def qr_png(request: Request) -> Response:
        payment = ledger.store.payment_by_token(request.path_params["token"])
        if payment is None:
            return Response(b"", status_code=404)
        out = io.BytesIO()
        segno.make(payment["code_value"], error="m").save(out, kind="png", scale=4)
        return Response(out.getvalue(), media_type="image/png")

    return show, act, qr_png
