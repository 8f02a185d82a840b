"""firmware/link/http.py over TLS: the gateway's certificate must chain to the provisioned CA and name
the host; otherwise the call fails (and the gateway client turns that into doubt, never a result)."""
import datetime
import time
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firmware.link import http
from firmware.link.clock import WallClock
from firmware.link.gateway import DOUBT, Gateway


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, host):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    ca_key, ca = make_ca("Test Gateway CA")
    key, cert = make_leaf(ca_key, ca, "localhost")
    (tmp / "cert.pem").write_text(pem(cert))
    (tmp / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp / "cert.pem"), str(tmp / "key.pem"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.handle_error = lambda *a: None
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    yield srv, pem(ca)
    srv.shutdown()
    srv.server_close()


def test_verified_tls(tls_server):
    srv, ca_pem = tls_server
    t = http.Transport(http.tls_context(ca_pem))
    r = t.request("GET", "https://localhost:%d/v1/health" % srv.server_address[1], timeout=5)
    assert r.status_code == 200 and r.json() == {"ok": True}


def test_other_ca_is_refused(tls_server):
    srv, _ = tls_server
    _, other = make_ca("Someone Else")
    t = http.Transport(http.tls_context(pem(other)))
    with pytest.raises(ssl.SSLError):
        t.request("GET", "https://localhost:%d/v1/health" % srv.server_address[1], timeout=5)
    gw = Gateway("https://localhost:%d" % srv.server_address[1], "T1", "ab" * 32, t, WallClock(), 5)
    assert gw.health().kind == DOUBT


def test_wrong_host_name_is_refused(tls_server):
    srv, ca_pem = tls_server
    t = http.Transport(http.tls_context(ca_pem))
    with pytest.raises(ssl.SSLError):  # the certificate names localhost, not 127.0.0.1
        t.request("GET", "https://127.0.0.1:%d/v1/health" % srv.server_address[1], timeout=5)


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    attempts = 0

    def get_request(self):
        self.attempts += 1  # every connection, including those whose TLS handshake fails
        return super().get_request()


class TLSFront(BaseHTTPRequestHandler):
    """TLS in front of the gateway (as a reverse proxy would be in production)."""
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def _forward(self):
        import http.client as hc
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = hc.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        conn.request(self.command, self.path, body=body,
                     headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "date", "server", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward


@pytest.mark.slow
def test_a_whole_sale_over_verified_https(system, tmp_path):
    ca_key, ca = make_ca("Shop Gateway CA")
    key, cert = make_leaf(ca_key, ca, "localhost")
    (tmp_path / "cert.pem").write_text(pem(cert))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    front = CountingServer(("127.0.0.1", 0), TLSFront)
    front.upstream_port = system.gateway.port
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    front.socket = ctx.wrap_socket(front.socket, server_side=True)
    front.handle_error = lambda *a: None
    threading.Thread(target=front.serve_forever, args=(0.05,), daemon=True).start()
    url = "https://localhost:%d" % front.server_address[1]
    try:
        good = system.terminal(gateway_url=url, gateway={"ca_cert": pem(ca)}).start()
        good.wait_ready()
        good.keys("777", "ok")
        qr = good.wait_state("SHOW_QR")
        system.sandbox.pay(qr["code"])
        assert good.wait_result()["state"] == "PAID"
        good.stop()
        # The same gateway behind a certificate from another CA: never online, never a sale.
        _, other = make_ca("Not The Shop")
        tried = front.attempts
        bad = system.terminal(gateway_url=url, gateway={"ca_cert": pem(other)}).start()
        deadline = time.monotonic() + 20
        while front.attempts < tried + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert front.attempts >= tried + 2  # it tried, refused the certificate, and tried again
        assert not [e for e in bad.history if e.get("event") == "online" and e.get("online")]
        bad.stop()
    finally:
        front.shutdown()
        front.server_close()
