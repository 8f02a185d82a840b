"""A minimal HTTP/1.0 client with the interface of micropython-lib `requests`, verifying TLS.

Why it exists: the `requests` frozen into stock MicroPython wraps https sockets without checking
the server's certificate. A terminal must verify its gateway, so for https:// the application uses
this module with an `ssl.SSLContext` (CERT_REQUIRED, the provisioned CA, the server name set).
The same file runs on CPython (the simulator talks real HTTP to the gateway through it).

`request(method, url, data, headers, timeout)` reads the whole `Content-Length` body and closes the
socket before returning; `Response.close()` is kept for interface compatibility.
"""
import socket
import sys

try:
    import ssl
except ImportError:  # builds without TLS (the WebAssembly port): http:// only
    ssl = None

_MAX_BODY = 16384  # the gateway's answers are small; refuse anything that would eat the heap
# MicroPython sockets (plain and TLS) are streams themselves; CPython's need a file wrapper.
_STREAMS = sys.implementation.name == "micropython"


class Response:
    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self):
        return self.content.decode("utf-8")

    def json(self):
        import json
        return json.loads(self.content)

    def close(self):
        self.content = None


def tls_context(ca_pem):
    """A client context that accepts only servers whose certificate chains to `ca_pem`."""
    import sys
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if isinstance(ca_pem, bytes):
        ca_pem = ca_pem.decode()
    if sys.implementation.name == "micropython":
        ctx.load_verify_locations(cadata=_der(ca_pem))  # mbedTLS: DER bytes
    else:
        ctx.load_verify_locations(cadata=ca_pem)  # CPython: PEM text
    return ctx


def _der(pem):
    import binascii
    body = pem.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    return binascii.a2b_base64("".join(body.split()))


class Transport:
    """`requests`-shaped object; `ssl_context` is used for https:// URLs."""

    def __init__(self, ssl_context=None):
        self.ssl_context = ssl_context

    def request(self, method, url, data=None, headers=None, timeout=None):
        return request(method, url, data, headers, timeout, self.ssl_context)


def _split(url):
    proto, rest = url.split("://", 1)
    slash = rest.find("/")
    hostport = rest if slash < 0 else rest[:slash]
    path = "/" if slash < 0 else rest[slash:]
    port = 443 if proto == "https" else 80
    if ":" in hostport:
        hostport, p = hostport.rsplit(":", 1)
        port = int(p)
    return proto, hostport, port, path


def _write_all(stream, data):
    view = memoryview(data)
    while len(view):
        n = stream.write(view)
        if n is None:  # a non-blocking stream with nothing sent yet: try again
            continue
        if n <= 0:
            raise OSError("connection closed while sending")
        view = view[n:]
    if hasattr(stream, "flush"):
        stream.flush()


def request(method, url, data=None, headers=None, timeout=None, ssl_context=None):
    proto, host, port, path = _split(url)
    if proto == "https" and ssl_context is None:
        raise OSError("https needs a verifying TLS context (gateway.ca_cert)")
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    sock = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    stream = None
    try:
        if timeout is not None:
            sock.settimeout(timeout)
        sock.connect(ai[-1])
        if proto == "https":
            sock = ssl_context.wrap_socket(sock, server_hostname=host)
        stream = sock if _STREAMS else sock.makefile("rwb")
        body = data or b""
        head = "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, host, len(body))
        for name in headers or {}:
            head += "%s: %s\r\n" % (name, headers[name])
        _write_all(stream, head.encode() + b"\r\n" + body)
        line = stream.readline()
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise OSError("bad status line")
        status = int(parts[1])
        resp_headers = {}
        length = None
        while True:
            line = stream.readline()
            if not line or line == b"\r\n" or line == b"\n":
                break
            name, _, value = line.decode().partition(":")
            name = name.strip()
            value = value.strip()
            resp_headers[name] = value
            low = name.lower()
            if low == "content-length":
                length = int(value)
            elif low == "transfer-encoding" and value.lower() != "identity":
                raise OSError("chunked answers are not supported")
        if length is None or length > _MAX_BODY:
            raise OSError("answer without a usable Content-Length")
        content = b""
        while len(content) < length:
            chunk = stream.read(length - len(content))
            if not chunk:
                raise OSError("connection closed mid-answer")
            content += chunk
        return Response(status, resp_headers, content)
    finally:
        if stream is not None and stream is not sock:
            try:
                stream.close()
            except Exception:
                pass
        sock.close()
