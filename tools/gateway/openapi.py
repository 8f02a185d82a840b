"""The terminal API's OpenAPI 3.1 description (served at GET /openapi.json). Mirrors docs/protocol.md."""

ID = {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,40}$"}
MONEY = {"type": "integer", "minimum": 1, "maximum": 10_000_000, "description": "minor units"}
AUTH_HEADERS = [
    {"name": "X-Terminal-Id", "in": "header", "required": True, "schema": {"type": "string"}},
    {"name": "X-Timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds"},
    {"name": "X-Nonce", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^[0-9a-f]{16,64}$"}},
    {"name": "X-Signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "hex HMAC-SHA256, see docs/protocol.md"},
]


def _error():
    return {"$ref": "#/components/responses/Error"}


def _ok(schema_ref):
    return {"description": "signed answer", "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    # every authenticated operation may be rate limited: a signed 429 with retry_after (12.11)
    return {str(c): _error() for c in codes + (429,)}


def _order_param():
    return {"name": "order_id", "in": "path", "required": True, "schema": ID}


def spec(currencies, max_amount, max_wait):
    money = dict(MONEY, maximum=max_amount)
    payment = {
        "type": "object",
        "required": ["order_id", "payment_id", "status", "amount", "currency", "description", "code_value",
                     "expires_at", "created_at", "paid_at", "reason", "late", "refunded_amount"],
        "properties": {
            "order_id": ID,
            "payment_id": {"type": ["string", "null"]},
            "status": {"enum": ["PENDING", "PAID", "FAILED", "CANCELLED", "EXPIRED"]},
            "amount": {"type": "integer"},
            "currency": {"type": "string"},
            "description": {"type": "string"},
            "code_value": {"type": ["string", "null"]},
            "expires_at": {"type": "integer"},
            "created_at": {"type": "integer"},
            "paid_at": {"type": ["integer", "null"]},
            "reason": {"type": ["string", "null"]},
            "late": {"type": "boolean"},
            "refunded_amount": {"type": "integer"},
            "wallet": {"type": "string", "description": "display name of the wallet that paid "
                       "(Antom's pspCustomerInfo.pspName, e.g. GCash); only once it is known"},
            "customer_amount": {"type": "integer", "description": "what the customer paid, minor units "
                                "of customer_currency; only when that differs from currency"},
            "customer_currency": {"type": "string", "description": "the wallet's currency (ISO 4217); "
                                  "only when it differs from currency"},
        },
    }
    refund = {
        "type": "object",
        "required": ["refund_id", "order_id", "amount", "currency", "status", "reason", "created_at",
                     "refunded_total"],
        "properties": {
            "refund_id": ID, "order_id": ID, "amount": {"type": "integer"}, "currency": {"type": "string"},
            "status": {"enum": ["PENDING", "SUCCEEDED", "FAILED"]}, "reason": {"type": ["string", "null"]},
            "created_at": {"type": "integer"}, "refunded_total": {"type": "integer"},
        },
    }
    error = {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
                                 "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                       "order_id": ID},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Alipay Order Code terminal gateway", "version": "1",
                 "description": "Terminal API. Every request is HMAC-signed and every response is signed "
                                "(X-Timestamp, X-Signature): see docs/protocol.md."},
        "paths": {
            "/v1/payments": {"post": {
                "operationId": "createPayment", "parameters": AUTH_HEADERS,
                "requestBody": _body({
                    "type": "object", "required": ["order_id", "amount", "currency"],
                    "properties": {"order_id": ID, "amount": money, "currency": {"enum": list(currencies)},
                                   "description": {"type": "string", "maxLength": 128}}}),
                "responses": {"200": _ok("#/components/schemas/Payment"),
                              **_errors(400, 401, 409, 413, 502, 503)}}},
            "/v1/payments/{order_id}": {"get": {
                "operationId": "paymentStatus",
                "parameters": AUTH_HEADERS + [_order_param(), {
                    "name": "wait", "in": "query", "required": False,
                    "schema": {"type": "integer", "minimum": 0, "maximum": max_wait}}],
                "responses": {"200": _ok("#/components/schemas/Payment"), **_errors(400, 401, 404)}}},
            "/v1/payments/{order_id}/cancel": {"post": {
                "operationId": "cancelPayment", "parameters": AUTH_HEADERS + [_order_param()],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": _ok("#/components/schemas/Payment"), **_errors(400, 401, 404)}}},
            "/v1/payments/{order_id}/refund": {"post": {
                "operationId": "refundPayment", "parameters": AUTH_HEADERS + [_order_param()],
                "requestBody": _body({
                    "type": "object", "required": ["refund_id", "amount", "pin"],
                    "properties": {"refund_id": ID, "amount": money,
                                   "pin": {"type": "string", "pattern": "^[0-9]{4,12}$"}}}),
                "responses": {"200": _ok("#/components/schemas/Refund"),
                              **_errors(400, 401, 403, 404, 409)}}},
            "/v1/time": {"get": {
                "operationId": "time", "parameters": AUTH_HEADERS,
                "responses": {"200": {"description": "the gateway's clock", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["time"],
                               "properties": {"time": {"type": "integer"}}}}}}, **_errors(401)}}},
            "/v1/health": {"get": {
                "operationId": "health", "parameters": AUTH_HEADERS,
                "responses": {"200": {"description": "liveness, clock, upstream", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["ok", "time", "upstream"], "properties": {
                        "ok": {"type": "boolean"}, "time": {"type": "integer"}, "version": {"type": "string"},
                        "environment": {"type": "string", "enum": ["local-sandbox", "antom-sandbox", "production"]},
                        "upstream": {"type": "object", "properties": {
                            "reachable": {"type": ["boolean", "null"]},
                            "checked_at": {"type": ["integer", "null"]}}}}}}}},
                    **_errors(401)}}},
            "/v1/heartbeat": {"post": {
                "operationId": "heartbeat", "parameters": AUTH_HEADERS,
                "requestBody": _body({"type": "object", "properties": {
                    "version": {"type": ["string", "null"], "maxLength": 128},
                    "free_heap": {"type": ["integer", "null"], "minimum": 0, "maximum": 2 ** 31 - 1},
                    "rssi": {"type": ["integer", "null"], "minimum": -200, "maximum": 0},
                    "last_error": {"type": ["string", "null"], "maxLength": 128}}}),
                "responses": {"200": {"description": "stored", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}}}}},
                    **_errors(400, 401)}}},
            "/v1/alerts": {"get": {
                "operationId": "alerts", "parameters": AUTH_HEADERS,
                "responses": {"200": {"description": "unacknowledged late-payment alerts",
                                      "content": {"application/json": {"schema": {
                                          "type": "object", "required": ["alerts"],
                                          "properties": {"alerts": {"type": "array",
                                                                    "items": {"$ref": "#/components/schemas/Alert"}}}}}}},
                              **_errors(401)}}},
            "/v1/alerts/{alert_id}/ack": {"post": {
                "operationId": "ackAlert",
                "parameters": AUTH_HEADERS + [{"name": "alert_id", "in": "path", "required": True,
                                               "schema": {"type": "integer", "minimum": 1}}],
                "responses": {"200": {"description": "acknowledged", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}}}}},
                    **_errors(400, 401, 404)}}},
        },
        "components": {
            "schemas": {
                "Payment": payment, "Refund": refund, "Error": error,
                "Alert": {"type": "object", "required": ["id", "order_id", "amount", "currency", "kind", "message",
                                                         "created_at"],
                          "properties": {"id": {"type": "integer"}, "order_id": ID, "amount": {"type": "integer"},
                                         "currency": {"type": "string"},
                                         "kind": {"enum": ["LATE_PAYMENT", "LATE_PAYMENT_UNRESOLVED"]},
                                         "message": {"type": "string"}, "created_at": {"type": "integer"}}},
            },
            "responses": {"Error": {"description": "error (signed once the request's signature verified; `order_id` names a refused order)",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }
