"""The customer's side: the page an order code opens (sized for a phone), and Pay/Decline.

Two steps, as with a real wallet app: the customer first picks the wallet they pay with, then sees
the order in the merchant's currency and, for a wallet in another currency, what they pay in theirs
at the sandbox's quoted rate. Plain HTML forms and no script, so it works in any browser;
`GET /c/<token>/quote?wallet=NAME` and `POST /c/<token>/pay|decline` (field or parameter `wallet`)
without `Accept: text/html` answer JSON for scripts (`python -m tools.sandbox pay URL --wallet NAME`).
"""
import html
import io
import json
from urllib.parse import parse_qs

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from tools.sandbox import currencies, rates, rules, wallets
from tools.sandbox.ledger import amount_json, iso

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f3f5f9;color:#1b2330}
main{max-width:420px;margin:0 auto;padding:24px 16px}
.card{background:#fff;border-radius:14px;padding:20px;box-shadow:0 2px 8px #0001}
.merchant{font-size:1.1rem;font-weight:600}.store{color:#5b6577;font-size:.9rem}
.amount{font-size:2.2rem;font-weight:700;margin:18px 0 6px}.desc{color:#3b4556;word-wrap:break-word}
form{margin:0}button{width:100%;font-size:1.15rem;padding:14px;border:0;border-radius:10px;margin-top:14px}
.pay{background:#1677ff;color:#fff}.decline{background:#e8ebf0;color:#1b2330}
.state{font-size:1.3rem;font-weight:600;margin-top:16px}
.pick{font-weight:600;margin-top:18px}.wallet{background:#eef4ff;color:#1b2330;text-align:left}
.wallet small{float:right;color:#5b6577}.walletname{font-weight:600;margin-top:14px}
.customer{font-size:1.6rem;font-weight:700;margin-top:6px}.rate,.back{color:#5b6577;font-size:.9rem}
.back{display:block;margin-top:12px}.paidwith{margin-top:8px}
.sandbox{background:#b00020;color:#fff;text-align:center;font-weight:700;padding:8px;letter-spacing:.04em}
"""

# No script, no frames, forms only to this page's own origin: another site cannot frame the page
# (clickjacking its Pay button), and nothing runs even if a description slipped through escaping.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
BANNER = ("<div class=sandbox id=sandbox-banner role=note>SANDBOX &mdash; a test wallet: "
          "no real money moves</div>")

MESSAGES = {"SUCCESS": "Paid", "FAIL": "Declined", "CANCELLED": "Cancelled by the merchant",
            "PROCESSING": "Waiting for payment"}


def state_words(payment):
    """What the customer reads: a closed order is "Expired" when its code ran out, "Declined" when
    the customer refused it (both are F ORDER_IS_CLOSED at Antom; the message says which)."""
    if payment["status"] == "FAIL" and "expired" in (payment.get("result_message") or ""):
        return "Expired"
    return MESSAGES[payment["status"]]


def page(title: str, inner: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>%s</title><style>%s</style></head><body>%s<main>%s</main></body></html>"
        % (html.escape(title), STYLE, BANNER, inner), status_code=status, headers=SECURITY_HEADERS)


def order_card(payment: dict) -> str:
    """The order as the customer checks it: one merchant name (the store line only where it adds
    something, the description only where it is not the merchant's name again), the amount, and
    the order's reference (what the cashier and the merchant's records call it)."""
    merchant, store, desc = payment["merchant_name"], payment["store_name"], payment["description"]
    parts = ["<div class=card><div class=merchant id=merchant>%s</div>" % html.escape(merchant)]
    if store and store != merchant:
        parts.append("<div class=store id=store>%s</div>" % html.escape(store))
    parts.append("<div class=amount id=amount>%s</div>"
                 % html.escape(currencies.display(payment["currency"], payment["value"])))
    if desc and desc != merchant:
        parts.append("<div class=desc id=description>%s</div>" % html.escape(desc))
    parts.append("<div class=store>Order <span id=reference>%s</span></div>"
                 % html.escape(payment["reference_order_id"]))
    return "".join(parts)


def wallet_list(token: str, payment: dict, ledger) -> str:
    """Step 1: the customer picks the wallet they scan with (as opening the code in its app)."""
    items = []
    for wallet in wallets.WALLETS:
        if ledger.can_pay(payment, wallet):
            items.append("<form method=get action='/c/%s'><input type=hidden name=wallet value=%s>"
                         "<button class=wallet id='wallet-%s'>%s<small>%s, %s</small></button></form>"
                         % (token, wallet.psp_name, wallet.psp_name, html.escape(wallet.display_name),
                            wallet.currency, wallet.region))
    return "<div class=pick>Pay with</div>" + "".join(items) + decline_form(token)


def decline_form(token: str) -> str:
    return ("<form method=post action='/c/%s/decline'><button class=decline id=decline>Decline</button>"
            "</form>" % token)


def offer_card(token: str, wallet, customer_minor: int, quote, payment: dict) -> str:
    """Step 2: what this wallet's customer pays, in their currency at the quoted rate."""
    inner = "<div class=walletname id=wallet-name>%s</div>" % html.escape(wallet.display_name)
    if quote is not None:
        inner += ("<div class=customer id=customer-amount>%s</div><div class=rate id=rate>"
                  "1 %s = %s %s</div>" % (currencies.display(wallet.currency, customer_minor),
                                          quote.source, rates.price_text(quote.price), quote.target))
    return inner + ("<form method=post action='/c/%s/pay'><input type=hidden name=wallet value=%s>"
                    "<button class=pay id=pay>Pay</button></form>%s<a class=back id=back href='/c/%s'>"
                    "Choose another wallet</a>" % (token, wallet.psp_name, decline_form(token), token))


def paid_line(payment: dict) -> str:
    wallet = wallets.BY_NAME.get(payment.get("wallet") or "")
    if wallet is None or payment["status"] != "SUCCESS":
        return ""
    line = "Paid with " + wallet.display_name
    if payment["customer_currency"] != payment["currency"]:
        line += ": " + currencies.display(payment["customer_currency"], payment["customer_value"])
    return "<div class=paidwith id=paid-with>%s</div>" % html.escape(line)


async def chosen_wallet(request: Request) -> str | None:
    """The wallet of a pay: form field, JSON field or query parameter `wallet`."""
    name = request.query_params.get("wallet")
    raw = await request.body()
    kind = request.headers.get("content-type", "")
    if raw and "application/x-www-form-urlencoded" in kind:
        name = (parse_qs(raw.decode("utf-8", "replace")).get("wallet") or [name])[0]
    elif raw and "json" in kind:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("wallet"), str):
            name = data["wallet"]
    return name


def make_routes(ledger):
    def unknown() -> HTMLResponse:
        return page("Unknown code", "<div class=card>This code is not known.</div>", 404)

    async def show(request: Request) -> Response:
        token = request.path_params["token"]
        payment = ledger.store.payment_by_token(token)
        if payment is None:
            return unknown()
        payment = ledger.refresh(payment)
        inner = ""
        status = 200
        if payment["status"] == "PROCESSING":
            name = request.query_params.get("wallet")
            if not name:
                inner = wallet_list(token, payment, ledger)
            else:
                try:
                    wallet = ledger.wallet_for(payment, name)
                except rules.Invalid as problem:
                    status = 400
                    inner = "<div class=state id=state>%s</div>%s" % (
                        html.escape(problem.message), wallet_list(token, payment, ledger))
                else:
                    payment, customer_minor, quote = ledger.offer(payment, wallet)
                    inner = offer_card(token, wallet, customer_minor, quote, payment)
        else:
            inner = "<div class=state id=state>%s</div>%s" % (state_words(payment), paid_line(payment))
        return page("Pay " + payment["merchant_name"], order_card(payment) + inner + "</div>", status)

    async def quote(request: Request) -> Response:
        """JSON of step 2 for scripts (`python -m tools.sandbox pay URL --wallet NAME`)."""
        payment = ledger.store.payment_by_token(request.path_params["token"])
        if payment is None:
            return JSONResponse({"error": "unknown code"}, status_code=404)
        payment = ledger.refresh(payment)
        try:
            wallet = ledger.wallet_for(payment, request.query_params.get("wallet") or wallets.DEFAULT)
        except rules.Invalid as problem:
            return JSONResponse({"error": problem.message}, status_code=400)
        if payment["status"] != "PROCESSING":
            return JSONResponse({"error": "not payable", "status": payment["status"]}, status_code=409)
        payment, customer_minor, shown = ledger.offer(payment, wallet)
        return JSONResponse({
            "wallet": wallet.psp_name, "displayName": wallet.display_name,
            "amount": amount_json(payment["currency"], payment["value"]),
            "customerAmount": amount_json(wallet.currency, customer_minor),
            "quote": shown.as_json(iso) if shown else None})

    async def act(request: Request) -> Response:
        token = request.path_params["token"]
        if request.path_params["action"] not in ("pay", "decline"):
            return JSONResponse({"error": "not found"}, status_code=404)
        decline = request.path_params["action"] == "decline"
        as_html = "text/html" in request.headers.get("accept", "")
        try:
            status, payment = ledger.customer(token, decline, await chosen_wallet(request))
        except rules.Invalid as problem:
            if as_html:
                return page("Not possible", "<div class=card><div class=state id=state>%s</div></div>"
                            % html.escape(problem.message), 400)
            return JSONResponse({"error": problem.message, "code": problem.code}, status_code=400)
        if as_html:
            if payment is None:
                return unknown()
            words = state_words(payment) if status == 200 else (
                "Not possible: " + state_words(payment).lower())
            return page(words, order_card(payment) + "<div class=state id=state>%s</div>%s</div>"
                        % (html.escape(words), paid_line(payment)), status)
        if payment is None:
            return JSONResponse({"error": "unknown code"}, status_code=404)
        answer = {"status": payment["status"], "paymentId": payment["payment_id"]}
        if payment.get("wallet"):
            answer["wallet"] = payment["wallet"]
            answer["customerAmount"] = amount_json(payment["customer_currency"], payment["customer_value"])
        return JSONResponse(answer, status_code=status)

    async def qr_png(request: Request) -> Response:
        payment = ledger.store.payment_by_token(request.path_params["token"])
        if payment is None:
            return Response(b"", status_code=404)
        out = io.BytesIO()
        segno.make(payment["code_value"], error="m").save(out, kind="png", scale=4)
        return Response(out.getvalue(), media_type="image/png")

    return show, quote, act, qr_png
