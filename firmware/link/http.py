"""HTTP/1.1 to the gateway over kept-alive connections, with certificate-verifying TLS for https.

Why it exists: the `requests` frozen into stock MicroPython wraps https sockets without checking
the server's certificate, and opens (and for https, handshakes) a new connection per call. A
terminal must verify its gateway, and a TLS handshake costs about a second of the ESP32's CPU with
the GIL held, so https goes through this module: `ssl.SSLContext` with CERT_REQUIRED, the
provisioned CA and the server name, and one connection that is reused call after call (the
gateway, uvicorn, keeps an idle connection open for 30 s).

`Transport` has the `requests` interface the gateway client uses (`request(method, url, data,
headers, timeout)` -> response with `status_code`, `headers`, `content`, `close()`). It keeps ONE
connection per calling thread: each lane of firmware/link/owner.py is one thread, so a lane owns
one socket and the terminal never holds more than two. A connection is reused only if it is still
open (the server may close it while idle: checked with a zero-timeout poll before sending); a
request whose reused connection turns out closed before the first byte of the answer is sent once
more on a new connection (the server closed it without reading the request). Anything else that
goes wrong closes the connection and raises OSError: the gateway client makes that a doubt.
The same file runs on CPython (the simulator's CPython engine).
"""
from micropython import const
import socket
import sys

try:
    import ssl
except ImportError:  # builds without TLS (the WebAssembly port): http:// only
    ssl = None

try:
    import select
except ImportError:
    select = None

try:
    from _thread import get_ident as _ident
except ImportError:  # no threads: one connection
    def _ident():
        return 0

_MAX_BODY = const(16384)  # the gateway's answers are small; refuse anything that would eat the heap
_MAX_HEADERS = const(40)
# MicroPython sockets (plain and TLS) are streams themselves; CPython's need a file wrapper.
_MICROPYTHON = sys.implementation.name == "micropython"


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


def tls_context(ca_pem, verify=True):
    """A client context that accepts only servers whose certificate chains to `ca_pem`.

    `verify=False` is for the one call that fetches the gateway's signed time while the clock is
    not set (firmware/link/owner.py explains why that is safe): it checks no certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        if not _MICROPYTHON:
            ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx.verify_mode = ssl.CERT_REQUIRED
    if isinstance(ca_pem, bytes):
        ca_pem = ca_pem.decode()
    if _MICROPYTHON:
        ctx.load_verify_locations(cadata=_der(ca_pem))  # mbedTLS: DER bytes
    else:
        ctx.load_verify_locations(cadata=ca_pem)  # CPython: PEM text
    return ctx


def _der(pem):
    import binascii
    body = pem.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    return binascii.a2b_base64("".join(body.split()))


def split_url(url):
    """"https://host:port/path" -> ("https", host, port, "/path")."""
    proto, rest = url.split("://", 1)
    slash = rest.find("/")
    hostport = rest if slash < 0 else rest[:slash]
    path = "/" if slash < 0 else rest[slash:]
    port = 443 if proto == "https" else 80
    if ":" in hostport:
        hostport, p = hostport.rsplit(":", 1)
        port = int(p)
    return proto, hostport, port, path


def resolve(host, port):
    return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]


class Closed(OSError):
    """The server closed a reused connection before answering: safe to send again."""


class Connection:
    """One socket (for https one TLS session) to one host, kept open between requests."""

    def __init__(self, proto, host, port, ssl_context=None, resolver=None):
        if proto == "https" and ssl_context is None:
            raise OSError("https needs a verifying TLS context (gateway.ca_cert)")
        self.proto = proto
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.resolver = resolver or resolve
        self.sock = None  # the raw socket (timeouts are set on it)
        self.stream = None  # what we read and write: the TLS socket, or CPython's file wrapper
        self._tls = None
        self.opened = 0  # connections made (each a TLS handshake for https)
        self.requests = 0

    def is_open(self):
        return self.stream is not None

    def close(self):
        stream, sock, tls = self.stream, self.sock, self._tls
        self.stream = self.sock = self._tls = None
        for s in (stream, tls, sock):
            if s is not None:
                try:
                    s.close()
                except Exception:
                    pass

    def _open(self, timeout):
        ai = self.resolver(self.host, self.port)
        sock = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            try:
                sock.connect(ai[-1])
            except OSError:
                forget = getattr(self.resolver, "forget", None)
                if forget is not None:
                    forget()  # look the name up again next time
                raise
            self.opened += 1
            tls = None
            if self.proto == "https":
                tls = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
            self.sock = sock
            self._tls = tls
            if _MICROPYTHON:
                self.stream = tls or sock
            else:
                self.stream = (tls or sock).makefile("rwb")
        except BaseException:
            self.sock = sock
            self.close()
            raise

    def _dropped(self):
        """True when the idle connection was closed by the server (readable = EOF or junk)."""
        if select is None:
            return False
        try:
            # The raw socket: any byte on an idle connection (a FIN, a TLS close_notify) means it
            # is done for, and every port can poll a plain socket.
            p = select.poll()
            p.register(self.sock, select.POLLIN)
            return bool(p.poll(0))
        except Exception:
            return True

    def request(self, method, path, data=None, headers=None, timeout=None):
        reused = False
        if self.stream is not None:
            if self._dropped():
                self.close()
            else:
                reused = True
        try:
            return self._exchange(method, path, data, headers, timeout, reused)
        except Closed:
            self.close()
            return self._exchange(method, path, data, headers, timeout, False)
        except BaseException:
            self.close()
            raise

    def _exchange(self, method, path, data, headers, timeout, reused):
        if self.stream is None:
            self._open(timeout)
        elif timeout is not None:
            self.sock.settimeout(timeout)
        body = data or b""
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, self.host, len(body))
        for name in headers or {}:
            head += "%s: %s\r\n" % (name, headers[name])
        try:
            _write_all(self.stream, head.encode() + b"\r\n" + body)
            line = self.stream.readline()
        except OSError as e:
            if reused:
                raise Closed(str(e))
            raise
        if not line:
            if reused:
                raise Closed("closed while idle")
            raise OSError("connection closed before the answer")
        self.requests += 1
        return self._answer(line)

    def _answer(self, line):
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise OSError("bad status line")
        status = int(parts[1])
        keep = parts[0] == b"HTTP/1.1"
        headers = {}
        length = None
        for _ in range(_MAX_HEADERS + 1):
            line = self.stream.readline()
            if not line or line == b"\r\n" or line == b"\n":
                break
            name, _, value = line.decode().partition(":")
            name = name.strip()
            value = value.strip()
            headers[name] = value
            low = name.lower()
            if low == "content-length":
                length = int(value)
            elif low == "transfer-encoding" and value.lower() != "identity":
                raise OSError("chunked answers are not supported")
            elif low == "connection":
                keep = value.lower() == "keep-alive" or (keep and value.lower() != "close")
        else:
            raise OSError("too many header lines")
        if length is None or length > _MAX_BODY:
            raise OSError("answer without a usable Content-Length")
        content = b""
        while len(content) < length:
            chunk = self.stream.read(length - len(content))
            if not chunk:
                raise OSError("connection closed mid-answer")
            content += chunk
        if not keep:
            self.close()
        return Response(status, headers, content)


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


class Transport:
    """`requests`-shaped; one kept-alive connection per calling thread (= per lane)."""

    def __init__(self, ssl_context=None, resolver=None):
        self.ssl_context = ssl_context
        self.resolver = resolver
        self.connections = {}  # thread id -> Connection

    def connection(self, proto, host, port):
        key = _ident()
        conn = self.connections.get(key)
        if conn is None or (conn.host, conn.port, conn.proto) != (host, port, proto):
            if conn is not None:
                conn.close()
            conn = Connection(proto, host, port, self.ssl_context, self.resolver)
            self.connections[key] = conn
        return conn

    def request(self, method, url, data=None, headers=None, timeout=None):
        proto, host, port, path = split_url(url)
        return self.connection(proto, host, port).request(method, path, data, headers, timeout)

    def close(self):
        for conn in list(self.connections.values()):
            conn.close()

    def opened(self):
        """Connections made so far (TLS handshakes, for https), all lanes together."""
        return sum(c.opened for c in self.connections.values())


def request(method, url, data=None, headers=None, timeout=None, ssl_context=None):
    """One call on its own connection, closed afterwards (tools and tests)."""
    proto, host, port, path = split_url(url)
    conn = Connection(proto, host, port, ssl_context)
    try:
        return conn.request(method, path, data, headers, timeout)
    finally:
        conn.close()
