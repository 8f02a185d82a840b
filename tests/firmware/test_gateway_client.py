"""The gateway client over real HTTP (firmware/link/http.py) against a small signing server.

Forged, replayed (another nonce), unsigned and malformed answers are all "doubt"; only a
verified answer is "ok" or "error"; every socket is closed; the clock learns the signed time.
"""
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firmware.link import auth, http
from firmware.link.clock import WallClock
from firmware.link.gateway import DOUBT, ERROR, OK, Gateway

SECRET = "ab" * 32
GW_TIME = 1_900_000_000


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def _answer(self):
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        srv.seen.append((self.command, self.path, dict(self.headers), body))
        ok = auth.verify_request(SECRET, self.command, self.path, self.headers["X-Timestamp"],
                                 self.headers["X-Nonce"], body, self.headers["X-Signature"])
        mode = srv.mode
        status, payload = (200, {"order_id": "T1-1", "status": "PAID", "amount": 5, "currency": "USD"})
        if not ok:
            status, payload = 401, {"error": {"code": "BAD_SIGNATURE", "message": "no"}}
        elif mode == "error":
            status, payload = 409, {"error": {"code": "ORDER_MISMATCH", "message": "no"}}
        elif mode == "502":
            status, payload = 502, {"error": {"code": "UPSTREAM_ERROR", "message": "no"}}
        elif mode == "503":
            status, payload = 503, {"error": {"code": "UPSTREAM_UNAVAILABLE", "message": "no"}}
        raw = json.dumps(payload).encode()
        if mode == "garbage":
            raw = b"{not json"
        nonce = self.headers["X-Nonce"]
        if mode == "replay":
            nonce = "0" * 32  # a genuine answer, but to another request
        stamp = str(GW_TIME)
        sig = auth.sign_response(SECRET, status, self.path, nonce, stamp, raw)
        if mode == "forged":
            sig = auth.sign_response("cd" * 32, status, self.path, nonce, stamp, raw)
        if mode == "tampered":
            raw = raw.replace(b"PAID", b"PAIX")
        if mode == "hang":
            srv.release.wait(5)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(raw)))
        if mode != "unsigned":
            self.send_header("x-timestamp", stamp)
            self.send_header("x-signature", sig)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.mode = "ok"
    srv.seen = []
    srv.release = threading.Event()
    srv.handle_error = lambda *a: None  # a client that hung up is part of the tests
    t = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    t.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


def client(server, timeout=3, secret=SECRET, prefix=""):
    url = "http://127.0.0.1:%d%s" % (server.server_address[1], prefix)
    return Gateway(url, "T1", secret, http.Transport(), WallClock(), timeout)


def test_signed_answer_is_ok_and_sets_the_clock(server):
    gw = client(server)
    ans = gw.status("T1-1", wait_s=3)
    assert ans.kind == OK and ans.body["status"] == "PAID"
    method, path, headers, body = server.seen[0]
    assert (method, path) == ("GET", "/v1/payments/T1-1?wait=3")
    assert auth.valid_nonce(headers["X-Nonce"]) and headers["X-Terminal-Id"] == "T1"
    assert gw.clock.now() - GW_TIME in (0, 1)


def test_post_body_is_signed(server):
    gw = client(server)
    ans = gw.create("T1-1", 5, "USD", "Coffee")
    assert ans.kind == OK
    _, path, headers, body = server.seen[0]
    assert path == "/v1/payments" and json.loads(body) == {"order_id": "T1-1", "amount": 5, "currency": "USD",
                                                          "description": "Coffee"}


def test_nonces_are_fresh(server):
    gw = client(server)
    gw.status("T1-1")
    gw.status("T1-1")
    assert server.seen[0][2]["X-Nonce"] != server.seen[1][2]["X-Nonce"]


@pytest.mark.parametrize("mode", ["forged", "replay", "unsigned", "tampered", "garbage", "chunked", "503"])
def test_untrusted_answers_are_doubt(server, mode):
    server.mode = mode
    gw = client(server)
    ans = gw.status("T1-1")
    assert ans.kind == DOUBT
    assert gw.clock.synced is (mode in ("garbage", "503"))  # only verified answers set the time


def test_signed_refusals_are_errors(server):
    server.mode = "error"
    assert client(server).create("T1-1", 5, "USD", "x").code == "ORDER_MISMATCH"
    server.mode = "502"
    ans = client(server).create("T1-1", 5, "USD", "x")
    assert ans.kind == ERROR and ans.status == 502


def test_wrong_secret_gets_unverifiable_answer(server):
    ans = client(server, secret="ef" * 32).status("T1-1")
    assert ans.kind == DOUBT  # the server answered 401 signed with the right secret: we cannot verify it


def test_timeout_is_doubt_and_closes(server):
    server.mode = "hang"
    gw = client(server, timeout=1)
    ans = gw.status("T1-1")
    server.release.set()
    assert ans.kind == DOUBT and "network" in ans.why


def test_no_server_is_doubt():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    gw = Gateway("http://127.0.0.1:%d" % port, "T1", SECRET, http.Transport(), WallClock(), 2)
    assert gw.health().kind == DOUBT


def test_path_prefix_is_part_of_the_signed_target(server):
    gw = client(server, prefix="/gw")
    gw.status("T1-1")
    assert server.seen[0][1] == "/gw/v1/payments/T1-1"


def test_https_without_ca_refuses():
    with pytest.raises(OSError):
        http.request("GET", "https://127.0.0.1:1/v1/health")


def test_every_response_is_closed():
    closed = []

    class Resp:
        status_code = 200
        headers = {}
        content = b"{}"

        def close(self):
            closed.append(True)

    class Transport:
        def request(self, *a, **k):
            return Resp()

    gw = Gateway("http://x", "T1", SECRET, Transport(), WallClock(), 2)
    assert gw.health().kind == DOUBT and closed == [True]
