"""What a man in the middle (or a slow network) can do to a create, against the real gateway.

- A body padded past the gateway's limit is refused with 413 before the request's signature can
  be checked. That answer is unsigned, so the terminal takes it as no answer (CHECKING) and asks
  again; it never shows FAILED for a sale the gateway never refused.
- A create held back on the way while the cashier cancels: the cancel reaches the gateway first,
  which remembers it (a tombstone) and refuses the create when it lands at last. The terminal's
  CANCELLED stays true: no payable code exists for the order.
"""
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.slow


class Middle(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port):
        super().__init__(("127.0.0.1", 0), MiddleHandler)
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.tampered = 0
        self.release = threading.Event()
        self.late_answers = []  # (status, body) the gateway gave to held creates

    def handle_error(self, request, client_address):
        pass


class MiddleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def _forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), data

    def _handle(self):
        srv = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        is_create = self.command == "POST" and self.path == "/v1/payments"
        if is_create and srv.mode == "oversize":
            srv.tampered += 1
            body = body + b" " * 5000
        elif is_create and srv.mode == "hold":
            srv.tampered += 1
            srv.release.wait(60)  # the terminal's socket gives up long before
            status, _headers, data = self._forward(body)
            srv.late_answers.append((status, data))
            return
        status, headers, data = self._forward(body)
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "date", "server", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle


@pytest.fixture
def middle(system):
    m = Middle(system.gateway.port)
    threading.Thread(target=m.serve_forever, args=(0.05,), daemon=True).start()
    yield m
    m.release.set()
    m.shutdown()
    m.server_close()


def _terminal(system, middle, **cfg):
    t = system.terminal(gateway_url="http://127.0.0.1:%d" % middle.server_address[1], **cfg).start()
    t.wait_ready()
    return t


def test_unsigned_413_on_create_is_doubt_never_failed(system, middle):
    t = _terminal(system, middle)
    middle.mode = "oversize"
    t.keys("610", "ok")
    t.wait_state("CHECKING", timeout=20)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and middle.tampered < 3:
        time.sleep(0.05)
    assert middle.tampered >= 3  # asked again and again, refused before authentication each time
    assert not [e for e in t.history if e.get("event") == "result"]
    middle.mode = "pass"  # the man in the middle goes away: the same order is created and paid
    qr = t.wait_state("SHOW_QR", timeout=20)
    system.sandbox.pay(qr["code"])
    result = t.wait_result()
    assert (result["state"], result["order_id"]) == ("PAID", qr["order_id"])
    t.stop()


def test_cancel_that_overtakes_a_held_create_stays_true(system, middle):
    t = _terminal(system, middle, gateway={"timeout_s": 2})
    middle.mode = "hold"
    t.keys("620", "ok")
    creating = t.wait_state("CREATING")
    t.keys("cancel")  # the create is out (held): the cancel goes once its answer is given up on
    result = t.wait_result(timeout=30)
    assert (result["state"], result["order_id"]) == ("CANCELLED", creating["order_id"])
    middle.release.set()  # the create lands at last
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not middle.late_answers:
        time.sleep(0.05)
    assert middle.late_answers and middle.late_answers[0][0] == 409, middle.late_answers
    assert b"ORDER_CANCELLED" in middle.late_answers[0][1]
    assert system.payments(t.terminal_id, creating["order_id"]) == []  # no code anyone could pay
    t.keys("ok")
    t.wait_screen("idle")
    t.stop()
