"""A real sandbox server for tests (other suites use this too). Small API:

    from tools.sandbox.testing import running_sandbox

    with running_sandbox(time_scale=0.001) as sb:
        sb.base_url             # "http://127.0.0.1:PORT" (a free port): AMS API and wallet pages
        sb.admin_url            # "http://127.0.0.1:PORT2": the /_sandbox/ admin API (loopback only)
        sb.client_id            # registered merchant client id ("SANDBOX_TEST" by default)
        sb.merchant_private_key # generated merchant key (None if you passed merchant_public_pem)
        sb.public_key_pem       # the sandbox's public key, PEM bytes (verify replies/notifications)
        sb.call("pay", body)    # a correctly signed POST to /ams/api/v1/payments/pay -> httpx.Response
        sb.verify(response)     # True if a reply from sb.call carries a valid sandbox signature
        sb.pay(code_value, wallet=None)  # the customer pays -> {"status": ..., "paymentId": ...}
        sb.quote(code_value, "GCASH")    # the wallet page's offer: customerAmount and quote
        sb.decline(code_value)
        sb.payments(reference_order_id=None)   # list of dicts (docs/sandbox.md, inspection)
        sb.notifications()                     # list of dicts
        sb.calls(operation="refund", key=None)  # every verified AMS call (counted in tests)
        sb.wait_notifications(lambda notes: ..., timeout=5)   # poll until true, return the list
        sb.set_faults(["pay-lost"], amount=None); sb.clear_faults()
        sb.expire(payment_id)
        sb.restart()            # same data dir, same port

`running_sandbox(client_id=..., merchant_public_pem=..., time_scale=..., data_dir=..., args=[...],
port=0, tls=(cert_file, key_file, ca_file))`
starts `python -m tools.sandbox serve` as a subprocess on 127.0.0.1 (port 0 -> a free port) in a
temporary data dir, registers the client id and key first, and stops it on exit. `args` adds serve
options (e.g. ["--code-lifetime", "2", "--fault", "slow=1"]). Server logs: DATA_DIR/server.log.
"""
import contextlib
import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import time

import httpx

from tools.antom import signature
from tools.sandbox import keys
from tools.sandbox.store import Store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
API = "/ams/api/v1/payments/"
START_TIMEOUT = 20.0


class Sandbox:
    def __init__(self, data_dir: str, client_id: str, merchant_private_key, time_scale: float,
                 args: list[str], port: int = 0, tls: tuple | None = None):
        self.data_dir = data_dir
        self.client_id = client_id
        self.merchant_private_key = merchant_private_key
        self.time_scale = time_scale
        self.args = list(args)
        self.port = port
        self.tls = tls  # (cert file, key file, CA file) to serve HTTPS
        self.base_url = None
        self.admin_url = None
        self.public_key_pem = None
        self.public_key = None
        self.process = None
        self.http = self._client()

    def _client(self) -> httpx.Client:
        verify = ssl.create_default_context(cafile=self.tls[2]) if self.tls else True
        return httpx.Client(timeout=30, trust_env=False, verify=verify)

    # --- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        out_path = os.path.join(self.data_dir, "server.out")
        command = [sys.executable, "-m", "tools.sandbox", "serve", "--data", self.data_dir,
                   "--port", str(self.port), "--time-scale", repr(self.time_scale)] + self.args
        if self.tls:
            command += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        with open(out_path, "w") as out, open(os.path.join(self.data_dir, "server.log"), "a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=log,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with open(out_path) as out:
                text = out.read()
            if "sandbox listening on " in text:
                self.base_url = text.split("sandbox listening on ", 1)[1].split()[0]
                self.admin_url = text.split("sandbox admin on ", 1)[1].split()[0]
                self.port = int(self.base_url.rsplit(":", 1)[1])
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(os.path.join(self.data_dir, "server.log")) as src:
                    log = src.read()
                raise RuntimeError("sandbox did not start:\n" + log[-3000:])
            time.sleep(0.02)
        self._wait_ready(deadline)
        with open(os.path.join(self.data_dir, "sandbox_public.pem"), "rb") as src:
            self.public_key_pem = src.read()
        self.public_key = signature.load_public_key(self.public_key_pem)

    def _wait_ready(self, deadline: float) -> None:
        while True:
            try:
                self.http.get(self.admin_url + "/_sandbox/payments", timeout=2)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        self.http.close()  # idle keep-alive connections would slow the server's shutdown
        self.http = self._client()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- merchant side ---------------------------------------------------------------------------
    def call(self, operation: str, body, path: str | None = None, request_time: str | None = None,
             client_id: str | None = None, private_key=None, agent_token: str | None = None) -> httpx.Response:
        """POST a body (dict, str or bytes) to an AMS operation, signed with the merchant key (or
        `private_key`, for another `client_id`), with an `agent-token` header when given."""
        path = path or API + operation
        raw = body if isinstance(body, bytes) else (
            body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8"))
        client_id = client_id or self.client_id
        request_time = request_time or str(int(time.time() * 1000))
        headers = {"content-type": "application/json; charset=UTF-8", "client-id": client_id,
                   "request-time": request_time,
                   "signature": signature.sign_message(private_key or self.merchant_private_key, "POST", path,
                                                       client_id, request_time, raw)}
        if agent_token is not None:
            headers["agent-token"] = agent_token
        return self.http.post(self.base_url + path, content=raw, headers=headers)

    # --- more client ids (system integrators, ISVs) ------------------------------------------------
    def register_client(self, client_id: str, public_pem: bytes | str, isv: bool = False,
                        own_antom_key: bool = False) -> bytes:
        """Register another client id (also while running); returns the PEM of the Antom public
        key its answers and notifications are signed with."""
        if isinstance(public_pem, bytes):
            public_pem = public_pem.decode("ascii")
        own = signature.private_pem(signature.generate_private_key()).decode("ascii") if own_antom_key else None
        store = Store(self.data_dir)
        try:
            store.register_merchant(client_id, public_pem, isv=isv, antom_private_pem=own)
        finally:
            store.close()
        return keys.public_of(own) if own else self.public_key_pem

    def add_agent(self, client_id: str, name: str) -> str:
        """A new merchant of ISV `client_id`: its agent token."""
        token = "AT" + secrets.token_hex(16)
        store = Store(self.data_dir)
        try:
            store.add_agent(client_id, token, name)
        finally:
            store.close()
        return token

    def verify(self, response: httpx.Response, public_key=None) -> bool:
        headers = response.headers
        return signature.verify_message(public_key or self.public_key, "POST", response.request.url.path,
                                        headers.get("client-id"), headers.get("response-time"),
                                        response.content, headers.get("signature"))

    # --- customer and inspection -----------------------------------------------------------------
    def pay(self, code_value: str, wallet: str | None = None) -> dict:
        """The customer pays, with `wallet` (pspName, docs/sandbox.md) or the default one."""
        body = {"wallet": wallet} if wallet else None
        return self.http.post(code_value.rstrip("/") + "/pay", json=body).json()

    def quote(self, code_value: str, wallet: str) -> dict:
        """What the wallet page shows once `wallet` is picked (the quote the payment will use)."""
        return self.http.get(code_value.rstrip("/") + "/quote", params={"wallet": wallet}).json()

    def decline(self, code_value: str) -> dict:
        return self.http.post(code_value.rstrip("/") + "/decline").json()

    def payments(self, reference_order_id: str | None = None) -> list[dict]:
        params = {"referenceOrderId": reference_order_id} if reference_order_id is not None else {}
        return self.http.get(self.admin_url + "/_sandbox/payments", params=params).json()["payments"]

    def calls(self, operation: str | None = None, key: str | None = None) -> list[dict]:
        """Verified AMS calls (operation as in the path, e.g. "refund"; key: the refundRequestId or
        paymentRequestId the call was about)."""
        params = {k: v for k, v in (("operation", operation), ("key", key)) if v}
        return self.http.get(self.admin_url + "/_sandbox/calls", params=params).json()["calls"]

    def notifications(self) -> list[dict]:
        return self.http.get(self.admin_url + "/_sandbox/notifications").json()["notifications"]

    def wait_notifications(self, predicate, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            notes = self.notifications()
            if predicate(notes):
                return notes
            if time.monotonic() > deadline:
                raise TimeoutError("notifications never matched: %r" % notes)
            time.sleep(0.03)

    def set_faults(self, faults: list[str], amount: str | None = None) -> None:
        response = self.http.post(self.admin_url + "/_sandbox/faults",
                                  json={"faults": faults, "amount": amount})
        response.raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(self.admin_url + "/_sandbox/faults").raise_for_status()

    def expire(self, payment_id: str) -> dict:
        return self.http.post(self.admin_url + "/_sandbox/expire/" + payment_id).json()


@contextlib.contextmanager
def running_sandbox(client_id: str = "SANDBOX_TEST", merchant_public_pem: bytes | str | None = None,
                    time_scale: float = 0.001, data_dir: str | None = None, args=(), port: int = 0,
                    tls: tuple | None = None):
    merchant_key = None
    if merchant_public_pem is None:
        merchant_key = signature.generate_private_key()
        merchant_public_pem = signature.public_pem(merchant_key)
    if isinstance(merchant_public_pem, bytes):
        merchant_public_pem = merchant_public_pem.decode("ascii")
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="sandbox-"))
        store = Store(data_dir)
        store.register_merchant(client_id, merchant_public_pem)
        store.close()
        sandbox = Sandbox(data_dir, client_id, merchant_key, time_scale, list(args), port, tls)
        sandbox.start()
        try:
            yield sandbox
        finally:
            sandbox.stop()
            sandbox.http.close()
