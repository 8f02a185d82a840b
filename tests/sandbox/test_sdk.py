"""Antom's official Python SDK (global-open-sdk-python 1.7.1), unmodified, as the client: it pays,
inquires, refunds and cancels an Order Code payment and verifies every response signature.

The SDK always opens HTTPS to port 443 and trusts the default store, so the sandbox serves TLS on
127.0.0.1:443 with a certificate from a test CA, and the SDK runs in a subprocess with
SSL_CERT_FILE pointing at that CA. Only if port 443 cannot be bound (not root, or in use) does the
driver replace the SDK's connection function to reach the sandbox's free port (see sdk_client.py);
the test says which way it ran.
"""
import errno
import json
import os
import socket
import subprocess
import sys

import pytest

from tests.sandbox.conftest import Receiver, wait_until
from tests.sandbox.tls import make_ca_and_server_cert
from tools.antom import signature
from tools.sandbox.testing import running_sandbox

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def port_443_free() -> bool:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", 443))
        return True
    except OSError as problem:
        if problem.errno not in (errno.EACCES, errno.EADDRINUSE, errno.EPERM):
            raise
        return False
    finally:
        probe.close()


def run_sdk(sb, client_id, merchant_key, notify_url, ca_file, fallback_port=None):
    cfg = {
        "gateway_url": "https://127.0.0.1", "client_id": client_id,
        "merchant_private_pem": merchant_key.private_bytes(
            signature.serialization.Encoding.PEM, signature.serialization.PrivateFormat.TraditionalOpenSSL,
            signature.serialization.NoEncryption()).decode(),
        "sandbox_public_pem": sb.public_key_pem.decode(),
        "wrong_public_pem": signature.public_pem(signature.generate_private_key()).decode(),
        "notify_url": notify_url, "fallback_port": fallback_port,
    }
    env = dict(os.environ, SSL_CERT_FILE=ca_file, PYTHONPATH=ROOT)
    env.pop("SSL_CERT_DIR", None)
    done = subprocess.run([sys.executable, os.path.join(HERE, "sdk_client.py")], input=json.dumps(cfg),
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def check_flow(sb, receiver, out):
    assert out["pay"]["result"]["resultCode"] == "PAYMENT_IN_PROCESS"
    assert out["inquiry_before"]["paymentStatus"] == "PROCESSING"
    assert out["customer"]["status"] == "SUCCESS"
    assert out["inquiry_after"]["paymentStatus"] == "SUCCESS"
    assert out["refund"]["result"]["resultStatus"] == "S"
    assert out["refund"]["refundAmount"] == {"currency": "USD", "value": "250"}
    assert out["inquiry_refund"]["refundStatus"] == "SUCCESS"
    assert out["cancel"]["result"]["resultStatus"] == "S"
    assert "verify failed" in out["wrong_key"]  # it really checks the sandbox's signatures
    listed = {p["paymentId"]: p for p in sb.payments()}
    assert listed[out["pay"]["paymentId"]]["refunded"] == "250"
    assert listed[out["pay2"]["paymentId"]]["status"] == "CANCELLED"
    [note] = wait_until(lambda: receiver.for_payment(out["pay"]["paymentId"]))
    assert note["valid"]


def start_sandbox(stack, merchant, paths, want_443):
    """The sandbox on 127.0.0.1:443 when possible (another process may hold it: then a free port)."""
    tls = (paths["server.pem"], paths["server.key"], paths["ca.pem"])
    public = signature.public_pem(merchant)
    if want_443 and port_443_free():
        try:
            return stack.enter_context(running_sandbox(client_id="SANDBOX_5Y00000000000001",
                                                       merchant_public_pem=public, port=443, tls=tls)), True
        except RuntimeError:
            pass  # lost a race for the port
    return stack.enter_context(running_sandbox(client_id="SANDBOX_5Y00000000000001",
                                               merchant_public_pem=public, tls=tls)), False


@pytest.mark.parametrize("want_443", [True, False], ids=["port-443", "transport-fallback"])
def test_official_sdk_pays_inquires_refunds_and_cancels(tmp_path, want_443):
    import contextlib
    from tools.sandbox.store import Store

    paths = make_ca_and_server_cert(str(tmp_path))
    merchant = signature.generate_private_key()
    with contextlib.ExitStack() as stack:
        receiver = Receiver()
        stack.callback(receiver.close)
        sb, on_443 = start_sandbox(stack, merchant, paths, want_443)
        print("SDK transport: %s" % ("unmodified, TLS on 127.0.0.1:443" if on_443 else
                                     "connection function replaced (port 443 not used)"))
        receiver.public_key = sb.public_key
        store = Store(sb.data_dir)  # a live client id too: the SDK keeps /ams/api/ paths for it
        store.register_merchant("5Y00000000000002", signature.public_pem(merchant).decode())
        store.close()
        for client_id in ("SANDBOX_5Y00000000000001", "5Y00000000000002"):
            out = run_sdk(sb, client_id, merchant, receiver.url, paths["ca.pem"],
                          None if on_443 else sb.port)
            check_flow(sb, receiver, out)
