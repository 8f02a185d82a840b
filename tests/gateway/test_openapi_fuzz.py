"""Schemathesis fuzzes the terminal API from the gateway's own OpenAPI description, with every
request properly signed (so the handlers behind authentication are reached): no 5xx, answers that
match the description, JSON errors with a stable code, and every answer signed."""
import time

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as sc

from firmware.link import auth


class Signed(requests.auth.AuthBase):
    """Signs the request exactly as it goes on the wire (path with query, body bytes)."""

    def __init__(self, terminal_id, secret):
        self.terminal_id, self.secret = terminal_id, secret
        self.nonce = None

    def __call__(self, prepared):
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.nonce = auth.new_nonce()
        for name, value in auth.request_headers(self.terminal_id, self.secret, prepared.method, prepared.path_url,
                                                body, int(time.time()), self.nonce).items():
            prepared.headers[name] = value
        return prepared


CHECKS = [sc.not_a_server_error, sc.status_code_conformance, sc.content_type_conformance,
          sc.response_schema_conformance]


def test_terminal_api_fuzz(gateway):
    # its own terminal id, so generated order ids never meet other tests' payments at the sandbox
    secret = gateway.add_terminal("FUZZ")
    fuzz_client = gateway.client("FUZZ")
    fuzz_client.create("0", 500, "USD", "fuzz")  # something real for generated ids to hit
    schema = schemathesis.openapi.from_url(gateway.base_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    seen = {}
    for operation in operations:
        # payments the fuzz created are cancelled first, so generated long polls answer at once
        for row in gateway.store.payments(terminal_id="FUZZ", limit=1000):
            if row["status"] in ("CREATING", "PENDING"):
                fuzz_client.cancel(row["order_id"])
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  phases=[Phase.explicit, Phase.generate])  # no shrinking: bounded time, raw failure
        @given(case=operation.as_strategy())
        def check(case):
            signer = Signed("FUZZ", secret)
            response = case.call(base_url=gateway.base_url, auth=signer, timeout=30)
            case.validate_response(response, checks=CHECKS)
            assert response.status_code < 500
            assert auth.check_response(secret, response.status_code, response.request.path_url, signer.nonce,
                                       {k: v[0] for k, v in response.headers.items()}, response.content), response.status_code
            if response.status_code >= 400:
                err = response.json()["error"]
                assert err["code"].replace("_", "").isalpha() and err["code"].isupper() and err["message"]
            seen.setdefault(operation.label, set()).add(response.status_code)

        check()
    # the fuzz got past authentication everywhere (not just 401s)
    assert all(codes - {401} for codes in seen.values()), seen
