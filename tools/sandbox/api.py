"""The AMS endpoints over HTTP: read the body (bounded), check client id and RSA256 signature over the
exact bytes, hand the JSON to the ledger, then sign and send the reply (or misbehave, per faults).
"""
import asyncio
import json
import logging
import time
from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response

from tools.antom import signature
from tools.sandbox import rules, server
from tools.sandbox.ledger import Reply, result

MAX_BODY = 64 * 1024
OPERATIONS = {"pay": "pay", "inquiryPayment": "inquire", "cancel": "cancel", "refund": "refund",
              "inquiryRefund": "inquire_refund"}
# /ams/api/v1/merchants/...: merchant registration and its status (docs.antom.com ams/registration, ams/irs)
MERCHANT_OPERATIONS = {"registration": "register", "inquiryRegistrationStatus": "inquire_registration"}
JSON_TYPE = "application/json; charset=UTF-8"
log = logging.getLogger("tools.sandbox.api")


class TooLarge(Exception):
    pass


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def unsigned(code: str, message: str, http_status: int = 200, client_id: str | None = None) -> Response:
    headers = {"client-id": client_id} if client_id else {}
    body = json.dumps({"result": result(code, "F", message)}, separators=(",", ":"))
    return Response(body, status_code=http_status, media_type=None,
                    headers={"content-type": JSON_TYPE, **headers})


def response_time(skew: float = 0.0) -> str:
    return datetime.fromtimestamp(int(time.time() + skew), tz=timezone.utc).isoformat()


def signed(private_key, path: str, client_id: str, body: dict, skew: float = 0.0) -> Response:
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    moment = response_time(skew)
    return Response(raw, media_type=None, headers={
        "content-type": JSON_TYPE, "client-id": client_id, "response-time": moment,
        "signature": signature.sign_message(private_key, "POST", path, client_id, moment, raw)})


def merchant_public_key(store, client_id: str | None):
    """The registered key of a client id, or None (unknown id, or a stored key that does not load)."""
    pem = store.merchant_key(client_id) if client_id else None
    if pem is None:
        return None
    try:
        return signature.load_public_key(pem)
    except ValueError:
        log.error("registered key of %s does not load", client_id)
        return None


def agent_refusal(store, client_id: str, agent_token: str | None) -> str | None:
    """Why this caller may not act, or None. An ISV client id acts only for the merchants that
    authorised it, each named by its agent-token header (not part of the signed content: the
    official SDK signs method, path, client id, time and body only); a merchant's own client id
    sends none."""
    client = store.client(client_id)
    if client["isv"]:
        if not agent_token:
            return "agent-token is required: this client id is an ISV's"
        if store.agent(client_id, agent_token) is None:
            return "agent-token names no merchant of this ISV"
    elif agent_token:
        return "agent-token sent by a client id that is not an ISV's"
    return None


class AntomKeys:
    """The key Antom signs each client id's answers and notifications with: the client id's own
    (registered with `register --own-antom-key`), else the sandbox's."""

    def __init__(self, store, default):
        self.store = store
        self.default = default
        self._loaded = {}

    def __call__(self, client_id: str | None):
        client = self.store.client(client_id) if client_id else None
        pem = client and client.get("antom_private_pem")
        if not pem:
            return self.default
        if pem not in self._loaded:
            self._loaded[pem] = signature.load_private_key(pem.encode("ascii"))
        return self._loaded[pem]


def log_call(store, operation: str, client_id: str, raw: bytes, agent_token: str | None = None) -> None:
    """Every verified call, with the id it is about (refundRequestId, else paymentRequestId)."""
    try:
        body = json.loads(raw)
        key = body.get("refundRequestId") or body.get("paymentRequestId") or body.get("paymentId")
        key = key[:128] if isinstance(key, str) else None
        if key is not None:
            key.encode("utf-8")   # a lone surrogate cannot be stored (the call itself is refused later)
    except (ValueError, AttributeError, RecursionError, UnicodeEncodeError):
        key = None
    store.log_call(operation, client_id, key, agent_token)


def make_endpoint(ledger, private_key):
    """The Starlette endpoint serving every operation under both path prefixes. `private_key`:
    the sandbox's key, or an AntomKeys (a key per client id)."""
    key_for = private_key if isinstance(private_key, AntomKeys) else (lambda client_id: private_key)

    async def endpoint(request: Request) -> Response:
        group = MERCHANT_OPERATIONS if request.scope["path"].rsplit("/", 2)[-2] == "merchants" else OPERATIONS
        operation = group.get(request.path_params["operation"])
        if operation is None:
            return unsigned("NO_INTERFACE_DEF", "no such API", http_status=404)
        path = request.scope["path"]
        try:
            raw = await read_body(request)
        except TooLarge:
            return unsigned("PARAM_ILLEGAL", "body larger than %d bytes" % MAX_BODY, http_status=413)
        client_id = request.headers.get("client-id")
        merchant_key = merchant_public_key(ledger.store, client_id)
        if merchant_key is None:
            return unsigned("CLIENT_INVALID", "unknown client-id")
        request_time = request.headers.get("request-time")
        if not signature.verify_message(merchant_key, "POST", path,
                                        client_id, request_time, raw, request.headers.get("signature")):
            return unsigned("SIGNATURE_INVALID", "the signature is missing or wrong", client_id=client_id)
        agent_token = request.headers.get("agent-token")
        log_call(ledger.store, request.path_params["operation"], client_id, raw, agent_token)
        try:
            if not rules.request_time_ok(request_time):
                raise rules.param("request-time must be epoch milliseconds or ISO-8601")
            refusal = agent_refusal(ledger.store, client_id, agent_token)
            if refusal is not None:
                raise rules.Invalid("ACCESS_DENIED", refusal)
            reply = getattr(ledger, operation)(client_id, rules.parse_json_object(raw), agent_token=agent_token)
        except rules.Invalid as problem:
            reply = Reply({"result": result(problem.code, "F", problem.message)})
        except Exception:  # a sandbox bug must look like Antom's U, never a stack trace
            log.exception("%s failed", operation)
            reply = Reply({"result": result("UNKNOWN_EXCEPTION", "U", "unknown exception")})
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.lose and server.abort(request.scope):
            return Response(b"", status_code=200)  # never reaches the client: the connection is gone
        if reply.body is None:
            return Response(b"", status_code=reply.http_status)
        return signed(key_for(client_id), path, client_id, reply.body, reply.skew)

    return endpoint
