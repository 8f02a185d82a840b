"""A man in the middle between terminal and gateway answers the status long poll with PAID:
forged (a genuine signature over other content), replayed (a genuine PAID answer to another
request) or unsigned. The terminal never shows PAID; the cashier's cancel still works."""
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.slow


class Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.created = {}  # order id -> (headers, body) of the genuine create answer
        self.paid_answer = None  # a genuine PAID status answer (status, headers, body)
        self.attacks = 0

    def handle_error(self, request, client_address):
        pass


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "date", "server", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), data

    def _handle(self):
        srv = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        is_status = self.command == "GET" and self.path.startswith("/v1/payments/")
        if is_status and srv.mode != "pass":
            order_id = self.path.split("/")[3].split("?")[0]
            srv.attacks += 1
            if srv.mode == "replay":
                return self._send(*srv.paid_answer)
            headers, created = srv.created[order_id]
            fake = json.loads(created)
            fake.update(status="PAID", paid_at=int(time.time()))
            fake_body = json.dumps(fake).encode()
            if srv.mode == "forged":
                keep = [(k, v) for k, v in headers if k.lower() in ("x-timestamp", "x-signature")]
                return self._send(200, keep + [("Content-Type", "application/json")], fake_body)
            return self._send(200, [("Content-Type", "application/json")], fake_body)  # unsigned
        status, headers, data = self._forward(body)
        if self.command == "POST" and self.path == "/v1/payments" and status == 200:
            srv.created[json.loads(data)["order_id"]] = (headers, data)
        if is_status and status == 200 and json.loads(data).get("status") == "PAID":
            srv.paid_answer = (status, headers, data)
        self._send(status, headers, data)

    do_GET = do_POST = _handle


@pytest.fixture(scope="module")
def proxy(system):
    p = Proxy(system.gateway.port)
    threading.Thread(target=p.serve_forever, args=(0.05,), daemon=True).start()
    yield p
    p.shutdown()
    p.server_close()


@pytest.fixture(scope="module")
def victim(system, proxy):
    t = system.terminal(gateway_url="http://127.0.0.1:%d" % proxy.server_address[1]).start()
    t.wait_ready()
    # One honest paid sale first, so the attacker holds a genuine PAID answer to replay.
    t.keys("300", "ok")
    qr = t.wait_state("SHOW_QR")
    system.sandbox.pay(qr["code"])
    assert t.wait_result()["state"] == "PAID"
    t.keys("ok")
    t.wait_screen("idle")
    assert proxy.paid_answer is not None
    yield t
    t.stop()


@pytest.mark.parametrize("mode", ["forged", "replay", "unsigned"])
def test_tampered_status_never_shows_paid(system, proxy, victim, mode):
    # Tamper from the start: the first long poll leaves together with SHOW_QR, and one that slipped
    # through honestly would hold the line for the whole long poll (the code expires first).
    proxy.attacks = 0
    proxy.mode = mode
    try:
        victim.keys("4%d" % len(mode), "ok")
        qr = victim.wait_state("SHOW_QR")
        deadline = time.monotonic() + 15  # back-off 0.3, 0.6, 1.2 s: three lies take ~2 s unloaded
        while time.monotonic() < deadline and proxy.attacks < 3:
            time.sleep(0.05)
        assert proxy.attacks >= 3  # the terminal asked again and again, and was lied to each time
        assert not [e for e in victim.history if e.get("event") == "result" and e["order_id"] == qr["order_id"]]
        doubts = [e for e in victim.history if e.get("event") == "doubt" and e.get("order_id") == qr["order_id"]]
        assert doubts
        victim.keys("cancel")  # the cancel is not tampered with: the sale ends honestly
        result = victim.wait_result()
    finally:
        proxy.mode = "pass"
    assert result["state"] == "CANCELLED" and result["order_id"] == qr["order_id"]
    pays = system.payments(victim.terminal_id, qr["order_id"])
    assert len(pays) == 1 and pays[0]["status"] != "SUCCESS"
    victim.keys("ok")
    victim.wait_screen("idle")
