"""A man in the middle between the terminal and the real gateway, for the tampering tests.

`Middle` forwards every request to the gateway unless its handler's `tamper(body)` answers the
request itself (returns True). Tests subclass `MiddleHandler` and set modes on the server."""
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# headers the middle sets itself (or that describe a connection it does not keep)
_OWN = ("content-length", "date", "server", "connection", "transfer-encoding")


class Middle(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.upstream_port = upstream_port
        self.mode = "pass"

    def handle_error(self, request, client_address):
        pass

    def start(self):
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self):
        self.shutdown()
        self.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class MiddleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def tamper(self, body):
        """Answer the request here and return True, or return False to forward it."""
        return False

    def forwarded(self, status, headers, data):
        """Called with the gateway's answer before it is passed on."""

    def forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), data

    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in _OWN:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.tamper(body):
            return
        status, headers, data = self.forward(body)
        self.forwarded(status, headers, data)
        self.send(status, headers, data)

    do_GET = do_POST = _handle
