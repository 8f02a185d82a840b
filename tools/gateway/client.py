"""A CPython terminal client for the gateway (tests, benchmark, tooling): signs each request and
verifies each response with firmware/link/auth.py, exactly as the device does.

    c = TerminalClient("http://127.0.0.1:8700", "T1", secret)
    r = c.create("T1-000001", 1250, "USD", "Coffee")   # -> Answer(status, body, verified)
"""
import json
import time

import httpx

from firmware.link import auth


class Answer:
    __slots__ = ("status", "body", "verified", "raw", "headers", "nonce")

    def __init__(self, status, body, verified, raw, headers, nonce=None):
        self.nonce = nonce
        self.status = status
        self.body = body
        self.verified = verified
        self.raw = raw
        self.headers = headers

    @property
    def code(self):
        err = self.body.get("error") if isinstance(self.body, dict) else None
        return err.get("code") if isinstance(err, dict) else None

    def __repr__(self):
        return "Answer(%d, %r, verified=%s)" % (self.status, self.body, self.verified)


def body_bytes(payload):
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload).encode("utf-8")


class TerminalClient:
    def __init__(self, base_url, terminal_id, secret, timeout=40.0, clock=time.time, http=None):
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self.secret = secret
        self.clock = clock
        self.http = http or httpx.Client(timeout=timeout, trust_env=False)

    def close(self):
        self.http.close()

    def signed_headers(self, method, target, body, timestamp=None, nonce=None):
        nonce = nonce or auth.new_nonce()
        ts = int(self.clock()) if timestamp is None else timestamp
        headers = auth.request_headers(self.terminal_id, self.secret, method, target, body, ts, nonce)
        if body:
            headers["Content-Type"] = "application/json"
        return headers, nonce

    def request(self, method, target, payload=None, headers=None, timestamp=None, nonce=None, timeout=None):
        body = body_bytes(payload)
        signed, nonce = self.signed_headers(method, target, body, timestamp, nonce)
        signed.update(headers or {})
        kwargs = {"timeout": timeout} if timeout is not None else {}
        resp = self.http.request(method, self.base_url + target, content=body, headers=signed, **kwargs)
        return self.answer(resp, target, nonce)

    def answer(self, resp, target, nonce):
        verified = auth.check_response(self.secret, resp.status_code, target, nonce, dict(resp.headers), resp.content)
        try:
            body = resp.json()
        except ValueError:
            body = None
        return Answer(resp.status_code, body, verified, resp.content, resp.headers, nonce)

    # --- the protocol ------------------------------------------------------------------------
    def create(self, order_id, amount, currency="USD", description=""):
        return self.request("POST", "/v1/payments", {"order_id": order_id, "amount": amount,
                                                     "currency": currency, "description": description})

    def status(self, order_id, wait=None, timeout=None):
        target = "/v1/payments/" + order_id + ("?wait=%d" % wait if wait is not None else "")
        return self.request("GET", target, timeout=timeout)

    def cancel(self, order_id):
        return self.request("POST", "/v1/payments/%s/cancel" % order_id, {})

    def refund(self, order_id, refund_id, amount, pin):
        return self.request("POST", "/v1/payments/%s/refund" % order_id,
                            {"refund_id": refund_id, "amount": amount, "pin": pin})

    def time(self):
        return self.request("GET", "/v1/time")

    def health(self):
        return self.request("GET", "/v1/health")

    def heartbeat(self, **info):
        return self.request("POST", "/v1/heartbeat", info)

    def alerts(self):
        return self.request("GET", "/v1/alerts")

    def ack_alert(self, alert_id):
        return self.request("POST", "/v1/alerts/%s/ack" % alert_id, {})
